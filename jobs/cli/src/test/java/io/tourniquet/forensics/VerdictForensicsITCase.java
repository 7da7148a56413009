package io.tourniquet.forensics;

import static org.assertj.core.api.Assertions.assertThat;
import co.elastic.clients.elasticsearch.ElasticsearchClient;
import com.fasterxml.jackson.databind.JsonNode;
import io.tourniquet.config.Settings;
import io.tourniquet.config.TourniquetConfig;
import io.tourniquet.index.EsClients;
import io.tourniquet.index.IndexJobRunner;
import io.tourniquet.json.Json;
import io.tourniquet.kafka.KafkaTopics;
import io.tourniquet.model.Alert;
import io.tourniquet.model.ControlRequest;
import io.tourniquet.model.Suppression;
import io.tourniquet.model.Verdict;
import io.tourniquet.rules.catalog.RuleCatalog;
import io.tourniquet.testing.EsHttp;
import io.tourniquet.testing.InProcessCli;
import io.tourniquet.testing.LocalServices;
import io.tourniquet.testing.ReplayedIncident;
import io.tourniquet.testing.SharedMiniCluster;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Verdicts from their topic to the analysts' answers: verdict records (some alerts judged twice,
 * published in the opposite order of their decision) and alerts (one suppressed) on real Kafka, the
 * index job replaying them (bounded, on the shared MiniCluster) into real Elasticsearch, then
 * {@code forensics precision} (records, paged; table; JSON) and {@code forensics timeline}.
 * Expectations are computed from the records as published.
 */
