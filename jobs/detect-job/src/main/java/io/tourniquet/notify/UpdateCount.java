package io.tourniquet.notify;

/** Per user and incident: how many notifications were sent, and the event time of the latest (a Flink POJO in keyed state). */
public class UpdateCount {
    public int sent;
    public long lastEventTime;

    public UpdateCount() {}

    UpdateCount(int sent, long lastEventTime) {
        this.sent = sent;
        this.lastEventTime = lastEventTime;
    }
}
