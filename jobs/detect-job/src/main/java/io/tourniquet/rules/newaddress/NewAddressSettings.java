package io.tourniquet.rules.newaddress;

import io.tourniquet.config.Settings;
import io.tourniquet.config.TourniquetConfig;
import io.tourniquet.rules.RuleVersion;
import java.io.Serializable;
import java.util.Map;

/** The new-address-withdrawal rule's threshold (contract section 2), in milliseconds. */
public record NewAddressSettings(long minAgeMillis) implements Serializable {

    public static NewAddressSettings from(RuleVersion v) {
        return new NewAddressSettings(v.get(Settings.NEW_ADDRESS_AGE).toMillis());
    }

    public static NewAddressSettings defaults() {
        return from(NewAddressWithdrawalRule.DEFINITION.initial(TourniquetConfig.defaults()));
    }

    /** This threshold as version 1 of the rule (for tests and callers that start from numbers). */
}
