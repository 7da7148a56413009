package io.tourniquet.pipeline;

import static org.assertj.core.api.Assertions.assertThat;
import com.sun.net.httpserver.HttpServer;
import io.opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceRequest;
import io.opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceResponse;
import io.opentelemetry.proto.common.v1.KeyValue;
import io.opentelemetry.proto.metrics.v1.Metric;
import io.opentelemetry.proto.metrics.v1.NumberDataPoint;
import io.opentelemetry.proto.metrics.v1.ResourceMetrics;
import io.opentelemetry.proto.metrics.v1.ScopeMetrics;
import io.tourniquet.config.Settings;
import io.tourniquet.config.TourniquetConfig;
import io.tourniquet.detect.job.DetectJob;
import io.tourniquet.detect.job.DetectJobRunner;
import io.tourniquet.kafka.KafkaConnectors;
import io.tourniquet.runtime.JobEnvironments;
import io.tourniquet.sim.GroundTruth;
import io.tourniquet.sim.Simulation;
import io.tourniquet.sim.SimulationWriter;
import io.tourniquet.testing.LocalServices;
import io.tourniquet.testing.ReplayedIncident;
import java.net.InetSocketAddress;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.DeploymentOptions;
import org.apache.flink.core.execution.CheckpointingMode;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The jobs' OTLP export, received as a collector would: an in-process OTLP/HTTP receiver (the
 * OpenTelemetry proto classes behind the JDK's HTTP server) gets what {@code OtlpMetricReporter}
 * sends while the detect job replays a simulated incident on its own embedded cluster, configured
 * exactly as {@code run} configures it. The final values match the ground truth, with the resource
 * attributes the settings give.
 */
