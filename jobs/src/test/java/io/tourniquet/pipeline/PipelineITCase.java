package io.tourniquet.pipeline;

import static org.assertj.core.api.Assertions.assertThat;

import co.elastic.clients.elasticsearch.ElasticsearchClient;
import co.elastic.clients.elasticsearch._types.aggregations.StringTermsBucket;
import co.elastic.clients.elasticsearch.core.SearchResponse;
import com.fasterxml.jackson.databind.JsonNode;
import io.tourniquet.cli.SetupCommand;
import io.tourniquet.config.Settings;
import io.tourniquet.config.TourniquetConfig;
import io.tourniquet.detect.CommandSigner;
import io.tourniquet.detect.DetectJobRunner;
import io.tourniquet.index.EsClients;
import io.tourniquet.index.IndexJobRunner;
import io.tourniquet.json.Json;
import io.tourniquet.kafka.KafkaConnectors;
import io.tourniquet.kafka.TopicReader;
import io.tourniquet.sim.GroundTruth;
import io.tourniquet.sim.Simulation;
import io.tourniquet.sim.SimulationConfig;
import io.tourniquet.sim.SimulationWriter;
import io.tourniquet.sim.Simulator;
import io.tourniquet.sim.UnauthorizedKind;
import io.tourniquet.testing.LocalServices;
import io.tourniquet.testing.SharedMiniCluster;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.stream.Collectors;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * End to end on real services: a simulated January-2022-style incident (out of order, four topics,
 * many users, duplicates, malformed records) through real Kafka, the detect job and the index job
 * on the shared MiniCluster, into real Elasticsearch. Every figure is checked against the
 * simulator's ground truth.
 */
