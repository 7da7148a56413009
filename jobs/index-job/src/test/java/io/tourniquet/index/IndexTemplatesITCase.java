package io.tourniquet.index;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.tuple;
import co.elastic.clients.elasticsearch.ElasticsearchClient;
import co.elastic.clients.elasticsearch._types.Refresh;
import co.elastic.clients.elasticsearch._types.aggregations.StringTermsBucket;
import co.elastic.clients.elasticsearch.core.BulkResponse;
import co.elastic.clients.elasticsearch.core.SearchResponse;
import co.elastic.clients.elasticsearch.core.bulk.BulkOperation;
import co.elastic.clients.util.BinaryData;
import co.elastic.clients.util.ContentType;
import com.fasterxml.jackson.databind.JsonNode;
import io.tourniquet.config.Settings;
import io.tourniquet.config.TourniquetConfig;
import io.tourniquet.model.AssetImpact;
import io.tourniquet.model.EnrichedEvent;
import io.tourniquet.model.Incident;
import io.tourniquet.json.Json;
import io.tourniquet.model.Event;
import io.tourniquet.testing.EsHttp;
import io.tourniquet.testing.TestElasticsearch;
import io.tourniquet.util.Times;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

@org.junit.jupiter.api.extension.ExtendWith(io.tourniquet.testing.LocalServices.class)
class IndexTemplatesITCase {
    private static final String PREFIX = "it-tpl-" + UUID.randomUUID().toString().substring(0, 8);
    private static final String EVENTS = PREFIX + "-events";
    private static final String ALERTS = PREFIX + "-alerts";
    private static final String ACTIONS = PREFIX + "-actions";
    private static final String INCIDENTS = PREFIX + "-incidents";
    private static final String CLAIMS = PREFIX + "-claims";
    private static final String DEAD_LETTERS = PREFIX + "-dead-letters";

    private static TourniquetConfig config;
    private static ElasticsearchClient client;
    private static EsHttp http;

    @BeforeAll
    static void connect() throws Exception {
        config = TourniquetConfig.defaults().with(Map.of(
                Settings.ES_URL.key(), TestElasticsearch.url(),
                Settings.INDEX_EVENTS.key(), EVENTS,
                Settings.INDEX_ALERTS.key(), ALERTS,
                Settings.INDEX_ACTIONS.key(), ACTIONS,
                Settings.INDEX_INCIDENTS.key(), INCIDENTS,
                Settings.INDEX_CLAIMS.key(), CLAIMS,
                Settings.INDEX_DEAD_LETTERS.key(), DEAD_LETTERS));
        client = EsClients.create(config);
        http = EsHttp.connect();
        IndexTemplates.apply(client, config);
    }

    @AfterAll
    static void cleanUp() throws Exception {
        if (http != null) {
            http.deleteAliasesAndTemplates(List.of(EVENTS, ALERTS, ACTIONS, INCIDENTS, CLAIMS, DEAD_LETTERS));
            http.close();
        }
        if (client != null) client.close();
    }

