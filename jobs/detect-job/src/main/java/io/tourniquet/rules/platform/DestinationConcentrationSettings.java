package io.tourniquet.rules.platform;

import io.tourniquet.config.Settings;
import io.tourniquet.config.TourniquetConfig;
import io.tourniquet.rules.RuleVersion;
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
        return from(DestinationConcentrationRule.DEFINITION.initial(TourniquetConfig.defaults()));
    }

}
