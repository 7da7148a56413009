package io.tourniquet.rules.drain;

import io.tourniquet.config.Settings;
import io.tourniquet.config.TourniquetConfig;
import io.tourniquet.rules.RuleVersion;
import java.io.Serializable;
import java.math.BigDecimal;
import java.util.Map;

/**
 * The account-drain rule's thresholds (contract section 2): the sliding window and how long a
 * request's balance waits for its approval in milliseconds; the share of the balance and the
 * floor in US$ as exact decimals.
 */
public record AccountDrainSettings(long windowMillis, BigDecimal share, BigDecimal floorUsd,
                                   long requestRetentionMillis) implements Serializable {

    public static AccountDrainSettings from(RuleVersion v) {
        return new AccountDrainSettings(
                v.get(Settings.DRAIN_WINDOW).toMillis(),
                v.get(Settings.DRAIN_SHARE),
                v.get(Settings.DRAIN_FLOOR),
                v.get(Settings.DRAIN_REQUEST_RETENTION).toMillis());
    }

    public static AccountDrainSettings defaults() {
        return from(AccountDrainRule.DEFINITION.initial(TourniquetConfig.defaults()));
    }

}
