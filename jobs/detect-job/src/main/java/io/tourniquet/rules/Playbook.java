package io.tourniquet.rules;

import io.tourniquet.model.ActionScope;
import io.tourniquet.model.Alert;
import java.io.Serializable;
import java.util.function.Predicate;

/**
 * The vocabulary of a rule's response (contract section 2, "What each rule does"): each rule's
 * {@link RuleDefinition#playbook} lists its steps. Release and resume never appear: only an
 * analyst's signed request may issue them.
 */
public final class Playbook {
    private Playbook() {}

    /** A condition on the alert, serializable because the planner that evaluates it is shipped to tasks. */
    public interface When extends Predicate<Alert>, Serializable {}

    /** One command of a rule's response, issued when {@code when} holds for the alert. */
    public record Step(String action, Scope scope, When when) implements Serializable {
        public Step(String action, Scope scope) {
            this(action, scope, a -> true);
        }
    }

    /** Which part of the alert a command's scope names. */
    public enum Scope {
        USER {
            @Override
            public ActionScope of(Alert a) {
                return ActionScope.user(a.userId);
            }
        },
        WITHDRAWAL {
            @Override
            public ActionScope of(Alert a) {
                return ActionScope.withdrawal(a.withdrawalId, a.userId);
            }
        },
        ADDRESS {
            @Override
            public ActionScope of(Alert a) {
                return ActionScope.address(a.evidence.destinationAddress);
            }
        },
        PLATFORM {
            @Override
            public ActionScope of(Alert a) {
                return ActionScope.platform();
            }
        };

        public abstract ActionScope of(Alert a);
    }
}
