package io.tourniquet.rules.platform;

import io.tourniquet.config.Settings;
import io.tourniquet.rules.Playbook.Scope;
import io.tourniquet.rules.Playbook.Step;
import io.tourniquet.rules.RuleDefinition;
import io.tourniquet.rules.drain.AccountDrainRule;
import io.tourniquet.rules.unauthorized.UnauthorizedApprovalRule;
import java.util.List;
import java.util.Set;

/** Many users drained at once: the platform itself is being emptied. */
public final class BulkDrainRule {
    private BulkDrainRule() {}

    public static final String ID = "bulk_drain";
    /** The alerts it counts. */
    public static final Set<String> COUNTS = Set.of(UnauthorizedApprovalRule.ID, AccountDrainRule.ID);

    /** One suspension per incident: the incident tracker marks the alert that may suspend. */
    public static final RuleDefinition DEFINITION = new RuleDefinition(ID, "critical",
            List.of(Settings.BULK_WINDOW, Settings.BULK_MIN_USERS),
            List.of(new Step("suspend_withdrawals", Scope.PLATFORM,
                    a -> Boolean.TRUE.equals(a.evidence.suspendWithdrawals))),
            "at least N distinct users platform-wide have an unauthorized approval or an account drain within the"
                    + " window",
            "`suspend_withdrawals` (`platform: true`), once per incident",
            "each affected user: the window's users and every victim of the incident, later ones included");
}
