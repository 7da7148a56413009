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

    /**
     * Adds one withdrawal to per-asset sums kept sorted by asset: exact decimal addition, so a sum
     * does not depend on the order withdrawals are added in. Shared by the incident's impact and a
     * claim's loss, which must agree to the last unit.
     */
    public static void addTo(java.util.List<AssetImpact> perAsset, String asset, BigDecimal amount, BigDecimal usd) {
        int i = 0;
        while (i < perAsset.size() && perAsset.get(i).asset.compareTo(asset) < 0) i++;
        if (i < perAsset.size() && perAsset.get(i).asset.equals(asset)) {
            AssetImpact a = perAsset.get(i);
            a.amount = new BigDecimal(a.amount).add(amount).toPlainString();
            a.usdValue = a.usdValue.add(usd);
            a.withdrawals++;
        } else {
            perAsset.add(i, new AssetImpact(asset, amount.toPlainString(), usd, 1));
        }
    }

    /** The US$ sum over assets. */
    public static BigDecimal usdTotal(java.util.List<AssetImpact> perAsset) {
        BigDecimal total = BigDecimal.ZERO;
        for (AssetImpact a : perAsset) total = total.add(a.usdValue);
        return total;
    }

    @Override
    public String toString() {
        return asset + " " + amount + " (US$" + usdValue + ", " + withdrawals + ")";
    }
}
