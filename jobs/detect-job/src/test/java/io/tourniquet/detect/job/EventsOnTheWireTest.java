package io.tourniquet.detect.job;

import static org.assertj.core.api.Assertions.assertThat;

import io.tourniquet.config.Settings;
import io.tourniquet.config.TourniquetConfig;
import io.tourniquet.model.EnrichedEvent;
import io.tourniquet.model.Event;
import io.tourniquet.model.RawRecord;
import io.tourniquet.model.wire.EnrichedEventSerializer;
import io.tourniquet.model.wire.EventSerializer;
import io.tourniquet.util.SerializableClock;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.flink.api.common.typeutils.TypeSerializer;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.streaming.api.functions.sink.v2.DiscardingSink;
import org.apache.flink.streaming.api.graph.StreamEdge;
import org.apache.flink.streaming.api.graph.StreamGraph;
import org.apache.flink.streaming.api.graph.StreamNode;
import org.junit.jupiter.api.Test;

/**
 * Every edge of the detect job that carries events, to another task or to a chained operator
 * (which copies them), uses the serializers written for events, not Flink's reflective POJO
 * serializer: a stream or side output declared without its type information would fall back to
 * it, silently and slower.
 */
class EventsOnTheWireTest {
    private static final String KEY = "wire-test-key-0123456789abcdef0123456789";

    @Test
    void everyEdgeCarryingEventsUsesTheirSerializers() {
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
        TourniquetConfig cfg = TourniquetConfig.defaults().with(Map.of(Settings.SIGNING_KEY.key(), KEY, Settings.CONTROL_KEY.key(), KEY));
        var raw = env.fromData(new RawRecord("exchange.auth.logins", 0, 0L, null, new byte[0], 0L));
        var control = env.fromData(new RawRecord("tourniquet.control", 0, 0L, null, new byte[0], 0L));
        DetectJob.defineWorkflow(raw, control, new DetectSinks(new DiscardingSink<>(), new DiscardingSink<>(),
                new DiscardingSink<>(), new DiscardingSink<>(), new DiscardingSink<>(), new DiscardingSink<>()),
                cfg, SerializableClock.SYSTEM);
        StreamGraph graph = env.getStreamGraph();

        List<String> checked = new ArrayList<>();
        for (StreamNode node : graph.getStreamNodes()) {
            for (StreamEdge edge : node.getOutEdges()) {
                TypeSerializer<?> serializer = edge.getOutputTag() != null
                        ? edge.getOutputTag().getTypeInfo().createSerializer(env.getConfig().getSerializerConfig())
                        : node.getTypeSerializerOut();
                String where = node.getOperatorName() + " -> " + graph.getStreamNode(edge.getTargetId()).getOperatorName()
                        + (edge.getOutputTag() != null ? " [" + edge.getOutputTag().getId() + "]" : "");
                check(serializer, where, checked);
            }
            TypeSerializer<?>[] in = node.getTypeSerializersIn();
            for (int i = 0; i < in.length; i++) check(in[i], "input " + i + " of " + node.getOperatorName(), checked);
        }
        // The edges the per-user path is made of, and the side outputs to the watch, claims and join.
        assertThat(checked).as("edges carrying events").hasSizeGreaterThanOrEqualTo(8)
                .anyMatch(w -> w.startsWith("Enrich -> Per-user rules"))
                .anyMatch(w -> w.startsWith("Per-user rules -> Join anomaly features"))
                .anyMatch(w -> w.contains("[featured-approvals]"))
                .anyMatch(w -> w.contains("[unique-withdrawals]"))
                .anyMatch(w -> w.contains("[incident-events]"))
                .anyMatch(w -> w.equals("input 0 of Per-user rules"));
    }

    private static void check(TypeSerializer<?> serializer, String where, List<String> checked) {
        if (serializer == null) return;
        Object instance = serializer.createInstance();
        if (instance instanceof Event) {
            assertThat(serializer).as(where).isInstanceOf(EventSerializer.class);
            checked.add(where);
        } else if (instance instanceof EnrichedEvent) {
            assertThat(serializer).as(where).isInstanceOf(EnrichedEventSerializer.class);
            checked.add(where);
        }
    }
}
