package io.tourniquet.cli;

import io.tourniquet.util.TextTable;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.tourniquet.config.Settings;
import io.tourniquet.config.TourniquetConfig;
import io.tourniquet.json.Json;
import io.tourniquet.util.Times;
import java.io.PrintWriter;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * What {@code status} found, the health it concludes from it, and the two ways it is shown: a
 * screen for a person and JSON for scripts. Filled by {@link StatusCommand}; a value that could not
 * be measured is null (shown as {@code -}, JSON {@code null}) and what went wrong is in
 * {@link #problems}.
 *
 * <p>The JSON's field names are a contract for scripts (README, Operations: status): fields may be
 * added, none renamed.
 */
final class StatusReport {
    /** What scripts act on: the exit code is the ordinal. */
    enum Health {
        HEALTHY, DEGRADED, DOWN;

        int exitCode() {
            return ordinal();
        }

        String word() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }
    }

    /** When a measured value makes the pipeline degraded (settings {@code status.*}). */
    record Thresholds(Duration checkpointMaxAge, long consumerLagMax, Duration watermarkLagMax) {
        static Thresholds from(TourniquetConfig cfg) {
            return new Thresholds(cfg.get(Settings.STATUS_CHECKPOINT_MAX_AGE), cfg.get(Settings.STATUS_CONSUMER_LAG_MAX),
                    cfg.get(Settings.STATUS_WATERMARK_LAG_MAX));
        }
    }

    /** A job's last completed checkpoint; the age is by the JobManager's clock, so skew does not enter. */
    record Checkpoint(long id, long completedAt, long ageMs, String path) {}

    /**
     * One of the two jobs, as its JobManager reports it. {@code state} is Flink's job state, or
     * {@link #NOT_FOUND} when no JobManager where we looked lists it ({@code lookedAt} says where).
     */
    record Job(String job, String name, String state, String jobId, String endpoint, long runningForMs,
               Checkpoint lastCheckpoint, String lookedAt) {
        static final String NOT_FOUND = "NOT_FOUND";

        static Job notFound(String job, String name, String lookedAt) {
            return new Job(job, name, NOT_FOUND, null, null, 0, null, lookedAt);
        }

        boolean running() {
            return state.equals("RUNNING");
        }
    }

    /** Records a job's consumer group has not committed yet on one of its input topics. */
    record Lag(String job, String group, String topic, long lag) {}

    /** Incidents whose newest version is not {@code resolved}. */
    record Incidents(int count, Map<String, Integer> byStatus, List<String> ids) {}

    long checkedAt;
    Duration window = Duration.ofHours(1);
    Thresholds thresholds;
    final List<Job> jobs = new ArrayList<>();
    /** Null: not measured (Kafka unreachable). */
    List<Lag> lag;
    /** The detect job's {@code tourniquet.watermark_lag_ms}, the largest over its subtasks; null: unknown. */
    Long watermarkLagMs;
    /** The index job's {@code tourniquet.es_pending_docs}, summed over its subtasks; null: unknown. */
    Long esPendingDocs;
    Map<String, Long> alertsByRule;
    Map<String, Long> deadLettersByReason;
    Incidents openIncidents;
    /** What could not be measured, and why: one sentence each. */
    final List<String> problems = new ArrayList<>();

    Job job(String job) {
        return jobs.stream().filter(j -> j.job().equals(job)).findFirst().orElse(null);
    }

    /** The health and every reason for it, most serious first. */
    record Verdict(Health health, List<String> reasons) {}

    /**
     * Down when the detect job is not running: nothing is detected and nothing is frozen. Degraded
     * when it runs but something delays or hides what it does (an old checkpoint: alerts wait for
     * the next one; consumer or watermark lag: decisions come late), when the index job is not
     * running (forensics and dashboards fall behind), or when a part could not be measured (not
     * known to be healthy). Otherwise healthy.
     */
    Verdict verdict() {
        List<String> down = new ArrayList<>();
        List<String> degraded = new ArrayList<>();
        Job detect = job("detect");
        if (detect == null || !detect.running()) {
            down.add("detect job not running (nothing is detected or frozen): " + notRunning(detect));
        }
        Job index = job("index");
        if (index == null || !index.running()) {
            degraded.add("index job not running (Elasticsearch falls behind): " + notRunning(index));
        }
        for (Job j : jobs) {
            if (!j.running()) continue;
            long limit = thresholds.checkpointMaxAge().toMillis();
            if (j.lastCheckpoint() == null && j.runningForMs() > limit) {
                degraded.add(j.job() + " job: no completed checkpoint in " + human(j.runningForMs()) + " since it started"
                        + " (limit " + human(limit) + ")");
            } else if (j.lastCheckpoint() != null && j.lastCheckpoint().ageMs() > limit) {
                degraded.add(j.job() + " job: last completed checkpoint " + human(j.lastCheckpoint().ageMs())
                        + " ago (limit " + human(limit) + ")");
            }
        }
        if (lag != null) {
            for (Lag l : lag) {
                if (l.lag() > thresholds.consumerLagMax()) {
                    degraded.add(l.job() + " job: " + num(l.lag()) + " records behind on " + l.topic()
                            + " (limit " + num(thresholds.consumerLagMax()) + ")");
                }
            }
        }
        if (detect != null && detect.running()) {
            long limit = thresholds.watermarkLagMax().toMillis();
            if (watermarkLagMs == null) {
                degraded.add("detect job: watermark lag not reported");
            } else if (watermarkLagMs > limit) {
                degraded.add("detect job: event time " + human(watermarkLagMs) + " behind the wall clock (limit "
                        + human(limit) + ")");
            }
        }
        for (String p : problems) degraded.add("not measured: " + p);
        List<String> reasons = new ArrayList<>(down);
        reasons.addAll(degraded);
        Health h = !down.isEmpty() ? Health.DOWN : !degraded.isEmpty() ? Health.DEGRADED : Health.HEALTHY;
        return new Verdict(h, reasons);
    }

    private static String notRunning(Job j) {
        if (j == null) return "not looked for";
        return j.state().equals(Job.NOT_FOUND) ? "no " + j.name() + " at " + j.lookedAt()
                : j.state() + " at " + j.endpoint();
    }

    // ---- the screen ----

    void printText(PrintWriter out) {
        Verdict v = verdict();
        out.println("Tourniquet " + v.health().name() + " (exit " + v.health().exitCode() + ") at "
                + Times.format(checkedAt));
        for (String r : v.reasons()) out.println("  - " + r);

        out.println();
        TextTable jobsTable = new TextTable("job", "state", "job id", "REST endpoint", "last checkpoint", "age>");
        for (Job j : jobs) {
            Checkpoint c = j.lastCheckpoint();
            jobsTable.row(j.job(), j.state().equals(Job.NOT_FOUND) ? "not running" : j.state(), j.jobId(),
                    j.endpoint(),
                    c == null ? (j.running() ? "none yet" : null) : "#" + c.id(), c == null ? null : human(c.ageMs()));
        }
        jobsTable.print(out);

        out.println();
        out.println("Consumer lag (records not yet committed by the job's checkpoints):");
        if (lag == null) {
            out.println("  unknown");
        } else {
            TextTable t = new TextTable("job", "group", "topic", "lag>");
            for (Lag l : lag) t.row(l.job(), l.group(), l.topic(), num(l.lag()));
            t.print(out);
        }

        out.println();
        out.println("Watermark lag (detect job):    " + (watermarkLagMs == null ? "-" : human(watermarkLagMs)));
        out.println("Elasticsearch sink backlog:    " + (esPendingDocs == null ? "-"
                : num(esPendingDocs) + " documents"));
        out.println("Open incidents:                " + (openIncidents == null ? "-" : incidentsLine(openIncidents)));

        String w = human(window.toMillis());
        counts(out, "Alerts in the last " + w, "rule", alertsByRule);
        counts(out, "Dead letters in the last " + w, "reason", deadLettersByReason);

        out.flush();
    }

    private static String incidentsLine(Incidents i) {
        if (i.count() == 0) return "0";
        List<String> parts = new ArrayList<>();
        i.byStatus().forEach((s, n) -> parts.add(n + " " + s));
        return i.count() + " (" + String.join(", ", parts) + "): " + String.join(", ", i.ids());
    }

    private static void counts(PrintWriter out, String title, String key, Map<String, Long> counts) {
        out.println();
        if (counts == null) {
            out.println(title + ": unknown");
        } else if (counts.isEmpty()) {
            out.println(title + ": none");
        } else {
            out.println(title + ":");
            TextTable t = new TextTable(key, "count>");
            counts.forEach((k, n) -> t.row(k, num(n)));
            t.print(out);
        }
    }

    static String num(long n) {
        return String.format(java.util.Locale.ROOT, "%,d", n);
    }

    /** 850 ms, 12.3 s, 4 min 5 s, 1 h, 3 h 20 min, 2 d 4 h. */
    static String human(long ms) {
        if (ms < 1_000) return ms + " ms";
        long s = ms / 1_000;
        if (s < 60) return String.format(java.util.Locale.ROOT, "%.1f s", ms / 1_000.0);
        if (s < 3_600) return two(s / 60, "min", s % 60, "s");
        if (s < 86_400) return two(s / 3_600, "h", s % 3_600 / 60, "min");
        return two(s / 86_400, "d", s % 86_400 / 3_600, "h");
    }

    private static String two(long major, String majorUnit, long minor, String minorUnit) {
        return major + " " + majorUnit + (minor == 0 ? "" : " " + minor + " " + minorUnit);
    }

    // ---- JSON ----

    ObjectNode toJson() {
        Verdict v = verdict();
        ObjectNode root = Json.MAPPER.createObjectNode();
        root.put("status", v.health().word());
        root.put("exit_code", v.health().exitCode());
        root.set("reasons", Json.MAPPER.valueToTree(v.reasons()));
        root.put("checked_at", Times.format(checkedAt));
        ArrayNode js = root.putArray("jobs");
        for (Job j : jobs) {
            ObjectNode n = js.addObject();
            n.put("job", j.job());
            n.put("name", j.name());
            n.put("state", j.state());
            n.put("running", j.running());
            n.put("job_id", j.jobId());
            n.put("rest", j.endpoint());
            if (j.state().equals(Job.NOT_FOUND)) n.put("looked_at", j.lookedAt());
            n.put("running_for_ms", j.running() ? j.runningForMs() : null);
            Checkpoint c = j.lastCheckpoint();
            if (c == null) {
                n.putNull("last_checkpoint");
            } else {
                ObjectNode cn = n.putObject("last_checkpoint");
                cn.put("id", c.id());
                cn.put("completed_at", Times.format(c.completedAt()));
                cn.put("age_ms", c.ageMs());
                cn.put("path", c.path());
            }
        }
        if (lag == null) {
            root.putNull("consumer_lag");
        } else {
            ArrayNode ls = root.putArray("consumer_lag");
            for (Lag l : lag) {
                ls.addObject().put("job", l.job()).put("group", l.group()).put("topic", l.topic()).put("lag", l.lag());
            }
        }
        root.put("watermark_lag_ms", watermarkLagMs);
        root.put("elasticsearch_pending_docs", esPendingDocs);
        root.put("window_ms", window.toMillis());
        root.set("alerts_by_rule", counts(alertsByRule));
        root.set("dead_letters_by_reason", counts(deadLettersByReason));
        if (openIncidents == null) {
            root.putNull("open_incidents");
        } else {
            ObjectNode i = root.putObject("open_incidents");
            i.put("count", openIncidents.count());
            i.set("by_status", Json.MAPPER.valueToTree(new TreeMap<>(openIncidents.byStatus())));
            i.set("ids", Json.MAPPER.valueToTree(openIncidents.ids()));
        }
        root.putObject("thresholds")
                .put("checkpoint_max_age_ms", thresholds.checkpointMaxAge().toMillis())
                .put("consumer_lag_max", thresholds.consumerLagMax())
                .put("watermark_lag_max_ms", thresholds.watermarkLagMax().toMillis());
        root.set("problems", Json.MAPPER.valueToTree(problems));
        return root;
    }

    private static com.fasterxml.jackson.databind.JsonNode counts(Map<String, Long> counts) {
        return counts == null ? Json.MAPPER.nullNode() : Json.MAPPER.valueToTree(new TreeMap<>(counts));
    }
}
