package io.tourniquet.claims;

import io.tourniquet.model.AssetImpact;
import io.tourniquet.model.Claim;
import java.math.BigDecimal;
import java.math.RoundingMode;
import java.util.ArrayList;
import java.util.List;

/**
 * A claim's loss and payout, in exact decimals. The loss is, per asset, the sum of the unauthorized
 * withdrawals' amounts and US$ values (at request time). The payout is the loss when it is within
 * the programme limit; above it, every asset is paid in the same proportion (limit / loss), so the
 * US$ total is exactly the limit: each asset's US$ share is rounded down to the cent and the last
 * asset takes the remainder, and each amount is scaled by its asset's paid share and rounded down
 * at 18 fraction digits (the input's finest), so the programme never pays more than it owes.
 */
final class Payout {
    private Payout() {}

    static List<AssetImpact> loss(List<Claim.ClaimWithdrawal> withdrawals) {
        List<AssetImpact> perAsset = new ArrayList<>();
        for (Claim.ClaimWithdrawal w : withdrawals) {
            AssetImpact.addTo(perAsset, w.asset == null ? "?" : w.asset, amount(w.amount),
                    w.usdValue == null ? BigDecimal.ZERO : w.usdValue);
        }
        return perAsset;
    }

    static BigDecimal total(List<AssetImpact> perAsset) {
        return AssetImpact.usdTotal(perAsset);
    }

    static List<AssetImpact> payout(List<AssetImpact> loss, BigDecimal limit) {
        BigDecimal lossUsd = total(loss);
        List<AssetImpact> out = new ArrayList<>();
        if (lossUsd.compareTo(limit) <= 0) {
            for (AssetImpact a : loss) out.add(new AssetImpact(a.asset, a.amount, a.usdValue, a.withdrawals));
            return out;
        }
        BigDecimal paidSoFar = BigDecimal.ZERO;
        for (int i = 0; i < loss.size(); i++) {
            AssetImpact a = loss.get(i);
            BigDecimal usd = i == loss.size() - 1 ? limit.subtract(paidSoFar)
                    : a.usdValue.multiply(limit).divide(lossUsd, 2, RoundingMode.DOWN);
            paidSoFar = paidSoFar.add(usd);
            BigDecimal amount = a.usdValue.signum() == 0 ? BigDecimal.ZERO
                    : new BigDecimal(a.amount).multiply(usd).divide(a.usdValue, 18, RoundingMode.DOWN);
            out.add(new AssetImpact(a.asset, plain(amount), usd, a.withdrawals));
        }
        return out;
    }

    private static BigDecimal amount(String s) {
        try {
            return s == null ? BigDecimal.ZERO : new BigDecimal(s);
        } catch (NumberFormatException e) {
            return BigDecimal.ZERO; // the parser admits only decimal strings; nothing to add otherwise
        }
    }

    private static String plain(BigDecimal v) {
        BigDecimal s = v.stripTrailingZeros();
        return (s.scale() < 0 ? s.setScale(0) : s).toPlainString();
    }
}
