package io.tourniquet.util;

import java.util.ArrayList;
import java.util.List;

/** Durations as alert summaries write them for people, e.g. {@code 23 h 59 min}. */
public final class Durations {
    private Durations() {}

    public static String describe(long millis) {
        if (millis < 0) return "-" + describe(-millis);
        if (millis == 0) return "0 s";
        long h = millis / 3_600_000;
        long min = millis / 60_000 % 60;
        long s = millis / 1_000 % 60;
        long ms = millis % 1_000;
        List<String> parts = new ArrayList<>();
        if (h > 0) parts.add(h + " h");
        if (min > 0) parts.add(min + " min");
        if (s > 0) parts.add(s + " s");
        if (ms > 0) parts.add(ms + " ms");
        return String.join(" ", parts);
    }
}