    @Test
    void applyingAgainChangesNothing() throws Exception {
        JsonNode before = http.get("/_index_template/" + EVENTS);
        JsonNode claimsBefore = http.get("/_index_template/" + CLAIMS);
        IndexTemplates.apply(client, config);
        IndexTemplates.apply(client, config);
        JsonNode after = http.get("/_index_template/" + EVENTS);
        assertThat(after).isEqualTo(before);
        assertThat(http.get("/_index_template/" + CLAIMS)).isEqualTo(claimsBefore);
        assertThat(claimsBefore.at("/index_templates/0/index_template/version").asInt()).isEqualTo(IndexTemplates.VERSION);

        JsonNode template = after.at("/index_templates/0/index_template");
        assertThat(template.at("/index_patterns/0").asText()).isEqualTo(EVENTS + "-*");
        assertThat(template.at("/version").asInt()).isEqualTo(IndexTemplates.VERSION);
        assertThat(template.at("/_meta/version").asInt()).isEqualTo(IndexTemplates.VERSION);
        assertThat(template.at("/priority").asInt()).isEqualTo(IndexTemplates.priority(EVENTS));
        assertThat(template.at("/template/aliases").has(EVENTS)).isTrue();
        // What went through the typed client arrived whole.
        JsonNode mappings = template.at("/template/mappings");
        assertThat(mappings.at("/date_detection").asBoolean(true)).isFalse();
        assertThat(mappings.at("/_source/excludes/0").asText()).isEqualTo("exchange.account.anti_phishing_code");
        assertThat(mappings.at("/dynamic_templates/0/strings_as_keyword/mapping/type").asText()).isEqualTo("keyword");
        assertThat(mappings.at("/properties/exchange/properties/withdrawal/properties/amount/type").asText())
                .isEqualTo("keyword");

        JsonNode alertRule = http.get("/_index_template/" + ALERTS)
                .at("/index_templates/0/index_template/template/mappings/properties/rule");
        assertThat(alertRule.at("/fields/name/type").asText()).isEqualTo("keyword");
        assertThat(http.get("/_index_template/" + ACTIONS).at("/index_templates/0/index_template/index_patterns/0")
                .asText()).isEqualTo(ACTIONS + "-*");
    }

    @Test
    void incidentsLiveInOneIndexBehindTheAlias() throws Exception {
        String index = IndexTemplates.incidentsIndex(INCIDENTS);
        JsonNode aliases = http.get("/" + index + "/_alias");
        assertThat(aliases.at("/" + index + "/aliases").has(INCIDENTS)).isTrue();
        JsonNode impact = http.get("/" + index + "/_mapping").at("/" + index + "/mappings/properties/impact");
        assertThat(impact.at("/type").asText()).isEqualTo("nested");
        assertThat(impact.at("/properties/usd_value/type").asText()).isEqualTo("double");
        // Written through the alias, in place.
        http.put("/" + INCIDENTS + "/_doc/inc-1?refresh=true",
                "{\"incident\":{\"id\":\"inc-1\"},\"status\":\"open\",\"users_affected\":2}");
        http.put("/" + INCIDENTS + "/_doc/inc-1?refresh=true",
                "{\"incident\":{\"id\":\"inc-1\"},\"status\":\"contained\",\"users_affected\":3}");
        JsonNode hits = http.get("/" + INCIDENTS + "/_search?q=incident.id:inc-1").at("/hits");
        assertThat(hits.at("/total/value").asInt()).isEqualTo(1);
        assertThat(hits.at("/hits/0/_index").asText()).isEqualTo(index);
        assertThat(hits.at("/hits/0/_source/status").asText()).isEqualTo("contained");
    }

