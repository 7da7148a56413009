package io.tourniquet.bench;

/**
 * How many events a fixed-rate sender owes at a given moment. The sender calls {@link #release}
 * on every tick of a scheduler and sends what it returns: the total follows {@code rate × elapsed}
 * however late or irregular the ticks are, so the rate is fixed over the run, not per tick. A
 * sender that falls behind by more than {@code maxBurst} (a stall: GC, a full producer buffer)
 * does not flood the job afterwards: the excess is dropped and counted, and shows as a lower
 * achieved rate. Not thread-safe; the clock is passed in, so it is tested without waiting.
 */
public final class RatePacer {
    private final double perSecond;
    private final long startNanos;
    private final int maxBurst;
    private long released;
    private long dropped;

    /**
     * @param perSecond  the fixed rate, > 0
     * @param startNanos the moment (in the caller's nano clock) the rate counts from
     * @param maxBurst   the most events one call returns, >= 1
     */
    public RatePacer(double perSecond, long startNanos, int maxBurst) {
        if (!(perSecond > 0)) throw new IllegalArgumentException("rate must be > 0: " + perSecond);
        if (maxBurst < 1) throw new IllegalArgumentException("maxBurst must be >= 1: " + maxBurst);
        this.perSecond = perSecond;
        this.startNanos = startNanos;
        this.maxBurst = maxBurst;
    }

    /** The events to send now: those due by {@code nowNanos} and neither sent nor dropped yet. */
    public int release(long nowNanos) {
        long due = (long) Math.floor((nowNanos - startNanos) * perSecond / 1e9);
        long owed = due - released - dropped;
        if (owed <= 0) return 0;
        if (owed > maxBurst) {
            dropped += owed - maxBurst;
            owed = maxBurst;
        }
        released += owed;
        return (int) owed;
    }

    /** Events returned by {@link #release} so far. */
    public long released() {
        return released;
    }

    /** Events that fell due while the sender was stalled beyond {@code maxBurst}, never sent. */
    public long dropped() {
        return dropped;
    }
}
