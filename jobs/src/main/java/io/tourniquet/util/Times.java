package io.tourniquet.util;

import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.regex.Pattern;

/** RFC 3339 timestamps: strict on input, one fixed UTC form (millisecond precision) on output. */
public final class Times {
    private static final DateTimeFormatter OUT =
            DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.SSS'Z'").withZone(ZoneOffset.UTC);
    // RFC 3339 section 5.6: full-date "T" full-time, seconds mandatory, offset Z or +hh:mm.
    private static final Pattern RFC3339 = Pattern.compile(
            "\\d{4}-\\d{2}-\\d{2}[Tt]\\d{2}:\\d{2}:\\d{2}(\\.\\d{1,9})?([Zz]|[+-]\\d{2}:\\d{2})");

    private Times() {}

    public static String format(long epochMillis) {
        return OUT.format(Instant.ofEpochMilli(epochMillis));
    }

    /** Parses an RFC 3339 timestamp with offset; throws {@link IllegalArgumentException} otherwise. */
    public static Instant parse(String text) {
        if (text == null || !RFC3339.matcher(text).matches()) {
            throw new IllegalArgumentException("not an RFC 3339 timestamp with offset: " + text);
        }
        try {
            return OffsetDateTime.parse(text.toUpperCase(java.util.Locale.ROOT)).toInstant();
        } catch (DateTimeParseException e) {
            throw new IllegalArgumentException("not a valid date-time: " + text, e);
        }
    }
}
