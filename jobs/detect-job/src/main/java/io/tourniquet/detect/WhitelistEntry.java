package io.tourniquet.detect;

/**
 * What the new-address detector remembers of one whitelisted address of a user (a Flink POJO in
 * keyed state): the latest add and the latest removal not older than it, both in event time, so
 * that "was it whitelisted, and since when" can be answered as of a request's time even when the
 * account changes arrive out of order.
 */
public class WhitelistEntry {
    /** Marks an add or removal not seen. */
    public static final long NONE = Long.MIN_VALUE;

    public String address;
    /** Event time of the latest {@code whitelist_address_added}; {@link #NONE} if only a removal was seen. */
    public long addedAt = NONE;
    public String addedEventId;
    /** Event time of a removal at or after {@link #addedAt}; {@link #NONE} if none. */
    public long removedAt = NONE;

    public WhitelistEntry() {}

    /** Whitelisted as of {@code time}: added at or before it and not removed since (up to it). */
    public boolean whitelistedAt(long time) {
        if (addedAt == NONE || addedAt > time) return false;
        return removedAt == NONE || removedAt > time;
    }

    /** The latest event time this entry knows of. */
    public long lastChange() {
        return Math.max(addedAt, removedAt);
    }
}
