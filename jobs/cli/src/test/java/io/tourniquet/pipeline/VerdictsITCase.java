package io.tourniquet.pipeline;

import static org.assertj.core.api.Assertions.assertThat;
import co.elastic.clients.elasticsearch.ElasticsearchClient;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.tourniquet.config.Settings;
import io.tourniquet.config.TourniquetConfig;
import io.tourniquet.detect.job.DetectJobRunner;
import io.tourniquet.index.EsClients;
import io.tourniquet.index.IndexJobRunner;
import io.tourniquet.json.Json;
import io.tourniquet.pipeline.IncidentAftercareITCase.Tail;
import io.tourniquet.testing.CliProcess;
import io.tourniquet.testing.InProcessCli;
import io.tourniquet.testing.LocalServices;
import io.tourniquet.testing.ReplayedIncident;
import io.tourniquet.util.Times;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Predicate;
import org.apache.flink.core.execution.JobClient;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * An analyst's verdict through the real services: the detect and index jobs live, a new-address
 * withdrawal alert indexed, {@code tourniquet control verdict} looking the alert up in
 * Elasticsearch and signing a false positive, the job publishing the verdict (indexed), and the
 * same user's next new-address withdrawal raised but suppressed (marked, indexed, no hold), while
 * another user's is held as always.
 *
 * <p>Orders are explicit: one key per input topic, and each phase waits on the outputs of the one
 * before (the verdict is on its topic before the second withdrawals are written).
 */
@ExtendWith(LocalServices.class)
class VerdictsITCase {
    static final String KEY = "verdicts-itcase-signing-key-0123456789abcdef";
    static final String CONTROL_KEY = "verdicts-itcase-control-key-0123456789abcdef";
    static final Duration DEADLINE = Duration.ofMinutes(2);
    static final Instant T = Instant.now().truncatedTo(java.time.temporal.ChronoUnit.HOURS).minus(Duration.ofDays(1));
    static final Path dir = Path.of("target", "verdicts-itcase").toAbsolutePath();

    TourniquetConfig cfg;
    io.tourniquet.testing.LiveInput input;

    @Test
    void aFalsePositiveIsIndexedAndSilencesThatUsersNextAlertOfTheRuleOnly() throws Exception {
        CliProcess.deleteRecursively(dir);
        Files.createDirectories(dir);
        cfg = ReplayedIncident.config("verdicts", KEY, CONTROL_KEY).with(Map.of(
                Settings.CHECKPOINT_DIR.key(), dir.resolve("checkpoints").toUri().toString(),
                Settings.PROMETHEUS_PORTS.key(), "none",
                Settings.REST_PORTS.key(), "18481-18580"));
        String bootstrap = cfg.get(Settings.KAFKA_BOOTSTRAP);
        input = io.tourniquet.testing.LiveInput.open(cfg, "verdicts");
        JobClient detect = DetectJobRunner.build(cfg, false, Optional.empty()).executeAsync("verdicts-detect");
        JobClient index = IndexJobRunner.build(cfg, false).executeAsync("verdicts-index");
        try (io.tourniquet.testing.LiveInput closing = input;
             ElasticsearchClient es = EsClients.create(cfg);
             Tail alerts = new Tail(bootstrap, cfg.get(Settings.TOPIC_ALERTS));
             Tail actions = new Tail(bootstrap, cfg.get(Settings.TOPIC_ACTIONS));
             Tail verdicts = new Tail(bootstrap, cfg.get(Settings.TOPIC_VERDICTS))) {
            // (1) u1 withdraws to an address whitelisted an hour before: alert, and the withdrawal held.
            whitelisted("u1", "0xaaa1", T);
            requested("u1", "w-u1-1", "0xaaa1", T.plus(Duration.ofHours(1)));
            tick(T.plus(Duration.ofHours(2)));
            JsonNode first = alerts.await(all -> last(all, withdrawal("w-u1-1")), "u1's first alert", detect);
            String firstId = first.path("alert_id").asText();
            assertThat(first.path("rule").asText()).isEqualTo("new_address_withdrawal");
            actions.await(all -> last(all, hold("w-u1-1")), "the hold of w-u1-1", detect);
            awaitDoc(es, cfg.get(Settings.INDEX_ALERTS), "alert_id", firstId, "u1's first alert indexed", index);

            // (2) The analyst's verdict, its rule, user and time looked up in the alerts index.
            InProcessCli.Run run = verdictCli(firstId);
            assertThat(run.code()).as(run.out() + run.err()).isZero();
            JsonNode verdict = verdicts.await(all -> last(all, v -> v.path("alert_id").asText().equals(firstId)),
                    "the verdict", detect);
            assertThat(verdict.path("label").asText()).isEqualTo("false_positive");
            assertThat(verdict.path("rule").asText()).isEqualTo("new_address_withdrawal");
            assertThat(verdict.path("user_id").asText()).isEqualTo("u1");
            assertThat(verdict.path("by").asText()).isEqualTo("alice@sec");
            assertThat(verdict.path("alert_time").asText()).isEqualTo(first.path("event_time").asText());
            assertThat(Times.parse(verdict.path("suppresses_until").asText()))
                    .isEqualTo(Times.parse(first.path("event_time").asText()).plus(Duration.ofDays(30)));
            String verdictId = verdict.path("verdict_id").asText();

            // (3) u1 again (suppressed) and u2 (held as always).
            whitelisted("u1", "0xaaa2", T.plus(Duration.ofHours(3)));
            whitelisted("u2", "0xbbb1", T.plus(Duration.ofHours(3)));
            requested("u1", "w-u1-2", "0xaaa2", T.plus(Duration.ofHours(4)));
            requested("u2", "w-u2-1", "0xbbb1", T.plus(Duration.ofHours(4)));
            tick(T.plus(Duration.ofHours(5)));
            alerts.await(all -> last(all, withdrawal("w-u1-2")) != null && last(all, withdrawal("w-u2-1")) != null,
                    "both second alerts", detect);
            actions.await(all -> last(all, hold("w-u2-1")), "the hold of w-u2-1", detect);

            JsonNode silenced = last(alerts.all, withdrawal("w-u1-2"));
            assertThat(silenced.path("suppressed_by").path("verdict_id").asText()).isEqualTo(verdictId);
            assertThat(silenced.path("suppressed_by").path("judged_alert_id").asText()).isEqualTo(firstId);
            assertThat(last(alerts.all, withdrawal("w-u2-1")).has("suppressed_by")).isFalse();
            // The suppressed alert was committed with its checkpoint, so any command of it was flushed by then.
            assertThat(actions.all).noneMatch(hold("w-u1-2"));

            // (4) The forensic record: the verdict, and the silenced alert with who silenced it.
            JsonNode doc = awaitDoc(es, cfg.get(Settings.INDEX_VERDICTS), "verdict_id", verdictId, "the verdict indexed",
                    index);
            assertThat(doc.path("label").asText()).isEqualTo("false_positive");
            assertThat(doc.path("@timestamp").asText()).isEqualTo(doc.path("decided_at").asText());
            assertThat(doc.path("user").path("id").asText()).isEqualTo("u1");
            JsonNode silencedDoc = awaitDoc(es, cfg.get(Settings.INDEX_ALERTS), "suppressed_by.verdict_id", verdictId,
                    "the silenced alert indexed", index);
            assertThat(silencedDoc.path("withdrawal_id").asText()).isEqualTo("w-u1-2");
        } finally {
            detect.cancel().get();
            index.cancel().get();
        }
    }

