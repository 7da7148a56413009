package io.tourniquet.pipeline;

import static org.assertj.core.api.Assertions.assertThat;
import com.fasterxml.jackson.databind.JsonNode;
import io.tourniquet.config.Setting;
import io.tourniquet.config.Settings;
import io.tourniquet.config.TourniquetConfig;
import io.tourniquet.signing.CommandSigner;
import io.tourniquet.json.Json;
import io.tourniquet.kafka.TopicReader;
import io.tourniquet.sim.GroundTruth;
import io.tourniquet.testing.ExpectedReasons;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * What the detect job of an interrupted replay must have written, read back from Kafka
 * ({@code read_committed}) and held against the simulator's ground truth, which is what an
 * uninterrupted run gives. Shared by the restart tests (a killed process, a lost TaskManager), so
 * that both hold the same bar: every expected alert exactly once with its reason, no extra alert
 * of any rule, no freeze of an innocent user, every command signed and one id per trigger.
 */
final class ReplayOutcome {
    static final Duration READ = Duration.ofSeconds(60);

    private final TourniquetConfig cfg;
    private final GroundTruth truth;
    private final String signingKey;
    /** Topic -> its records: read once, since the replay has ended before any check reads. */
    private final Map<Setting<String>, List<JsonNode>> read = new HashMap<>();

    ReplayOutcome(TourniquetConfig cfg, GroundTruth truth, String signingKey) {
        this.cfg = cfg;
        this.truth = truth;
        this.signingKey = signingKey;
    }

    List<JsonNode> read(Setting<String> topic) throws IOException {
        List<JsonNode> cached = read.get(topic);
        if (cached != null) return cached;
        List<JsonNode> out = new ArrayList<>();
        for (var r : TopicReader.readAll(cfg.get(Settings.KAFKA_BOOTSTRAP), cfg.get(topic), READ)) {
            out.add(Json.MAPPER.readTree(r.value()));
        }
        read.put(topic, List.copyOf(out));
        return read.get(topic);
    }

    void everyUnauthorizedApprovalIsAlertedExactlyOnceWithItsReason() throws IOException {
        assertUnauthorizedApprovalsAlertedOnceWithTheirReasons(truth, read(Settings.TOPIC_ALERTS));
    }

    void noRuleAlertsMoreOrLessThanAnUninterruptedRun() throws IOException {
        assertThat(read(Settings.TOPIC_ALERTS)).extracting(a -> a.path("alert_id").asText()).doesNotHaveDuplicates();
        assertOtherRulesAlertAsExpected(truth, read(Settings.TOPIC_ALERTS));
        Set<String> rules = read(Settings.TOPIC_ALERTS).stream().map(a -> a.path("rule").asText())
                .collect(Collectors.toSet());
        assertThat(rules).isSubsetOf("unauthorized_approval", "account_drain", "new_address_withdrawal",
                "destination_concentration", "bulk_drain");
    }

    void noInnocentUserIsFrozenAndEveryCommandIsSignedOncePerTrigger() throws IOException {
        List<JsonNode> actions = read(Settings.TOPIC_ACTIONS);
        CommandSigner verifier = new CommandSigner(signingKey);
        assertThat(actions).allSatisfy(a -> assertThat(verifier.verify(a)).as(a.toString()).isTrue());
        Set<String> victims = new HashSet<>(truth.affectedUsers());
        assertThat(actions).filteredOn(a -> a.path("action").asText().equals("freeze_account"))
                .extracting(a -> a.path("scope").path("user_id").asText())
                .allSatisfy(u -> assertThat(victims).as("frozen user is a victim").contains(u));
        // Commands are at least once (a freeze never waits for a checkpoint): those sent after the
        // last checkpoint before the failure are sent again. Enforcers de-duplicate by action id, so
        // a repeat must carry the same id for the same trigger, and no trigger may get two ids.
        Map<String, Set<String>> triggersById = new HashMap<>();
        Map<String, Set<String>> idsByTrigger = new HashMap<>();
        for (JsonNode a : actions) {
            String trigger = a.path("action").asText() + " " + a.path("scope") + " " + a.path("reason").asText();
            triggersById.computeIfAbsent(a.path("action_id").asText(), k -> new HashSet<>()).add(trigger);
            idsByTrigger.computeIfAbsent(trigger, k -> new HashSet<>()).add(a.path("action_id").asText());
        }
        assertThat(triggersById.values()).allSatisfy(t -> assertThat(t).hasSize(1));
        assertThat(idsByTrigger.values()).allSatisfy(ids -> assertThat(ids).hasSize(1));
        List<String> expected = unauthorizedApprovalCommands(truth);
        assertThat(unauthorizedApprovalCommands(actions)).containsOnlyElementsOf(expected).containsAll(expected);
    }

