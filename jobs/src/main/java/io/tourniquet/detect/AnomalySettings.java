package io.tourniquet.detect;

import io.tourniquet.config.Settings;
import io.tourniquet.rules.RuleVersion;
import java.io.Serializable;

/**
 * The anomaly_score rule's settings, from its current version.
 *
 * @param modelVersion the model that scores approvals, or null when scoring is off ({@code none})
 * @param severity the severity of its alerts
 * @param freeze whether its alerts also freeze the account
 */
public record AnomalySettings(String modelVersion, String severity, boolean freeze) implements Serializable {

    public static AnomalySettings from(RuleVersion v) {
        String version = v.get(Settings.ANOMALY_MODEL_VERSION);
        return new AnomalySettings(Settings.NO_MODEL.equals(version) ? null : version,
                v.get(Settings.ANOMALY_SEVERITY), v.get(Settings.ANOMALY_FREEZE));
    }
}
