package io.tourniquet.detect;

import io.tourniquet.model.ActionScope;
import io.tourniquet.model.Alert;
import io.tourniquet.rules.RuleCatalog;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;

/**
 * What each rule does (contract section 2, the table "What each rule does"). The commands a rule
 * issues are fixed here, in one place; release and resume never appear: only an analyst's signed
 * request may issue them.
 */
public final class Playbook {
    private Playbook() {}

    /** Severities of the contract's table. */
    public static final Map<String, String> SEVERITY = Map.of(
            RuleCatalog.UNAUTHORIZED_APPROVAL, "high",
            RuleCatalog.ACCOUNT_DRAIN, "medium",
            RuleCatalog.NEW_ADDRESS_WITHDRAWAL, "low",
            RuleCatalog.DESTINATION_CONCENTRATION, "critical",
            RuleCatalog.BULK_DRAIN, "critical",
            // The default; each alert carries the severity configured for its rule version.
            RuleCatalog.ANOMALY_SCORE, "medium");

    public static String severityOf(String rule) {
        String s = SEVERITY.get(rule);
        if (s == null) throw new IllegalArgumentException("no severity for rule " + rule);
        return s;
    }

    /** One command of a rule's response, issued when {@code when} holds for the alert. */
    public record Step(String action, Scope scope, Predicate<Alert> when) {
        Step(String action, Scope scope) {
            this(action, scope, a -> true);
        }
    }

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
        },
        ADDRESS {
            @Override
            ActionScope of(Alert a) {
                return ActionScope.address(a.evidence.destinationAddress);
            }
        },
        PLATFORM {
            @Override
            ActionScope of(Alert a) {
                return ActionScope.platform();
            }
        };

        abstract ActionScope of(Alert a);
    }

    private static final Map<String, List<Step>> STEPS = Map.of(
            RuleCatalog.UNAUTHORIZED_APPROVAL, List.of(
                    new Step("freeze_account", Scope.USER),
                    new Step("hold_withdrawal", Scope.WITHDRAWAL),
                    new Step("revoke_mfa_tokens", Scope.USER)),
            RuleCatalog.NEW_ADDRESS_WITHDRAWAL, List.of(new Step("hold_withdrawal", Scope.WITHDRAWAL)),
            RuleCatalog.DESTINATION_CONCENTRATION, List.of(new Step("block_address", Scope.ADDRESS)),
            // One suspension per incident: the incident tracker marks the alert that may suspend.
            RuleCatalog.BULK_DRAIN, List.of(new Step("suspend_withdrawals", Scope.PLATFORM,
                    a -> Boolean.TRUE.equals(a.evidence.suspendWithdrawals))),
            // A model's opinion alerts an analyst; it freezes only where configuration says so
            // (rule.anomaly-score.freeze, recorded in the alert's evidence by the detector).
            RuleCatalog.ANOMALY_SCORE, List.of(new Step("freeze_account", Scope.USER,
                    a -> Boolean.TRUE.equals(a.evidence.freezeAccount))));

    public static List<Step> stepsFor(String rule) {
        return STEPS.getOrDefault(rule, List.of());
    }
}
