package io.tourniquet.forensics;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import co.elastic.clients.elasticsearch.ElasticsearchClient;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.tourniquet.config.Settings;
import io.tourniquet.config.TourniquetConfig;
import io.tourniquet.forensics.Claims.ClaimView;
import io.tourniquet.forensics.Claims.IncidentClaims;
import io.tourniquet.index.EcsDocuments;
import io.tourniquet.index.EsClients;
import io.tourniquet.index.IndexJobRunner;
import io.tourniquet.json.Json;
import io.tourniquet.kafka.KafkaTopics;
import io.tourniquet.model.AssetImpact;
import io.tourniquet.model.Claim;
import io.tourniquet.model.Incident;
import io.tourniquet.testing.InProcessCli;
import io.tourniquet.testing.EsHttp;
import io.tourniquet.testing.LocalServices;
import io.tourniquet.testing.ReplayedIncident;
import io.tourniquet.testing.SharedMiniCluster;
import io.tourniquet.testing.TestClaims;
import java.math.BigDecimal;
import java.math.RoundingMode;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.jsoup.Jsoup;
import org.jsoup.nodes.Document;
import org.jsoup.nodes.Element;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * Claims from the claims topic to the answers: versions of three claims published out of order
 * (with a re-send of a highest version) on real Kafka, the index job replaying them (bounded, on
 * the shared MiniCluster) into real Elasticsearch, then {@code forensics claims} (records, table
 * and JSON) and the incident report asked about them. Expectations come from the records as
 * published, and the answers are checked against the documents Elasticsearch holds.
 */
