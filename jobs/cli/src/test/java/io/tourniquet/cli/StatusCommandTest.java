package io.tourniquet.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import com.sun.net.httpserver.HttpServer;
import io.tourniquet.config.TourniquetConfig;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * What 'status' reads from a JobManager's REST API, against a hand-written JobManager that answers
 * as Flink 2.2's does (the responses are trimmed copies of a live run's), and how it counts open
 * incidents from the incidents topic.
 */
class StatusCommandTest {
    static final String DETECT_JID = "4c31c48297020e40546d2cb14efc946b";
    static final String SOURCE_VID = "4aa2dd35901329de09a964c2fb56cfc3";
    static final String UA_VID = "83c91dd8162e8b1870404ad9e1e92174";
    static final long JM_NOW = 1_796_597_058_217L;

    final List<FakeJobManager> servers = new ArrayList<>();

    @AfterEach
    void stop() {
        servers.forEach(FakeJobManager::close);
    }

    /** A JobManager: answers the paths it was given (path and query), 404 for anything else. */
    static final class FakeJobManager implements AutoCloseable {
        final HttpServer server;
        final Map<String, Supplier<String>> routes = new ConcurrentHashMap<>();

        FakeJobManager() throws IOException {
            server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
            server.createContext("/", ex -> {
                String q = ex.getRequestURI().getQuery();
                Supplier<String> r = routes.get(ex.getRequestURI().getPath() + (q == null ? "" : "?" + q));
                byte[] body = (r == null ? "{\"errors\":[\"Not found\"]}" : r.get()).getBytes(StandardCharsets.UTF_8);
                ex.sendResponseHeaders(r == null ? 404 : 200, body.length);
                ex.getResponseBody().write(body);
                ex.close();
            });
            server.start();
        }

        int port() {
            return server.getAddress().getPort();
        }

        String url() {
            return "http://127.0.0.1:" + port();
        }

        FakeJobManager on(String pathAndQuery, String json) {
            routes.put(pathAndQuery, () -> json);
            return this;
        }

        @Override
        public void close() {
            server.stop(0);
        }
    }

    FakeJobManager jobManager() throws IOException {
        FakeJobManager jm = new FakeJobManager();
        servers.add(jm);
        return jm;
    }

    /** A JobManager running one detect job (see {@link #addDetectJob}). */
    FakeJobManager detectJob(String jid, String topic) throws IOException {
        return addDetectJob(jobManager(), jid, topic).on("/jobs/overview", "{\"jobs\":[" + overview(jid) + "]}");
    }

    static String overview(String jid) {
        return "{\"jid\":\"" + jid + "\",\"name\":\"tourniquet-detect\",\"start-time\":" + (JM_NOW - 60_000)
                + ",\"end-time\":-1,\"state\":\"RUNNING\"}";
    }

    /** A running detect job reading {@code topic}, checkpoint 15 acknowledged 2 s before the JobManager's now. */
    static FakeJobManager addDetectJob(FakeJobManager jm, String jid, String topic) {
        String base = "/jobs/" + jid;
        return jm
                .on(base, "{\"jid\":\"" + jid + "\",\"name\":\"tourniquet-detect\",\"state\":\"RUNNING\",\"now\":" + JM_NOW
                        + ",\"start-time\":" + (JM_NOW - 60_000) + ",\"timestamps\":{\"RUNNING\":" + (JM_NOW - 30_000)
                        + ",\"CREATED\":" + (JM_NOW - 60_000) + "},\"vertices\":["
                        + "{\"id\":\"" + SOURCE_VID + "\",\"name\":\"Source: Input topics -> Parse and validate\"},"
                        + "{\"id\":\"" + UA_VID + "\",\"name\":\"Detect unauthorized approvals\"}]}")
                .on(base + "/checkpoints", "{\"counts\":{\"completed\":15},\"latest\":{\"completed\":{\"className\":"
                        + "\"completed\",\"id\":15,\"status\":\"COMPLETED\",\"latest_ack_timestamp\":" + (JM_NOW - 2_000)
                        + ",\"external_path\":\"file:/cp/detect/" + jid + "/chk-15\"},\"savepoint\":null,"
                        + "\"failed\":null,\"restored\":null}}")
                .on(base + "/vertices/" + SOURCE_VID + "/subtasks/metrics", "[{\"id\":\"Source__Input_topics."
                        + "KafkaSourceReader.topic." + topic.replace('.', '_') + ".partition.0.currentOffset\"},"
                        + "{\"id\":\"Parse_and_validate.tourniquet.reason.not_json.dead_letters\"}]")
                .on(base + "/vertices/" + UA_VID + "/subtasks/metrics", "[{\"id\":\"Detect_unauthorized_approvals."
                        + "currentInputWatermark\"},{\"id\":\"Detect_unauthorized_approvals.tourniquet.watermark_lag_ms\"}]")
                .on(base + "/vertices/" + UA_VID + "/subtasks/metrics?get=Detect_unauthorized_approvals.tourniquet."
                        + "watermark_lag_ms&agg=max", "[{\"id\":\"Detect_unauthorized_approvals.tourniquet."
                        + "watermark_lag_ms\",\"max\":4200.0}]");
    }

