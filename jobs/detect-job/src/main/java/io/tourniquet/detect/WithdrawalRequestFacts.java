package io.tourniquet.detect;

/** A withdrawal request as the anomaly detector keeps it until its approval (a Flink POJO). */
public class WithdrawalRequestFacts {
    public String withdrawalId;
    public long requestTime;
    public Double usdValue;
    public Double accountBalanceUsd;
    public String destinationAddress;
    public String sessionId;
    /** When the destination was last whitelisted before the request, or null. */
    public Long whitelistedAt;

    public WithdrawalRequestFacts() {}
}
