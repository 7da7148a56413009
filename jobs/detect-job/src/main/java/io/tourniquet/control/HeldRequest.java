package io.tourniquet.control;

import io.tourniquet.model.RawRecord;

/**
 * A verified control request held for a second analyst's approval ({@code control.two-person}),
 * and after it is decided, the outcome alone, so that a late approval is told why it is refused
 * (a Flink POJO in keyed state; times are processing time, ms).
 */
public class HeldRequest {
    public static final String PENDING = "pending";
    public static final String APPROVED = "approved";
    public static final String EXPIRED = "expired";

    /** The request exactly as received and verified; null once decided (it is applied or dead-lettered then). */
    public RawRecord raw;
    public String type;
    public String requestedBy;
    /** Why it needs a second analyst, e.g. {@code rule.account-drain.share 0.8 -> 0.9}. */
    public String why;
    public long heldAt;
    /** The last moment an approval is taken: held at + {@code control.approval-window}. */
    public long approvableUntil;
    /** {@link #PENDING}, {@link #APPROVED} or {@link #EXPIRED}. */
    public String status;
    public String approvedBy;
    /** When even the outcome is forgotten (see {@code ControlProcessor}). */
    public long forgetAt;

    public HeldRequest() {}

    HeldRequest(RawRecord raw, String type, String requestedBy, String why, long heldAt, long approvableUntil,
                long forgetAt) {
        this.raw = raw;
        this.type = type;
        this.requestedBy = requestedBy;
        this.why = why;
        this.heldAt = heldAt;
        this.approvableUntil = approvableUntil;
        this.status = PENDING;
        this.forgetAt = forgetAt;
    }

    boolean pending() {
        return PENDING.equals(status);
    }
}