@ExtendWith({LocalServices.class, SharedMiniCluster.class})
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ClaimsITCase {
    static final ObjectMapper JSON = new ObjectMapper();
    static final String INCIDENT = "inc-claims-1";
    static final String OTHER = "inc-claims-2";
    static final String QUIET = "inc-claims-quiet";

    TourniquetConfig cfg;
    ElasticsearchClient es;
    EsHttp http;
    Forensics forensics;
    /** The highest version of each claim, by claim id: what Elasticsearch must hold. */
    final Map<String, Claim> latest = new LinkedHashMap<>();
    Claim approvedA;
    Claim pendingB;
    Claim deniedC;

    @BeforeAll
    void publishClaimVersionsOutOfOrderAndIndexThem() throws Exception {
        cfg = ReplayedIncident.config("cl", "claims-itcase-signing-key-0123456789abcdef",
                "claims-itcase-control-key-0123456789abcdef");

        // u-a: opened, both documents, approved (v4). u-b: opened, police report received (v2), pending.
        // u-c, another incident: opened, denied (v2).
        Claim a1 = TestClaims.opened(INCIDENT, "u-a", "BTC", "1.234567890000000001", "52345.67", "eligible",
                TestClaims.conditions("pass", "pass", "pass"));
        Claim a2 = TestClaims.received(a1, Claim.POLICE_REPORT, "alice@sec");
        Claim a3 = TestClaims.received(a2, Claim.QUESTIONNAIRE, "alice@sec");
        approvedA = TestClaims.approved(a3, "alice@sec", "bob@sec");
        Claim b1 = TestClaims.opened(INCIDENT, "u-b", "ETH", "10.5", "31000.25", "needs_manual_review",
                TestClaims.conditions("review", "pass", "pass"));
        pendingB = TestClaims.received(b1, Claim.POLICE_REPORT, "carol@sec");
        Claim c1 = TestClaims.opened(OTHER, "u-c", "SOL", "400", "60000", "not_eligible",
                TestClaims.conditions("pass", "fail", "fail"));
        deniedC = TestClaims.denied(c1, "alice@sec", "anti-phishing code set too late");
        for (Claim c : List.of(approvedA, pendingB, deniedC)) latest.put(c.claimId, c);

        // Per key (user) Kafka keeps this order, and each user's last record is an older version than
        // their highest (u-a: 3, 4, 1, 4 again, 2; u-b: 2, 1; u-c: 2, 1): only versioning keeps the highest.
        List<Claim> published = List.of(a3, pendingB, approvedA, a1, deniedC, b1, approvedA, c1, a2);
        try (var producer = new KafkaProducer<byte[], byte[]>(Map.of(
                "bootstrap.servers", cfg.get(Settings.KAFKA_BOOTSTRAP), "acks", "all",
                "key.serializer", ByteArraySerializer.class.getName(),
                "value.serializer", ByteArraySerializer.class.getName()))) {
            for (String id : List.of(INCIDENT, OTHER, QUIET)) {
                producer.send(new ProducerRecord<>(cfg.get(Settings.TOPIC_INCIDENTS), bytes(id),
                        Json.toBytes(incident(id)))).get();
            }
            for (Claim c : published) {
                producer.send(new ProducerRecord<>(cfg.get(Settings.TOPIC_CLAIMS), bytes(c.userId), Json.toBytes(c))).get();
            }
        }

        IndexJobRunner.build(cfg, true).execute("claims-itcase-index");
        es = EsClients.create(cfg);
        // Only these indices exist: nothing here writes events, alerts or actions.
        for (var s : List.of(Settings.INDEX_CLAIMS, Settings.INDEX_INCIDENTS, Settings.INDEX_DEAD_LETTERS)) {
            es.indices().refresh(r -> r.index(cfg.get(s)));
        }
        http = new EsHttp(cfg.get(Settings.ES_URL));
        forensics = new Forensics(es, cfg);
    }

    @AfterAll
    void cleanUp() throws Exception {
        if (es != null) es.close();
        if (http != null) http.close();
        if (cfg == null) return;
        // Its own connection: the set-up may have failed before 'http' was made, after indices were.
        try (EsHttp cleaner = new EsHttp(cfg.get(Settings.ES_URL))) {
            cleaner.deleteAliasesAndTemplates(Settings.INDEX_ALIASES.stream().map(cfg::get).toList());
        }
        try (var admin = KafkaTopics.admin(cfg)) {
            admin.deleteTopics(KafkaTopics.all(cfg)).all().get();
        }
    }

    private static byte[] bytes(String s) {
        return s.getBytes(java.nio.charset.StandardCharsets.UTF_8);
    }

    /** A resolved incident: claims open on resolution. */
    private static Incident incident(String id) {
        Incident i = new Incident();
        i.incidentId = id;
        i.status = Incident.RESOLVED;
        i.startedAt = TestClaims.T0 - 7_200_000L;
        i.detectedAt = i.startedAt + 2_000;
        i.lastAlertAt = i.startedAt + 600_000;
        i.resolvedAt = TestClaims.T0;
        i.resolvedBy = "alice@sec";
        i.userIds = List.of("u-a", "u-b");
        i.usersAffected = 2;
        i.impact = List.of(new AssetImpact("BTC", "1.234567890000000001", new BigDecimal("52345.67"), 1));
        i.usdTotal = new BigDecimal("52345.67");
        i.version = 3;
        return i;
    }

    private static BigDecimal cents(BigDecimal v) {
        return v.setScale(2, RoundingMode.HALF_EVEN);
    }

    // ------------------------------------------------------------------------------------ index

    @Test
    void elasticsearchHoldsExactlyTheHighestVersionOfEachClaim() throws Exception {
        String alias = cfg.get(Settings.INDEX_CLAIMS);
        assertThat(http.get("/" + alias + "/_count").path("count").asLong()).isEqualTo(latest.size());
        for (Claim c : latest.values()) {
            JsonNode stored = http.get("/" + alias + "/_doc/" + c.claimId);
            assertThat(stored.path("found").asBoolean()).as(c.claimId).isTrue();
            assertThat(stored.path("_version").asLong()).as(c.claimId).isEqualTo(c.version);
            ObjectNode source = (ObjectNode) stored.path("_source").deepCopy();
            assertThat(source.at("/event/ingested").isTextual()).isTrue();
            source.remove("event");
            assertThat(source).as(c.claimId).isEqualTo(JSON.readTree(EcsDocuments.claim(c, alias).source));
        }
        // Nothing refused: no claim went to the dead letters.
        JsonNode letters = http.get("/" + cfg.get(Settings.INDEX_DEAD_LETTERS) + "/_count");
        assertThat(letters.path("count").asLong()).isZero();
    }

    // ------------------------------------------------------------------------------------ forensics

    @Test
    void claimsOfTheIncidentAreItsUsersLatestVersionsWithExactTotals() {
        IncidentClaims answer = forensics.claims(INCIDENT);
        assertThat(answer.claims()).extracting(ClaimView::userId).containsExactly("u-a", "u-b");
        ClaimView a = answer.claims().get(0);
        assertThat(a.claimId()).isEqualTo(approvedA.claimId);
        assertThat(a.status()).isEqualTo(Claim.APPROVED);
        assertThat(a.eligibility()).isEqualTo("eligible");
        assertThat(a.version()).isEqualTo(approvedA.version);
        assertThat(a.outstanding()).isEmpty();
        assertThat(a.conditions()).extracting(Claims.ClaimCondition::name, Claims.ClaimCondition::outcome)
                .containsExactly(org.assertj.core.api.Assertions.tuple("mfa_all_types", "pass"),
                        org.assertj.core.api.Assertions.tuple("anti_phishing_code", "pass"),
                        org.assertj.core.api.Assertions.tuple("no_jailbroken_device", "pass"));
        assertThat(a.lossUsd()).isEqualByComparingTo(approvedA.lossUsd);
        assertThat(a.payoutUsd()).isEqualByComparingTo(approvedA.payoutUsd);
        assertThat(a.payout()).singleElement().satisfies(p -> assertThat(p.amount()).isEqualTo("1.234567890000000001"));
        assertThat(a.decidedBy()).isEqualTo("alice@sec");
        assertThat(a.decisionApprovedBy()).isEqualTo("bob@sec");

        ClaimView b = answer.claims().get(1);
        assertThat(b.status()).isEqualTo(Claim.AWAITING_DOCUMENTS);
        assertThat(b.eligibility()).isEqualTo("needs_manual_review");
        assertThat(b.outstanding()).containsExactly(Claim.QUESTIONNAIRE);
        assertThat(b.payoutUsd()).isNull();
        assertThat(b.decidedBy()).isNull();
        assertThat(b.version()).isEqualTo(pendingB.version);

        var t = answer.totals();
        assertThat(t.claims()).isEqualTo(2);
        assertThat(t.eligible()).isEqualTo(1);
        assertThat(t.approved()).isEqualTo(1);
        assertThat(t.paidUsd()).isEqualByComparingTo(approvedA.payoutUsd);
        assertThat(t.denied()).isZero();
        assertThat(t.pending()).isEqualTo(1);
        assertThat(t.pendingLossUsd()).isEqualByComparingTo(pendingB.lossUsd);
        assertThat(t.lossUsd()).isEqualByComparingTo(approvedA.lossUsd.add(pendingB.lossUsd));

        // Pages of one claim give the same answer.
        forensics.context.claimsPage = 1;
        try {
            assertThat(forensics.claims(INCIDENT)).isEqualTo(answer);
        } finally {
            forensics.context.claimsPage = Claims.CLAIMS_PAGE;
        }

        IncidentClaims other = forensics.claims(OTHER);
        assertThat(other.claims()).singleElement().satisfies(c -> {
            assertThat(c.status()).isEqualTo(Claim.DENIED);
            assertThat(c.decisionReason()).isEqualTo("anti-phishing code set too late");
        });
        assertThat(other.totals().denied()).isEqualTo(1);
        assertThat(other.totals().paidUsd()).isEqualByComparingTo("0");

        assertThat(forensics.claims(QUIET).claims()).as("a known incident without claims").isEmpty();
        assertThatThrownBy(() -> forensics.claims("no-such-incident")).isInstanceOf(UnknownIdException.class)
                .hasMessageContaining("unknown incident 'no-such-incident'");
    }

    @Test
    void theCliListsTheClaimsInATableAndInJson() throws Exception {
        InProcessCli.Run table = cli("forensics", "claims", "--incident", INCIDENT);
        assertThat(table.code()).as(table.err()).isZero();
        List<String> lines = table.out().lines().toList();
        String rowA = lines.stream().filter(l -> l.startsWith("u-a ")).findFirst().orElseThrow();
        assertThat(rowA.split("\\s{2,}")).containsExactly("u-a", "approved", "eligible",
                "mfa_all_types=pass, anti_phishing_code=pass, no_jailbroken_device=pass", "-",
                cents(approvedA.lossUsd).toPlainString(), cents(approvedA.payoutUsd).toPlainString(),
                "alice@sec (approved by bob@sec)");
        String rowB = lines.stream().filter(l -> l.startsWith("u-b ")).findFirst().orElseThrow();
        assertThat(rowB.split("\\s{2,}")).containsExactly("u-b", "awaiting_documents", "needs_manual_review",
                "mfa_all_types=review, anti_phishing_code=pass, no_jailbroken_device=pass", "questionnaire",
                cents(pendingB.lossUsd).toPlainString(), "-", "-");
        assertThat(table.out()).doesNotContain("u-c").contains("  u-b  mfa_all_types review: 2FA policy: review")
                .contains("Totals: 2 claims, 1 eligible; 1 approved, US$ " + cents(approvedA.payoutUsd).toPlainString()
                        + " paid; 0 denied; 1 pending (loss US$ " + cents(pendingB.lossUsd).toPlainString() + ")");

        // JSON: every field as the index holds it.
        InProcessCli.Run json = cli("forensics", "claims", "--incident", INCIDENT, "--json");
        assertThat(json.code()).as(json.err()).isZero();
        JsonNode answer = JSON.readTree(json.out());
        assertThat(answer.path("incident_id").asText()).isEqualTo(INCIDENT);
        JsonNode claims = answer.path("claims");
        assertThat(claims).hasSize(2);
        String alias = cfg.get(Settings.INDEX_CLAIMS);
        for (JsonNode c : claims) {
            JsonNode stored = http.get("/" + alias + "/_doc/" + c.path("claim_id").asText()).path("_source");
            for (String field : List.of("user_id", "status", "eligibility", "outstanding", "conditions", "version")) {
                assertThat(c.path(field)).as(field).isEqualTo(stored.path(field));
            }
            assertThat(c.path("loss_usd").decimalValue()).isEqualByComparingTo(stored.path("loss_usd").decimalValue());
            assertThat(c.path("payout_usd").isNull()).isEqualTo(!stored.has("payout_usd"));
            if (stored.has("payout_usd")) {
                assertThat(c.path("payout_usd").decimalValue()).isEqualByComparingTo(stored.path("payout_usd").decimalValue());
            }
            assertThat(c.path("decided_by").asText(null)).isEqualTo(stored.path("decided_by").asText(null));
            assertThat(c.path("updated_at").asText()).isEqualTo(stored.path("updated_at").asText());
        }
        JsonNode totals = answer.path("totals");
        assertThat(totals.path("claims").asInt()).isEqualTo(2);
        assertThat(totals.path("eligible").asInt()).isEqualTo(1);
        assertThat(totals.path("paid_usd").decimalValue()).isEqualByComparingTo(approvedA.payoutUsd);
        assertThat(totals.path("pending").asInt()).isEqualTo(1);

        InProcessCli.Run quiet = cli("forensics", "claims", "--incident", QUIET);
        assertThat(quiet.code()).as(quiet.err()).isZero();
        assertThat(quiet.out().trim()).isEqualTo("no claims for incident " + QUIET);
        InProcessCli.Run unknown = cli("forensics", "claims", "--incident", "no-such-incident", "--json");
        assertThat(unknown.code()).isEqualTo(2);
        assertThat(unknown.err()).contains("unknown incident 'no-such-incident'");
        assertThat(unknown.out()).isEmpty();
    }

    @Test
    void theReportHasTheClaimsSectionOrSaysThereAreNone(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("report.html");
        InProcessCli.Run run = cli("forensics", "report", "--incident", INCIDENT, "--out", file.toString());
        assertThat(run.code()).as(run.err()).isZero();
        Document doc = Jsoup.parse(file.toFile(), "UTF-8");
        assertThat(doc.selectFirst("[data-field=claims-count]").text()).isEqualTo("2");
        assertThat(doc.selectFirst("[data-field=claims-eligible]").text()).isEqualTo("1");
        assertThat(doc.selectFirst("[data-field=claims-pending]").text()).isEqualTo("1");
        assertThat(usd(doc.selectFirst("[data-field=claims-paid-usd]").text())).isEqualTo(cents(approvedA.payoutUsd));
        Element table = doc.getElementById("claims-table");
        List<Element> rows = table.select("tbody tr");
        assertThat(rows.stream().map(r -> r.attr("data-claim")).toList())
                .containsExactly(approvedA.claimId, pendingB.claimId);
        assertThat(rows.get(0).children().eachText().subList(0, 3)).containsExactly("u-a", "approved", "eligible");
        assertThat(usd(rows.get(0).child(6).text())).isEqualTo(cents(approvedA.payoutUsd));
        assertThat(rows.get(1).children().eachText().subList(0, 5)).containsExactly("u-b", "awaiting_documents",
                "needs_manual_review", "mfa_all_types=review anti_phishing_code=pass no_jailbroken_device=pass",
                "questionnaire");
        assertThat(usd(rows.get(1).child(5).text())).isEqualTo(cents(pendingB.lossUsd));

        Path quiet = dir.resolve("quiet.html");
        InProcessCli.Run none = cli("forensics", "report", "--incident", QUIET, "--out", quiet.toString());
        assertThat(none.code()).as(none.err()).isZero();
        Document quietDoc = Jsoup.parse(quiet.toFile(), "UTF-8");
        assertThat(quietDoc.selectFirst("#claims [data-field=claims-none]").text())
                .isEqualTo("No claims have been opened for this incident.");
        assertThat(quietDoc.getElementById("claims-table")).isNull();
    }

    private static BigDecimal usd(String text) {
        return new BigDecimal(text.replace("US$", "").replace(",", "").trim());
    }

    /** The CLI on this test's namespace. */
    private InProcessCli.Run cli(String... args) {
        return InProcessCli.onIndices(cfg, args);
    }
}