    static TourniquetConfig config(String... keyValues) {
        Map<String, String> m = new java.util.LinkedHashMap<>();
        for (int i = 0; i < keyValues.length; i += 2) m.put(keyValues[i], keyValues[i + 1]);
        return TourniquetConfig.load(Map.of(), m);
    }

    static StatusReport look(TourniquetConfig cfg, String rest) throws InterruptedException {
        StatusReport r = new StatusReport();
        r.thresholds = StatusReport.Thresholds.from(cfg);
        StatusCommand.lookAtJobs(r, FlinkRest.client(), cfg, rest, Duration.ofSeconds(5));
        return r;
    }

    @Test
    void findsARunningRunOnLoopbackWithItsCheckpointAndWatermarkLag() throws Exception {
        FakeJobManager jm = detectJob(DETECT_JID, "exchange.auth.logins");
        // The range of a 'run': this JobManager's port among free ones.
        StatusReport r = look(config("job.rest-ports", (jm.port() - 1) + "-" + (jm.port() + 1)), null);
        StatusReport.Job detect = r.job("detect");
        assertThat(detect.state()).isEqualTo("RUNNING");
        assertThat(detect.jobId()).isEqualTo(DETECT_JID);
        assertThat(detect.endpoint()).isEqualTo(jm.url());
        assertThat(detect.runningForMs()).as("since it last became RUNNING, by the JobManager's clock").isEqualTo(30_000);
        assertThat(detect.lastCheckpoint()).isEqualTo(new StatusReport.Checkpoint(15, JM_NOW - 2_000, 2_000,
                "file:/cp/detect/" + DETECT_JID + "/chk-15"));
        assertThat(r.watermarkLagMs).isEqualTo(4_200L);
        assertThat(r.job("index").state()).isEqualTo(StatusReport.Job.NOT_FOUND);
        assertThat(r.esPendingDocs).isNull();
    }

    @Test
    void waitsForTheJobManagersFirstMetricsFetch() throws Exception {
        FakeJobManager jm = detectJob(DETECT_JID, "exchange.auth.logins");
        // Flink answers the first metrics question from an empty store while it fetches.
        String path = "/jobs/" + DETECT_JID + "/vertices/" + UA_VID + "/subtasks/metrics";
        String ids = jm.routes.get(path).get();
        AtomicInteger asked = new AtomicInteger();
        jm.routes.put(path, () -> asked.incrementAndGet() < 3 ? "[]" : ids);
        StatusReport r = look(config(), jm.url());
        assertThat(r.watermarkLagMs).isEqualTo(4_200L);
        assertThat(asked.get()).isGreaterThanOrEqualTo(3);
    }

    @Test
    void aGaugeNoOperatorReportsIsUnknown() throws Exception {
        FakeJobManager jm = detectJob(DETECT_JID, "exchange.auth.logins");
        jm.on("/jobs/" + DETECT_JID + "/vertices/" + UA_VID + "/subtasks/metrics", "[{\"id\":\"numRecordsIn\"}]");
        assertThat(look(config(), jm.url()).watermarkLagMs).isNull();
    }

    @Test
    void aJobWithoutACompletedCheckpointHasNone() throws Exception {
        FakeJobManager jm = detectJob(DETECT_JID, "exchange.auth.logins");
        jm.on("/jobs/" + DETECT_JID + "/checkpoints", "{\"counts\":{\"completed\":0},\"latest\":{\"completed\":null}}");
        assertThat(look(config(), jm.url()).job("detect").lastCheckpoint()).isNull();
    }

    @Test
    void nothingRunningSaysWhereItLooked() throws Exception {
        FakeJobManager jm = jobManager().on("/jobs/overview", "{\"jobs\":[]}");
        StatusReport r = look(config(), jm.url());
        assertThat(r.job("detect")).isEqualTo(StatusReport.Job.notFound("detect", "tourniquet-detect", jm.url()));

        int port = jm.port();
        jm.close();
        StatusReport none = look(config("job.rest-ports", port + "-" + (port + 1)), null);
        assertThat(none.job("detect").lookedAt())
                .isEqualTo("127.0.0.1 ports " + port + "-" + (port + 1) + "; no Flink REST endpoint answered there");
        assertThat(none.verdict().reasons().get(0)).isEqualTo("detect job not running (nothing is detected or frozen): "
                + "no tourniquet-detect at 127.0.0.1 ports " + port + "-" + (port + 1)
                + "; no Flink REST endpoint answered there");
    }