    static List<JsonNode> ofRule(List<JsonNode> alerts, String rule) {
        return alerts.stream().filter(a -> a.path("rule").asText().equals(rule)).toList();
    }

    /** One alert per unauthorized approval of the ground truth, none other, each with its kind's reason. */
    static void assertUnauthorizedApprovalsAlertedOnceWithTheirReasons(GroundTruth truth, List<JsonNode> alerts) {
        List<JsonNode> ua = ofRule(alerts, "unauthorized_approval");
        Map<String, Long> perApproval = ua.stream().collect(Collectors.groupingBy(
                a -> a.path("evidence").path("event_ids").path(0).asText(), Collectors.counting()));
        assertThat(perApproval).isEqualTo(truth.unauthorizedApprovals().stream().collect(Collectors.toMap(
                GroundTruth.UnauthorizedApproval::eventId, u -> 1L)));
        Map<String, String> reasons = ua.stream().collect(Collectors.toMap(
                a -> a.path("evidence").path("event_ids").path(0).asText(),
                a -> a.path("evidence").path("reason").asText()));
        assertThat(reasons).isEqualTo(truth.unauthorizedApprovals().stream().collect(Collectors.toMap(
                GroundTruth.UnauthorizedApproval::eventId, u -> ExpectedReasons.BY_KIND.get(u.kind()))));
    }

    /** The other rules alert exactly on what the ground truth expects of them. */
    static void assertOtherRulesAlertAsExpected(GroundTruth truth, List<JsonNode> alerts) {
        GroundTruth.ExpectedAlerts expected = truth.expectedAlerts();
        assertThat(ofRule(alerts, "account_drain")).extracting(a -> a.path("user_id").asText())
                .containsExactlyInAnyOrderElementsOf(expected.accountDrains());
        assertThat(ofRule(alerts, "new_address_withdrawal")).extracting(a -> a.path("withdrawal_id").asText())
                .containsExactlyInAnyOrderElementsOf(expected.newAddressWithdrawals());
        assertThat(ofRule(alerts, "destination_concentration"))
                .extracting(a -> a.path("evidence").path("destination_address").asText())
                .containsExactlyInAnyOrderElementsOf(expected.destinationConcentration());
        assertThat(ofRule(alerts, "bulk_drain")).hasSize(expected.bulkDrainEpisodes());
    }

    /** What the contract's playbook issues per unauthorized approval: freeze, hold, revoke. */
    static List<String> unauthorizedApprovalCommands(GroundTruth truth) {
        List<String> expected = new ArrayList<>();
        for (GroundTruth.UnauthorizedApproval u : truth.unauthorizedApprovals()) {
            expected.add("freeze_account " + u.userId());
            expected.add("hold_withdrawal " + u.withdrawalId() + "/" + u.userId());
            expected.add("revoke_mfa_tokens " + u.userId());
        }
        return expected;
    }

    /** The published commands for unauthorized approvals, in the form of {@link #unauthorizedApprovalCommands(GroundTruth)}. */
    static List<String> unauthorizedApprovalCommands(List<JsonNode> actions) {
        return actions.stream().filter(a -> a.path("reason").asText().equals("unauthorized_approval"))
                .map(a -> a.path("action").asText() + " "
                        + (a.path("scope").has("withdrawal_id") ? a.path("scope").path("withdrawal_id").asText() + "/" : "")
                        + a.path("scope").path("user_id").asText())
                .toList();
    }
}
