package io.tourniquet.backtest;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import com.fasterxml.jackson.databind.JsonNode;
import io.tourniquet.config.Settings;
import io.tourniquet.config.TourniquetConfig;
import io.tourniquet.json.Json;
import io.tourniquet.kafka.KafkaTopics;
import io.tourniquet.kafka.TopicReader;
import io.tourniquet.model.ControlRequest;
import io.tourniquet.rules.catalog.RuleCatalog;
import io.tourniquet.sim.GroundTruth;
import io.tourniquet.sim.Simulation;
import io.tourniquet.sim.SimulationWriter;
import io.tourniquet.testing.EsHttp;
import io.tourniquet.testing.InProcessCli;
import io.tourniquet.testing.LocalServices;
import io.tourniquet.testing.ReplayedIncident;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * Backtests on a simulated history in real Kafka: the diff of each candidate equals what the
 * simulator's ground truth computes under the candidate's settings (an independent implementation
 * of the rules over the emitted events), commands follow the alerts, the candidate is checked like
 * a rule change, and nothing is written to any topic.
 */
@ExtendWith(LocalServices.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class BacktestITCase {
    static final Instant FROM = Instant.parse("2000-01-01T00:00:00Z");
    static final Instant TO = Instant.parse("2100-01-01T00:00:00Z");

    TourniquetConfig cfg;
    Simulation sim;
    Map<String, Long> offsetsBefore;

    @BeforeAll
    void writeHistory() throws Exception {
        cfg = ReplayedIncident.config("bt", "backtest-itcase-signing-key-0123456789abcdef",
                "backtest-itcase-control-key-0123456789abcdef");
        sim = ReplayedIncident.simulate(cfg, 20220117);
        SimulationWriter.writeToKafka(sim, cfg.get(Settings.KAFKA_BOOTSTRAP));
        offsetsBefore = outputRecords();
    }

    @AfterAll
    void cleanUp() throws Exception {
        if (cfg == null) return;
        try (EsHttp cleaner = new EsHttp(cfg.get(Settings.ES_URL))) {
            cleaner.deleteAliasesAndTemplates(Settings.INDEX_ALIASES.stream().map(cfg::get).toList());
        }
        try (var admin = KafkaTopics.admin(cfg)) {
            admin.deleteTopics(KafkaTopics.all(cfg)).all().get();
        }
    }

    /** Records on every topic that is not an input topic: a backtest must add none. */
    private Map<String, Long> outputRecords() {
        Map<String, Long> n = new HashMap<>();
        for (var s : Settings.TOPICS) {
            if (List.of(Settings.TOPIC_LOGINS, Settings.TOPIC_MFA, Settings.TOPIC_WITHDRAWALS,
                    Settings.TOPIC_ACCOUNT_CHANGES).contains(s)) continue;
            n.put(cfg.get(s), (long) TopicReader.readAll(cfg.get(Settings.KAFKA_BOOTSTRAP), cfg.get(s),
                    Duration.ofSeconds(5)).size());
        }
        return n;
    }

    private static TreeSet<String> withdrawals(List<Backtest.AlertLine> lines, String rule) {
        TreeSet<String> s = new TreeSet<>();
        for (Backtest.AlertLine a : lines) if (rule.equals(a.rule())) s.add(a.withdrawalId());
        return s;
    }

    private static int count(List<Backtest.Count> counts, String name, boolean candidate) {
        return counts.stream().filter(c -> c.name().equals(name)).findFirst()
                .map(c -> candidate ? c.candidate() : c.inForce()).orElse(0);
    }

    @Test
    void aYoungerMinimumAgeDropsExactlyTheWithdrawalsTheGroundTruthSaysAndTheirHolds() throws Exception {
        String rule = RuleCatalog.NEW_ADDRESS_WITHDRAWAL;
        Map<String, String> candidate = Map.of(Settings.NEW_ADDRESS_AGE.key(), "1 h");
        GroundTruth.ExpectedAlerts before = sim.expectedAlerts(cfg);
        GroundTruth.ExpectedAlerts after = sim.expectedAlerts(cfg.with(candidate));
        TreeSet<String> dropped = new TreeSet<>(before.newAddressWithdrawals());
        dropped.removeAll(after.newAddressWithdrawals());
        assertThat(dropped).as("the scenario exercises the change").isNotEmpty();

        Backtest.Report r = Backtest.run(cfg, rule, candidate, FROM, TO, (ru, f, t) -> {
            throw new IllegalStateException("no verdicts here");
        });
        assertThat(r.quality()).isNull();
        assertThat(r.qualityNote()).isEqualTo("verdicts unavailable: no verdicts here");

        assertThat(count(r.alertsPerRule(), rule, false)).isEqualTo(before.newAddressWithdrawals().size());
        assertThat(count(r.alertsPerRule(), rule, true)).isEqualTo(after.newAddressWithdrawals().size());
        assertThat(withdrawals(r.onlyInForce(), rule)).isEqualTo(dropped);
        assertThat(withdrawals(r.onlyCandidate(), rule)).isEmpty();
        assertThat(count(r.alertsPerRule(), RuleCatalog.UNAUTHORIZED_APPROVAL, true))
                .isEqualTo(count(r.alertsPerRule(), RuleCatalog.UNAUTHORIZED_APPROVAL, false))
                .isEqualTo(before.unauthorizedApprovals().size());
        assertThat(count(r.alertsPerRule(), RuleCatalog.DESTINATION_CONCENTRATION, true) > 0)
                .isEqualTo(!after.destinationConcentration().isEmpty());
        // Each dropped alert's hold is not issued; nothing is issued that was not before.
        assertThat(r.commandsOnlyInForce()).extracting(Backtest.CommandLine::action).containsOnly("hold_withdrawal");
        assertThat(new TreeSet<>(r.commandsOnlyInForce().stream().map(c -> c.scope()).toList()))
                .isEqualTo(dropped);
        assertThat(r.commandsOnlyCandidate()).isEmpty();
        assertThat(count(r.commandsPerAction(), "hold_withdrawal", false)
                - count(r.commandsPerAction(), "hold_withdrawal", true)).isEqualTo(dropped.size());

        assertThat(outputRecords()).as("no topic written").isEqualTo(offsetsBefore);
    }

    @Test
    void theCliPrintsTheDrainDiffAsJsonAndHtmlEqualToTheGroundTruth(@TempDir Path dir) throws Exception {
        Map<String, String> candidate = Map.of(Settings.DRAIN_SHARE.key(), "0.9");
        TreeSet<String> dropped = new TreeSet<>(sim.expectedAlerts(cfg).accountDrains());
        dropped.removeAll(sim.expectedAlerts(cfg.with(candidate)).accountDrains());
        assertThat(dropped).isNotEmpty();

        Path html = dir.resolve("backtest.html");
        List<String> args = new ArrayList<>(List.of("backtest", "--rule", RuleCatalog.ACCOUNT_DRAIN,
                "--param", Settings.DRAIN_SHARE.key() + "=0.9", "--from", FROM.toString(), "--to", TO.toString(),
                "--json", "--html", html.toString(), "--kafka", cfg.get(Settings.KAFKA_BOOTSTRAP),
                "--set", Settings.KAFKA_GROUP_PREFIX.key() + "=" + cfg.get(Settings.KAFKA_GROUP_PREFIX)));
        for (var s : List.of(Settings.TOPIC_LOGINS, Settings.TOPIC_MFA, Settings.TOPIC_WITHDRAWALS,
                Settings.TOPIC_ACCOUNT_CHANGES)) {
            args.addAll(List.of("--set", s.key() + "=" + cfg.get(s)));
        }
        InProcessCli.Run run = InProcessCli.onIndices(cfg, args.toArray(String[]::new));
        assertThat(run.code()).as(run.err()).isZero();
        JsonNode report = Json.MAPPER.readTree(run.out());
        TreeSet<String> onlyInForce = new TreeSet<>();
        for (JsonNode a : report.path("only_in_force")) {
            assertThat(a.path("rule").asText()).isEqualTo(RuleCatalog.ACCOUNT_DRAIN);
            onlyInForce.add(a.path("user_id").asText());
        }
        assertThat(onlyInForce).isEqualTo(dropped);
        assertThat(report.path("only_candidate")).isEmpty();
        // Verdicts read from this run's (empty) verdict index: none judged, so no precision.
        assertThat(report.path("quality").path("verdicts").asInt()).isZero();
        String page = Files.readString(html);
        assertThat(page).contains("<h1>Backtest of <code>account_drain</code></h1>")
                .contains("Only the rules in force raise (" + onlyInForce.size() + ")");
        for (String user : dropped) assertThat(page).contains(user);

        // A candidate the job would refuse is refused before anything runs.
        InProcessCli.Run bad = InProcessCli.onIndices(cfg, "backtest", "--rule", RuleCatalog.ACCOUNT_DRAIN,
                "--param", "rule.account-drain.share=0", "--from", FROM.toString(), "--to", TO.toString());
        assertThat(bad.code()).isEqualTo(2);
        assertThat(bad.err()).contains("rule.account-drain.share");
        // Input topics that are not there: said before anything runs, not as a failed job.
        InProcessCli.Run missing = InProcessCli.onIndices(cfg, "backtest", "--rule", RuleCatalog.ACCOUNT_DRAIN,
                "--param", "rule.account-drain.share=0.9", "--from", FROM.toString(), "--to", TO.toString(),
                "--kafka", cfg.get(Settings.KAFKA_BOOTSTRAP), "--set", "topic.logins=no-such-topic-" + sim.hashCode());
        assertThat(missing.code()).isEqualTo(2);
        assertThat(missing.err()).contains("input topics not found").contains("no-such-topic-");
        assertThatThrownBy(() -> Backtest.run(cfg, RuleCatalog.ACCOUNT_DRAIN, Map.of("rule.bulk-drain.min-users", "3"),
                FROM, TO, null)).isInstanceOf(IllegalArgumentException.class);
        assertThat(outputRecords()).as("no topic written").isEqualTo(offsetsBefore);
    }

    @Test
    void theSameHistoryAsFilesGivesTheSameDiff(@TempDir Path dir) throws Exception {
        // The simulation's own files (one per input topic, as 'simulate --out-dir' writes them),
        // and a file of another name beside them, which is not input.
        SimulationWriter.writeToFiles(sim, dir);
        Files.writeString(dir.resolve("notes.ndjson"), "{\"not\":\"input\"}\n");
        Map<String, String> candidate = Map.of(Settings.DRAIN_SHARE.key(), "0.9");
        TreeSet<String> dropped = new TreeSet<>(sim.expectedAlerts(cfg).accountDrains());
        dropped.removeAll(sim.expectedAlerts(cfg.with(candidate)).accountDrains());

        Backtest.Report fromFiles = Backtest.run(cfg, RuleCatalog.ACCOUNT_DRAIN, candidate, FROM, TO, null, dir);
        TreeSet<String> users = new TreeSet<>();
        fromFiles.onlyInForce().forEach(a -> users.add(a.userId()));
        assertThat(users).isEqualTo(dropped);
        assertThat(fromFiles.onlyCandidate()).isEmpty();
        Backtest.Report fromTopics = Backtest.run(cfg, RuleCatalog.ACCOUNT_DRAIN, candidate, FROM, TO, null);
        assertThat(fromFiles.alertsPerRule()).isEqualTo(fromTopics.alertsPerRule());
        assertThat(fromFiles.commandsPerAction()).isEqualTo(fromTopics.commandsPerAction());
        assertThat(fromFiles.onlyInForce()).extracting(Backtest.AlertLine::alertId)
                .containsExactlyElementsOf(fromTopics.onlyInForce().stream().map(Backtest.AlertLine::alertId).toList());

        // A directory without any input file, or no directory: said first.
        Path empty = Files.createDirectory(dir.resolve("empty"));
        assertThatThrownBy(() -> Backtest.run(cfg, RuleCatalog.ACCOUNT_DRAIN, candidate, FROM, TO, null, empty))
                .hasMessageContaining("none of").hasMessageContaining(cfg.get(Settings.TOPIC_WITHDRAWALS) + ".ndjson");
        assertThatThrownBy(() -> Backtest.run(cfg, RuleCatalog.ACCOUNT_DRAIN, candidate, FROM, TO, null,
                dir.resolve("nowhere"))).hasMessageContaining("not a directory");
        assertThat(outputRecords()).as("no topic written").isEqualTo(offsetsBefore);
    }
}
