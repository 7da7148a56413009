package io.tourniquet.detect;

import io.tourniquet.model.Alert;
import io.tourniquet.model.EnrichedEvent;
import io.tourniquet.model.Event;
import io.tourniquet.model.NotificationRequest;
import org.apache.flink.api.java.functions.KeySelector;

/** Key selectors of the detect job, named so the job graph and its state are stable. */
public final class EventKeys {
    private EventKeys() {}

    /** The one key of platform-wide operators: all their input meets in one keyed state. */
    public static final String PLATFORM = "platform";

    public static final KeySelector<Event, String> EVENT_ID = new ByEventId();
    public static final KeySelector<Event, String> USER_ID = new ByUserId();
    public static final KeySelector<EnrichedEvent, String> ENRICHED_USER_ID = new ByEnrichedUserId();
    public static final KeySelector<Alert, String> ALERT_DESTINATION = new ByAlertDestination();
    public static final KeySelector<NotificationRequest, String> NOTIFY_USER = new ByNotifyUser();
    public static final KeySelector<io.tourniquet.model.ClaimSignal, String> CLAIM_USER = new ByClaimUser();

    /** Every element to the platform key: a global count stays global at any parallelism. */
    public static <T> KeySelector<T, String> platform() {
        return new ToPlatform<>();
    }

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

    private static final class ByEnrichedUserId implements KeySelector<EnrichedEvent, String> {
        private static final long serialVersionUID = 1L;

        @Override
        public String getKey(EnrichedEvent e) {
            return e.event.userId;
        }
    }

    private static final class ByAlertDestination implements KeySelector<Alert, String> {
        private static final long serialVersionUID = 1L;

        @Override
        public String getKey(Alert a) {
            return a.evidence.destinationAddress;
        }
    }

    private static final class ByClaimUser implements KeySelector<io.tourniquet.model.ClaimSignal, String> {
        private static final long serialVersionUID = 1L;

        @Override
        public String getKey(io.tourniquet.model.ClaimSignal c) {
            return c.userId;
        }
    }

    private static final class ByNotifyUser implements KeySelector<NotificationRequest, String> {
        private static final long serialVersionUID = 1L;

        @Override
        public String getKey(NotificationRequest r) {
            return r.userId;
        }
    }

    private static final class ToPlatform<T> implements KeySelector<T, String> {
        private static final long serialVersionUID = 1L;

        @Override
        public String getKey(T ignored) {
            return PLATFORM;
        }
    }
}