    @Test
    void aJobThatIsNotRunningIsReportedInTheStateItIsIn() throws Exception {
        FakeJobManager jm = jobManager().on("/jobs/overview", "{\"jobs\":["
                + "{\"jid\":\"old\",\"name\":\"tourniquet-detect\",\"start-time\":1,\"state\":\"CANCELED\"},"
                + "{\"jid\":\"new\",\"name\":\"tourniquet-detect\",\"start-time\":2,\"state\":\"RESTARTING\"},"
                + "{\"jid\":\"older\",\"name\":\"tourniquet-detect\",\"start-time\":0,\"state\":\"FAILED\"}]}");
        StatusReport r = look(config(), jm.url());
        assertThat(r.job("detect").state()).isEqualTo("RESTARTING");
        assertThat(r.job("detect").jobId()).isEqualTo("new");
        assertThat(r.verdict().health()).isEqualTo(StatusReport.Health.DOWN);
    }

    @Test
    void ofSeveralRunningRunsTheOneReadingTheConfiguredTopicsIsChosen() throws Exception {
        // Two deployments' detect jobs where we look (two runs on one machine, two on one cluster).
        FakeJobManager jm = addDetectJob(addDetectJob(jobManager(), "aaaa", "someone-else-exchange.auth.logins"),
                DETECT_JID, "mine-exchange.auth.logins")
                .on("/jobs/overview", "{\"jobs\":[" + overview("aaaa") + "," + overview(DETECT_JID) + "]}");
        StatusReport r = look(config("topic.logins", "mine-exchange.auth.logins"), jm.url());
        assertThat(r.job("detect").jobId()).isEqualTo(DETECT_JID);

        assertThatThrownBy(() -> look(config("topic.logins", "third-exchange.auth.logins"), jm.url()))
                .hasMessageContaining("2 running tourniquet-detect jobs at " + jm.url())
                .hasMessageContaining("none of them reading third-exchange.auth.logins")
                .hasMessageContaining("--rest");
    }

    @Test
    void metricScopesReplaceWhatFlinkReplaces() {
        assertThat(StatusCommand.metricScope("ns1-exchange.auth.logins")).isEqualTo("ns1-exchange_auth_logins");
        assertThat(StatusCommand.metricScope("Elasticsearch sink: Writer")).isEqualTo("Elasticsearch_sink__Writer");
    }

    @Test
    void openIncidentsAreTheNewestVersionsNotResolved() {
        List<ConsumerRecord<byte[], byte[]>> records = List.of(
                incident("a", 1, "open"), incident("a", 2, "contained"),
                incident("b", 1, "open"), incident("b", 3, "resolved"), incident("b", 2, "contained"),
                incident("c", 1, "open"), incident("c", 1, "open"), // a redelivery
                record("not json"));
        StatusReport.Incidents open = StatusCommand.openIncidents(records);
        assertThat(open.count()).isEqualTo(2);
        assertThat(open.byStatus()).containsExactlyInAnyOrderEntriesOf(Map.of("contained", 1, "open", 1));
        assertThat(open.ids()).containsExactly("a", "c");
    }

    @Test
    void invalidSettingsAndArgumentsExitWith3NotWithDownsCode() {
        StringWriter err = new StringWriter();
        picocli.CommandLine cl = Main.commandLine();
        cl.setErr(new PrintWriter(err, true));
        assertThat(cl.execute("status", "--set", "status.consumer-lag-max=-1")).isEqualTo(3);
        assertThat(err.toString()).contains("status.consumer-lag-max: '-1' must be between 0 and");
        assertThat(cl.execute("status", "--no-such-option")).isEqualTo(3);
        // Every other command keeps its code for errors.
        assertThat(cl.execute("savepoint", "--set", "job.rest-ports=x")).isEqualTo(2);
    }

    static ConsumerRecord<byte[], byte[]> incident(String id, long version, String status) {
        return record("{\"incident_id\":\"" + id + "\",\"status\":\"" + status + "\",\"version\":" + version + "}");
    }

    static ConsumerRecord<byte[], byte[]> record(String value) {
        return new ConsumerRecord<>("incidents", 0, 0, null, value.getBytes(StandardCharsets.UTF_8));
    }
}
