package io.tourniquet.detect;

import io.tourniquet.config.Settings;
import io.tourniquet.config.TourniquetConfig;
import java.io.Serializable;

/** The unauthorized-approval rule's thresholds (contract section 2), in milliseconds. */
public record UnauthorizedApprovalSettings(long graceMillis, long skewMillis, long validityMillis,
                                           long maxWaitMillis, int maxChallengesPerUser) implements Serializable {

    public static UnauthorizedApprovalSettings from(TourniquetConfig cfg) {
        return new UnauthorizedApprovalSettings(
                cfg.get(Settings.UA_GRACE).toMillis(),
                cfg.get(Settings.UA_SKEW).toMillis(),
                cfg.get(Settings.UA_VALIDITY).toMillis(),
                cfg.get(Settings.UA_MAX_WAIT).toMillis(),
                cfg.get(Settings.UA_MAX_CHALLENGES));
    }

    public static UnauthorizedApprovalSettings defaults() {
        return from(TourniquetConfig.defaults());
    }
}
