package io.tourniquet.detect;

import io.tourniquet.model.Event;
import org.apache.flink.api.java.functions.KeySelector;

/** Key selectors of the detect job, named so the job graph and its state are stable. */
public final class EventKeys {
    private EventKeys() {}

    public static final KeySelector<Event, String> EVENT_ID = new ByEventId();
    public static final KeySelector<Event, String> USER_ID = new ByUserId();

    private static final class ByEventId implements KeySelector<Event, String> {
        private static final long serialVersionUID = 1L;

        @Override
        public String getKey(Event e) {
            return e.eventId;
        }
    }

    private static final class ByUserId implements KeySelector<Event, String> {
        private static final long serialVersionUID = 1L;

        @Override
        public String getKey(Event e) {
            return e.userId;
        }
    }
}
