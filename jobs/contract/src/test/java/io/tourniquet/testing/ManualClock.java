package io.tourniquet.testing;

import io.tourniquet.util.SerializableClock;

/** A wall clock a test sets by hand, moved together with a harness's processing time (one clock in the job). */
public final class ManualClock implements SerializableClock {
    private static final long serialVersionUID = 1L;
    public long now;

    public ManualClock(long now) {
        this.now = now;
    }

    @Override
    public long getAsLong() {
        return now;
    }
}