@ExtendWith({LocalServices.class, SharedMiniCluster.class})
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class VerdictForensicsITCase {
    static final long T0 = Instant.parse("2026-11-02T10:00:00Z").toEpochMilli();
    static final long HOUR = 3_600_000L;

    TourniquetConfig cfg;
    ElasticsearchClient es;
    Forensics forensics;
    final List<Verdict> published = new ArrayList<>();
    int seq;

    @BeforeAll
    void publishAndIndex() throws Exception {
        cfg = ReplayedIncident.config("vf", "verdict-forensics-signing-key-0123456789abcdef",
                "verdict-forensics-control-key-0123456789abcdef");
        String na = RuleCatalog.NEW_ADDRESS_WITHDRAWAL;
        String drain = RuleCatalog.ACCOUNT_DRAIN;
        String ua = RuleCatalog.UNAUTHORIZED_APPROVAL;
        // new_address_withdrawal: n1 false (then true on second thought, decided later but published first),
        // n2 false, n3 benign; account_drain: d1 true; unauthorized_approval: a1 true, a2 false;
        // n9 judged but raised a day later than the rest (outside the range asked below).
        Verdict n1Later = verdict("n1", na, "u-1", T0, ControlRequest.TRUE_POSITIVE, T0 + 5 * HOUR, null);
        Verdict n1First = verdict("n1", na, "u-1", T0, ControlRequest.FALSE_POSITIVE, T0 + 2 * HOUR, T0 + 30 * 24 * HOUR);
        published.addAll(List.of(n1Later, n1First,
                verdict("n2", na, "u-2", T0 + HOUR, ControlRequest.FALSE_POSITIVE, T0 + 3 * HOUR, T0 + HOUR + 30 * 24 * HOUR),
                verdict("n3", na, "u-3", T0 + HOUR, ControlRequest.BENIGN_TRUE_POSITIVE, T0 + 3 * HOUR, null),
                verdict("d1", drain, "u-1", T0 + 2 * HOUR, ControlRequest.TRUE_POSITIVE, T0 + 4 * HOUR, null),
                verdict("a1", ua, "u-4", T0, ControlRequest.TRUE_POSITIVE, T0 + HOUR, null),
                verdict("a2", ua, "u-5", T0, ControlRequest.FALSE_POSITIVE, T0 + HOUR, null),
                verdict("n9", na, "u-6", T0 + 30 * HOUR, ControlRequest.FALSE_POSITIVE, T0 + 31 * HOUR, null)));
        // A shadow version's alert, judged: the shadow's comparison counts it, the rule's precision does not.
        Verdict onShadow = verdict("s1", na, "u-7", T0 + HOUR, ControlRequest.FALSE_POSITIVE, T0 + 3 * HOUR, null);
        onShadow.alertShadow = Boolean.TRUE;
        published.add(onShadow);

        Alert n1 = alert("n1", na, "u-1", T0);
        Alert n4 = alert("n4", na, "u-1", T0 + 3 * HOUR);
        n4.suppressedBy = new Suppression(n1First.verdictId, "n1", "alice@sec", T0 + 30 * 24 * HOUR);
        n4.suppressedBy.from = T0;
        n1.incidentId = "inc-v";
        n4.incidentId = "inc-v";

        try (var producer = new KafkaProducer<byte[], byte[]>(Map.of(
                "bootstrap.servers", cfg.get(Settings.KAFKA_BOOTSTRAP), "acks", "all",
                "key.serializer", ByteArraySerializer.class.getName(),
                "value.serializer", ByteArraySerializer.class.getName()))) {
            for (Verdict v : published) {
                producer.send(new ProducerRecord<>(cfg.get(Settings.TOPIC_VERDICTS), v.alertId.getBytes(),
                        Json.toBytes(v))).get();
            }
            for (Alert a : List.of(n1, n4)) {
                producer.send(new ProducerRecord<>(cfg.get(Settings.TOPIC_ALERTS), a.userId.getBytes(),
                        Json.toBytes(a))).get();
            }
            // Approvals with logged features, each carrying the alerts raised on it.
            for (var e : APPROVALS.entrySet()) {
                producer.send(new ProducerRecord<>(cfg.get(Settings.TOPIC_ENRICHED), "u".getBytes(),
                        Json.toBytes(approval(e.getKey(), e.getValue())))).get();
            }
        }
        IndexJobRunner.build(cfg, true).execute("verdict-forensics-index");
        es = EsClients.create(cfg);
        for (var s : List.of(Settings.INDEX_VERDICTS, Settings.INDEX_ALERTS, Settings.INDEX_EVENTS)) {
            es.indices().refresh(r -> r.index(cfg.get(s)));
        }
        forensics = new Forensics(es, cfg);
    }

    @AfterAll
    void cleanUp() throws Exception {
        if (es != null) es.close();
        if (cfg == null) return;
        try (EsHttp cleaner = new EsHttp(cfg.get(Settings.ES_URL))) {
            cleaner.deleteAliasesAndTemplates(Settings.INDEX_ALIASES.stream().map(cfg::get).toList());
        }
        try (var admin = KafkaTopics.admin(cfg)) {
            admin.deleteTopics(KafkaTopics.all(cfg)).all().get();
        }
    }

    /** Withdrawal id → the alert ids on its approval. */
    static final Map<String, List<String>> APPROVALS = new LinkedHashMap<>();
    static {
        APPROVALS.put("w-1", List.of("n1"));            // latest verdict true: attack
        APPROVALS.put("w-2", List.of("n2"));            // false: benign
        APPROVALS.put("w-3", List.of("n3"));            // benign true positive: benign
        APPROVALS.put("w-4", List.of());                // no alert: benign
        APPROVALS.put("w-5", List.of("n2", "x-open"));  // an alert nobody judged: left out
        APPROVALS.put("w-6", List.of("n2", "a1"));      // one alert judged true: attack
    }

    private static io.tourniquet.model.EnrichedEvent approval(String withdrawal, List<String> alertIds) {
        var e = io.tourniquet.model.EnrichedEvent.of(io.tourniquet.testing.TestEvents.approved("app-" + withdrawal,
                "u-1", withdrawal, 500, T0 + HOUR));
        e.anomaly = new io.tourniquet.model.Anomaly();
        e.anomaly.schemaVersion = io.tourniquet.models.WithdrawalFeatures.SCHEMA_VERSION;
        e.anomaly.schemaHash = io.tourniquet.models.WithdrawalFeatures.SCHEMA_HASH;
        e.anomaly.features.putAll(io.tourniquet.models.WithdrawalFeatures.toMap(
                new double[io.tourniquet.models.WithdrawalFeatures.COUNT]));
        e.alertIds = new ArrayList<>(alertIds);
        return e;
    }

    private Verdict verdict(String alertId, String rule, String user, long alertTime, String label, long decidedAt,
                            Long suppressesUntil) {
        Verdict v = new Verdict();
        v.requestId = "req-" + (++seq);
        v.verdictId = "verdict-" + seq;
        v.alertId = alertId;
        v.rule = rule;
        v.userId = user;
        v.label = label;
        v.by = "alice@sec";
        v.note = "note " + seq;
        v.decidedAt = decidedAt;
        v.alertTime = alertTime;
        v.suppressesUntil = suppressesUntil;
        return v;
    }

    private static Alert alert(String id, String rule, String user, long t) {
        Alert a = io.tourniquet.testing.TestAlerts.of(rule, id, user, t, t + 1_000);
        a.summary = "withdrawal w-" + id + " to an address whitelisted 1 hour before";
        return a;
    }

    /** The published records' answer: each alert's latest verdict, by rule, within [since, until). */
    private Map<String, long[]> expected(long since, long until) {
        Map<String, Verdict> latest = new LinkedHashMap<>();
        for (Verdict v : published) {
            if (v.alertTime < since || v.alertTime >= until || Boolean.TRUE.equals(v.alertShadow)) continue;
            Verdict seen = latest.get(v.alertId);
            if (seen == null || seen.decidedAt < v.decidedAt) latest.put(v.alertId, v);
        }
        Map<String, long[]> byRule = new java.util.TreeMap<>();
        for (Verdict v : latest.values()) {
            long[] c = byRule.computeIfAbsent(v.rule, r -> new long[4]);
            c[List.of(ControlRequest.TRUE_POSITIVE, ControlRequest.BENIGN_TRUE_POSITIVE,
                    ControlRequest.FALSE_POSITIVE).indexOf(v.label)]++;
            if (v.suppressesUntil != null) c[3]++;
        }
        return byRule;
    }

    private static Map<String, long[]> counted(Verdicts.Precision p) {
        Map<String, long[]> byRule = new java.util.TreeMap<>();
        for (Verdicts.RulePrecision r : p.rules()) {
            assertThat(r.judged()).isEqualTo(r.truePositives() + r.benignTruePositives() + r.falsePositives());
            assertThat(r.precision()).isEqualTo((double) (r.truePositives() + r.benignTruePositives()) / r.judged());
            byRule.put(r.rule(), new long[] {r.truePositives(), r.benignTruePositives(), r.falsePositives(), r.suppressing()});
        }
        return byRule;
    }

    @Test
    void precisionCountsEachAlertOnceWithItsLatestVerdictWhateverTheOrderAndPaging() {
        TimeRange day = new TimeRange(Instant.ofEpochMilli(T0), Instant.ofEpochMilli(T0 + 24 * HOUR));
        Map<String, long[]> want = expected(T0, T0 + 24 * HOUR);
        // The latest verdict on n1 (true) was published before the earlier one (false).
        assertThat(want.get(RuleCatalog.NEW_ADDRESS_WITHDRAWAL)).containsExactly(1, 1, 1, 1);
        for (int page : new int[] {1, 2, 1_000}) {
            forensics.context.verdictsPage = page;
            Verdicts.Precision p = forensics.precision(day);
            assertThat(counted(p)).as("page %d", page).usingRecursiveComparison().isEqualTo(want);
            assertThat(p.judged()).isEqualTo(6);
        }
        forensics.context.verdictsPage = 1_000;
        assertThat(counted(forensics.precision(new TimeRange(null, null))))
                .usingRecursiveComparison().isEqualTo(expected(Long.MIN_VALUE, Long.MAX_VALUE));
    }

    @Test
    void theCliPrintsPrecisionAsATableAndAsJson() throws Exception {
        InProcessCli.Run table = InProcessCli.onIndices(cfg, "forensics", "precision",
                "--since", "2026-11-02T10:00:00Z", "--until", "2026-11-03T10:00:00Z");
        assertThat(table.code()).as(table.err()).isZero();
        String na = table.out().lines().filter(l -> l.startsWith("new_address_withdrawal ")).findFirst().orElseThrow();
        assertThat(na.trim().split("\\s{2,}")).containsExactly("new_address_withdrawal", "3", "1", "1", "1", "66.7 %", "1");
        String ua = table.out().lines().filter(l -> l.startsWith("unauthorized_approval ")).findFirst().orElseThrow();
        assertThat(ua.trim().split("\\s{2,}")).containsExactly("unauthorized_approval", "2", "1", "0", "1", "50.0 %", "0");

        InProcessCli.Run json = InProcessCli.onIndices(cfg, "forensics", "precision", "--json");
        assertThat(json.code()).as(json.err()).isZero();
        JsonNode answer = Json.MAPPER.readTree(json.out());
        assertThat(answer.path("judged").asInt()).isEqualTo(7);

        InProcessCli.Run none = InProcessCli.onIndices(cfg, "forensics", "precision", "--since", "2030-01-01T00:00:00Z");
        assertThat(none.code()).isZero();
        assertThat(none.out()).startsWith("no verdicts on alerts in");
    }

    @Test
    void modelExportLabelsApprovalsFromTheirAlertsVerdicts(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir)
            throws Exception {
        java.nio.file.Path out = dir.resolve("rows.ndjson");
        InProcessCli.Run run = InProcessCli.onIndices(cfg, "models", "export", "--verdicts", "--out", out.toString());
        assertThat(run.code()).as(run.out() + run.err()).isZero();
        Map<String, Boolean> labels = new java.util.TreeMap<>();
        for (var row : io.tourniquet.models.FeatureRows.read(out)) labels.put(row.withdrawalId(), row.label());
        assertThat(labels).containsExactly(Map.entry("w-1", true), Map.entry("w-2", false), Map.entry("w-3", false),
                Map.entry("w-4", false), Map.entry("w-6", true));

        InProcessCli.Run both = InProcessCli.onIndices(cfg, "models", "export", "--verdicts", "--truth",
                dir.resolve("t.json").toString(), "--out", out.toString());
        assertThat(both.code()).isNotZero();
        assertThat(both.err()).contains("--truth and --verdicts both label the rows");
    }

    @Test
    void anIncidentsReportListsTheLatestVerdictOfEachOfItsJudgedAlerts() {
        assertThat(forensics.incidentVerdicts("inc-v")).singleElement().satisfies(v -> {
            assertThat(v.alertId()).isEqualTo("n1");
            assertThat(v.label()).isEqualTo(ControlRequest.TRUE_POSITIVE);
            assertThat(v.note()).isEqualTo("note 1");
            assertThat(v.suppressing()).isFalse();
        });
        assertThat(forensics.incidentVerdicts("no-such-incident")).isEmpty();
    }

    @Test
    void theTimelineShowsAnAlertsVerdictAndWhoSuppressedTheNextOne() {
        Timelines.Timeline t = forensics.timeline("u-1", new TimeRange(null, null), 100);
        Timelines.TimelineEntry n1 = t.entries().stream().filter(e -> "n1".equals(e.id())).findFirst().orElseThrow();
        // n1's latest verdict is the second thought: true positive.
        assertThat(n1.detail()).contains("[verdict: true_positive by alice@sec (note 1)]").doesNotContain("SUPPRESSED");
        Timelines.TimelineEntry n4 = t.entries().stream().filter(e -> "n4".equals(e.id())).findFirst().orElseThrow();
        assertThat(n4.detail()).contains("[SUPPRESSED by alice@sec's false-positive verdict on n1: no command, no notification]")
                .doesNotContain("verdict: ");
    }
}
