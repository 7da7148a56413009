package io.tourniquet.detect;

import io.tourniquet.config.Settings;
import io.tourniquet.config.TourniquetConfig;
import io.tourniquet.rules.RuleCatalog;
import io.tourniquet.model.RuleVersion;
import java.io.Serializable;
import java.util.Map;

/** The new-address-withdrawal rule's threshold (contract section 2), in milliseconds. */
public record NewAddressSettings(long minAgeMillis) implements Serializable {

    public static NewAddressSettings from(RuleVersion v) {
        return new NewAddressSettings(v.get(Settings.NEW_ADDRESS_AGE).toMillis());
    }

    public static NewAddressSettings defaults() {
        return from(RuleCatalog.initial(RuleCatalog.NEW_ADDRESS_WITHDRAWAL, TourniquetConfig.defaults()));
    }

    /** This threshold as version 1 of the rule (for tests and callers that start from numbers). */
    public RuleVersion asRuleVersion() {
        return new RuleVersion(RuleCatalog.NEW_ADDRESS_WITHDRAWAL, 1,
                Map.of(Settings.NEW_ADDRESS_AGE.key(), minAgeMillis + " ms"), "configuration", null, 0L);
    }
}
