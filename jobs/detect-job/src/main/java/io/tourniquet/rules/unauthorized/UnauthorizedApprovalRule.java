package io.tourniquet.rules.unauthorized;

import io.tourniquet.config.Settings;
import io.tourniquet.rules.Playbook.Scope;
import io.tourniquet.rules.Playbook.Step;
import io.tourniquet.rules.RuleDefinition;
import java.util.List;

/** The rule the January 2022 incident needed: a withdrawal approved without the user's 2FA. */
public final class UnauthorizedApprovalRule {
    private UnauthorizedApprovalRule() {}

    public static final String ID = "unauthorized_approval";

    public static final RuleDefinition DEFINITION = new RuleDefinition(ID, "high",
            List.of(Settings.UA_GRACE, Settings.UA_SKEW, Settings.UA_VALIDITY, Settings.UA_MAX_WAIT,
                    Settings.UA_MAX_CHALLENGES),
            List.of(new Step("freeze_account", Scope.USER), new Step("hold_withdrawal", Scope.WITHDRAWAL),
                    new Step("revoke_mfa_tokens", Scope.USER)),
            "a withdrawal is `approved` without a valid `challenge_verified` of the same user, withdrawal and"
                    + " challenge (each challenge authorizes once)",
            "`freeze_account` (`user_id`), `hold_withdrawal` (`withdrawal_id`, `user_id`), `revoke_mfa_tokens`"
                    + " (`user_id`)",
            "the user");
}
