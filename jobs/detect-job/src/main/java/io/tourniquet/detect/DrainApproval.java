package io.tourniquet.detect;

import io.tourniquet.model.Event;

/**
 * One approved withdrawal of a user, kept by the account-drain detector while it can still share
 * a window with a later approval (a Flink POJO in keyed state).
 */
public class DrainApproval {
    public String eventId;
    public String withdrawalId;
    public long eventTime;
    public double usdValue;
    /** The balance its request reported; null while the request has not been seen. */
    public Double balanceUsd;
    public String asset;
    public String amount;

    public DrainApproval() {}

    public static DrainApproval of(Event approval) {
        DrainApproval a = new DrainApproval();
        a.eventId = approval.eventId;
        a.withdrawalId = approval.withdrawalId;
        a.eventTime = approval.eventTime;
        a.usdValue = approval.usdValue;
        a.asset = approval.asset;
        a.amount = approval.amount;
        return a;
    }
}
