package io.tourniquet.detect;

import io.tourniquet.config.Settings;
import io.tourniquet.config.TourniquetConfig;
import io.tourniquet.rules.RuleCatalog;
import io.tourniquet.model.RuleVersion;
import java.io.Serializable;
import java.util.Map;

/** The bulk-draining rule's thresholds (contract section 2): window in milliseconds, distinct users. */
public record BulkDrainSettings(long windowMillis, int minUsers)
        implements Serializable, DistinctUsersDetector.Thresholds {

    public static BulkDrainSettings from(RuleVersion v) {
        return new BulkDrainSettings(v.get(Settings.BULK_WINDOW).toMillis(), v.get(Settings.BULK_MIN_USERS));
    }

    public static BulkDrainSettings defaults() {
        return from(RuleCatalog.initial(RuleCatalog.BULK_DRAIN, TourniquetConfig.defaults()));
    }

    /** These thresholds as version 1 of the rule (for tests and callers that start from numbers). */
    public RuleVersion asRuleVersion() {
        return new RuleVersion(RuleCatalog.BULK_DRAIN, 1, Map.of(
                Settings.BULK_WINDOW.key(), windowMillis + " ms",
                Settings.BULK_MIN_USERS.key(), Integer.toString(minUsers)), "configuration", null, 0L);
    }
}
