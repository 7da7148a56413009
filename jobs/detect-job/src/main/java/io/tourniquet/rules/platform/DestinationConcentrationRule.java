package io.tourniquet.rules.platform;

import io.tourniquet.config.Settings;
import io.tourniquet.rules.Playbook.Scope;
import io.tourniquet.rules.Playbook.Step;
import io.tourniquet.rules.RuleDefinition;
import io.tourniquet.rules.newaddress.NewAddressWithdrawalRule;
import java.util.List;

/** Many users' new-address withdrawals go to one address: the attacker's. */
public final class DestinationConcentrationRule {
    private DestinationConcentrationRule() {}

    public static final String ID = "destination_concentration";
    /** The alerts it counts. */
    public static final String COUNTS = NewAddressWithdrawalRule.ID;

    public static final RuleDefinition DEFINITION = new RuleDefinition(ID, "critical",
            List.of(Settings.CONCENTRATION_WINDOW, Settings.CONCENTRATION_MIN_USERS),
            List.of(new Step("block_address", Scope.ADDRESS)),
            "at least M distinct users make new-address withdrawals to one address within the window (an address"
                    + " whitelisted long ago never counts)",
            "`block_address` (`address`)", "each user in the window");
}