    @Test
    void claimsLiveInOneIndexBehindTheAliasWithTheHighestVersionKept() throws Exception {
        String index = IndexTemplates.claimsIndex(CLAIMS);
        assertThat(http.get("/" + index + "/_alias").at("/" + index + "/aliases").has(CLAIMS)).isTrue();
        JsonNode props = http.get("/" + index + "/_mapping").at("/" + index + "/mappings/properties");
        assertThat(type(props, "claim_id")).isEqualTo("keyword");
        assertThat(type(props, "eligibility")).isEqualTo("keyword");
        assertThat(type(props, "outstanding")).isEqualTo("keyword");
        assertThat(type(props, "payout_usd")).isEqualTo("double");
        assertThat(props.at("/conditions/type").asText()).isEqualTo("nested");
        assertThat(props.at("/payout/type").asText()).isEqualTo("nested");

        // A whole-dollar first payout, then versions out of order: v3 stays, and usd stays a double.
        io.tourniquet.model.Claim v1 = io.tourniquet.testing.TestClaims.opened("inc-t", "u-t", "USDC", "85929",
                "85929", "eligible", io.tourniquet.testing.TestClaims.conditions("pass", "pass", "pass"));
        io.tourniquet.model.Claim v2 = io.tourniquet.testing.TestClaims.received(v1, "police_report", "alice@sec");
        io.tourniquet.model.Claim v3 = io.tourniquet.testing.TestClaims.approved(
                io.tourniquet.testing.TestClaims.received(v2, "questionnaire", "alice@sec"), "alice@sec", "bob@sec");
        v3.payoutUsd = new java.math.BigDecimal("85929.55");
        indexVersioned(EcsDocuments.claim(v3, CLAIMS));
        indexVersioned(EcsDocuments.claim(v1, CLAIMS));
        JsonNode doc = http.get("/" + CLAIMS + "/_doc/" + v1.claimId);
        assertThat(doc.at("/_version").asLong()).isEqualTo(v3.version);
        assertThat(doc.at("/_source/status").asText()).isEqualTo("approved");
        assertThat(doc.at("/_source/payout_usd").decimalValue()).isEqualByComparingTo("85929.55");
        JsonNode mfaPassed = http.post("/" + CLAIMS + "/_search", "{\"query\":{\"nested\":{\"path\":\"conditions\","
                + "\"query\":{\"bool\":{\"filter\":[{\"term\":{\"conditions.name\":\"mfa_all_types\"}},"
                + "{\"term\":{\"conditions.outcome\":\"pass\"}}]}}}}}");
        assertThat(mfaPassed.at("/hits/total/value").asInt()).isEqualTo(1);
        assertThat(http.post("/" + CLAIMS + "/_count", "{\"query\":{\"term\":{\"condition_outcome.mfa_all_types\":\"pass\"}}}")
                .get("count").asInt()).isEqualTo(1);
    }

    /** One document with its external version, as the sink sends it; a 409 (older version) is expected and ignored. */
    private static void indexVersioned(IndexDoc d) throws Exception {
        BinaryData source = BinaryData.of(d.source.getBytes(StandardCharsets.UTF_8), ContentType.APPLICATION_JSON);
        BulkResponse response = client.bulk(b -> b.refresh(Refresh.True).operations(o -> o.index(i -> i.index(d.index)
                .id(d.id).version(d.version).versionType(co.elastic.clients.elasticsearch._types.VersionType.ExternalGte)
                .document(source))));
        response.items().forEach(item -> assertThat(item.error() == null || item.status() == 409)
                .as("%s", item.error()).isTrue());
    }

    @Test
    void everyUsFigureOfAnIncidentIsADoubleEvenWhenTheFirstOneIsWholeDollars() throws Exception {
        // A whole-dollar first value would otherwise map the field as long and reject every later
        // fractional one (the demo hit this with impact_after_containment).
        Incident whole = new Incident();
        whole.incidentId = "inc-usd";
        whole.status = Incident.CONTAINED;
        whole.impact = List.of(new AssetImpact("USDC", "85929", new java.math.BigDecimal("85929"), 1));
        whole.impactAfterContainment = whole.impact;
        whole.usdTotal = new java.math.BigDecimal("85929");
        whole.usdAfterContainment = new java.math.BigDecimal("85929");
        whole.version = 1;
        index(List.of(EcsDocuments.incident(whole, INCIDENTS)));
        Incident fractional = Json.fromBytes(Json.toBytes(whole), Incident.class);
        fractional.impactAfterContainment = List.of(new AssetImpact("USDC", "85929.5",
                new java.math.BigDecimal("85929.55"), 2));
        fractional.usdAfterContainment = new java.math.BigDecimal("85929.55");
        fractional.version = 2;
        index(List.of(EcsDocuments.incident(fractional, INCIDENTS)));

        String index = IndexTemplates.incidentsIndex(INCIDENTS);
        JsonNode props = http.get("/" + index + "/_mapping").at("/" + index + "/mappings/properties");
        assertThat(props.at("/impact_after_containment/properties/usd_value/type").asText()).isEqualTo("double");
        assertThat(props.at("/usd_after_containment/type").asText()).isEqualTo("double");
        JsonNode doc = http.get("/" + INCIDENTS + "/_doc/inc-usd");
        assertThat(doc.at("/_version").asLong()).isEqualTo(2);
        assertThat(doc.at("/_source/usd_after_containment").decimalValue()).isEqualByComparingTo("85929.55");
    }

