package io.tourniquet.bench;

import com.google.common.math.Quantiles;
import java.util.Arrays;
import java.util.Map;

/**
 * Freeze latencies summed up: percentiles (Guava's, interpolated between the two nearest ranks),
 * the extremes, and the median of the first and of the last tenth of the approvals in the order
 * they were sent, which tells a job that keeps up with the background (both alike) from one that
 * falls behind it (the last tenth waits for a growing backlog). Latencies whose end was not seen
 * (the wait ended first) are given as the time waited: then every figure is a lower bound.
 *
 * @param count            latencies
 * @param p50Millis        median
 * @param p99Millis        99th percentile
 * @param maxMillis        longest
 * @param minMillis        shortest
 * @param firstTenthP50Millis median of the first tenth sent
 * @param lastTenthP50Millis  median of the last tenth sent
 * @param censored         latencies that are only the time waited, their end not seen
 */
public record LatencySummary(int count, double p50Millis, double p99Millis, long maxMillis, long minMillis,
                             double firstTenthP50Millis, double lastTenthP50Millis, int censored) {

    /**
     * What the two tenths say, in words for the console: "falls behind" when the last tenth's median
     * is more than twice the first's and over 100 ms above it; "catches up" the other way round (the
     * first approvals met a backlog the warm-up left); else "keeps up".
     */
    public String trend() {
        if (wellAbove(lastTenthP50Millis, firstTenthP50Millis)) {
            return "falls behind: the figures measure its growing backlog, not the freeze path";
        }
        if (wellAbove(firstTenthP50Millis, lastTenthP50Millis)) {
            return "catches up: the first approvals met a backlog left by the warm-up";
        }
        return "keeps up";
    }

    /** More than twice {@code b} and over 100 ms above it. */
    private static boolean wellAbove(double a, double b) {
        return a > 2 * b && a - b > 100;
    }

    /**
     * @param inSendOrder one latency per approval, in the order the approvals were sent; at least one
     * @param censored    how many of them are only the time waited
     */
    public static LatencySummary of(long[] inSendOrder, int censored) {
        int n = inSendOrder.length;
        if (n == 0) throw new IllegalArgumentException("no latencies");
        Map<Integer, Double> p = Quantiles.percentiles().indexes(50, 99).compute(inSendOrder);
        int tenth = Math.max(1, n / 10);
        return new LatencySummary(n, p.get(50), p.get(99), Arrays.stream(inSendOrder).max().getAsLong(),
                Arrays.stream(inSendOrder).min().getAsLong(),
                Quantiles.median().compute(Arrays.copyOfRange(inSendOrder, 0, tenth)),
                Quantiles.median().compute(Arrays.copyOfRange(inSendOrder, n - tenth, n)), censored);
    }
}
