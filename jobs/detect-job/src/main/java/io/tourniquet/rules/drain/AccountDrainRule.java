package io.tourniquet.rules.drain;

import io.tourniquet.config.Settings;
import io.tourniquet.rules.RuleDefinition;
import java.util.List;

/** A user's approved withdrawals empty most of the account within a window. */
public final class AccountDrainRule {
    private AccountDrainRule() {}

    public static final String ID = "account_drain";

    /** No command: a drain through the user's own 2FA may be the user's own doing; analysts decide. */
    public static final RuleDefinition DEFINITION = new RuleDefinition(ID, "medium",
            List.of(Settings.DRAIN_WINDOW, Settings.DRAIN_SHARE, Settings.DRAIN_FLOOR, Settings.DRAIN_REQUEST_RETENTION),
            List.of(),
            "a user's approved withdrawals within the window sum to the share of the balance seen at the first,"
                    + " and to the floor",
            "none", "the user");
}
