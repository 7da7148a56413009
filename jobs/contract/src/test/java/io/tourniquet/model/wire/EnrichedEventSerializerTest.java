package io.tourniquet.model.wire;

import io.tourniquet.testing.FilledRecords;

import io.tourniquet.model.Anomaly;
import io.tourniquet.model.EnrichedEvent;
import io.tourniquet.model.Event;
import org.apache.flink.api.common.typeutils.SerializerTestBase;
import org.apache.flink.api.common.typeutils.TypeSerializer;

/** Flink's own checks of a serializer (copies, sequences, snapshot and restore, duplicates). */
class EnrichedEventSerializerTest extends SerializerTestBase<EnrichedEvent> {

    EnrichedEventSerializerTest() {
        super(FilledRecords.checker());
    }

    @Override
    protected TypeSerializer<EnrichedEvent> createSerializer() {
        return new EnrichedEventSerializer();
    }

    @Override
    protected int getLength() {
        return -1;
    }

    @Override
    protected Class<EnrichedEvent> getTypeClass() {
        return EnrichedEvent.class;
    }

    @Override
    protected EnrichedEvent[] getTestData() {
        EnrichedEvent plain = EnrichedEvent.of(FilledRecords.event(3));
        EnrichedEvent nothing = new EnrichedEvent();
        nothing.alertIds = null;
        EnrichedEvent emptyAnomaly = EnrichedEvent.of(new Event());
        emptyAnomaly.anomaly = new Anomaly();
        emptyAnomaly.anomaly.features = null;
        return new EnrichedEvent[] {FilledRecords.enriched(1), plain, nothing, emptyAnomaly, FilledRecords.enriched(2)};
    }

    @Override
    protected void deepEquals(String message, EnrichedEvent should, EnrichedEvent is) {
        FilledRecords.assertDeepEqual(message, should, is);
    }
}
