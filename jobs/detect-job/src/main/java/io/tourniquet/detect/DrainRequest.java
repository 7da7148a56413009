package io.tourniquet.detect;

/**
 * The balance a withdrawal request reported ({@code account_balance_usd}), kept by the
 * account-drain detector until the withdrawal's approval takes it (a Flink POJO in keyed state).
 */
public class DrainRequest {
    public String withdrawalId;
    public double balanceUsd;
    /** Event time of the request: the balance is forgotten a retention after it. */
    public long requestedAt;

    public DrainRequest() {}

    public DrainRequest(String withdrawalId, double balanceUsd, long requestedAt) {
        this.withdrawalId = withdrawalId;
        this.balanceUsd = balanceUsd;
        this.requestedAt = requestedAt;
    }
}
