package io.tourniquet.rules;

import io.tourniquet.config.Setting;
import io.tourniquet.config.TourniquetConfig;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * Everything the rest of the system needs to know about one rule, declared once in the rule's own
 * package: its id, default severity, thresholds (their keys all start with {@link #settingPrefix}),
 * the commands its playbook issues, and the words of its row in the README's rule table.
 * {@code RuleCatalog} builds the rule list, the rule changes' validation, severities and
 * playbooks from these; {@code RuleConformanceTest} checks every registered definition.
 *
 * @param id         the alert's {@code rule} (contract section 2)
 * @param severity   the severity of its alerts (a rule may make it a setting, as anomaly_score does)
 * @param settings   its thresholds, which analysts may change live with a signed request
 * @param playbook   the commands an alert of it issues, in order (empty: it only alerts)
 * @param firesWhen  README: when it fires
 * @param actions    README: what its playbook does, in words
 * @param notifies   README: whom it notifies
 * @param check      a check of a whole configuration beyond each setting's own (e.g. that a model
 *                   loads), run at start-up and on every change of the rule; throws
 *                   {@link IllegalArgumentException}
 */
public record RuleDefinition(String id, String severity, List<Setting<?>> settings, List<Playbook.Step> playbook,
                             String firesWhen, String actions, String notifies, Consumer<TourniquetConfig> check) {

    public RuleDefinition {
        settings = List.copyOf(settings);
        playbook = List.copyOf(playbook);
        if (check == null) check = cfg -> {};
    }

    public RuleDefinition(String id, String severity, List<Setting<?>> settings, List<Playbook.Step> playbook,
                          String firesWhen, String actions, String notifies) {
        this(id, severity, settings, playbook, firesWhen, actions, notifies, null);
    }

    /** Where its settings live: {@code rule.<id with dashes>.}. */
    public String settingPrefix() {
        return "rule." + id.replace('_', '-') + ".";
    }

    /** Version 1: its thresholds as configured at start-up. */
    public RuleVersion initial(TourniquetConfig cfg) {
        Map<String, String> params = new LinkedHashMap<>();
        Map<String, String> effective = cfg.describe();
        for (Setting<?> s : settings) params.put(s.key(), effective.get(s.key()));
        return new RuleVersion(id, 1, params, "configuration", null, 0L);
    }

    /** Its row in the README's rule table, thresholds with their defaults. */
    public String readmeRow() {
        StringBuilder thresholds = new StringBuilder();
        for (Setting<?> s : settings) {
            if (thresholds.length() > 0) thresholds.append(", ");
            String key = thresholds.length() == 0 ? s.key() : s.key().substring(settingPrefix().length() - 1);
            thresholds.append('`').append(key).append("` (").append(s.defaultText()).append(')');
        }
        return "| `" + id + "` | " + firesWhen + " | " + severity + " | " + actions + " | " + notifies + " | "
                + thresholds + " |";
    }
}
