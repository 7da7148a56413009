package io.tourniquet.index;

import static org.assertj.core.api.Assertions.assertThat;
import co.elastic.clients.elasticsearch.ElasticsearchClient;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.tourniquet.config.Settings;
import io.tourniquet.config.TourniquetConfig;
import io.tourniquet.model.EnrichedEvent;
import io.tourniquet.model.Event;
import io.tourniquet.testing.EsHttp;
import io.tourniquet.testing.SwitchableProxy;
import io.tourniquet.testing.TestElasticsearch;
import io.tourniquet.util.Times;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.apache.flink.metrics.groups.UnregisteredMetricsGroup;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

@org.junit.jupiter.api.extension.ExtendWith({io.tourniquet.testing.LocalServices.class,
        io.tourniquet.testing.SharedMiniCluster.class})
class ElasticsearchSinkITCase {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String PREFIX = "it-sink-" + UUID.randomUUID().toString().substring(0, 8);
    private static final List<String> ALIASES = new ArrayList<>();

    private static EsHttp http;
    private static ElasticsearchClient client;

    @BeforeAll
    static void connect() {
        http = EsHttp.connect();
        client = EsClients.create(List.of(TestElasticsearch.url()));
    }

    @AfterAll
    static void cleanUp() throws Exception {
        if (http != null) {
            http.deleteAliasesAndTemplates(ALIASES);
            http.close();
        }
        if (client != null) client.close();
    }

    /** A fresh events alias with the templates applied. */
    private static String eventsAlias(String name) throws Exception {
        String alias = PREFIX + "-" + name;
        ALIASES.add(alias);
        TourniquetConfig config = TourniquetConfig.defaults().with(Map.of(
                Settings.INDEX_EVENTS.key(), alias,
                Settings.INDEX_ALERTS.key(), alias + "-alerts",
                Settings.INDEX_ACTIONS.key(), alias + "-actions",
                Settings.INDEX_INCIDENTS.key(), alias + "-incidents",
                Settings.INDEX_CLAIMS.key(), alias + "-claims",
                Settings.INDEX_DEAD_LETTERS.key(), alias + "-dead-letters"));
        ALIASES.addAll(List.of(alias + "-alerts", alias + "-actions", alias + "-incidents", alias + "-claims",
                alias + "-dead-letters"));
        IndexTemplates.apply(client, config);
        return alias;
    }

    private static EsSinkSettings settings(String url, int maxActions, Duration flush, Duration initial, Duration max) {
        return new EsSinkSettings(List.of(url), maxActions, flush, 2, initial, max);
    }

    /** Distinct events of every kind, seven minutes apart from 2026-05-01T22:00Z. */
    private static List<IndexDoc> events(String alias, String idPrefix, int count) {
        return events(alias, idPrefix, count, 7 * 60_000L);
    }

