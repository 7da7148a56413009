package io.tourniquet.model.wire;

import io.tourniquet.model.EnrichedEvent;
import io.tourniquet.model.Event;

/**
 * The type information the detect job gives its streams of events, so that events in flight
 * between tasks use the serializers written for them ({@link EventSerializer},
 * {@link EnrichedEventSerializer}). Of the job's state, only the anomaly scorer's waiting events
 * use them (see {@link EnrichedEventSerializer}); every other state record keeps the POJO
 * serializer its savepoints were written with.
 */
public final class WireTypes {
    private WireTypes() {}

    public static final RecordTypeInfo<Event> EVENT = new RecordTypeInfo<>(Event.class, EventSerializer.INSTANCE);
    public static final RecordTypeInfo<EnrichedEvent> ENRICHED_EVENT =
            new RecordTypeInfo<>(EnrichedEvent.class, EnrichedEventSerializer.INSTANCE);
}
