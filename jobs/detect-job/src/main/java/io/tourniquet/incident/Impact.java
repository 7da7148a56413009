package io.tourniquet.incident;

import io.tourniquet.model.AssetImpact;
import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.function.Predicate;

/**
 * Exact per-asset sums: amounts are added as decimals exactly as received, US$ values from the
 * shortest decimal form of the received number, so a sum is exact "to the last unit".
 */
final class Impact {
    private Impact() {}

    static List<AssetImpact> perAsset(Collection<IncidentState.ImpactEntry> entries,
                                      Predicate<IncidentState.ImpactEntry> which) {
        List<AssetImpact> out = new ArrayList<>();
        for (IncidentState.ImpactEntry e : entries) {
            if (which.test(e)) add(out, e);
        }
        return out;
    }

    /** Adds one approval to per-asset sums kept in asset order. */
    static void add(List<AssetImpact> impact, IncidentState.ImpactEntry e) {
        AssetImpact.addTo(impact, e.asset, new BigDecimal(e.amount), usd(e.usdValue));
    }

    static BigDecimal usdTotal(List<AssetImpact> impact) {
        return AssetImpact.usdTotal(impact);
    }

    static BigDecimal usd(Double value) {
        return value == null ? BigDecimal.ZERO : BigDecimal.valueOf(value);
    }
}
