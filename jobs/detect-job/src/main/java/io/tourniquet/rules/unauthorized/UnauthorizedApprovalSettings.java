package io.tourniquet.rules.unauthorized;

import io.tourniquet.config.Settings;
import io.tourniquet.config.TourniquetConfig;
import io.tourniquet.rules.RuleVersion;
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
        return from(UnauthorizedApprovalRule.DEFINITION.initial(TourniquetConfig.defaults()));
    }

}
