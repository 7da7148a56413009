package io.tourniquet.rules.newaddress;

import io.tourniquet.config.Settings;
import io.tourniquet.rules.Playbook.Scope;
import io.tourniquet.rules.Playbook.Step;
import io.tourniquet.rules.RuleDefinition;
import java.util.List;

/** A withdrawal to an address whitelisted only just before. */
public final class NewAddressWithdrawalRule {
    private NewAddressWithdrawalRule() {}

    public static final String ID = "new_address_withdrawal";

    public static final RuleDefinition DEFINITION = new RuleDefinition(ID, "low",
            List.of(Settings.NEW_ADDRESS_AGE),
            List.of(new Step("hold_withdrawal", Scope.WITHDRAWAL)),
            "a withdrawal request to an address the user whitelisted less than the minimum age before",
            "`hold_withdrawal` (`withdrawal_id`, `user_id`), with `hold_until` = when the address reaches the minimum"
                    + " age",
            "the user");
}
