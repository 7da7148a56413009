package io.tourniquet.detect;

import io.tourniquet.model.Event;

/**
 * A withdrawal request the new-address detector has seen and whose request time the watermark
 * has not passed yet (a Flink POJO in keyed state): what an alert on it needs, and whether it was
 * already alerted (then it is kept only to ignore a duplicate request of the same withdrawal).
 */
public class NewAddressRequest {
    public String eventId;
    public String withdrawalId;
    public String userId;
    public long eventTime;
    public String asset;
    public String network;
    public String amount;
    public Double usdValue;
    public String destinationAddress;
    public String sessionId;
    public String ip;
    public String deviceId;
    public boolean alerted;

    public NewAddressRequest() {}

    public static NewAddressRequest of(Event e) {
        NewAddressRequest r = new NewAddressRequest();
        r.eventId = e.eventId;
        r.withdrawalId = e.withdrawalId;
        r.userId = e.userId;
        r.eventTime = e.eventTime;
        r.asset = e.asset;
        r.network = e.network;
        r.amount = e.amount;
        r.usdValue = e.usdValue;
        r.destinationAddress = e.destinationAddress;
        r.sessionId = e.sessionId;
        r.ip = e.ip;
        r.deviceId = e.deviceId;
        return r;
    }
}
