package io.tourniquet.util;

import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;

/** RFC 3339 timestamps: strict on input, one fixed UTC form (millisecond precision) on output. */
public final class Times {
    private static final DateTimeFormatter OUT =
            DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.SSS'Z'").withZone(ZoneOffset.UTC);

    private Times() {}

    public static String format(long epochMillis) {
        return OUT.format(Instant.ofEpochMilli(epochMillis));
    }

    /** Parses an RFC 3339 timestamp with offset; throws {@link IllegalArgumentException} otherwise. */
    public static Instant parse(String text) {
        long[] secondsAndNanos = parseParts(text);
        return Instant.ofEpochSecond(secondsAndNanos[0], secondsAndNanos[1]);
    }

    /** {@link #parse}, as epoch milliseconds (floored), without the intermediate objects. */
    public static long parseMillis(String text) {
        long[] secondsAndNanos = parseParts(text);
        return Math.addExact(Math.multiplyExact(secondsAndNanos[0], 1000L), secondsAndNanos[1] / 1_000_000L);
    }

    /**
     * RFC 3339 section 5.6 (full-date "T" full-time, seconds mandatory, fraction of 1-9 digits,
     * offset Z or +hh:mm; 'T' and 'Z' in either case) and the ranges {@code OffsetDateTime.parse} enforces (month,
     * day of that month, 23:59:59 at most, offsets within ±18:00), read by position: every input
     * event has a timestamp, and the regular expression plus {@code OffsetDateTime} cost 10 % of the
     * detect job's parsing. {@code TimesTest} checks it against that reference on generated input.
     */
    private static long[] parseParts(String t) {
        if (t == null) throw invalid(t);
        int n = t.length();
        if (n < 20 || t.charAt(4) != '-' || t.charAt(7) != '-' || (t.charAt(10) != 'T' && t.charAt(10) != 't')
                || t.charAt(13) != ':' || t.charAt(16) != ':') {
            throw invalid(t);
        }
        int year = digits(t, 0, 4);
        int month = digits(t, 5, 2);
        int day = digits(t, 8, 2);
        int hour = digits(t, 11, 2);
        int minute = digits(t, 14, 2);
        int second = digits(t, 17, 2);
        int i = 19;
        long nanos = 0;
        if (t.charAt(i) == '.') {
            int start = ++i;
            while (i < n && isDigit(t.charAt(i))) i++;
            int count = i - start;
            if (count < 1 || count > 9) throw invalid(t);
            nanos = digits(t, start, count);
            for (int k = count; k < 9; k++) nanos *= 10;
        }
        if (i >= n) throw invalid(t);
        int offsetSeconds;
        char z = t.charAt(i);
        if (z == 'Z' || z == 'z') {
            if (i + 1 != n) throw invalid(t);
            offsetSeconds = 0;
        } else if (z == '+' || z == '-') {
            if (i + 6 != n || t.charAt(i + 3) != ':') throw invalid(t);
            int oh = digits(t, i + 1, 2);
            int om = digits(t, i + 4, 2);
            if (oh > 18 || om > 59 || (oh == 18 && om > 0)) throw notValid(t);
            offsetSeconds = (oh * 3600 + om * 60) * (z == '-' ? -1 : 1);
        } else {
            throw invalid(t);
        }
        if (month < 1 || month > 12 || day < 1 || day > java.time.YearMonth.of(year, month).lengthOfMonth()
                || hour > 23 || minute > 59 || second > 59) {
            throw notValid(t);
        }
        long epochDay = java.time.LocalDate.of(year, month, day).toEpochDay();
        long seconds = epochDay * 86_400L + hour * 3_600L + minute * 60L + second - offsetSeconds;
        return new long[] {seconds, nanos};
    }

    private static boolean isDigit(char c) {
        return c >= '0' && c <= '9';
    }

    private static int digits(String t, int from, int count) {
        int v = 0;
        for (int k = from; k < from + count; k++) {
            char c = t.charAt(k);
            if (!isDigit(c)) throw invalid(t);
            v = v * 10 + (c - '0');
        }
        return v;
    }

    private static IllegalArgumentException invalid(String text) {
        return new IllegalArgumentException("not an RFC 3339 timestamp with offset: " + text);
    }

    private static IllegalArgumentException notValid(String text) {
        return new IllegalArgumentException("not a valid date-time: " + text);
    }
}
