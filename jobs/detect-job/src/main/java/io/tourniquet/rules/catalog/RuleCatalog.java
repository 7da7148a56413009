package io.tourniquet.rules.catalog;

import io.tourniquet.rules.RuleVersion;
import io.tourniquet.config.Setting;
import io.tourniquet.config.Settings;
import io.tourniquet.config.TourniquetConfig;
import io.tourniquet.rules.Playbook;
import io.tourniquet.rules.RuleDefinition;
import io.tourniquet.rules.RuleView;
import io.tourniquet.rules.anomaly.AnomalyScoreRule;
import io.tourniquet.rules.drain.AccountDrainRule;
import io.tourniquet.rules.newaddress.NewAddressWithdrawalRule;
import io.tourniquet.rules.platform.BulkDrainRule;
import io.tourniquet.rules.platform.DestinationConcentrationRule;
import io.tourniquet.rules.unauthorized.UnauthorizedApprovalRule;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.flink.api.common.state.MapStateDescriptor;

/**
 * The registered rules ({@link #ALL}, each defined in its own package), which settings belong to
 * which, and the one place a rule change is validated: a change is accepted only if the whole
 * configuration it produces passes the same checks as start-up.
 */
public final class RuleCatalog {
    private RuleCatalog() {}

    public static final String UNAUTHORIZED_APPROVAL = UnauthorizedApprovalRule.ID;
    public static final String ACCOUNT_DRAIN = AccountDrainRule.ID;
    public static final String NEW_ADDRESS_WITHDRAWAL = NewAddressWithdrawalRule.ID;
    public static final String BULK_DRAIN = BulkDrainRule.ID;
    public static final String DESTINATION_CONCENTRATION = DestinationConcentrationRule.ID;
    public static final String ANOMALY_SCORE = AnomalyScoreRule.ID;
    /** Not a detector, but its gap is a threshold analysts may change like any other. */
    public static final String INCIDENT = "incident";

    /**
     * Rules whose shadow versions the detect job evaluates (update_rule with mode shadow): the
     * per-user rules whose decisions act on one user. The others refuse a shadow version.
     */
    public static final java.util.Set<String> SHADOWABLE = java.util.Set.of(NEW_ADDRESS_WITHDRAWAL, ACCOUNT_DRAIN);

    /**
     * Refuses a shadow version of {@code rule} unless it is {@link #SHADOWABLE}: the job's check,
     * which the CLI makes too before it signs anything.
     *
     * @throws IllegalArgumentException naming the rules that have shadow versions
     */
    public static void requireShadowable(String rule) {
        if (!SHADOWABLE.contains(rule)) {
            throw new IllegalArgumentException("rule " + rule + " has no shadow versions: they are evaluated for "
                    + new java.util.TreeSet<>(SHADOWABLE) + " only");
        }
    }

    /** Broadcast state of every rule-carrying operator: rule id → its current version. */
    public static final MapStateDescriptor<String, RuleVersion> BROADCAST = RuleView.BROADCAST;

    /** The incident tracker's gap, changed like a rule's threshold; it issues nothing itself. */
    public static final RuleDefinition INCIDENT_DEFINITION = new RuleDefinition(INCIDENT, "—",
            List.of(Settings.INCIDENT_GAP), List.of(),
            "not a detector: alerts of the three incident rules less than the gap apart join one incident", "—", "—");

    /**
     * Every rule, in the README's order. Adding a rule: its package (detector, state, settings
     * record, definition) and one line here.
     */
    public static final List<RuleDefinition> ALL = List.of(
            UnauthorizedApprovalRule.DEFINITION,
            AccountDrainRule.DEFINITION,
            NewAddressWithdrawalRule.DEFINITION,
            DestinationConcentrationRule.DEFINITION,
            BulkDrainRule.DEFINITION,
            INCIDENT_DEFINITION,
            AnomalyScoreRule.DEFINITION);

    private static final Map<String, RuleDefinition> BY_ID = new LinkedHashMap<>();

    static {
        for (RuleDefinition d : ALL) {
            if (BY_ID.put(d.id(), d) != null) throw new IllegalStateException("rule " + d.id() + " registered twice");
        }
        // Two-person approval depends on it: a rule setting nobody decided the risky direction of
        // would let one analyst weaken it alone.
        for (RuleDefinition d : ALL) {
            for (Setting<?> s : d.settings()) {
                if (s.weakening() == null) {
                    throw new IllegalStateException(s.key() + " is a rule setting but declares no weakening direction"
                            + " (Settings: .weakenedBy(...))");
                }
            }
        }
    }

    public static RuleDefinition definition(String rule) {
        RuleDefinition d = BY_ID.get(rule);
        if (d == null) throw new IllegalArgumentException("unknown rule '" + rule + "' (known: " + rules() + ")");
        return d;
    }

    /** The severity of a rule's alerts (contract section 2). */
    public static String severityOf(String rule) {
        return definition(rule).severity();
    }

    /** The commands an alert of the rule issues, in order; none for an unknown rule. */
    public static List<Playbook.Step> stepsFor(String rule) {
        RuleDefinition d = BY_ID.get(rule);
        return d == null ? List.of() : d.playbook();
    }

    public static List<String> rules() {
        return List.copyOf(BY_ID.keySet());
    }

    public static List<Setting<?>> settingsOf(String rule) {
        return definition(rule).settings();
    }

    /** Version 1 of a rule: its thresholds as configured at start-up. */
    public static RuleVersion initial(String rule, TourniquetConfig cfg) {
        return definition(rule).initial(cfg);
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
        definition(current.rule).check().accept(checked);
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
}
