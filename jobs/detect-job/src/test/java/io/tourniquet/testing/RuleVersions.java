package io.tourniquet.testing;

import io.tourniquet.config.Settings;
import io.tourniquet.rules.RuleVersion;
import io.tourniquet.rules.drain.AccountDrainSettings;
import io.tourniquet.rules.newaddress.NewAddressSettings;
import io.tourniquet.rules.platform.BulkDrainSettings;
import io.tourniquet.rules.platform.DestinationConcentrationSettings;
import io.tourniquet.rules.unauthorized.UnauthorizedApprovalSettings;
import io.tourniquet.rules.drain.AccountDrainRule;
import io.tourniquet.rules.newaddress.NewAddressWithdrawalRule;
import io.tourniquet.rules.platform.BulkDrainRule;
import io.tourniquet.rules.platform.DestinationConcentrationRule;
import io.tourniquet.rules.unauthorized.UnauthorizedApprovalRule;
import java.util.Map;

/** Rule versions built from numbers, for detectors under test (production reads them from configuration). */
public final class RuleVersions {
    private RuleVersions() {}

    public static RuleVersion of(UnauthorizedApprovalSettings s) {
        return new RuleVersion(UnauthorizedApprovalRule.ID, 1, Map.of(
                Settings.UA_GRACE.key(), s.graceMillis() + " ms",
                Settings.UA_SKEW.key(), s.skewMillis() + " ms",
                Settings.UA_VALIDITY.key(), s.validityMillis() + " ms",
                Settings.UA_MAX_WAIT.key(), s.maxWaitMillis() + " ms",
                Settings.UA_MAX_CHALLENGES.key(), Integer.toString(s.maxChallengesPerUser())), "configuration", null, 0L);
    }

    public static RuleVersion of(AccountDrainSettings s) {
        return new RuleVersion(AccountDrainRule.ID, 1, Map.of(
                Settings.DRAIN_WINDOW.key(), s.windowMillis() + " ms",
                Settings.DRAIN_SHARE.key(), s.share().toPlainString(),
                Settings.DRAIN_FLOOR.key(), s.floorUsd().toPlainString(),
                Settings.DRAIN_REQUEST_RETENTION.key(), s.requestRetentionMillis() + " ms"), "configuration", null, 0L);
    }

    public static RuleVersion of(NewAddressSettings s) {
        return new RuleVersion(NewAddressWithdrawalRule.ID, 1,
                Map.of(Settings.NEW_ADDRESS_AGE.key(), s.minAgeMillis() + " ms"), "configuration", null, 0L);
    }

    public static RuleVersion of(BulkDrainSettings s) {
        return new RuleVersion(BulkDrainRule.ID, 1, Map.of(
                Settings.BULK_WINDOW.key(), s.windowMillis() + " ms",
                Settings.BULK_MIN_USERS.key(), Integer.toString(s.minUsers())), "configuration", null, 0L);
    }

    public static RuleVersion of(DestinationConcentrationSettings s) {
        return new RuleVersion(DestinationConcentrationRule.ID, 1, Map.of(
                Settings.CONCENTRATION_WINDOW.key(), s.windowMillis() + " ms",
                Settings.CONCENTRATION_MIN_USERS.key(), Integer.toString(s.minUsers())), "configuration", null, 0L);
    }
}