    private InProcessCli.Run verdictCli(String alertId) {
        List<String> args = new ArrayList<>(List.of("control", "verdict", "--alert", alertId,
                "--label", "false_positive", "--by", "alice@sec", "--note", "the user confirmed both addresses are theirs",
                "--kafka", cfg.get(Settings.KAFKA_BOOTSTRAP),
                "--set", Settings.TOPIC_CONTROL.key() + "=" + cfg.get(Settings.TOPIC_CONTROL),
                "--set", Settings.CONTROL_KEY.key() + "=" + CONTROL_KEY));
        return InProcessCli.onIndices(cfg, args.toArray(String[]::new));
    }

    /** The first document of {@code alias} whose {@code field} is {@code value}, waited for with a deadline. */
    private static JsonNode awaitDoc(ElasticsearchClient es, String alias, String field, String value, String what,
                                     JobClient job) {
        return Awaitility.await(what + " in " + alias).atMost(DEADLINE).pollInterval(Duration.ofMillis(200))
                .until(() -> {
                    if (job.getJobStatus().get().isGloballyTerminalState()) {
                        throw new AssertionError("the index job ended while waiting for " + what);
                    }
                    // The alias exists once the index job wrote its first document there.
                    es.indices().refresh(r -> r.index(alias).ignoreUnavailable(true).allowNoIndices(true));
                    var hits = es.search(s -> s.index(alias).ignoreUnavailable(true).allowNoIndices(true)
                            .query(q -> q.term(t -> t.field(field).value(value))), JsonNode.class).hits().hits();
                    return hits.isEmpty() ? null : hits.get(0).source();
                }, java.util.Objects::nonNull);
    }

    private static Predicate<JsonNode> withdrawal(String id) {
        return a -> a.path("withdrawal_id").asText().equals(id);
    }

    private static Predicate<JsonNode> hold(String withdrawal) {
        return a -> a.path("action").asText().equals("hold_withdrawal")
                && a.path("scope").path("withdrawal_id").asText().equals(withdrawal);
    }

    private static JsonNode last(List<JsonNode> all, Predicate<JsonNode> p) {
        JsonNode found = null;
        for (JsonNode n : all) if (p.test(n)) found = n;
        return found;
    }

    // ---- input -----------------------------------------------------------------------------------------

    private ObjectNode event(String user, Instant at) {
        return input.event(user, at);
    }

    private void send(io.tourniquet.config.Setting<String> topic, ObjectNode e) throws Exception {
        input.send(topic, e);
    }

    private void whitelisted(String user, String address, Instant at) throws Exception {
        ObjectNode e = event(user, at);
        e.put("action", "whitelist_address_added");
        e.put("address", address);
        e.put("asset", "ETH");
        e.put("network", "ethereum");
        send(Settings.TOPIC_ACCOUNT_CHANGES, e);
    }

    private void requested(String user, String withdrawal, String address, Instant at) throws Exception {
        ObjectNode e = event(user, at);
        e.put("withdrawal_id", withdrawal);
        e.put("status", "requested");
        e.put("asset", "ETH");
        e.put("network", "ethereum");
        e.put("amount", "0.5");
        e.put("usd_value", 1_500);
        e.put("destination_address", address);
        e.put("account_balance_usd", 40_000);
        send(Settings.TOPIC_WITHDRAWALS, e);
    }

    private void tick(Instant at) throws Exception {
        input.tick(at);
    }
}