@ExtendWith({LocalServices.class, SharedMiniCluster.class})
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class PipelineITCase {
    static final String KEY = "pipeline-itcase-signing-key-0123456789abcdef";
    static final Duration READ = Duration.ofSeconds(60);
    static final Map<UnauthorizedKind, String> REASON = Map.of(
            UnauthorizedKind.NO_CHALLENGE, "no_challenge",
            UnauthorizedKind.UNKNOWN_CHALLENGE, "unknown_challenge",
            UnauthorizedKind.FAILED_CHALLENGE, "challenge_failed",
            // Keyed per user, another user's challenge is simply unknown to this account.
            UnauthorizedKind.OTHER_USERS_CHALLENGE, "unknown_challenge",
            UnauthorizedKind.REUSED_CHALLENGE, "challenge_reused",
            UnauthorizedKind.OTHER_WITHDRAWAL_CHALLENGE, "other_withdrawal_challenge",
            UnauthorizedKind.VERIFICATION_TOO_OLD, "verification_too_old",
            UnauthorizedKind.VERIFICATION_AFTER_SKEW, "verification_after_approval");

    TourniquetConfig cfg;
    GroundTruth truth;
    ElasticsearchClient es;

    @BeforeAll
    void replayAnIncident() throws Exception {
        String ns = "it" + UUID.randomUUID().toString().substring(0, 8) + "-";
        cfg = TourniquetConfig.load(Map.of(), Map.of(
                Settings.KAFKA_BOOTSTRAP.key(), LocalServices.kafkaBootstrap(),
                Settings.ES_URL.key(), LocalServices.elasticsearchUrl(),
                Settings.SIGNING_KEY.key(), KEY,
                Settings.CHECKPOINT_INTERVAL.key(), "1 s")).namespaced(ns);
        SetupCommand.apply(cfg);

        Simulation sim = Simulator.generate(SimulationConfig.builder()
                .seed(20220117).benignUsers(16).attackVictims(12).malformedCount(6).duplicateCount(3)
                .topicsFrom(cfg).build());
        truth = sim.groundTruth();
        SimulationWriter.writeToKafka(sim, cfg.get(Settings.KAFKA_BOOTSTRAP));

        DetectJobRunner.build(cfg, true).execute("it-detect");
        IndexJobRunner.build(cfg, true).execute("it-index");
        es = EsClients.create(cfg);
        for (var s : List.of(Settings.INDEX_EVENTS, Settings.INDEX_ALERTS, Settings.INDEX_ACTIONS)) {
            es.indices().refresh(r -> r.index(cfg.get(s)));
        }
    }

    @AfterAll
    void closeClient() throws IOException {
        if (es != null) es.close();
    }

    private List<JsonNode> read(String topic) throws IOException {
        List<JsonNode> out = new ArrayList<>();
        for (ConsumerRecord<byte[], byte[]> r : TopicReader.readAll(cfg.get(Settings.KAFKA_BOOTSTRAP), topic, READ)) {
            out.add(Json.MAPPER.readTree(r.value()));
        }
        return out;
    }

    @Test
    void exactlyTheUnauthorizedApprovalsAreAlertedOnceEachWithTheRightReason() throws IOException {
        List<JsonNode> alerts = read(cfg.get(Settings.TOPIC_ALERTS));
        Map<String, String> reasonByApproval = alerts.stream().collect(Collectors.toMap(
                a -> a.path("evidence").path("event_ids").path(0).asText(),
                a -> a.path("evidence").path("reason").asText()));
        assertThat(alerts).as("one alert per unauthorized approval, no duplicates")
                .hasSize(truth.unauthorizedApprovals().size());
        Map<String, String> expected = truth.unauthorizedApprovals().stream().collect(Collectors.toMap(
                GroundTruth.UnauthorizedApproval::eventId, u -> REASON.get(u.kind())));
        assertThat(reasonByApproval).isEqualTo(expected);
        assertThat(alerts).allSatisfy(a -> {
            assertThat(a.path("rule").asText()).isEqualTo("unauthorized_approval");
            assertThat(a.path("severity").asText()).isEqualTo("high");
            assertThat(a.path("summary").asText()).endsWith(").");
        });
        truth.legitimateTrickyApprovals().forEach(t ->
                assertThat(reasonByApproval).as("legitimate " + t.kind()).doesNotContainKey(t.eventId()));
    }

    @Test
    void everyUnauthorizedApprovalFreezesHoldsAndRevokesWithValidSignatures() throws IOException {
        List<JsonNode> actions = read(cfg.get(Settings.TOPIC_ACTIONS));
        CommandSigner verifier = new CommandSigner(KEY);
        assertThat(actions).allSatisfy(a -> assertThat(verifier.verify(a)).as(a.toString()).isTrue());
        assertThat(actions).extracting(a -> a.path("action_id").asText()).doesNotHaveDuplicates();
        List<String> expected = new ArrayList<>();
        for (GroundTruth.UnauthorizedApproval u : truth.unauthorizedApprovals()) {
            expected.add("freeze_account " + u.userId());
            expected.add("hold_withdrawal " + u.withdrawalId() + "/" + u.userId());
            expected.add("revoke_mfa_tokens " + u.userId());
        }
        assertThat(actions).extracting(a -> a.path("action").asText() + " "
                        + (a.path("scope").has("withdrawal_id")
                        ? a.path("scope").path("withdrawal_id").asText() + "/" : "")
                        + a.path("scope").path("user_id").asText())
                .containsExactlyInAnyOrderElementsOf(expected);
        assertThat(actions).allSatisfy(a -> assertThat(a.path("reason").asText()).isEqualTo("unauthorized_approval"));
    }

    @Test
    void malformedRecordsAreDeadLetteredWithCoordinatesAndReasons() throws IOException {
        List<JsonNode> dlq = read(cfg.get(Settings.TOPIC_DLQ));
        assertThat(dlq).hasSize(truth.malformedEmitted());
        assertThat(dlq).allSatisfy(d -> {
            assertThat(d.path("topic").asText()).isIn(KafkaConnectors.inputTopics(cfg));
            assertThat(d.path("offset").isNumber()).isTrue();
            assertThat(d.path("reason").asText()).isNotBlank();
            assertThat(d.path("original").asText()).isNotEmpty();
        });
        assertThat(dlq).extracting(d -> d.path("reason_code").asText()).contains("not_json", "oversized",
                "missing_field", "invalid_value");
    }

    @Test
    void everyValidEventIsIndexedOnceWithItsEnrichment() throws IOException {
        long validUnique = truth.validEventsByTopic().values().stream().mapToLong(Integer::longValue).sum();
        assertThat(es.count(c -> c.index(cfg.get(Settings.INDEX_EVENTS))).count()).isEqualTo(validUnique);
        assertThat(es.count(c -> c.index(cfg.get(Settings.INDEX_ALERTS))).count())
                .isEqualTo(truth.unauthorizedApprovals().size());
        assertThat(es.count(c -> c.index(cfg.get(Settings.INDEX_ACTIONS))).count())
                .isEqualTo(3L * truth.unauthorizedApprovals().size());

        GroundTruth.UnauthorizedApproval u = truth.unauthorizedApprovals().get(0);
        var hit = es.search(s -> s.index(cfg.get(Settings.INDEX_EVENTS))
                .query(q -> q.term(t -> t.field("event.id").value(u.eventId()))), JsonNode.class).hits().hits();
        assertThat(hit).hasSize(1);
        assertThat(hit.get(0).id()).isEqualTo(u.eventId());
        JsonNode doc = hit.get(0).source();
        assertThat(doc.at("/user/id").asText()).isEqualTo(u.userId());
        assertThat(doc.at("/event/dataset").asText()).isEqualTo(cfg.get(Settings.TOPIC_WITHDRAWALS));
        assertThat(doc.at("/exchange/mfa/authorized").asBoolean(true)).isFalse();
        assertThat(doc.at("/exchange/alert_ids").size()).isEqualTo(1);
        assertThat(doc.at("/exchange/withdrawal/amount").asText()).isEqualTo(u.amount().toPlainString());
        assertThat(doc.at("/exchange/withdrawal/approval_service_version").asText()).isEqualTo(u.approvalServiceVersion());

        for (GroundTruth.TrickyApproval t : truth.legitimateTrickyApprovals()) {
            var legit = es.search(s -> s.index(cfg.get(Settings.INDEX_EVENTS))
                    .query(q -> q.term(x -> x.field("event.id").value(t.eventId()))), JsonNode.class).hits().hits();
            assertThat(legit).as(t.kind().toString()).hasSize(1);
            assertThat(legit.get(0).source().at("/exchange/mfa/authorized").asBoolean(false)).as(t.kind().toString()).isTrue();
        }
    }

    @Test
    void rootCauseIsOneTermsAggregation() throws IOException {
        SearchResponse<Void> r = es.search(s -> s.index(cfg.get(Settings.INDEX_EVENTS)).size(0)
                .query(q -> q.term(t -> t.field("exchange.mfa.authorized").value(false)))
                .aggregations("by_version", a -> a.terms(t -> t.field("exchange.withdrawal.approval_service_version"))),
                Void.class);
        Map<String, Long> buckets = new HashMap<>();
        for (StringTermsBucket b : r.aggregations().get("by_version").sterms().buckets().array()) {
            buckets.put(b.key().stringValue(), b.docCount());
        }
        Map<String, Long> expected = truth.unauthorizedApprovals().stream().collect(Collectors.groupingBy(
                GroundTruth.UnauthorizedApproval::approvalServiceVersion, Collectors.counting()));
        assertThat(buckets).isEqualTo(expected);
        assertThat(buckets).containsKey(truth.compromisedServiceVersion());
    }
}
