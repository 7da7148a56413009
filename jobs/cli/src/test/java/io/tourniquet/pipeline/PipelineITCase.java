package io.tourniquet.pipeline;

import static org.assertj.core.api.Assertions.assertThat;
import co.elastic.clients.elasticsearch.ElasticsearchClient;
import co.elastic.clients.elasticsearch._types.aggregations.StringTermsBucket;
import co.elastic.clients.elasticsearch.core.SearchResponse;
import com.fasterxml.jackson.databind.JsonNode;
import io.tourniquet.config.Settings;
import io.tourniquet.config.TourniquetConfig;
import io.tourniquet.signing.CommandSigner;
import io.tourniquet.index.EsClients;
import io.tourniquet.json.Json;
import io.tourniquet.kafka.KafkaConnectors;
import io.tourniquet.kafka.TopicReader;
import io.tourniquet.sim.GroundTruth;
import io.tourniquet.sim.Simulation;
import io.tourniquet.sim.SimulationWriter;
import io.tourniquet.sim.UnauthorizedKind;
import io.tourniquet.testing.LocalServices;
import io.tourniquet.testing.ReplayedIncident;
import io.tourniquet.testing.SharedMiniCluster;
import io.tourniquet.model.ControlRequest;
import io.tourniquet.model.RawRecord;
import io.tourniquet.testing.ControlRecords;
import java.io.IOException;
import java.math.BigDecimal;
import java.time.Instant;
import java.util.Comparator;
import java.util.TreeMap;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
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
    static final String CONTROL_KEY = "pipeline-itcase-control-key-0123456789abcdef";
    static final Duration READ = Duration.ofSeconds(60);
    static final Map<UnauthorizedKind, String> REASON = io.tourniquet.testing.ExpectedReasons.BY_KIND;

    TourniquetConfig cfg;
    GroundTruth truth;
    ElasticsearchClient es;
    String released;

    /**
     * An analyst's signed release of one victim, the same request replayed, one signed with another
     * key, and an unsigned resume: all on the control topic before the replay starts.
     */
    private void sendControlRequests() throws Exception {
        long now = System.currentTimeMillis();
        ControlRequest release = ControlRecords.request("release-1", ControlRequest.RELEASE_ACCOUNT, "alice@sec", now);
        release.userId = released;
        ControlRequest forged = ControlRecords.request("resume-1", ControlRequest.RESUME_WITHDRAWALS, "mallory", now);
        String topic = cfg.get(Settings.TOPIC_CONTROL);
        List<RawRecord> good = new ControlRecords(topic, CONTROL_KEY).signed(release).signed(release).list();
        List<RawRecord> bad = new ControlRecords(topic, "k".repeat(40)).signed(forged).unsigned(forged).list();
        try (var producer = new KafkaProducer<byte[], byte[]>(Map.of(
                "bootstrap.servers", cfg.get(Settings.KAFKA_BOOTSTRAP), "acks", "all",
                "key.serializer", ByteArraySerializer.class.getName(),
                "value.serializer", ByteArraySerializer.class.getName()))) {
            for (RawRecord r : List.of(good.get(0), good.get(1), bad.get(0), bad.get(1))) {
                producer.send(new ProducerRecord<>(topic, r.value)).get();
            }
        }
    }

    @BeforeAll
    void replayAnIncident() throws Exception {
        cfg = ReplayedIncident.config("it", KEY, CONTROL_KEY);

        Simulation sim = ReplayedIncident.simulate(cfg, 20220117);
        truth = sim.groundTruth();
        SimulationWriter.writeToKafka(sim, cfg.get(Settings.KAFKA_BOOTSTRAP));
        released = truth.affectedUsers().get(0);
        sendControlRequests();

        ReplayedIncident.replay(cfg, "it");
        es = EsClients.create(cfg);
        for (var s : Settings.INDEX_ALIASES) {
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
    void everyCommandOnTheTopicVerifiesWithTheEnforcersPythonVerifier(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir)
            throws Exception {
        // The records exactly as published, checked by an implementation that shares no code with ours.
        StringBuilder published = new StringBuilder();
        int n = 0;
        for (ConsumerRecord<byte[], byte[]> r : TopicReader.readAll(cfg.get(Settings.KAFKA_BOOTSTRAP),
                cfg.get(Settings.TOPIC_ACTIONS), READ)) {
            published.append(new String(r.value(), java.nio.charset.StandardCharsets.UTF_8)).append('\n');
            n++;
        }
        assertThat(n).as("commands published").isPositive();
        io.tourniquet.testing.ReferenceVerifier.Result py = io.tourniquet.testing.ReferenceVerifier.run(dir,
                published.toString(), Map.of("ENFORCER_KEY", KEY), "--key-env", "ENFORCER_KEY");
        assertThat(py.exit()).as(py.output()).isZero();
        assertThat(py.lines()).hasSize(n).allMatch(l -> l.startsWith("ok "));
    }

    private List<JsonNode> alerts(String rule) throws IOException {
        return read(cfg.get(Settings.TOPIC_ALERTS)).stream().filter(a -> a.path("rule").asText().equals(rule)).toList();
    }

    @Test
    void exactlyTheUnauthorizedApprovalsAreAlertedOnceEachWithTheRightReason() throws IOException {
        List<JsonNode> alerts = alerts("unauthorized_approval");
        Map<String, String> reasonByApproval = alerts.stream().collect(Collectors.toMap(
                a -> a.path("evidence").path("event_ids").path(0).asText(),
                a -> a.path("evidence").path("reason").asText()));
        assertThat(alerts).as("one alert per unauthorized approval, no duplicates")
                .hasSize(truth.unauthorizedApprovals().size());
        Map<String, String> expected = truth.unauthorizedApprovals().stream().collect(Collectors.toMap(
                GroundTruth.UnauthorizedApproval::eventId, u -> REASON.get(u.kind())));
        assertThat(reasonByApproval).isEqualTo(expected);
        assertThat(alerts).allSatisfy(a -> {
            assertThat(a.path("severity").asText()).isEqualTo("high");
            assertThat(a.path("rule_version").asInt()).isEqualTo(1);
            assertThat(a.path("summary").asText()).endsWith(").");
        });
        truth.legitimateTrickyApprovals().forEach(t ->
                assertThat(reasonByApproval).as("legitimate " + t.kind()).doesNotContainKey(t.eventId()));
    }

    @Test
    void everyOtherRuleAlertsExactlyWhatTheGroundTruthExpects() throws IOException {
        ReplayOutcome.assertOtherRulesAlertAsExpected(truth, read(cfg.get(Settings.TOPIC_ALERTS)));
        Map<String, String> severity = Map.of("account_drain", "medium", "new_address_withdrawal", "low",
                "destination_concentration", "critical", "bulk_drain", "critical");
        for (Map.Entry<String, String> e : severity.entrySet()) {
            assertThat(alerts(e.getKey())).as(e.getKey())
                    .allSatisfy(a -> assertThat(a.path("severity").asText()).isEqualTo(e.getValue()));
        }
    }

    @Test
    void everyUnauthorizedApprovalFreezesHoldsAndRevokesAndEveryRuleActsAsTheContractSays() throws IOException {
        List<JsonNode> actions = read(cfg.get(Settings.TOPIC_ACTIONS));
        CommandSigner verifier = new CommandSigner(KEY);
        assertThat(actions).allSatisfy(a -> assertThat(verifier.verify(a)).as(a.toString()).isTrue());
        assertThat(actions).extracting(a -> a.path("action_id").asText()).doesNotHaveDuplicates();
        assertThat(ReplayOutcome.unauthorizedApprovalCommands(actions))
                .containsExactlyInAnyOrderElementsOf(ReplayOutcome.unauthorizedApprovalCommands(truth));
        assertThat(actions).filteredOn(a -> a.path("reason").asText().equals("new_address_withdrawal"))
                .extracting(a -> a.path("action").asText() + " " + a.path("scope").path("withdrawal_id").asText())
                .containsExactlyInAnyOrderElementsOf(truth.expectedAlerts().newAddressWithdrawals().stream()
                        .map(w -> "hold_withdrawal " + w).toList());
        assertThat(actions).filteredOn(a -> a.path("reason").asText().equals("destination_concentration"))
                .extracting(a -> a.path("action").asText() + " " + a.path("scope").path("address").asText())
                .containsExactlyInAnyOrderElementsOf(truth.expectedAlerts().destinationConcentration().stream()
                        .map(x -> "block_address " + x).toList());
        assertThat(actions).noneMatch(a -> a.path("reason").asText().equals("account_drain"));
        assertThat(actions).noneMatch(a -> a.path("action").asText().equals("resume_withdrawals"));
    }

    @Test
    void theIncidentDocumentHasTheGroundTruthsExactFiguresAndOneSuspension() throws IOException {
        GroundTruth.ExpectedIncident expected = truth.incident();
        assertThat(truth.expectedAlerts().incidents()).isEqualTo(1);
        var hits = es.search(s -> s.index(cfg.get(Settings.INDEX_INCIDENTS)), JsonNode.class).hits().hits();
        assertThat(hits).as("one incident, updated in place").hasSize(1);
        JsonNode doc = hits.get(0).source();
        assertThat(doc.at("/status").asText()).isEqualTo("contained");
        assertThat(doc.at("/users_affected").asInt()).isEqualTo(expected.usersAffected());
        assertThat(doc.at("/user_ids")).extracting(JsonNode::asText)
                .containsExactlyInAnyOrderElementsOf(expected.affectedUsers());
        assertThat(amountsIn(doc.at("/impact"))).isEqualTo(amounts(expected.impact()));
        assertThat(usdIn(doc.at("/impact"))).isEqualTo(usd(expected.impact()));
        assertThat(doc.at("/usd_total").decimalValue()).isEqualByComparingTo(expected.usdTotal());
        assertThat(Instant.parse(doc.at("/started_at").asText())).isEqualTo(expected.startedAt());

        // Containment: when the 5th victim fell, in event time, however the replay's parallel
        // readers raced; and what came after it, exactly.
        Instant contained = Instant.parse(doc.at("/contained_at").asText());
        assertThat(contained).isEqualTo(expected.containedAt());
        assertThat(amountsIn(doc.at("/impact_after_containment"))).isEqualTo(amounts(expected.impactAfterContainment()));
        assertThat(doc.at("/usd_after_containment").decimalValue()).isEqualByComparingTo(expected.usdAfterContainment());

        List<JsonNode> suspends = read(cfg.get(Settings.TOPIC_ACTIONS)).stream()
                .filter(a -> a.path("action").asText().equals("suspend_withdrawals")).toList();
        assertThat(suspends).as("one platform suspension for the whole incident").singleElement().satisfies(a -> {
            assertThat(a.path("scope").path("platform").asBoolean()).isTrue();
            assertThat(a.path("incident_id").asText()).isEqualTo(doc.at("/incident/id").asText());
            assertThat(a.path("action_id").asText()).isEqualTo(doc.at("/suspension_action_id").asText());
            assertThat(Instant.parse(a.path("event_time").asText())).isEqualTo(contained);
        });

        // The topic's latest version is what Elasticsearch holds.
        JsonNode latest = read(cfg.get(Settings.TOPIC_INCIDENTS)).stream()
                .max(Comparator.comparingLong(i -> i.path("version").asLong())).orElseThrow();
        assertThat(latest.path("version").asLong()).isEqualTo(doc.at("/version").asLong());
        assertThat(latest.path("incident_id").asText()).isEqualTo(hits.get(0).id());
    }

    @Test
    void usersAreToldOncePerIncidentAndKindWithTheirAntiPhishingCode() throws IOException {
        List<JsonNode> notes = read(cfg.get(Settings.TOPIC_NOTIFICATIONS));
        assertThat(notes).extracting(n -> n.path("notification_id").asText()).doesNotHaveDuplicates();
        for (String user : truth.incident().affectedUsers()) {
            List<JsonNode> mine = notes.stream().filter(n -> n.path("user_id").asText().equals(user)).toList();
            assertThat(mine).as(user).filteredOn(n -> n.path("kind").asText().equals("unauthorized_approval")).hasSize(1);
            assertThat(mine).as(user).filteredOn(n -> n.path("kind").asText().equals("bulk_drain")).hasSize(1);
            String code = truth.antiPhishingCodes().get(user);
            // Every user set their final code before any withdrawal: alerts' notices carry it.
            assertThat(mine).as(user).filteredOn(n -> !n.path("kind").asText().equals("whitelist_address_added"))
                    .allSatisfy(n -> {
                if (code == null) assertThat(n.has("anti_phishing_code")).isFalse();
                else assertThat(n.path("anti_phishing_code").asText()).isEqualTo(code);
            });
        }
        assertThat(notes).filteredOn(n -> n.path("kind").asText().equals("new_address_withdrawal"))
                .hasSize(truth.expectedAlerts().newAddressWithdrawals().size());
    }

    @Test
    void onlyTheAnalystsSignedReleaseIsHonouredAndTheRestIsDeadLettered() throws IOException {
        List<JsonNode> analyst = read(cfg.get(Settings.TOPIC_ACTIONS)).stream()
                .filter(a -> a.path("reason").asText().equals("analyst")).toList();
        assertThat(analyst).singleElement().satisfies(a -> {
            assertThat(a.path("action").asText()).isEqualTo("release_account");
            assertThat(a.path("scope").path("user_id").asText()).isEqualTo(released);
            assertThat(a.path("requested_by").asText()).isEqualTo("alice@sec");
        });
        assertThat(read(cfg.get(Settings.TOPIC_DLQ))).filteredOn(d -> d.path("topic").asText()
                        .equals(cfg.get(Settings.TOPIC_CONTROL)))
                .extracting(d -> d.path("reason_code").asText())
                .containsExactlyInAnyOrder("replayed", "bad_signature", "unsigned");
    }

    private static Map<String, BigDecimal> amountsIn(JsonNode impact) {
        Map<String, BigDecimal> out = new TreeMap<>();
        impact.forEach(i -> out.put(i.path("asset").asText(), new BigDecimal(i.path("amount").asText()).stripTrailingZeros()));
        return out;
    }

    private static Map<String, BigDecimal> usdIn(JsonNode impact) {
        Map<String, BigDecimal> out = new TreeMap<>();
        impact.forEach(i -> out.put(i.path("asset").asText(), i.path("usd_value").decimalValue().stripTrailingZeros()));
        return out;
    }

    private static Map<String, BigDecimal> amounts(Map<String, GroundTruth.AssetTotal> totals) {
        Map<String, BigDecimal> out = new TreeMap<>();
        totals.values().forEach(v -> out.put(v.asset(), v.amount().stripTrailingZeros()));
        return out;
    }

    private static Map<String, BigDecimal> usd(Map<String, GroundTruth.AssetTotal> totals) {
        Map<String, BigDecimal> out = new TreeMap<>();
        totals.values().forEach(v -> out.put(v.asset(), v.usdValue().stripTrailingZeros()));
        return out;
    }


    @Test
    void malformedRecordsAreDeadLetteredWithCoordinatesAndReasons() throws IOException {
        List<JsonNode> dlq = read(cfg.get(Settings.TOPIC_DLQ));
        dlq = dlq.stream().filter(d -> !d.path("topic").asText().equals(cfg.get(Settings.TOPIC_CONTROL))).toList();
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
    void yearsOfHistoryFillAHandfulOfIndicesNotOnePerDay() throws IOException {
        String events = cfg.get(Settings.INDEX_EVENTS);
        var days = es.search(s -> s.index(events).size(0).aggregations("days", a -> a.dateHistogram(h -> h
                .field("@timestamp").calendarInterval(co.elastic.clients.elasticsearch._types.aggregations
                        .CalendarInterval.Day).minDocCount(1))), JsonNode.class)
                .aggregations().get("days").dateHistogram().buckets().array().size();
        assertThat(days).as("the simulated accounts' changes reach back years: many event-time days").isGreaterThan(50);
        var indices = es.indices().get(g -> g.index(events + "-*")).result().keySet();
        // The month(s) the replay was ingested in: at most two, should it cross a month's end.
        assertThat(indices).as("indices behind " + events).hasSizeBetween(1, 2);
    }

    @Test
    void everyValidEventIsIndexedOnceWithItsEnrichment() throws IOException {
        long validUnique = truth.validEventsByTopic().values().stream().mapToLong(Integer::longValue).sum();
        assertThat(es.count(c -> c.index(cfg.get(Settings.INDEX_EVENTS))).count()).isEqualTo(validUnique);
        assertThat(es.count(c -> c.index(cfg.get(Settings.INDEX_ALERTS))).count())
                .isEqualTo(read(cfg.get(Settings.TOPIC_ALERTS)).size());
        assertThat(es.count(c -> c.index(cfg.get(Settings.INDEX_ACTIONS))).count())
                .isEqualTo(read(cfg.get(Settings.TOPIC_ACTIONS)).size());

        GroundTruth.UnauthorizedApproval u = truth.unauthorizedApprovals().get(0);
        var hit = es.search(s -> s.index(cfg.get(Settings.INDEX_EVENTS))
                .query(q -> q.term(t -> t.field("event.id").value(u.eventId()))), JsonNode.class).hits().hits();
        assertThat(hit).hasSize(1);
        assertThat(hit.get(0).id()).isEqualTo(u.eventId());
        JsonNode doc = hit.get(0).source();
        assertThat(doc.at("/user/id").asText()).isEqualTo(u.userId());
        assertThat(doc.at("/event/dataset").asText()).isEqualTo(cfg.get(Settings.TOPIC_WITHDRAWALS));
        assertThat(doc.at("/exchange/mfa/authorized").asBoolean(true)).isFalse();
        assertThat(doc.at("/exchange/alert_ids").size()).isGreaterThanOrEqualTo(1);
        assertThat(doc.at("/exchange/incident_id").asText()).as("the incident it belongs to").isNotEmpty();
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
