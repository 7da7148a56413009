package io.tourniquet.rules.catalog;

import io.tourniquet.testing.LocalServices;
import static org.assertj.core.api.Assertions.assertThat;
import io.tourniquet.config.Setting;
import io.tourniquet.config.TourniquetConfig;
import io.tourniquet.model.Alert;
import io.tourniquet.model.NotificationRequest;
import io.tourniquet.rules.RuleVersion;
import io.tourniquet.notify.NotificationComposer;
import io.tourniquet.rules.Playbook;
import io.tourniquet.rules.RuleDefinition;
import java.nio.file.Files;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every registered rule is complete: its settings are its own and valid by default, its playbook
 * issues only the contract's commands, its alerts have a message of their own for the user, and
 * the README's rule table has its row exactly as the definition says.
 */
class RuleConformanceTest {
    private static final Set<String> CONTRACT_ACTIONS = Set.of("freeze_account", "hold_withdrawal",
            "revoke_mfa_tokens", "block_address", "suspend_withdrawals");
    private static final Set<String> SEVERITIES = Set.of("low", "medium", "high", "critical");

    static Stream<RuleDefinition> rules() {
        return RuleCatalog.ALL.stream();
    }

    static Stream<RuleDefinition> detectors() {
        return rules().filter(d -> !d.id().equals(RuleCatalog.INCIDENT));
    }

    @ParameterizedTest
    @MethodSource("rules")
    void settingsAreItsOwnAndValidByDefault(RuleDefinition rule) {
        assertThat(rule.settings()).as("thresholds analysts can change").isNotEmpty();
        for (Setting<?> s : rule.settings()) {
            assertThat(s.key()).startsWith(rule.settingPrefix());
            assertThat(s.weakening()).as(s.key() + ": which direction weakens it").isNotNull();
            s.parse(s.defaultText()); // throws if the documented default is not a valid value
        }
        TourniquetConfig defaults = TourniquetConfig.defaults();
        RuleVersion v1 = RuleCatalog.initial(rule.id(), defaults);
        assertThat(v1.params.keySet()).containsExactlyElementsOf(rule.settings().stream().map(Setting::key).toList());
        rule.check().accept(defaults);
        // No other rule claims its settings: a change of one rule cannot move another.
        for (RuleDefinition other : RuleCatalog.ALL) {
            if (other != rule) assertThat(other.settings()).doesNotContainAnyElementsOf(rule.settings());
        }
    }

    @ParameterizedTest
    @MethodSource("detectors")
    void severityAndPlaybookAreTheContracts(RuleDefinition rule) {
        assertThat(SEVERITIES).contains(rule.severity());
        assertThat(RuleCatalog.severityOf(rule.id())).isEqualTo(rule.severity());
        assertThat(rule.playbook()).extracting(Playbook.Step::action).allMatch(CONTRACT_ACTIONS::contains);
        assertThat(rule.playbook()).allSatisfy(s -> assertThat(s.scope()).isNotNull());
        assertThat(RuleCatalog.stepsFor(rule.id())).isEqualTo(rule.playbook());
    }

    @ParameterizedTest
    @MethodSource("detectors")
    void itsAlertsHaveAMessageOfTheirOwn(RuleDefinition rule) {
        Alert alert = new Alert();
        alert.alertId = "alert-1";
        alert.rule = rule.id();
        alert.userId = "u1";
        var composer = new NotificationComposer();
        var own = composer.compose(new NotificationRequest("u1", rule.id(), alert), "Heron-22", List.of("email"), 0L);
        Alert unknown = new Alert();
        unknown.alertId = "alert-1";
        unknown.rule = "no_such_rule";
        unknown.userId = "u1";
        var generic = composer.compose(new NotificationRequest("u1", "no_such_rule", unknown), "Heron-22",
                List.of("email"), 0L);
        assertThat(own.kind).isEqualTo(rule.id());
        assertThat(own.title).as("not the generic notice").isNotEqualTo(generic.title);
    }

    @ParameterizedTest
    @MethodSource("rules")
    void theReadmeRuleTableHasItsRow(RuleDefinition rule) throws Exception {
        List<String> readme = Files.readAllLines(LocalServices.findRepoRoot().resolve("README.md"));
        assertThat(readme).contains(rule.readmeRow());
    }
}