    private static List<IndexDoc> events(String alias, String idPrefix, int count, long stepMillis) {
        long start = Times.parse("2026-05-01T22:00:00Z").toEpochMilli();
        List<IndexDoc> docs = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            Event e = new Event();
            e.kind = Event.Kind.values()[i % Event.Kind.values().length];
            e.eventId = idPrefix + i;
            e.eventTime = start + i * stepMillis;
            e.userId = "u-" + (i % 17);
            e.ip = "10.0." + (i % 250) + ".1";
            e.sourceTopic = "topic-" + e.kind;
            e.sourceOffset = i;
            e.sourceTimestamp = start + (i % 3) * 31L * 86_400_000L; // ingested over three months
            switch (e.kind) {
                case LOGIN -> e.outcome = i % 2 == 0 ? "success" : "failure";
                case MFA -> e.action = "challenge_verified";
                case WITHDRAWAL -> {
                    e.status = "approved";
                    e.withdrawalId = "w-" + i;
                    e.amount = i + ".000000000000000001";
                    e.approvalServiceVersion = "2." + (i % 3) + ".0";
                }
                case ACCOUNT_CHANGE -> e.action = "password_changed";
            }
            EnrichedEvent enriched = EnrichedEvent.of(e);
            if (e.kind == Event.Kind.WITHDRAWAL) enriched.mfaAuthorized = i % 4 != 0;
            docs.add(EcsDocuments.event(enriched, alias));
        }
        return docs;
    }

    private static long count(String alias) throws Exception {
        http.post("/" + alias + "/_refresh", null);
        return http.get("/" + alias + "/_count").get("count").asLong();
    }

    /** Every document is in the alias exactly as sent (plus event.ingested), and nothing else is. */
    private static void assertIndexedExactly(String alias, List<IndexDoc> expected) throws Exception {
        Map<String, IndexDoc> byId = new java.util.HashMap<>();
        expected.forEach(d -> byId.put(d.id, d));
        assertThat(count(alias)).isEqualTo(byId.size());
        JsonNode hits = http.post("/" + alias + "/_search",
                "{\"size\":" + (byId.size() + 10) + ",\"query\":{\"match_all\":{}}}").at("/hits/hits");
        Set<String> seen = new HashSet<>();
        for (JsonNode hit : hits) {
            String id = hit.get("_id").asText();
            assertThat(seen.add(id)).as("id %s seen once", id).isTrue();
            IndexDoc sent = byId.get(id);
            assertThat(sent).as("unexpected document %s", id).isNotNull();
            assertThat(hit.get("_index").asText()).isEqualTo(sent.index);
            ObjectNode source = (ObjectNode) hit.get("_source").deepCopy();
            assertThat(Times.parse(source.at("/event/ingested").asText())).isNotNull();
            ((ObjectNode) source.get("event")).remove("ingested");
            assertThat(source).isEqualTo(JSON.readTree(sent.source));
        }
        assertThat(seen).isEqualTo(byId.keySet());
    }

    @Test
    void flinkJobIndexesEveryDocumentOnce() throws Exception {
        String alias = eventsAlias("job");
        List<IndexDoc> docs = events(alias, "evt-job-", 300);
        List<IndexDoc> input = new ArrayList<>(docs);
        input.addAll(docs.subList(0, 40)); // redelivered: the same ids again

        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
        env.setParallelism(2);
        env.enableCheckpointing(200);
        env.fromData(input)
                .rebalance()
                .sinkTo(new ElasticsearchSink(settings(TestElasticsearch.url(), 25, Duration.ofMillis(50),
                        Duration.ofMillis(20), Duration.ofSeconds(1))))
                .name("elasticsearch");
        env.execute("elasticsearch-sink-it");

        assertIndexedExactly(alias, docs);
        // Spread over monthly indices, all behind the alias.
        JsonNode aliases = http.get("/_alias/" + alias);
        assertThat(aliases.size()).isEqualTo(3);
        assertThat(aliases.has(alias + "-2026.05")).isTrue();
        assertThat(aliases.has(alias + "-2026.07")).isTrue();
    }

    @Test
    void elasticsearchDownThenUpLosesNothing() throws Exception {
        String alias = eventsAlias("outage");
        List<IndexDoc> docs = events(alias, "evt-outage-", 200);
        List<IndexDoc> beforeOutage = docs.subList(0, 50);
        List<IndexDoc> duringOutage = new ArrayList<>(docs.subList(50, 200));
        duringOutage.addAll(docs.subList(40, 60)); // some again, sent before and during the outage
        ExecutorService flusher = Executors.newSingleThreadExecutor();
        try (SwitchableProxy proxy = new SwitchableProxy(TestElasticsearch.url(), true)) {
            ElasticsearchSinkWriter writer = new ElasticsearchSinkWriter(
                    settings(proxy.url(), 50, Duration.ofMillis(20), Duration.ofMillis(10), Duration.ofMillis(200)),
                    new UnregisteredMetricsGroup(), "outage-test");
            try {
                for (IndexDoc d : beforeOutage) writer.write(d, null);
                writer.flush(false);
                assertThat(writer.docsIndexed()).isEqualTo(50);

                // Elasticsearch goes away, pooled connections included.
                proxy.refuse();
                int refusedBefore = proxy.refused();
                for (IndexDoc d : duringOutage) writer.write(d, null);
                CompletableFuture<Void> flushed = CompletableFuture.runAsync(() -> {
                    try {
                        writer.flush(false);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        throw new IllegalStateException(e);
                    }
                }, flusher);

                // Several more attempts are refused: the checkpoint's flush must still be waiting.
                proxy.awaitRefused(refusedBefore + 3, Duration.ofSeconds(30));
                // A retry is counted when a refused request's failure comes back, which can trail
                // the refusals (several bulk requests are refused at once): wait, on further
                // refusals (each re-send makes one), until one is counted.
                long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
                while (writer.retries() == 0) {
                    proxy.awaitRefused(proxy.refused() + 1, Duration.ofNanos(Math.max(1, deadline - System.nanoTime())));
                }
                assertThat(flushed).isNotDone();
                assertThat(writer.pendingDocuments()).isEqualTo(duringOutage.size());
                assertThat(writer.docsIndexed()).isEqualTo(50);
                assertThat(writer.retries()).isPositive();

                proxy.forward();
                flushed.get(60, TimeUnit.SECONDS);

                assertThat(writer.pendingDocuments()).isZero();
                assertThat(writer.docsIndexed()).isEqualTo(50 + duringOutage.size());
                assertThat(writer.permanentFailures()).isZero();
            } finally {
                writer.close();
            }
        } finally {
            flusher.shutdownNow();
        }
        assertIndexedExactly(alias, docs);
    }

    @Test
    void documentsElasticsearchRejectsAreCountedNotRetried() throws Exception {
        String alias = eventsAlias("rejects");
        List<IndexDoc> good = events(alias, "evt-good-", 5);
        IndexDoc badIp = new IndexDoc(alias + "-2026.05", "bad-ip", "{\"source\":{\"ip\":\"not-an-ip\"}}");
        IndexDoc badIndex = new IndexDoc("Upper-Case-Index", "bad-index", "{}");
        IndexDoc notJson = new IndexDoc(alias + "-2026.05", "not-json", "{\"unterminated\":");

        ElasticsearchSinkWriter writer = new ElasticsearchSinkWriter(
                settings(TestElasticsearch.url(), 100, Duration.ofMillis(20), Duration.ofMillis(10), Duration.ofMillis(100)),
                new UnregisteredMetricsGroup(), "rejects-test");
        try {
            writer.write(badIp, null);
            for (IndexDoc d : good) writer.write(d, null);
            writer.write(badIndex, null);
            writer.write(notJson, null);
            writer.flush(true);
            assertThat(writer.pendingDocuments()).isZero();
            assertThat(writer.docsIndexed()).isEqualTo(5);
            assertThat(writer.permanentFailures()).isEqualTo(3);
            assertThat(writer.retries()).isZero();
        } finally {
            writer.close();
        }
        assertIndexedExactly(alias, good);
    }

    @Test
    void documentsElasticsearchRefusesForGoodGoToTheDeadLettersWithWhyNeverNowhere() throws Exception {
        String alias = eventsAlias("letters");
        String letters = IndexTemplates.deadLettersIndex(alias + "-dead-letters");
        List<IndexDoc> good = events(alias, "evt-ok-", 4);
        IndexDoc badIp = new IndexDoc(alias + "-2026.05", "bad-ip", "{\"source\":{\"ip\":\"not-an-ip\"}}");
        IndexDoc badIndex = new IndexDoc("Upper-Case-Index", "bad-index", "{\"x\":1}");
        IndexDoc notJson = new IndexDoc(alias + "-2026.05", "not-json", "{\"unterminated\":");
        ElasticsearchSinkWriter writer = new ElasticsearchSinkWriter(new EsSinkSettings(List.of(TestElasticsearch.url()),
                100, Duration.ofMillis(20), 2, Duration.ofMillis(10), Duration.ofMillis(100), letters),
                new UnregisteredMetricsGroup(), "letters-test");
        try {
            writer.write(badIp, null);
            for (IndexDoc d : good) writer.write(d, null);
            writer.write(badIndex, null);
            writer.write(notJson, null);
            writer.flush(true);
            assertThat(writer.pendingDocuments()).isZero();
            assertThat(writer.docsIndexed()).isEqualTo(4);
            assertThat(writer.permanentFailures()).isEqualTo(3);
            assertThat(writer.deadLettered()).isEqualTo(3);
            assertThat(writer.deadLetterFailures()).isZero();
        } finally {
            writer.close();
        }
        assertIndexedExactly(alias, good);
        http.post("/" + letters + "/_refresh", null);
        JsonNode hits = http.post("/" + letters + "/_search", "{\"size\":10,\"query\":{\"match_all\":{}}}")
                .at("/hits/hits");
        Map<String, JsonNode> byId = new java.util.TreeMap<>();
        for (JsonNode h : hits) byId.put(h.at("/_source/document_id").asText(), h.get("_source"));
        assertThat(byId).containsOnlyKeys("bad-ip", "bad-index", "not-json");
        assertThat(byId.get("bad-ip").path("status").asInt()).isEqualTo(400);
        assertThat(byId.get("bad-ip").path("error_type").asText()).isEqualTo("document_parsing_exception");
        assertThat(byId.get("bad-ip").path("source").asText()).isEqualTo(badIp.source);
        assertThat(byId.get("bad-index").path("failed_index").asText()).isEqualTo("Upper-Case-Index");
        assertThat(byId.get("not-json").path("error_type").asText()).isEqualTo("unsendable");
    }

    @Test
    void refusedCredentialsStopTheWriterWithAClearErrorInsteadOfDroppingEverything() throws Exception {
        com.sun.net.httpserver.HttpServer refusing = com.sun.net.httpserver.HttpServer.create(
                new java.net.InetSocketAddress("127.0.0.1", 0), 0);
        refusing.createContext("/", exchange -> {
            byte[] body = ("{\"error\":{\"type\":\"security_exception\",\"reason\":\"unable to authenticate user\"},"
                    + "\"status\":401}").getBytes(java.nio.charset.StandardCharsets.UTF_8);
            exchange.getResponseHeaders().add("Content-Type", "application/json");
            exchange.getResponseHeaders().add("X-elastic-product", "Elasticsearch");
            exchange.sendResponseHeaders(401, body.length);
            exchange.getResponseBody().write(body);
            exchange.close();
        });
        refusing.start();
        String url = "http://127.0.0.1:" + refusing.getAddress().getPort();
        ElasticsearchSinkWriter writer = new ElasticsearchSinkWriter(new EsSinkSettings(List.of(url), 10,
                Duration.ofMillis(20), 2, Duration.ofMillis(10), Duration.ofMillis(100), "letters-v1"),
                new UnregisteredMetricsGroup(), "refused-test");
        try {
            for (IndexDoc d : events("any", "evt-refused-", 3)) writer.write(d, null);
            long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            Throwable failure = null;
            while (failure == null && System.nanoTime() < deadline) {
                try {
                    writer.flush(false);
                } catch (IllegalStateException e) {
                    failure = e;
                }
            }
            assertThat(failure).as("flush fails instead of hanging or dropping").isNotNull();
            assertThat(failure.getMessage()).contains("credentials").contains("401");
            assertThat(writer.deadLettered()).as("not dead-lettered: the next attempt may have good credentials")
                    .isZero();
            org.assertj.core.api.Assertions.assertThatThrownBy(() -> writer.write(events("any", "evt-more-", 1).get(0),
                    null)).hasMessageContaining("credentials");
        } finally {
            refusing.stop(0);
            try {
                writer.close();
            } catch (Exception ignored) {
                // closing after the refusal may fail the same way
            }
        }
    }

    @Test
    void aLateOlderVersionNeverOverwritesANewerOne() throws Exception {
        String alias = eventsAlias("versions");
        String incidents = alias + "-incidents";
        String index = IndexTemplates.incidentsIndex(incidents);
        ElasticsearchSinkWriter writer = new ElasticsearchSinkWriter(
                settings(TestElasticsearch.url(), 100, Duration.ofMillis(20), Duration.ofMillis(10), Duration.ofMillis(100)),
                new UnregisteredMetricsGroup(), "versions-test");
        try {
            writer.write(new IndexDoc(index, "inc-1", "{\"status\":\"contained\",\"users_affected\":3}", 2L), null);
            writer.flush(false);
            writer.write(new IndexDoc(index, "inc-1", "{\"status\":\"open\",\"users_affected\":1}", 1L), null);
            writer.write(new IndexDoc(index, "inc-1", "{\"status\":\"contained\",\"users_affected\":3}", 2L), null);
            writer.flush(true);
            assertThat(writer.superseded()).isEqualTo(1);
            assertThat(writer.permanentFailures()).isZero();
            assertThat(writer.docsIndexed()).isEqualTo(2);
        } finally {
            writer.close();
        }
        JsonNode stored = http.get("/" + incidents + "/_doc/inc-1");
        assertThat(stored.at("/_version").asLong()).isEqualTo(2);
        assertThat(stored.at("/_source/status").asText()).isEqualTo("contained");
        assertThat(count(incidents)).isEqualTo(1);
    }

    @Test
    void throughput() throws Exception {
        String alias = eventsAlias("throughput");
        int n = 20_000;
        List<IndexDoc> docs = events(alias, "evt-tp-", n, 1);
        ElasticsearchSinkWriter writer = new ElasticsearchSinkWriter(
                EsSinkSettings.from(TourniquetConfig.defaults()).withUrls(List.of(TestElasticsearch.url())),
                new UnregisteredMetricsGroup(), "throughput-test");
        long started = System.nanoTime();
        try {
            for (IndexDoc d : docs) writer.write(d, null);
            writer.flush(true);
        } finally {
            writer.close();
        }
        long millis = Math.max(1, TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started));
        System.out.printf("ElasticsearchSinkWriter: %d documents acknowledged in %d ms (%d docs/s, default bulk settings)%n",
                n, millis, n * 1000L / millis);
        assertThat(writer.docsIndexed()).isEqualTo(n);
        assertThat(count(alias)).isEqualTo(n);
    }
}
