package io.tourniquet.incident;

import io.tourniquet.model.AssetImpact;
import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Predicate;

/**
 * Exact per-asset sums: amounts are added as decimals exactly as received, US$ values from the
 * shortest decimal form of the received number, so a sum is exact "to the last unit".
 */
final class Impact {
    private Impact() {}

    static List<AssetImpact> perAsset(Collection<IncidentState.ImpactEntry> entries,
                                      Predicate<IncidentState.ImpactEntry> which) {
        Map<String, BigDecimal[]> sums = new TreeMap<>();
        Map<String, Integer> counts = new TreeMap<>();
        for (IncidentState.ImpactEntry e : entries) {
            if (!which.test(e)) continue;
            BigDecimal[] s = sums.computeIfAbsent(e.asset, a -> new BigDecimal[] {BigDecimal.ZERO, BigDecimal.ZERO});
            s[0] = s[0].add(new BigDecimal(e.amount));
            s[1] = s[1].add(usd(e.usdValue));
            counts.merge(e.asset, 1, Integer::sum);
        }
        List<AssetImpact> out = new ArrayList<>();
        for (Map.Entry<String, BigDecimal[]> s : sums.entrySet()) {
            out.add(new AssetImpact(s.getKey(), s.getValue()[0].toPlainString(), s.getValue()[1],
                    counts.get(s.getKey())));
        }
        return out;
    }

    /** Adds one approval to per-asset sums kept in asset order. */
    static void add(List<AssetImpact> impact, IncidentState.ImpactEntry e) {
        int i = 0;
        while (i < impact.size() && impact.get(i).asset.compareTo(e.asset) < 0) i++;
        if (i < impact.size() && impact.get(i).asset.equals(e.asset)) {
            AssetImpact a = impact.get(i);
            a.amount = new BigDecimal(a.amount).add(new BigDecimal(e.amount)).toPlainString();
            a.usdValue = a.usdValue.add(usd(e.usdValue));
            a.withdrawals++;
        } else {
            impact.add(i, new AssetImpact(e.asset, new BigDecimal(e.amount).toPlainString(), usd(e.usdValue), 1));
        }
    }

    static BigDecimal usdTotal(List<AssetImpact> impact) {
        BigDecimal total = BigDecimal.ZERO;
        for (AssetImpact a : impact) total = total.add(a.usdValue);
        return total;
    }

    static BigDecimal usd(Double value) {
        return value == null ? BigDecimal.ZERO : BigDecimal.valueOf(value);
    }
}
