package io.tourniquet.detect;

import io.tourniquet.config.Settings;
import io.tourniquet.config.TourniquetConfig;
import io.tourniquet.rules.RuleCatalog;
import io.tourniquet.model.RuleVersion;
import java.io.Serializable;
import java.util.Map;

/** The unauthorized-approval rule's thresholds (contract section 2), in milliseconds. */
public record UnauthorizedApprovalSettings(long graceMillis, long skewMillis, long validityMillis,
                                           long maxWaitMillis, int maxChallengesPerUser) implements Serializable {

    public static UnauthorizedApprovalSettings from(RuleVersion v) {
        return new UnauthorizedApprovalSettings(
                v.get(Settings.UA_GRACE).toMillis(),
                v.get(Settings.UA_SKEW).toMillis(),
                v.get(Settings.UA_VALIDITY).toMillis(),
                v.get(Settings.UA_MAX_WAIT).toMillis(),
                v.get(Settings.UA_MAX_CHALLENGES));
    }

    public static UnauthorizedApprovalSettings defaults() {
        return from(RuleCatalog.initial(RuleCatalog.UNAUTHORIZED_APPROVAL, TourniquetConfig.defaults()));
    }

    /** These thresholds as version 1 of the rule (for tests and callers that start from numbers). */
    public RuleVersion asRuleVersion() {
        return new RuleVersion(RuleCatalog.UNAUTHORIZED_APPROVAL, 1, Map.of(
                Settings.UA_GRACE.key(), graceMillis + " ms",
                Settings.UA_SKEW.key(), skewMillis + " ms",
                Settings.UA_VALIDITY.key(), validityMillis + " ms",
                Settings.UA_MAX_WAIT.key(), maxWaitMillis + " ms",
                Settings.UA_MAX_CHALLENGES.key(), Integer.toString(maxChallengesPerUser)), "configuration", null, 0L);
    }
}
