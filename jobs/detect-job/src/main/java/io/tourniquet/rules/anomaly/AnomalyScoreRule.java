package io.tourniquet.rules.anomaly;

import io.tourniquet.config.Settings;
import io.tourniquet.config.TourniquetConfig;
import io.tourniquet.models.ModelArtifact;
import io.tourniquet.models.ModelRejectedException;
import io.tourniquet.rules.Playbook.Scope;
import io.tourniquet.rules.Playbook.Step;
import io.tourniquet.rules.RuleDefinition;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/** The anomaly model's score (models module); its model version is a rule parameter. */
public final class AnomalyScoreRule {
    private AnomalyScoreRule() {}

    public static final String ID = "anomaly_score";

    /**
     * A model's opinion alerts an analyst; it freezes only where configuration says so
     * (rule.anomaly-score.freeze, recorded in the alert's evidence by the detector). The severity
     * here is the default; each alert carries the one configured for its rule version.
     */
    public static final RuleDefinition DEFINITION = new RuleDefinition(ID, "medium",
            List.of(Settings.ANOMALY_MODEL_VERSION, Settings.ANOMALY_MODEL_SHA256, Settings.ANOMALY_SEVERITY,
                    Settings.ANOMALY_FREEZE),
            List.of(new Step("freeze_account", Scope.USER, a -> Boolean.TRUE.equals(a.evidence.freezeAccount))),
            "an approval's features score at or above the active model's threshold (no model is active until an"
                    + " analyst activates one)",
            "`freeze_account` (`user_id`) only with `.freeze` on", "the user",
            AnomalyScoreRule::checkModel);

    /**
     * A model version is accepted only if its artifact is there and loads: present, of this code's
     * feature schema, checksum verified, deserialized under the allow-list. Activating a bad model
     * is then refused (to the DLQ, as an invalid rule change, with the loader's reason) instead of
     * failing later in every detector. Costs one load (about a second) per such request.
     */
    public static void checkModel(TourniquetConfig cfg) {
        String version = cfg.get(Settings.ANOMALY_MODEL_VERSION);
        if (Settings.NO_MODEL.equals(version)) return;
        Path dir = modelDirectory(cfg, version);
        if (!Files.isDirectory(dir)) {
            throw new IllegalArgumentException(Settings.ANOMALY_MODEL_VERSION.key() + ": no model artifact " + dir
                    + " (models.dir " + cfg.get(Settings.MODELS_DIR) + ")");
        }
        try {
            ModelArtifact a = ModelArtifact.load(dir);
            if (!version.equals(a.modelVersion())) {
                throw new IllegalArgumentException(Settings.ANOMALY_MODEL_VERSION.key() + ": the artifact in " + dir
                        + " is model " + a.modelVersion() + ", not " + version);
            }
            // The signed request names the file: what is checked here is what the detector loads.
            String pinned = cfg.get(Settings.ANOMALY_MODEL_SHA256);
            if (Settings.NO_MODEL.equals(pinned)) {
                throw new IllegalArgumentException(Settings.ANOMALY_MODEL_SHA256.key() + ": required with model "
                        + version + " (its model_sha256 is " + a.metadata().modelSha256() + ")");
            }
            if (!pinned.equals(a.metadata().modelSha256())) {
                throw new IllegalArgumentException(Settings.ANOMALY_MODEL_SHA256.key() + ": model " + version
                        + " in " + dir + " has sha256 " + a.metadata().modelSha256() + ", the request names " + pinned);
            }
        } catch (ModelRejectedException e) {
            throw new IllegalArgumentException(Settings.ANOMALY_MODEL_VERSION.key() + ": model " + version
                    + " refused: " + e.getMessage());
        }
    }

    /** Where a model version's artifact lives: {@code <models.dir>/<version>}. */
    public static Path modelDirectory(TourniquetConfig cfg, String version) {
        return Path.of(cfg.get(Settings.MODELS_DIR)).resolve(version);
    }
}
