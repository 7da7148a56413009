package io.tourniquet.bench;

/**
 * An output rate read from broker append times (LogAppendTime): what a consumer of the output
 * topic sees, on the broker's one clock, whoever produced it. Two windows: from the first output
 * to the last (everything after the first record, deployment excluded), and "steady", which also
 * leaves out the first {@code warmupFraction} of the outputs (JIT compilation, connection set-up,
 * state still empty), so the limit and the job are compared when both are warm.
 *
 * @param records        output records
 * @param firstMillis    append time of the first
 * @param lastMillis     append time of the last
 * @param seconds        last minus first
 * @param perSecond      records after the first, per second of {@code seconds}
 * @param steadyRecords  records from the first one after the warm-up on
 * @param steadySeconds  last minus the append time of that record
 * @param steadyPerSecond records after it, per second of {@code steadySeconds}
 */
public record AppendRate(long records, long firstMillis, long lastMillis, double seconds, double perSecond,
                         long steadyRecords, double steadySeconds, double steadyPerSecond) {

    /** The share of outputs counted as warm-up in the steady window. */
    public static final double WARMUP_FRACTION = 0.10;

    /**
     * @param sortedMillis   append times, ascending (one topic's partitions merged)
     * @param warmupFraction the leading share of records the steady window leaves out, in [0, 1)
     * @throws IllegalArgumentException if there are too few records, or too little time, for a rate
     */
    public static AppendRate of(long[] sortedMillis, double warmupFraction) {
        if (!(warmupFraction >= 0 && warmupFraction < 1)) {
            throw new IllegalArgumentException("warm-up fraction must be in [0, 1): " + warmupFraction);
        }
        int n = sortedMillis.length;
        // The steady window must still hold two records, at different milliseconds.
        int warm = (int) Math.floor(n * warmupFraction);
        if (n - warm < 2 || sortedMillis[n - 1] == sortedMillis[warm]) {
            throw new IllegalArgumentException("too few output records (" + n + ") or too short a span for a rate");
        }
        long first = sortedMillis[0];
        long last = sortedMillis[n - 1];
        long steadyFrom = sortedMillis[warm];
        // Rates count the records after the window's first one: n records span n - 1 gaps.
        return new AppendRate(n, first, last, (last - first) / 1e3, (n - 1) * 1e3 / (last - first),
                n - warm, (last - steadyFrom) / 1e3, (n - 1 - warm) * 1e3 / (last - steadyFrom));
    }
}
