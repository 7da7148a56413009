package io.tourniquet.notify;

import io.tourniquet.model.NotificationRequest;

/** A notification waiting for event time to reach what it is about (a Flink POJO in keyed state). */
public class PendingNotice {
    public NotificationRequest request;
    public long eventTime;

    public PendingNotice() {}

    PendingNotice(NotificationRequest request, long eventTime) {
        this.request = request;
        this.eventTime = eventTime;
    }
}
