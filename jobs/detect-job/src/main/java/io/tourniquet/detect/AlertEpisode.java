package io.tourniquet.detect;

/**
 * A platform detector's current episode (a Flink POJO in keyed state): after it fires, alerts
 * before {@link #until} belong to the same episode and raise nothing new.
 */
public class AlertEpisode {
    /** Event time (exclusive) up to which counted alerts join this episode. */
    public long until;
    /** Event time at which the episode is forgotten (no alert still to come can join it). */
    public long dropAt;

    public AlertEpisode() {}

    public AlertEpisode(long until, long dropAt) {
        this.until = until;
        this.dropAt = dropAt;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof AlertEpisode e && e.until == until && e.dropAt == dropAt;
    }

    @Override
    public int hashCode() {
        return Long.hashCode(until) * 31 + Long.hashCode(dropAt);
    }

    @Override
    public String toString() {
        return "Episode{until=" + until + " dropAt=" + dropAt + "}";
    }
}
