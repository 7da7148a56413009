package io.tourniquet.rules;

import io.tourniquet.model.RuleVersion;
import io.tourniquet.config.Setting;
import io.tourniquet.config.Settings;
import io.tourniquet.config.TourniquetConfig;
import io.tourniquet.models.ModelArtifact;
import io.tourniquet.models.ModelRejectedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.flink.api.common.state.MapStateDescriptor;

/**
 * Which settings belong to which rule, and the one place a rule change is validated: a change is
 * accepted only if the whole configuration it produces passes the same checks as start-up.
 */
public final class RuleCatalog {
    private RuleCatalog() {}

    public static final String UNAUTHORIZED_APPROVAL = "unauthorized_approval";
    public static final String ACCOUNT_DRAIN = "account_drain";
    public static final String NEW_ADDRESS_WITHDRAWAL = "new_address_withdrawal";
    public static final String BULK_DRAIN = "bulk_drain";
    public static final String DESTINATION_CONCENTRATION = "destination_concentration";
    /** The anomaly model's score (models module); its model version is a rule parameter. */
    public static final String ANOMALY_SCORE = "anomaly_score";
    /** Not a detector, but its gap is a threshold analysts may change like any other. */
    public static final String INCIDENT = "incident";

    /** Broadcast state of every rule-carrying operator: rule id → its current version. */
    public static final MapStateDescriptor<String, RuleVersion> BROADCAST =
            new MapStateDescriptor<>("rule-versions", String.class, RuleVersion.class);

    private static final Map<String, List<Setting<?>>> SETTINGS = new LinkedHashMap<>();

    static {
        SETTINGS.put(UNAUTHORIZED_APPROVAL, List.of(Settings.UA_GRACE, Settings.UA_SKEW, Settings.UA_VALIDITY,
                Settings.UA_MAX_WAIT, Settings.UA_MAX_CHALLENGES));
        SETTINGS.put(ACCOUNT_DRAIN, List.of(Settings.DRAIN_WINDOW, Settings.DRAIN_SHARE, Settings.DRAIN_FLOOR,
                Settings.DRAIN_REQUEST_RETENTION));
        SETTINGS.put(NEW_ADDRESS_WITHDRAWAL, List.of(Settings.NEW_ADDRESS_AGE));
        SETTINGS.put(BULK_DRAIN, List.of(Settings.BULK_WINDOW, Settings.BULK_MIN_USERS));
        SETTINGS.put(DESTINATION_CONCENTRATION, List.of(Settings.CONCENTRATION_WINDOW,
                Settings.CONCENTRATION_MIN_USERS));
        SETTINGS.put(INCIDENT, List.of(Settings.INCIDENT_GAP));
        // models.dir is not a rule setting: where artifacts live is deployment, not a threshold.
        SETTINGS.put(ANOMALY_SCORE, List.of(Settings.ANOMALY_MODEL_VERSION, Settings.ANOMALY_MODEL_SHA256,
                Settings.ANOMALY_SEVERITY, Settings.ANOMALY_FREEZE));
        // Two-person approval depends on it: a rule setting nobody decided the risky direction of
        // would let one analyst weaken it alone.
        for (List<Setting<?>> own : SETTINGS.values()) {
            for (Setting<?> s : own) {
                if (s.weakening() == null) {
                    throw new IllegalStateException(s.key() + " is a rule setting but declares no weakening direction"
                            + " (Settings: .weakenedBy(...))");
                }
            }
        }
    }

    public static List<String> rules() {
        return List.copyOf(SETTINGS.keySet());
    }

    public static List<Setting<?>> settingsOf(String rule) {
        List<Setting<?>> s = SETTINGS.get(rule);
        if (s == null) throw new IllegalArgumentException("unknown rule '" + rule + "' (known: " + rules() + ")");
        return s;
    }

    /** Version 1 of a rule: its thresholds as configured at start-up. */
    public static RuleVersion initial(String rule, TourniquetConfig cfg) {
        Map<String, String> params = new LinkedHashMap<>();
        Map<String, String> effective = cfg.describe();
        for (Setting<?> s : settingsOf(rule)) params.put(s.key(), effective.get(s.key()));
        return new RuleVersion(rule, 1, params, "configuration", null, 0L);
    }

    public static Map<String, RuleVersion> initialAll(TourniquetConfig cfg) {
        Map<String, RuleVersion> all = new LinkedHashMap<>();
        for (String rule : rules()) all.put(rule, initial(rule, cfg));
        return all;
    }

    /**
     * The next version of {@code current} with {@code changes} applied (full setting keys).
     *
     * @param base the configuration the job started with, with every rule's current params
     *             already applied, so cross-setting checks see the whole picture
     * @throws IllegalArgumentException naming every key that is unknown to the rule or invalid
     */
    public static RuleVersion next(RuleVersion current, Map<String, String> changes, TourniquetConfig base,
                                   String changedBy, String requestId, long changedAt) {
        if (changes == null || changes.isEmpty()) {
            throw new IllegalArgumentException("a rule change must set at least one parameter");
        }
        List<String> problems = new ArrayList<>();
        List<String> own = settingsOf(current.rule).stream().map(Setting::key).toList();
        for (String key : changes.keySet()) {
            if (!own.contains(key)) problems.add(key + ": not a setting of rule " + current.rule + " (its settings: " + own + ")");
        }
        if (!problems.isEmpty()) throw new IllegalArgumentException(String.join("; ", problems));
        Map<String, String> params = new LinkedHashMap<>(current.params);
        params.putAll(changes);
        TourniquetConfig checked = base.with(params); // throws with every invalid value named
        if (ANOMALY_SCORE.equals(current.rule)) checkModel(checked);
        Map<String, String> normalized = new LinkedHashMap<>();
        Map<String, String> effective = checked.describe();
        for (String key : own) normalized.put(key, effective.get(key));
        return new RuleVersion(current.rule, current.version + 1, normalized, changedBy, requestId, changedAt);
    }

    /**
     * What {@code next} weakens compared with {@code current} (see {@code Weakening}), one
     * {@code key from -> to} per setting, e.g. {@code rule.account-drain.share 0.8 -> 0.9}; empty when
     * the change only tightens or keeps every setting.
     *
     * @param base the job's configuration, for a setting a version from an older savepoint lacks
     */
    public static List<String> weakenings(RuleVersion current, RuleVersion next, TourniquetConfig base) {
        List<String> out = new ArrayList<>();
        Map<String, String> configured = base.describe();
        for (Setting<?> s : settingsOf(next.rule)) {
            String from = current.params.getOrDefault(s.key(), configured.get(s.key()));
            String to = next.params.get(s.key());
            if (s.weakens(from, to)) out.add(s.key() + " " + from + " -> " + to);
        }
        return out;
    }

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
