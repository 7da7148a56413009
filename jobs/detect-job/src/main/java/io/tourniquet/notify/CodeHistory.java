package io.tourniquet.notify;

import java.util.ArrayList;
import java.util.List;

/**
 * A user's anti-phishing code changes, oldest first (keyed state, a Flink POJO). A notification
 * carries the code in force at the time of what it is about, so its content does not depend on
 * how far the account-change topic happened to be read; only the last few changes are kept.
 */
public class CodeHistory {
    static final int KEEP = 8;

    public List<AntiPhishingCode> changes = new ArrayList<>();
    /** True once an older change was dropped to respect {@link #KEEP}. */
    public boolean truncated;

    public CodeHistory() {}

    /** Adds a change in event-time order; of two at the same time, the one added last wins. */
    void add(AntiPhishingCode c) {
        int at = changes.size();
        while (at > 0 && changes.get(at - 1).eventTime > c.eventTime) at--;
        changes.add(at, c);
        if (changes.size() > KEEP) {
            changes.remove(0);
            truncated = true;
        }
    }

    /** The code set last at or before {@code eventTime}; null if none was set by then. */
    String asOf(long eventTime) {
        AntiPhishingCode in = null;
        for (AntiPhishingCode c : changes) {
            if (c.eventTime <= eventTime) in = c;
        }
        if (in == null && truncated && !changes.isEmpty()) in = changes.get(0); // set before what we kept
        return in == null ? null : in.code;
    }
}
