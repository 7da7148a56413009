package io.tourniquet.detect;

import io.tourniquet.model.ActionScope;
import io.tourniquet.model.Alert;
import java.util.List;
import java.util.Map;

/**
 * What each rule does (contract section 2, the table "What each rule does"). The commands a rule
 * issues are fixed here, in one place; release and resume never appear: only an analyst's signed
 * request may issue them.
 */
public final class Playbook {
    private Playbook() {}

    /** One command of a rule's response. */
    public record Step(String action, Scope scope) {}

    /** Which part of the alert a command's scope names. */
    public enum Scope {
        USER {
            @Override
            ActionScope of(Alert a) {
                return ActionScope.user(a.userId);
            }
        },
        WITHDRAWAL {
            @Override
            ActionScope of(Alert a) {
                return ActionScope.withdrawal(a.withdrawalId, a.userId);
            }
        };

        abstract ActionScope of(Alert a);
    }

    private static final Map<String, List<Step>> STEPS = Map.of(
            UnauthorizedApprovalDetector.RULE, List.of(
                    new Step("freeze_account", Scope.USER),
                    new Step("hold_withdrawal", Scope.WITHDRAWAL),
                    new Step("revoke_mfa_tokens", Scope.USER)));

    public static List<Step> stepsFor(String rule) {
        return STEPS.getOrDefault(rule, List.of());
    }
}
