package io.tourniquet.model;

import java.math.BigDecimal;

/** One asset's share of an incident's impact: exact sums, never floating point. */
public class AssetImpact {
    public String asset;
    /** Exact decimal string: the sum of the unauthorized approvals' {@code amount}. */
    public String amount;
    /** Sum of their {@code usd_value} (value at request time), exact. */
    public BigDecimal usdValue;
    public int withdrawals;

    public AssetImpact() {}

    public AssetImpact(String asset, String amount, BigDecimal usdValue, int withdrawals) {
        this.asset = asset;
        this.amount = amount;
        this.usdValue = usdValue;
        this.withdrawals = withdrawals;
    }

    @Override
    public String toString() {
        return asset + " " + amount + " (US$" + usdValue + ", " + withdrawals + ")";
    }
}
