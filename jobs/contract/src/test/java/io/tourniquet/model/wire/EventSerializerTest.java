package io.tourniquet.model.wire;

import io.tourniquet.testing.FilledRecords;

import io.tourniquet.model.Event;
import org.apache.flink.api.common.typeutils.SerializerTestBase;
import org.apache.flink.api.common.typeutils.TypeSerializer;

/** Flink's own checks of a serializer (copies, sequences, snapshot and restore, duplicates). */
class EventSerializerTest extends SerializerTestBase<Event> {

    EventSerializerTest() {
        super(FilledRecords.checker());
    }

    @Override
    protected TypeSerializer<Event> createSerializer() {
        return new EventSerializer();
    }

    @Override
    protected int getLength() {
        return -1;
    }

    @Override
    protected Class<Event> getTypeClass() {
        return Event.class;
    }

    @Override
    protected Event[] getTestData() {
        Event empty = new Event();
        Event login = new Event();
        login.kind = Event.Kind.LOGIN;
        login.eventId = "evt-1";
        login.userId = "u-1";
        login.eventTime = 1_642_400_000_000L;
        login.geoLat = 48.85;
        login.deviceJailbroken = false;
        return new Event[] {FilledRecords.event(1), empty, login, FilledRecords.event(2)};
    }

    @Override
    protected void deepEquals(String message, Event should, Event is) {
        FilledRecords.assertDeepEqual(message, should, is);
    }
}
