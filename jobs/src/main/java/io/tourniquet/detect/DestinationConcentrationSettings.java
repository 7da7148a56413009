package io.tourniquet.detect;

import io.tourniquet.config.Settings;
import io.tourniquet.config.TourniquetConfig;
import io.tourniquet.rules.RuleCatalog;
import io.tourniquet.model.RuleVersion;
import java.io.Serializable;
import java.util.Map;

/** The destination-concentration rule's thresholds (contract section 2): window in milliseconds, distinct users. */
public record DestinationConcentrationSettings(long windowMillis, int minUsers)
        implements Serializable, DistinctUsersDetector.Thresholds {

    public static DestinationConcentrationSettings from(RuleVersion v) {
        return new DestinationConcentrationSettings(v.get(Settings.CONCENTRATION_WINDOW).toMillis(),
                v.get(Settings.CONCENTRATION_MIN_USERS));
    }

    public static DestinationConcentrationSettings defaults() {
        return from(RuleCatalog.initial(RuleCatalog.DESTINATION_CONCENTRATION, TourniquetConfig.defaults()));
    }

    /** These thresholds as version 1 of the rule (for tests and callers that start from numbers). */
    public RuleVersion asRuleVersion() {
        return new RuleVersion(RuleCatalog.DESTINATION_CONCENTRATION, 1, Map.of(
                Settings.CONCENTRATION_WINDOW.key(), windowMillis + " ms",
                Settings.CONCENTRATION_MIN_USERS.key(), Integer.toString(minUsers)), "configuration", null, 0L);
    }
}
