package io.tourniquet.rules.anomaly;

import static org.assertj.core.api.Assertions.assertThat;

import io.tourniquet.model.EnrichedEvent;
import io.tourniquet.testing.FilledRecords;
import java.util.ArrayList;
import java.util.List;
import org.apache.flink.api.common.state.MapState;
import org.apache.flink.api.common.state.MapStateDescriptor;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.runtime.checkpoint.OperatorSubtaskState;
import org.apache.flink.runtime.state.StateBackend;
import org.apache.flink.runtime.state.hashmap.HashMapStateBackend;
import org.apache.flink.state.rocksdb.EmbeddedRocksDBStateBackend;
import org.apache.flink.streaming.api.functions.KeyedProcessFunction;
import org.apache.flink.streaming.api.operators.KeyedProcessOperator;
import org.apache.flink.streaming.util.KeyedOneInputStreamOperatorTestHarness;
import org.apache.flink.util.Collector;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The anomaly scorer's waiting events as a build before {@code EnrichedEventSerializer} wrote them
 * (Flink's POJO serializer, under the same state name) restore in this build: read back whole, on
 * either state backend, and written anew in this build's layout, which restores as is.
 */
class PendingStateMigrationTest {
    /** {@link AnomalyScoringDetector#PENDING} as builds before this serializer declared it. */
    static final MapStateDescriptor<Long, List<EnrichedEvent>> POJO_PENDING = new MapStateDescriptor<>(
            AnomalyScoringDetector.PENDING.getName(), Types.LONG, Types.LIST(TypeInformation.of(EnrichedEvent.class)));
    private static final long AT = 1_642_413_600_000L;

    @ParameterizedTest
    @ValueSource(strings = {"rocksdb", "hashmap"})
    void waitingEventsWrittenByThePojoSerializerAreReadAndRewritten(String backend) throws Exception {
        List<EnrichedEvent> waiting = new ArrayList<>(List.of(FilledRecords.enriched(1), FilledRecords.enriched(2)));

        OperatorSubtaskState before;
        try (var old = harness(new Keep(POJO_PENDING, waiting), backend)) {
            old.open();
            old.processElement("u1", 0L);
            before = old.snapshot(1L, 1L);
        }

        OperatorSubtaskState after;
        try (var restored = harness(new Keep(AnomalyScoringDetector.PENDING, null), backend)) {
            restored.initializeState(before);
            restored.open();
            restored.processElement("u1", 0L);
            List<List<EnrichedEvent>> read = restored.extractOutputValues();
            assertThat(read).hasSize(1);
            // As the build before read them back (its POJO serializer makes a HashMap of the
            // features, in no particular order), field for field.
            FilledRecords.assertDeepEqual("waiting events", throughPojo(waiting), read.get(0));
            after = restored.snapshot(2L, 2L);
        }

        try (var again = harness(new Keep(AnomalyScoringDetector.PENDING, null), backend)) {
            again.initializeState(after);
            again.open();
            again.processElement("u1", 0L);
            FilledRecords.assertDeepEqual("after the rewrite", throughPojo(waiting), again.extractOutputValues().get(0));
        }
    }

    private static List<EnrichedEvent> throughPojo(List<EnrichedEvent> events) throws Exception {
        var pojo = Types.LIST(TypeInformation.of(EnrichedEvent.class))
                .createSerializer(new org.apache.flink.api.common.serialization.SerializerConfigImpl());
        var out = new org.apache.flink.core.memory.DataOutputSerializer(1024);
        pojo.serialize(events, out);
        return pojo.deserialize(new org.apache.flink.core.memory.DataInputDeserializer(out.getCopyOfBuffer()));
    }

    private static KeyedOneInputStreamOperatorTestHarness<String, String, List<EnrichedEvent>> harness(Keep f, String backend)
            throws Exception {
        var h = new KeyedOneInputStreamOperatorTestHarness<String, String, List<EnrichedEvent>>(
                new KeyedProcessOperator<>(f), s -> s, Types.STRING);
        StateBackend b = backend.equals("rocksdb") ? new EmbeddedRocksDBStateBackend() : new HashMapStateBackend();
        h.setStateBackend(b);
        return h;
    }

    /** Writes {@code write} at {@link #AT} when given one; emits what is there (and writes it back). */
    static final class Keep extends KeyedProcessFunction<String, String, List<EnrichedEvent>> {
        private final MapStateDescriptor<Long, List<EnrichedEvent>> descriptor;
        private final List<EnrichedEvent> write;
        private transient MapState<Long, List<EnrichedEvent>> state;

        Keep(MapStateDescriptor<Long, List<EnrichedEvent>> descriptor, List<EnrichedEvent> write) {
            this.descriptor = descriptor;
            this.write = write;
        }

        @Override
        public void open(org.apache.flink.api.common.functions.OpenContext ctx) {
            state = getRuntimeContext().getMapState(descriptor);
        }

        @Override
        public void processElement(String user, Context ctx, Collector<List<EnrichedEvent>> out) throws Exception {
            if (write != null) {
                state.put(AT, new ArrayList<>(write));
                return;
            }
            List<EnrichedEvent> there = state.get(AT);
            out.collect(there);
            state.put(AT, there);
        }
    }
}
