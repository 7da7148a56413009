package io.tourniquet.rules.platform;

import io.tourniquet.config.Settings;
import io.tourniquet.config.TourniquetConfig;
import io.tourniquet.rules.RuleVersion;
import java.io.Serializable;
import java.util.Map;

/** The bulk-draining rule's thresholds (contract section 2): window in milliseconds, distinct users. */
public record BulkDrainSettings(long windowMillis, int minUsers)
        implements Serializable, DistinctUsersDetector.Thresholds {

    public static BulkDrainSettings from(RuleVersion v) {
        return new BulkDrainSettings(v.get(Settings.BULK_WINDOW).toMillis(), v.get(Settings.BULK_MIN_USERS));
    }

    public static BulkDrainSettings defaults() {
        return from(BulkDrainRule.DEFINITION.initial(TourniquetConfig.defaults()));
    }

}
