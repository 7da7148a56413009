package io.tourniquet.util;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** The position-by-position parser accepts exactly what the regular expression plus OffsetDateTime accept. */
class TimesTest {
    // The reference: RFC 3339 section 5.6 as a regular expression, then OffsetDateTime (what
    // Times.parse was before it read by position).
    private static final Pattern RFC3339 = Pattern.compile(
            "\\d{4}-\\d{2}-\\d{2}[Tt]\\d{2}:\\d{2}:\\d{2}(\\.\\d{1,9})?([Zz]|[+-]\\d{2}:\\d{2})");

    private static Instant parseByReference(String text) {
        if (text == null || !RFC3339.matcher(text).matches()) {
            throw new IllegalArgumentException("not an RFC 3339 timestamp with offset: " + text);
        }
        try {
            return OffsetDateTime.parse(text.toUpperCase(Locale.ROOT)).toInstant();
        } catch (DateTimeParseException e) {
            throw new IllegalArgumentException("not a valid date-time: " + text, e);
        }
    }

    @Test
    void agreesWithTheReferenceOnGeneratedTimestamps() {
        Random random = new Random(20220117L);
        List<String> inputs = new ArrayList<>(List.of(
                "2022-01-17T10:00:00Z", "2022-01-17t10:00:00z", "2022-01-17T10:00:00.123456789+05:30",
                "2024-02-29T23:59:59.9-18:00", "2023-02-29T00:00:00Z", "2022-01-17T24:00:00Z",
                "2022-01-17T10:60:00Z", "2022-01-17T10:00:60Z", "2022-13-01T00:00:00Z", "2022-00-10T00:00:00Z",
                "2022-01-00T00:00:00Z", "2022-04-31T00:00:00Z", "2022-01-17T10:00:00+18:01", "2022-01-17T10:00:00+19:00",
                "2022-01-17T10:00:00", "2022-01-17 10:00:00Z", "2022-01-17T10:00:00.Z", "2022-01-17T10:00:00.1234567890Z",
                "2022-01-17T10:00:00+0530", "2022-01-17T10:00:00+05:30 ", "+2022-01-17T10:00:00Z", "0000-01-01T00:00:00Z",
                "9999-12-31T23:59:59.999999999-18:00", "1969-12-31T23:59:59.999Z", "٢٠٢٢-01-17T10:00:00Z", ""));
        String alphabet = "0123456789-:T.Z+tz x";
        for (int i = 0; i < 20_000; i++) {
            StringBuilder b = new StringBuilder(String.format("%04d-%02d-%02dT%02d:%02d:%02d", random.nextInt(10_000),
                    random.nextInt(14), random.nextInt(33), random.nextInt(26), random.nextInt(62), random.nextInt(62)));
            if (random.nextBoolean()) b.append('.').append(Long.toString(Math.abs(random.nextLong())), 0, 1 + random.nextInt(11));
            b.append(random.nextBoolean() ? "Z" : String.format("%s%02d:%02d", random.nextBoolean() ? "+" : "-",
                    random.nextInt(20), random.nextInt(61)));
            if (random.nextInt(4) == 0) { // a random edit
                int at = random.nextInt(b.length());
                b.setCharAt(at, alphabet.charAt(random.nextInt(alphabet.length())));
            }
            inputs.add(b.toString());
        }
        int accepted = 0;
        for (String s : inputs) {
            Instant expected;
            try {
                expected = parseByReference(s);
            } catch (IllegalArgumentException e) {
                assertThatThrownBy(() -> Times.parse(s)).as(s).isInstanceOf(IllegalArgumentException.class);
                assertThatThrownBy(() -> Times.parseMillis(s)).as(s).isInstanceOf(IllegalArgumentException.class);
                continue;
            }
            accepted++;
            assertThat(Times.parse(s)).as(s).isEqualTo(expected);
            assertThat(Times.parseMillis(s)).as(s).isEqualTo(expected.toEpochMilli());
        }
        // Both sides of the grammar were exercised.
        assertThat(accepted).isBetween(1_000, inputs.size() - 1_000);
        assertThatThrownBy(() -> Times.parse(null)).isInstanceOf(IllegalArgumentException.class);
    }
}