@ExtendWith(LocalServices.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class OtlpMetricsITCase {
    static final String KEY = "otlp-itcase-signing-key-0123456789abcdef";
    static final String CONTROL_KEY = "otlp-itcase-control-key-0123456789abcdef";

    HttpServer receiver;
    final List<ExportMetricsServiceRequest> received = new CopyOnWriteArrayList<>();
    /** The latest value of every series: metric name -> attributes -> value (requests in arrival order). */
    final Map<String, Map<Map<String, String>, Double>> latest = new ConcurrentHashMap<>();
    final Map<String, String> resource = new ConcurrentHashMap<>();
    GroundTruth truth;
    TourniquetConfig cfg;

    @BeforeAll
    void replayWithOtlpExport() throws Exception {
        receiver = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        receiver.createContext("/v1/metrics", exchange -> {
            ExportMetricsServiceRequest req = ExportMetricsServiceRequest.parseFrom(exchange.getRequestBody().readAllBytes());
            received.add(req);
            record(req);
            byte[] ok = ExportMetricsServiceResponse.getDefaultInstance().toByteArray();
            exchange.getResponseHeaders().add("Content-Type", "application/x-protobuf");
            exchange.sendResponseHeaders(200, ok.length);
            exchange.getResponseBody().write(ok);
            exchange.close();
        });
        receiver.start();
        String endpoint = "http://127.0.0.1:" + receiver.getAddress().getPort() + "/v1/metrics";

        cfg = ReplayedIncident.config("otlp", KEY, CONTROL_KEY).with(Map.of(
                Settings.OTLP_ENDPOINT.key(), endpoint, Settings.OTLP_INTERVAL.key(), "1 s",
                Settings.DEPLOYMENT_ENVIRONMENT.key(), "itcase", Settings.PROMETHEUS_PORTS.key(), "none"));
        Simulation sim = ReplayedIncident.simulate(cfg, 20220117);
        truth = sim.groundTruth();
        SimulationWriter.writeToKafka(sim, cfg.get(Settings.KAFKA_BOOTSTRAP));

        // The embedded cluster run starts, with its reporters (a shared test cluster has none).
        Configuration conf = JobEnvironments.configuration(cfg, DetectJobRunner.stateName(true), Optional.empty());
        conf.set(DeploymentOptions.TARGET, "local");
        conf.set(DeploymentOptions.ATTACHED, true);
        StreamExecutionEnvironment env = new StreamExecutionEnvironment(conf);
        env.setParallelism(2);
        env.enableCheckpointing(cfg.get(Settings.CHECKPOINT_INTERVAL).toMillis(), CheckpointingMode.EXACTLY_ONCE);
        DetectJobRunner.wire(env, cfg, true, DetectJob.replayWatermarks(cfg), DetectJobRunner.kafkaSinks(cfg));
        env.execute("tourniquet-detect");
        // execute() returns with the job's result; the embedded cluster shuts down after that, and
        // its reporter's last export (on close) arrives then: wait for it, with a deadline.
        double expected = truth.unauthorizedApprovals().size();
        long end = System.nanoTime() + java.time.Duration.ofSeconds(60).toNanos();
        // Alerts are counted before their freezes are timed: wait for both, so no export taken
        // between the two is mistaken for the last.
        while ((sum("tourniquet.alerts", Map.of("rule", "unauthorized_approval")) != expected
                || sum("tourniquet.freeze_latency_ms.count", Map.of()) < expected) && System.nanoTime() < end) {
            Thread.sleep(100); // polling interval inside the deadline
        }
    }

    @AfterAll
    void stop() {
        if (receiver != null) receiver.stop(0);
    }

    private void record(ExportMetricsServiceRequest req) {
        for (ResourceMetrics rm : req.getResourceMetricsList()) {
            for (KeyValue kv : rm.getResource().getAttributesList()) resource.put(kv.getKey(), kv.getValue().getStringValue());
            for (ScopeMetrics sm : rm.getScopeMetricsList()) {
                for (Metric m : sm.getMetricsList()) {
                    List<NumberDataPoint> points = m.hasSum() ? m.getSum().getDataPointsList()
                            : m.hasGauge() ? m.getGauge().getDataPointsList() : List.of();
                    for (NumberDataPoint p : points) {
                        Map<String, String> attrs = new LinkedHashMap<>();
                        for (KeyValue kv : p.getAttributesList()) {
                            attrs.put(kv.getKey(), kv.getValue().hasDoubleValue()
                                    ? Double.toString(kv.getValue().getDoubleValue()) : kv.getValue().getStringValue());
                        }
                        double v = p.hasAsInt() ? p.getAsInt() : p.getAsDouble();
                        latest.computeIfAbsent(m.getName(), k -> new ConcurrentHashMap<>()).put(attrs, v);
                    }
                }
            }
        }
    }

    private double sum(String name, Map<String, String> where) {
        return latest.getOrDefault(name, Map.of()).entrySet().stream()
                .filter(e -> e.getKey().entrySet().containsAll(where.entrySet()))
                .mapToDouble(Map.Entry::getValue).sum();
    }

    @Test
    void theResourceSaysWhichServiceVersionAndEnvironment() {
        assertThat(received).isNotEmpty();
        assertThat(resource).containsEntry("service.name", "tourniquet-detect")
                .containsEntry("deployment.environment", "itcase");
        assertThat(resource.get("service.version")).as("the build's version").matches("\\d+\\.\\d+\\.\\d+.*");
    }

    @Test
    void finalCountsMatchTheGroundTruth() {
        int ua = truth.unauthorizedApprovals().size();
        assertThat(sum("tourniquet.alerts", Map.of("rule", "unauthorized_approval", "severity", "high"))).isEqualTo(ua);
        assertThat(sum("tourniquet.commands", Map.of("action", "revoke_mfa_tokens"))).isEqualTo(ua);
        Map<String, Integer> eventsIn = new HashMap<>(truth.validEventsByTopic());
        truth.duplicates().forEach(d -> eventsIn.merge(d.topic(), 1, Integer::sum));
        // Label values are the real topic names here: OTLP attributes need no escaping.
        eventsIn.forEach((topic, n) -> assertThat(sum("tourniquet.events_in", Map.of("topic", topic)))
                .as("events_in{topic=%s}", topic).isEqualTo(n.doubleValue()));
        assertThat(sum("tourniquet.dead_letters", Map.of())).isEqualTo(truth.malformedEmitted());
        assertThat(sum("tourniquet.events_in", Map.of("job_name", "tourniquet-detect")))
                .isEqualTo(sum("tourniquet.events_in", Map.of()));
    }

    @Test
    void latencyHistogramsArriveAsQuantilesAndCountsAndFlinksOwnMetricsToo() {
        assertThat(sum("tourniquet.freeze_latency_ms.count", Map.of()))
                .isGreaterThanOrEqualTo(truth.unauthorizedApprovals().size());
        assertThat(latest.getOrDefault("tourniquet.freeze_latency_ms", Map.of()).keySet())
                .anyMatch(a -> "0.99".equals(a.get("quantile")));
        assertThat(latest.keySet()).anyMatch(n -> n.startsWith("flink.") && n.endsWith("numRecordsIn"));
        // Ids that change at every restart are not attributes: they would multiply the series.
        assertThat(latest.get("tourniquet.alerts").keySet()).allSatisfy(a -> assertThat(a).doesNotContainKeys(
                "task_attempt_id", "job_id", "tm_id"));
    }
}
