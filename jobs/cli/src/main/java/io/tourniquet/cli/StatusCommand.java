package io.tourniquet.cli;

import com.fasterxml.jackson.databind.JsonNode;
import io.tourniquet.config.Settings;
import io.tourniquet.config.TourniquetConfig;
import io.tourniquet.index.IndexTargets;
import io.tourniquet.json.Json;
import io.tourniquet.kafka.ConsumerLag;
import io.tourniquet.kafka.KafkaClientConfig;
import io.tourniquet.kafka.KafkaConnectors;
import io.tourniquet.kafka.KafkaTopics;
import io.tourniquet.kafka.TopicReader;
import io.tourniquet.model.Incident;
import io.tourniquet.runtime.PipelineMetrics;
import java.io.IOException;
import java.io.PrintWriter;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * One screen for on-call: is each job running, is it checkpointing, is it keeping up, what has it
 * said in the last hour. The jobs' side comes from Flink's REST API (a running {@code run} found on
 * loopback as {@code savepoint} finds it, or a cluster's JobManager with {@code --rest}); the rest
 * from Kafka, so that it is there when the detect job is not: consumer lag from the groups' committed
 * offsets, alerts and dead letters from their topics by append time, open incidents from the
 * incidents topic.
 *
 * <p>Open incidents are counted from the topic (the newest version of each incident that is not
 * resolved), not from the detect job's {@code open_incidents} gauge: the gauge is recounted only
 * when the incident tracker next receives something, so it reads 0 after every restart until then,
 * and it is not there at all when the job is down, which is when on-call most needs the figure.
 */
@Command(name = "status", mixinStandardHelpOptions = true, sortOptions = false,
        // 2 means "down" here: a status that could not be taken must not read as one.
        exitCodeOnInvalidInput = 3, exitCodeOnExecutionException = 3,
        description = {"One screen for on-call: each job running or not, its last completed checkpoint and its age, "
                + "consumer lag per input topic, the detect job's watermark lag, alerts per rule and dead letters per "
                + "reason in the last hour, open incidents, the Elasticsearch sink's backlog.",
                "Finds a running 'tourniquet run' on 127.0.0.1 (job.rest-ports), or use --rest for a cluster's "
                        + "JobManager. Thresholds: status.checkpoint-max-age, status.consumer-lag-max, "
                        + "status.watermark-lag-max."},
        exitCodeListHeading = "%nExit codes:%n",
        exitCodeList = {"0:healthy", "1:degraded: the detect job runs, but something is late, behind, not running "
                + "(the index job) or could not be measured", "2:down: the detect job is not running",
                "3:no status: invalid arguments or settings, or the jobs to look at are ambiguous"})
public final class StatusCommand implements Callable<Integer> {
    static final String DETECT = "tourniquet-detect";
    static final String INDEX = "tourniquet-index";

    @Mixin
    ConfigOptions options;

    @Option(names = "--rest", paramLabel = "URL", description = "A JobManager's REST address, e.g. http://flink-jm:8081 "
            + "(default: look for a running 'run' on 127.0.0.1).")
    String rest;

    @Option(names = "--json", description = "Print JSON (field names in the README, Operations: status).")
    boolean json;

    @Option(names = "--window", paramLabel = "DURATION", defaultValue = "1 h",
            description = "How far back alerts and dead letters are counted, by append time (default: ${DEFAULT-VALUE}).")
    String window;

    @Option(names = "--timeout", paramLabel = "DURATION", defaultValue = "30 s",
            description = "Longest each look may take: a Kafka request or topic read, the JobManager's first "
                    + "metrics (default: ${DEFAULT-VALUE}).")
    String timeout;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        TourniquetConfig cfg = options.resolve();
        StatusReport report = new StatusReport();
        report.checkedAt = System.currentTimeMillis();
        report.window = org.apache.flink.util.TimeUtils.parseDuration(window);
        report.thresholds = StatusReport.Thresholds.from(cfg);
        Duration wait = org.apache.flink.util.TimeUtils.parseDuration(timeout);
        lookAtJobs(report, FlinkRest.client(), cfg, rest, wait);
        lookAtKafka(report, cfg, wait);
        PrintWriter out = spec.commandLine().getOut();
        if (json) {
            out.println(Json.MAPPER.writerWithDefaultPrettyPrinter().writeValueAsString(report.toJson()));
            out.flush();
        } else {
            report.printText(out);
        }
        return report.verdict().health().exitCode();
    }

    // ---- Flink ----

    /** Both jobs as their JobManager reports them, and the two gauges status shows. */
    static void lookAtJobs(StatusReport report, HttpClient http, TourniquetConfig cfg, String rest, Duration wait)
            throws InterruptedException {
        String where = FlinkRest.where(cfg, rest);
        FlinkRest.Scan scan = FlinkRest.scan(http, FlinkRest.endpoints(cfg, rest));
        String lookedAt = where + (scan.answered().isEmpty() ? "; no Flink REST endpoint answered there" : "");
        long deadline = System.nanoTime() + wait.toNanos();
        // A job is told from another deployment's by a topic it reads (see pick).
        FlinkRest.FoundJob detect = pick(http, scan, DETECT, cfg.get(Settings.TOPIC_LOGINS), where, deadline);
        FlinkRest.FoundJob index = pick(http, scan, INDEX, cfg.get(Settings.TOPIC_ALERTS), where, deadline);
        report.jobs.add(describe(http, "detect", DETECT, detect, lookedAt));
        report.jobs.add(describe(http, "index", INDEX, index, lookedAt));
        if (detect != null && detect.running()) {
            // Per subtask; the worst one is the one holding decisions back.
            report.watermarkLagMs = gauge(http, detect, "watermark_lag_ms", "max", deadline);
        }
        if (index != null && index.running()) {
            report.esPendingDocs = gauge(http, index, "es_pending_docs", "sum", deadline);
        }
    }

    /**
     * The job of that name to report on: the running one; if several run where we looked (a machine
     * with more than one 'run', each on its own topics), the one whose Kafka source reads
     * {@code topic}; if none runs, the latest listed (its state says what became of it); null if
     * none is listed.
     */
    static FlinkRest.FoundJob pick(HttpClient http, FlinkRest.Scan scan, String name, String topic, String where,
                                   long deadline) throws InterruptedException {
        List<FlinkRest.FoundJob> named = scan.jobs().stream().filter(j -> j.name().equals(name)).toList();
        List<FlinkRest.FoundJob> running = named.stream().filter(FlinkRest.FoundJob::running).toList();
        if (running.size() == 1) return running.get(0);
        if (running.size() > 1) {
            List<FlinkRest.FoundJob> reading = new ArrayList<>();
            for (FlinkRest.FoundJob j : running) if (readsTopic(http, j, topic, deadline)) reading.add(j);
            if (reading.size() == 1) return reading.get(0);
            throw new IllegalStateException(running.size() + " running " + name + " jobs at " + where + " ("
                    + String.join(", ", running.stream().map(j -> j.endpoint() + " " + j.jid()).toList()) + "), "
                    + (reading.isEmpty() ? "none" : reading.size()) + " of them reading " + topic
                    + ": give the REST address of the one to look at with --rest");
        }
        return named.stream()
                .max(Comparator.comparing((FlinkRest.FoundJob j) -> !FlinkRest.isTerminal(j.state()))
                        .thenComparingLong(FlinkRest.FoundJob::startTime))
                .orElse(null);
    }

    /** Whether one of the job's Kafka sources reports offsets of {@code topic} (the reader's metrics name it). */
    static boolean readsTopic(HttpClient http, FlinkRest.FoundJob job, String topic, long deadline)
            throws InterruptedException {
        String needle = "KafkaSourceReader.topic." + metricScope(topic) + ".";
        for (JsonNode v : vertices(http, job)) {
            if (!v.path("name").asText().startsWith("Source:")) continue;
            for (String id : metricIds(http, vertexUrl(job, v), deadline)) if (id.contains(needle)) return true;
        }
        return false;
    }

    /**
     * A name as it appears in Flink's metric ids: the REST API's metric store replaces the
     * characters that separate or delimit scope components.
     */
    static String metricScope(String name) {
        return name.replaceAll("[ .:,]", "_");
    }

    static StatusReport.Job describe(HttpClient http, String job, String name, FlinkRest.FoundJob found,
                                     String lookedAt) throws InterruptedException {
        if (found == null) return StatusReport.Job.notFound(job, name, lookedAt);
        String base = found.endpoint() + "/jobs/" + found.jid();
        JsonNode detail = FlinkRest.get(http, base).orElse(Json.MAPPER.createObjectNode());
        // The JobManager's clock for ages, so a cluster's skew against this machine does not enter.
        long now = detail.path("now").asLong(System.currentTimeMillis());
        // Since it last became RUNNING: a restart (failover) keeps the job's original start time.
        long since = detail.path("timestamps").path("RUNNING").asLong(0);
        if (since <= 0) since = found.startTime();
        StatusReport.Checkpoint checkpoint = null;
        JsonNode completed = FlinkRest.get(http, base + "/checkpoints")
                .map(c -> c.path("latest").path("completed")).orElse(null);
        if (completed != null && completed.isObject()) {
            long at = completed.path("latest_ack_timestamp").asLong();
            checkpoint = new StatusReport.Checkpoint(completed.path("id").asLong(), at, Math.max(0, now - at),
                    completed.path("external_path").asText(null));
        }
        return new StatusReport.Job(job, name, found.state(), found.jid(), found.endpoint(),
                since > 0 ? Math.max(0, now - since) : 0, checkpoint, lookedAt);
    }

    /**
     * One of Tourniquet's gauges ({@code tourniquet.<name>}, see {@link PipelineMetrics}) aggregated
     * over the subtasks of whichever operator registers it; null if no operator reports it by the
     * deadline. Flink's ids carry the operator's name before the group ({@code
     * Detect_unauthorized_approvals.tourniquet.watermark_lag_ms}), so the id is found by its end.
     */
    static Long gauge(HttpClient http, FlinkRest.FoundJob job, String name, String agg, long deadline)
            throws InterruptedException {
        String suffix = "." + PipelineMetrics.GROUP + "." + name;
        Double total = null;
        for (JsonNode v : vertices(http, job)) {
            List<String> ids = metricIds(http, vertexUrl(job, v), deadline).stream()
                    .filter(id -> id.endsWith(suffix)).toList();
            if (ids.isEmpty()) continue;
            String get = String.join(",", ids.stream().map(id -> URLEncoder.encode(id, StandardCharsets.UTF_8)).toList());
            Optional<JsonNode> values = FlinkRest.get(http, vertexUrl(job, v) + "/subtasks/metrics?get=" + get
                    + "&agg=" + agg);
            for (JsonNode m : values.orElse(Json.MAPPER.createArrayNode())) {
                if (!m.has(agg)) continue;
                double x = m.path(agg).asDouble();
                total = total == null ? x : agg.equals("sum") ? total + x : Math.max(total, x);
            }
        }
        return total == null ? null : Math.round(total);
    }

    private static List<JsonNode> vertices(HttpClient http, FlinkRest.FoundJob job) throws InterruptedException {
        List<JsonNode> out = new ArrayList<>();
        FlinkRest.get(http, job.endpoint() + "/jobs/" + job.jid()).ifPresent(d -> d.path("vertices").forEach(out::add));
        return out;
    }

    private static String vertexUrl(FlinkRest.FoundJob job, JsonNode vertex) {
        return job.endpoint() + "/jobs/" + job.jid() + "/vertices/" + vertex.path("id").asText();
    }

    /**
     * The metric ids of one vertex (aggregated over its subtasks). The JobManager fetches metrics
     * from the TaskManagers only when asked, at most every {@code metrics.fetcher.update-interval}
     * (10 s), and answers from what it has: the first question after a start gets nothing. So an
     * empty list is asked again until the deadline.
     */
    static List<String> metricIds(HttpClient http, String vertexUrl, long deadline) throws InterruptedException {
        while (true) {
            Optional<JsonNode> list = FlinkRest.get(http, vertexUrl + "/subtasks/metrics");
            List<String> ids = new ArrayList<>();
            list.ifPresent(l -> l.forEach(m -> ids.add(m.path("id").asText())));
            if (!ids.isEmpty() || System.nanoTime() > deadline) return ids;
            Thread.sleep(200); // polling interval inside the deadline
        }
    }

    // ---- Kafka ----

    /** Consumer lag, the window's alerts and dead letters, and open incidents; each part on its own. */
    static void lookAtKafka(StatusReport report, TourniquetConfig cfg, Duration wait) throws InterruptedException {
        Properties client = KafkaClientConfig.base(cfg);
        Admin admin = KafkaTopics.admin(cfg);
        try {
            try {
                // One quick question first: if Kafka does not answer, every other part would wait its
                // own timeout for the same reason.
                admin.describeCluster().nodes().get(wait.toMillis(), TimeUnit.MILLISECONDS);
            } catch (Exception e) {
                if (e instanceof InterruptedException) throw (InterruptedException) e;
                report.problems.add(KafkaClientConfig.explain(client, e));
                return;
            }
            report.lag = consumerLag(report, admin, client, cfg, wait);
        } finally {
            // Not the default close, which waits for the pending requests of an unreachable cluster.
            admin.close(Duration.ofSeconds(1));
        }
        long since = report.checkedAt - report.window.toMillis();
        report.alertsByRule = countSince(report, client, cfg.get(Settings.TOPIC_ALERTS), "rule", since, wait);
        report.deadLettersByReason = countSince(report, client, cfg.get(Settings.TOPIC_DLQ), "reason_code", since, wait);
        String incidents = cfg.get(Settings.TOPIC_INCIDENTS);
        try {
            report.openIncidents = openIncidents(TopicReader.readAll(client, incidents, wait));
        } catch (RuntimeException e) {
            report.problems.add("open incidents (" + incidents + "): " + KafkaClientConfig.explain(client, e));
        }
    }

    /** Per input topic of each job, the records its consumer group is behind (groups as KafkaConnectors names them). */
    private static List<StatusReport.Lag> consumerLag(StatusReport report, Admin admin, Properties client,
                                                      TourniquetConfig cfg, Duration wait) throws InterruptedException {
        String prefix = cfg.get(Settings.KAFKA_GROUP_PREFIX);
        // The groups KafkaConnectors.rawSource gives each source: <prefix>-<suffix>.
        record Group(String job, String suffix, List<String> topics) {}
        List<Group> groups = List.of(new Group("detect", "detect", KafkaConnectors.inputTopics(cfg)),
                new Group("detect", "control", List.of(cfg.get(Settings.TOPIC_CONTROL))),
                new Group("index", "index", IndexTargets.from(cfg).topics()));
        List<StatusReport.Lag> lag = new ArrayList<>();
        for (Group g : groups) {
            String group = prefix + "-" + g.suffix();
            try {
                for (ConsumerLag.TopicLag l : ConsumerLag.of(admin, client, group, g.topics(), wait)) {
                    lag.add(new StatusReport.Lag(g.job(), l.group(), l.topic(), l.lag()));
                }
            } catch (Exception e) {
                if (e instanceof InterruptedException) throw (InterruptedException) e;
                report.problems.add("consumer lag of " + group + ": " + KafkaClientConfig.explain(client, e));
            }
        }
        return lag;
    }

    /** Records appended to {@code topic} since {@code since}, by the value of one JSON field. */
    private static Map<String, Long> countSince(StatusReport report, Properties client, String topic, String field,
                                                long since, Duration wait) {
        try {
            Map<String, Long> counts = new TreeMap<>();
            for (ConsumerRecord<byte[], byte[]> r : TopicReader.readSince(client, topic, since, wait)) {
                counts.merge(field(r.value(), field), 1L, Long::sum);
            }
            return counts;
        } catch (RuntimeException e) {
            report.problems.add(topic + ": " + KafkaClientConfig.explain(client, e));
            return null;
        }
    }

    private static String field(byte[] value, String field) {
        try {
            String v = Json.MAPPER.readTree(value).path(field).asText("");
            return v.isEmpty() ? "(none)" : v;
        } catch (IOException | RuntimeException e) {
            return "(unreadable)"; // a record some other writer put there: counted, not fatal
        }
    }

    /** The newest version of each incident (a change is a new record with a higher version), unresolved ones. */
    static StatusReport.Incidents openIncidents(List<ConsumerRecord<byte[], byte[]>> records) {
        Map<String, JsonNode> newest = new HashMap<>();
        for (ConsumerRecord<byte[], byte[]> r : records) {
            JsonNode i;
            try {
                i = Json.MAPPER.readTree(r.value());
            } catch (IOException e) {
                continue;
            }
            String id = i.path("incident_id").asText("");
            if (id.isEmpty()) continue;
            JsonNode seen = newest.get(id);
            // Equal versions are redeliveries (at least once): the later one is as good.
            if (seen == null || i.path("version").asLong() >= seen.path("version").asLong()) newest.put(id, i);
        }
        Map<String, Integer> byStatus = new TreeMap<>();
        List<String> ids = new ArrayList<>();
        newest.values().stream()
                .filter(i -> !Incident.RESOLVED.equals(i.path("status").asText()))
                .sorted(Comparator.comparing((JsonNode i) -> i.path("incident_id").asText()))
                .forEach(i -> {
                    byStatus.merge(i.path("status").asText(), 1, Integer::sum);
                    ids.add(i.path("incident_id").asText());
                });
        return new StatusReport.Incidents(ids.size(), byStatus, ids);
    }
}
