package io.tourniquet.rules.anomaly;

import io.tourniquet.config.Settings;
import io.tourniquet.rules.RuleVersion;
import java.io.Serializable;

/**
 * The anomaly_score rule's settings, from its current version.
 *
 * @param modelVersion the model that scores approvals, or null when scoring is off ({@code none})
 * @param modelSha256 the sha256 its file must have; null for a version written before the pin
 *     existed (restored from an older savepoint), which loads as it did then, with a warning
 * @param severity the severity of its alerts
 * @param freeze whether its alerts also freeze the account
 */
public record AnomalySettings(String modelVersion, String modelSha256, String severity, boolean freeze)
        implements Serializable {

    public static AnomalySettings from(RuleVersion v) {
        String version = v.get(Settings.ANOMALY_MODEL_VERSION);
        // Read leniently: a rule version from before the setting existed has no such key.
        String sha = v.params.getOrDefault(Settings.ANOMALY_MODEL_SHA256.key(), Settings.NO_MODEL);
        return new AnomalySettings(Settings.NO_MODEL.equals(version) ? null : version,
                Settings.NO_MODEL.equals(sha) ? null : sha, v.get(Settings.ANOMALY_SEVERITY), v.get(Settings.ANOMALY_FREEZE));
    }
}
