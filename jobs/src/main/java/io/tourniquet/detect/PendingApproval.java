package io.tourniquet.detect;

import io.tourniquet.model.Event;

/** An approval waiting for its verification (a Flink POJO in keyed state). */
public class PendingApproval {
    public Event approval;
    /** Decide when event time reaches this (approval time + grace). */
    public long decideAtEventTime;
    /** Or when wall-clock time reaches this, if event time has not moved meanwhile. */
    public long decideAtProcessingTime;
    /** The watermark when the wall-clock deadline was set: unchanged at the deadline means stalled. */
    public long watermarkAtDeadline;

    public PendingApproval() {}

    PendingApproval(Event approval, long decideAtEventTime, long decideAtProcessingTime, long watermark) {
        this.approval = approval;
        this.decideAtEventTime = decideAtEventTime;
        this.decideAtProcessingTime = decideAtProcessingTime;
        this.watermarkAtDeadline = watermark;
    }
}