    @Test
    void concreteDailyIndexGetsTheAliasAndTheMappings() throws Exception {
        EnrichedEvent approval = EnrichedEvent.of(approval("evt-map-1", "u-1", "2.3.1"));
        approval.mfaAuthorized = false;
        IndexDoc doc = EcsDocuments.event(approval, EVENTS);
        index(List.of(doc));
        // Something the mapping does not know: strings become keywords, never dates.
        http.post("/" + doc.index + "/_doc/extra?refresh=true",
                "{\"exchange\":{\"surprise\":\"2026-05-03T10:00:00Z\",\"ratio\":0.25}}");
        // Apply again with indices present: mappings are pushed to them without conflict.
        IndexTemplates.apply(client, config);

        assertThat(http.get("/" + doc.index + "/_alias").at("/" + doc.index + "/aliases").has(EVENTS)).isTrue();
        JsonNode props = http.get("/" + doc.index + "/_mapping").at("/" + doc.index + "/mappings/properties");
        assertThat(type(props, "exchange.withdrawal.amount")).isEqualTo("keyword");
        assertThat(type(props, "exchange.withdrawal.amount_value")).isEqualTo("double");
        assertThat(type(props, "exchange.withdrawal.approval_service_version")).isEqualTo("keyword");
        assertThat(type(props, "source.ip")).isEqualTo("ip");
        assertThat(type(props, "source.geo.location")).isEqualTo("geo_point");
        assertThat(type(props, "exchange.mfa.authorized")).isEqualTo("boolean");
        assertThat(type(props, "exchange.kafka.offset")).isEqualTo("long");
        assertThat(type(props, "@timestamp")).isEqualTo("date");
        assertThat(type(props, "exchange.surprise")).isEqualTo("keyword");
        assertThat(type(props, "exchange.ratio")).isEqualTo("double");
    }

    @Test
    void antiPhishingCodeSentByMistakeIsNotKeptNorSearchable() throws Exception {
        String index = EcsDocuments.monthlyIndex(EVENTS, 0L);
        http.put("/" + index + "/_doc/leak?refresh=true",
                "{\"exchange\":{\"account\":{\"anti_phishing_code\":\"blue-falcon-42\",\"anti_phishing_code_set\":true}}}");
        JsonNode source = http.get("/" + index + "/_doc/leak").at("/_source");
        assertThat(source.toString()).doesNotContain("blue-falcon-42");
        assertThat(source.at("/exchange/account/anti_phishing_code_set").asBoolean()).isTrue();
        JsonNode found = http.post("/" + EVENTS + "/_search",
                "{\"query\":{\"query_string\":{\"query\":\"blue-falcon-42\"}}}");
        assertThat(found.at("/hits/total/value").asInt()).isZero();
    }

    @Test
    void anAliasExtendingAnotherGetsItsOwnTemplate() throws Exception {
        String events = PREFIX + "-ov";
        String alerts = PREFIX + "-ov-alerts";
        TourniquetConfig own = config.with(Map.of(Settings.INDEX_EVENTS.key(), events,
                Settings.INDEX_ALERTS.key(), alerts));
        try {
            IndexTemplates.apply(client, own); // events-* would overlap alerts-* at equal priority
            String alertIndex = alerts + "-2026.05";
            http.put("/" + alertIndex + "/_doc/a?refresh=true", "{\"rule\":\"bulk_drain\"}");
            JsonNode indexAliases = http.get("/" + alertIndex + "/_alias").at("/" + alertIndex + "/aliases");
            assertThat(indexAliases.has(alerts)).isTrue();
            assertThat(indexAliases.has(events)).isFalse();
            assertThat(http.post("/" + alerts + "/_count",
                    "{\"query\":{\"term\":{\"rule.name\":\"bulk_drain\"}}}").get("count").asInt()).isEqualTo(1);
        } finally {
            http.deleteAliasesAndTemplates(List.of(alerts, events));
        }
    }

