package io.tourniquet.detect;

import io.tourniquet.model.EnrichedEvent;
import io.tourniquet.model.Event;

/** An approval waiting for its verification (a Flink POJO in keyed state). */
public class PendingApproval {
    /** The approval with what earlier detectors added (their alert ids). */
    public EnrichedEvent enriched;
    /** Decide when event time reaches this (approval time + grace). */
    public long decideAtEventTime;
    /** Or when wall-clock time reaches this, if event time has not moved meanwhile. */
    public long decideAtProcessingTime;
    /** The watermark when the wall-clock deadline was set: unchanged at the deadline means stalled. */
    public long watermarkAtDeadline;

    public PendingApproval() {}

    public Event approval() {
        return enriched.event;
    }

    public PendingApproval(EnrichedEvent enriched, long decideAtEventTime, long decideAtProcessingTime, long watermark) {
        this.enriched = enriched;
        this.decideAtEventTime = decideAtEventTime;
        this.decideAtProcessingTime = decideAtProcessingTime;
        this.watermarkAtDeadline = watermark;
    }
}
