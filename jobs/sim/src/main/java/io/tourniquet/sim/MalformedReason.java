package io.tourniquet.sim;

import com.fasterxml.jackson.annotation.JsonValue;
import java.util.Locale;

/** How a malformed record (meant for the DLQ) is broken. */
public enum MalformedReason {
    /** Not parseable as JSON (a truncated object). */
    NOT_JSON,
    /** A required field of its topic is missing. */
    MISSING_FIELD,
    /** An enumerated field has a value outside the contract's set. */
    BAD_ENUM,
    /** A withdrawal with a negative {@code amount}. */
    NEGATIVE_AMOUNT,
    /** {@code event_time} is not an RFC 3339 timestamp with offset. */
    BAD_TIMESTAMP,
    /** Well-formed, but at least {@link SimulationConfig#oversizedBytes()} bytes long. */
    OVERSIZED;

    @JsonValue
    public String wireName() {
        return name().toLowerCase(Locale.ROOT);
    }
}