    /** The contract's root-cause question: one terms aggregation, filtered on exchange.mfa.authorized. */
    @Test
    void unauthorizedApprovalsPerApprovingBackend() throws Exception {
        String alias = PREFIX + "-rootcause-events";
        TourniquetConfig own = config.with(Settings.INDEX_EVENTS, alias);
        IndexTemplates.apply(client, own);
        try {
            List<IndexDoc> docs = new ArrayList<>();
            int n = 0;
            for (String[] row : new String[][] {
                    {"2.3.1", "false"}, {"2.3.1", "false"}, {"2.3.1", "false"}, {"2.4.0", "false"},
                    {"2.3.1", "true"}, {"2.4.0", "true"}, {"2.4.0", "true"}, {"2.2.9", "true"}}) {
                EnrichedEvent e = EnrichedEvent.of(approval("evt-rc-" + n, "u-" + n, row[0]));
                e.event.sourceTimestamp = e.event.eventTime + n * 16 * 86_400_000L; // over several monthly indices
                e.mfaAuthorized = Boolean.valueOf(row[1]);
                docs.add(EcsDocuments.event(e, alias));
                n++;
            }
            Event login = new Event();
            login.kind = Event.Kind.LOGIN;
            login.eventId = "evt-rc-login";
            login.eventTime = docs.size();
            login.userId = "u-0";
            docs.add(EcsDocuments.event(EnrichedEvent.of(login), alias));
            index(docs);

            SearchResponse<Void> response = client.search(s -> s
                    .index(alias)
                    .size(0)
                    .query(q -> q.term(t -> t.field("exchange.mfa.authorized").value(false)))
                    .aggregations("by_version", a -> a.terms(t -> t.field("exchange.withdrawal.approval_service_version"))),
                    Void.class);

            List<StringTermsBucket> buckets = response.aggregations().get("by_version").sterms().buckets().array();
            assertThat(buckets).extracting(b -> b.key().stringValue(), StringTermsBucket::docCount)
                    .containsExactly(tuple("2.3.1", 3L), tuple("2.4.0", 1L));
        } finally {
            http.deleteAliasesAndTemplates(List.of(alias));
        }
    }

    private static Event approval(String id, String user, String version) {
        Event e = new Event();
        e.kind = Event.Kind.WITHDRAWAL;
        e.eventId = id;
        e.eventTime = Times.parse("2026-05-03T08:00:00Z").toEpochMilli();
        e.userId = user;
        e.ip = "198.51.100.4";
        e.sourceTopic = "exchange.wallet.withdrawals";
        e.sourceOffset = 5_000_000_000L;
        e.withdrawalId = "w-" + id;
        e.status = "approved";
        e.asset = "ETH";
        e.amount = "1.000000000000000001";
        e.usdValue = 3000.0;
        e.approvalService = "withdrawal-approver";
        e.approvalServiceVersion = version;
        return e;
    }

    private static void index(List<IndexDoc> docs) throws Exception {
        List<BulkOperation> ops = new ArrayList<>();
        for (IndexDoc d : docs) {
            BinaryData source = BinaryData.of(d.source.getBytes(StandardCharsets.UTF_8), ContentType.APPLICATION_JSON);
            ops.add(BulkOperation.of(b -> b.index(i -> i.index(d.index).id(d.id).document(source))));
        }
        BulkResponse response = client.bulk(b -> b.operations(ops).refresh(Refresh.True));
        assertThat(response.errors()).as("bulk errors: %s", response.items()).isFalse();
    }

    /** The mapped type of a dotted field path in a mapping's properties. */
    private static String type(JsonNode properties, String path) {
        JsonNode node = properties;
        String[] parts = path.split("\\.");
        for (int i = 0; i < parts.length; i++) {
            node = node.path(parts[i]);
            if (i < parts.length - 1) node = node.path("properties");
        }
        return node.path("type").asText("<missing " + path + ">");
    }
}
