package io.tourniquet.detect;

import io.tourniquet.model.Event;

/** An approval waiting for its verification (a Flink POJO in keyed state). */
public class PendingApproval {
    public Event approval;
    /** Decide when event time reaches this (approval time + grace). */
    public long decideAtEventTime;
    /** Or when wall-clock time reaches this, if event time stalls. */
    public long decideAtProcessingTime;

    public PendingApproval() {}

    PendingApproval(Event approval, long decideAtEventTime, long decideAtProcessingTime) {
        this.approval = approval;
        this.decideAtEventTime = decideAtEventTime;
        this.decideAtProcessingTime = decideAtProcessingTime;
    }
}
