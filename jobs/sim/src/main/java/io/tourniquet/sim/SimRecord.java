package io.tourniquet.sim;

import java.time.Instant;
import java.util.Objects;

/**
 * One record as it is to be produced.
 *
 * @param topic     the input topic
 * @param key       the record key: the event's {@code user_id}; null for some malformed records
 * @param value     the record value, UTF-8 JSON for valid records (malformed ones may be anything)
 * @param eventTime the event's {@code event_time}; null exactly for malformed records
 */
public record SimRecord(String topic, String key, String value, Instant eventTime) {

    public SimRecord {
        Objects.requireNonNull(topic, "topic");
        Objects.requireNonNull(value, "value");
    }

    /** Whether this is a contract-conforming record (an original or a redelivered duplicate). */
    public boolean isValid() {
        return eventTime != null;
    }
}
