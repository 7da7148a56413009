package io.tourniquet.pipeline;

import static org.assertj.core.api.Assertions.assertThat;
import io.tourniquet.config.Settings;
import io.tourniquet.config.TourniquetConfig;
import io.tourniquet.sim.GroundTruth;
import io.tourniquet.sim.Simulation;
import io.tourniquet.sim.SimulationWriter;
import io.tourniquet.testing.CliProcess;
import io.tourniquet.testing.LocalServices;
import io.tourniquet.testing.ReplayedIncident;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * What an on-call engineer's Prometheus sees: a live {@code run --job detect} in its own JVM, as an
 * operator starts it, replays a simulated incident, and its {@code /metrics} endpoint (Flink's
 * Prometheus reporter) is read while it runs. Every figure is checked against the simulator's
 * ground truth: events in per topic, dead letters per reason, alerts per rule, commands per
 * action, and the freeze and decision latency histograms.
 */
@ExtendWith(LocalServices.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class PrometheusMetricsITCase {
    static final String KEY = "prometheus-itcase-signing-key-0123456789abcdef";
    static final String CONTROL_KEY = "prometheus-itcase-control-key-0123456789abcdef";
    static final Duration DEADLINE = Duration.ofSeconds(180);
    static final String PORTS = System.getProperty("tourniquet.test.prometheus.ports", "19249-19259");
    /**
     * Our metrics' prefix. Flink puts a key-value group's key into the name and its value into a
     * label: {@code addGroup("topic", t).counter("events_in")} is {@code ..._tourniquet_topic_events_in{topic=t}}.
     */
    static final String OURS = "flink_taskmanager_job_task_operator_tourniquet_";

    final Path dir = Path.of("target", "prometheus-itcase").toAbsolutePath();
    TourniquetConfig cfg;
    GroundTruth truth;
    int records;
    CliProcess run;
    String endpoint;
    List<Sample> samples;

    /** One line of the Prometheus text format. */
    record Sample(String name, Map<String, String> labels, double value) {}

    @BeforeAll
    void replayLiveAndScrape() throws Exception {
        CliProcess.deleteRecursively(dir);
        Files.createDirectories(dir);
        cfg = ReplayedIncident.config("prom", KEY, CONTROL_KEY);
        Simulation sim = ReplayedIncident.simulate(cfg, 20220117);
        truth = sim.groundTruth();
        records = sim.records().size();
        SimulationWriter.writeToKafka(sim, cfg.get(Settings.KAFKA_BOOTSTRAP));

        Map<String, String> settings = CliProcess.settingsOf(cfg);
        settings.put(Settings.PROMETHEUS_PORTS.key(), PORTS);
        settings.put(Settings.CHECKPOINT_INTERVAL.key(), "1 s");
        run = CliProcess.start(dir, "detect", List.of("run", "--job", "detect"), settings, Map.of(
                "TOURNIQUET_SIGNING_KEY", KEY, "TOURNIQUET_SIGNING_CONTROL_KEY", CONTROL_KEY,
                "TOURNIQUET_LOCAL_DIR", dir.toString()));
        endpoint = awaitEndpoint();
        int expectedUa = truth.unauthorizedApprovals().size();
        // Everything read and decided: every record counted once (valid or dead-lettered), and
        // every unauthorized approval alerted.
        // ... and settled: the alert counter and the latency histogram are updated one after the
        // other, so a scrape can fall between them; wait for two scrapes that agree.
        double[] previous = {-1};
        samples = awaitSamples(s -> {
            double alerts = sum(s, "rule_severity_alerts", Map.of());
            boolean settled = alerts == previous[0] && alerts == sum(s, "decision_latency_ms_count", Map.of());
            previous[0] = alerts;
            return settled && sum(s, "topic_events_in", Map.of()) + sum(s, "reason_dead_letters", Map.of()) == records
                    && sum(s, "rule_severity_alerts", Map.of("rule", "unauthorized_approval")) == expectedUa;
        });
    }

    @AfterAll
    void stop() throws Exception {
        if (run != null) run.kill();
    }

    /** The reporter takes the first free port of the range: find the one that answers. */
    private String awaitEndpoint() throws Exception {
        String[] range = PORTS.split("-");
        int lo = Integer.parseInt(range[0]);
        int hi = range.length > 1 ? Integer.parseInt(range[1]) : lo;
        long end = System.nanoTime() + DEADLINE.toNanos();
        while (System.nanoTime() < end) {
            for (int port = lo; port <= hi; port++) {
                String url = "http://127.0.0.1:" + port + "/metrics";
                String body = get(url);
                if (body != null && body.contains(OURS)) return url;
            }
            if (!run.process().isAlive()) throw new AssertionError("run ended:\n" + run.console());
            Thread.sleep(200); // polling interval inside the deadline
        }
        throw new AssertionError("no /metrics with Tourniquet's metrics on " + PORTS + " within " + DEADLINE
                + ":\n" + run.console());
    }

    private List<Sample> awaitSamples(Predicate<List<Sample>> done) throws Exception {
        long end = System.nanoTime() + DEADLINE.toNanos();
        List<Sample> last = List.of();
        while (System.nanoTime() < end) {
            String body = get(endpoint);
            if (body != null) {
                Files.writeString(dir.resolve("last-scrape.txt"), body);
                last = parse(body);
                if (done.test(last)) return last;
            }
            if (!run.process().isAlive()) throw new AssertionError("run ended:\n" + run.console());
            Thread.sleep(200); // polling interval inside the deadline
        }
        throw new AssertionError("metrics never reached the replay's totals within " + DEADLINE + "; last: events_in "
                + sum(last, "topic_events_in", Map.of()) + ", dead_letters " + sum(last, "reason_dead_letters", Map.of())
                + " of " + records + " records; unauthorized_approval alerts "
                + sum(last, "rule_severity_alerts", Map.of("rule", "unauthorized_approval")));
    }

    private static String get(String url) {
        try {
            HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(url))
                    .timeout(Duration.ofSeconds(5)).build(), HttpResponse.BodyHandlers.ofString());
            return r.statusCode() == 200 ? r.body() : null;
        } catch (Exception e) {
            return null; // not up yet
        }
    }

    private static final Pattern LINE = Pattern.compile("^([a-zA-Z_:][a-zA-Z0-9_:]*)(\\{(.*)\\})? ([^ ]+)( [0-9]+)?$");
    private static final Pattern LABEL = Pattern.compile("([a-zA-Z_][a-zA-Z0-9_]*)=\"((?:[^\"\\\\]|\\\\.)*)\"");

    static List<Sample> parse(String text) {
        List<Sample> out = new ArrayList<>();
        for (String line : text.split("\n")) {
            if (line.isBlank() || line.startsWith("#")) continue;
            Matcher m = LINE.matcher(line.trim());
            if (!m.matches()) continue;
            Map<String, String> labels = new HashMap<>();
            if (m.group(3) != null) {
                Matcher l = LABEL.matcher(m.group(3));
                while (l.find()) labels.put(l.group(1), l.group(2));
            }
            out.add(new Sample(m.group(1), labels, Double.parseDouble(m.group(4))));
        }
        return out;
    }

    /** A label value as Flink's Prometheus reporter writes it: '.', '-' and the like become '_'. */
    static String label(String value) {
        return value.replaceAll("[^a-zA-Z0-9_:]", "_");
    }

    /** Sum of one of our metrics over the samples whose labels include {@code where}. */
    static double sum(List<Sample> samples, String metric, Map<String, String> where) {
        return samples.stream().filter(s -> s.name().equals(OURS + metric))
                .filter(s -> s.labels().entrySet().containsAll(where.entrySet()))
                .mapToDouble(Sample::value).sum();
    }

    @Test
    void eventsInPerTopicAndDeadLettersPerReasonAreTheSimulationsRecords() throws Exception {
        Map<String, Integer> expected = new HashMap<>(truth.validEventsByTopic());
        truth.duplicates().forEach(d -> expected.merge(d.topic(), 1, Integer::sum));
        expected.forEach((topic, n) -> assertThat(sum(samples, "topic_events_in", Map.of("topic", label(topic))))
                .as("events_in{topic=%s}", topic).isEqualTo(n.doubleValue()));
        // Per reason, exactly what the dead-letter topic holds.
        Map<String, Integer> dlq = new HashMap<>();
        for (var r : io.tourniquet.kafka.TopicReader.readAll(cfg.get(Settings.KAFKA_BOOTSTRAP), cfg.get(Settings.TOPIC_DLQ),
                Duration.ofSeconds(60))) {
            dlq.merge(io.tourniquet.json.Json.MAPPER.readTree(r.value())
                    .path("reason_code").asText(), 1, Integer::sum);
        }
        assertThat(dlq).isNotEmpty();
        dlq.forEach((reason, n) -> assertThat(sum(samples, "reason_dead_letters", Map.of("reason", label(reason))))
                .as("dead_letters{reason=%s}", reason).isEqualTo(n.doubleValue()));
        assertThat(sum(samples, "reason_dead_letters", Map.of())).isEqualTo(truth.malformedEmitted());
    }

    @Test
    void alertsPerRuleAndCommandsPerActionMatchTheGroundTruth() {
        int ua = truth.unauthorizedApprovals().size();
        assertThat(sum(samples, "rule_severity_alerts", Map.of("rule", "unauthorized_approval", "severity", "high"))).isEqualTo(ua);
        // Every unauthorized approval freezes its user, holds its withdrawal and revokes 2FA tokens
        // (other rules may add freezes and holds of their own, never fewer).
        assertThat(sum(samples, "action_commands", Map.of("action", "revoke_mfa_tokens"))).isEqualTo(ua);
        assertThat(sum(samples, "action_commands", Map.of("action", "freeze_account"))).isGreaterThanOrEqualTo(ua);
        assertThat(sum(samples, "action_commands", Map.of("action", "hold_withdrawal"))).isGreaterThanOrEqualTo(ua);
    }

    @Test
    void freezeAndDecisionLatenciesAreMeasuredForEveryAlert() {
        double alerts = sum(samples, "rule_severity_alerts", Map.of());
        assertThat(sum(samples, "decision_latency_ms_count", Map.of())).isEqualTo(alerts);
        // A freeze per unauthorized approval, measured from the approval's append to Kafka.
        assertThat(sum(samples, "freeze_latency_ms_count", Map.of()))
                .isGreaterThanOrEqualTo(truth.unauthorizedApprovals().size());
        List<Sample> p99 = samples.stream().filter(s -> s.name().equals(OURS + "freeze_latency_ms")
                && "0.99".equals(s.labels().get("quantile"))
                && !Double.isNaN(s.value())).toList(); // NaN: a subtask that planned no freeze
        assertThat(p99).isNotEmpty().allSatisfy(s -> assertThat(s.value())
                .as("p99 freeze latency, ms: from the record's append to the command, within this test's deadline")
                .isBetween(0.0, (double) DEADLINE.toMillis()));
    }

    /**
     * A real Prometheus (Debian's, from infra/prometheus/fetch) scrapes the running job with the
     * project's alert rules loaded: the alert counters are queryable over its HTTP API, and every
     * rule evaluates without error against the job's real series.
     */
    @Test
    void aRealPrometheusScrapesTheJobAndEvaluatesTheAlertRules() throws Exception {
        Path bin = io.tourniquet.testing.PrometheusDistribution.bin();
        Path config = dir.resolve("prometheus.yml");
        String target = URI.create(endpoint).getAuthority();
        Files.writeString(config, String.join("\n",
                "global:", "  scrape_interval: 1s", "  evaluation_interval: 1s",
                "rule_files:", "  - " + io.tourniquet.testing.PrometheusDistribution.infraDir().resolve("alerts.yml"),
                "scrape_configs:", "  - job_name: tourniquet", "    static_configs:", "      - targets: ['" + target + "']",
                ""));
        String listen = "127.0.0.1:" + Integer.getInteger("tourniquet.test.prometheus.server.port", 19090);
        Process prometheus = new ProcessBuilder(bin.resolve("prometheus").toString(), "--config.file=" + config,
                "--storage.tsdb.path=" + dir.resolve("tsdb"), "--web.listen-address=" + listen)
                .redirectErrorStream(true).redirectOutput(dir.resolve("prometheus.log").toFile()).start();
        try {
            String api = "http://" + listen + "/api/v1/";
            String query = java.net.URLEncoder.encode("sum(" + OURS + "rule_severity_alerts{rule=\"unauthorized_approval\"})",
                    java.nio.charset.StandardCharsets.UTF_8);
            double expected = truth.unauthorizedApprovals().size();
            long end = System.nanoTime() + Duration.ofSeconds(90).toNanos();
            double seen = Double.NaN;
            while (System.nanoTime() < end && seen != expected) {
                assertThat(prometheus.isAlive()).as(Files.readString(dir.resolve("prometheus.log"))).isTrue();
                String body = get(api + "query?query=" + query);
                if (body != null) {
                    var result = io.tourniquet.json.Json.MAPPER.readTree(body).path("data").path("result");
                    if (result.size() == 1) seen = Double.parseDouble(result.get(0).path("value").get(1).asText());
                }
                if (seen != expected) Thread.sleep(250); // polling interval inside the deadline
            }
            assertThat(seen).as("unauthorized-approval alerts as Prometheus has them").isEqualTo(expected);

            // Every rule group loaded and evaluated on the job's series without an error.
            var groups = io.tourniquet.json.Json.MAPPER.readTree(get(api + "rules")).path("data").path("groups");
            assertThat(groups.size()).isPositive();
            List<String> broken = new ArrayList<>();
            int rules = 0;
            for (var g : groups) {
                for (var r : g.path("rules")) {
                    rules++;
                    if (!"ok".equals(r.path("health").asText()) && !"unknown".equals(r.path("health").asText())) {
                        broken.add(r.path("name").asText() + ": " + r.path("lastError").asText());
                    }
                }
            }
            assertThat(rules).isGreaterThanOrEqualTo(10);
            assertThat(broken).isEmpty();
        } finally {
            prometheus.destroy();
            if (!prometheus.waitFor(30, java.util.concurrent.TimeUnit.SECONDS)) prometheus.destroyForcibly();
        }
    }

    @Test
    void theWatermarkLagAndOpenIncidentsAreExported() {
        assertThat(samples.stream().map(Sample::name)).contains(OURS + "watermark_lag_ms", OURS + "open_incidents");
        assertThat(sum(samples, "open_incidents", Map.of())).isGreaterThanOrEqualTo(1);
    }
}
