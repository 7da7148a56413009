package io.tourniquet.pipeline;

import static org.assertj.core.api.Assertions.assertThat;
import com.fasterxml.jackson.databind.JsonNode;
import io.tourniquet.cli.Main;
import io.tourniquet.config.Settings;
import io.tourniquet.config.TourniquetConfig;
import io.tourniquet.json.Json;
import io.tourniquet.kafka.KafkaConnectors;
import io.tourniquet.kafka.TopicReader;
import io.tourniquet.sim.GroundTruth;
import io.tourniquet.sim.Simulation;
import io.tourniquet.sim.SimulationWriter;
import io.tourniquet.testing.CliProcess;
import io.tourniquet.testing.LocalServices;
import io.tourniquet.testing.ReplayedIncident;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * What on-call sees of a live run: {@code tourniquet run} (both jobs, its own JVM, as an operator
 * starts it) replays a simulated incident; {@code tourniquet status --json}, found on loopback like
 * {@code savepoint} finds it, must report both jobs running and checkpointing, no lag once caught
 * up, exactly the alerts per rule and dead letters per reason their topics hold, the incident
 * open, and exit 0; once the run is stopped, the screen says the detect job is down and exits 2.
 */
@ExtendWith(LocalServices.class)
class StatusCommandITCase {
    static final String KEY = "status-itcase-signing-key-0123456789abcdef";
    static final String CONTROL_KEY = "status-itcase-control-key-0123456789abcdef";
    static final Duration DEADLINE = Duration.ofMinutes(3);
    /** Away from a developer's own 'run' on the default range and from the other ITCases' ranges. */
    static final String REST_PORTS = "18681-18700";
    static final Path dir = Path.of("target", "status-command").toAbsolutePath();

    CliProcess run;

    @AfterEach
    void cleanUp() throws InterruptedException {
        if (run != null && run.process().isAlive()) run.kill();
    }

    /** {@code status} in this JVM, through the launcher's command line; exit code, stdout, stderr. */
    record Status(int exit, String out, String err) {
        JsonNode json() throws Exception {
            return Json.MAPPER.readTree(out);
        }
    }

    @Test
    void aLiveReplayIsHealthyWithItsOutputsCountedAndDownOnceStopped() throws Exception {
        CliProcess.deleteRecursively(dir);
        Files.createDirectories(dir);
        TourniquetConfig cfg = ReplayedIncident.config("status", KEY, CONTROL_KEY);
        Simulation sim = ReplayedIncident.simulate(cfg, 20220117);
        GroundTruth truth = sim.groundTruth();
        SimulationWriter.writeToKafka(sim, cfg.get(Settings.KAFKA_BOOTSTRAP));
        Map<String, String> settings = CliProcess.settingsOf(cfg);
        settings.put(Settings.CHECKPOINT_DIR.key(), dir.resolve("checkpoints").toUri().toString());
        settings.put(Settings.CHECKPOINT_INTERVAL.key(), "1 s");
        settings.put(Settings.REST_PORTS.key(), REST_PORTS);
        settings.put(Settings.PROMETHEUS_PORTS.key(), "none"); // not what is tested here; no port to share
        run = CliProcess.start(dir, "run", List.of("run"), settings, Map.of("TOURNIQUET_SIGNING_KEY", KEY,
                "TOURNIQUET_SIGNING_CONTROL_KEY", CONTROL_KEY, "TOURNIQUET_LOCAL_DIR", dir.toString()));
        run.awaitConsole(c -> c.contains("running; Ctrl-C stops both jobs with a savepoint"), DEADLINE, "running");
        // The simulated incident is dated January 2022, so once the detect job has read it its event
        // time really is years behind the wall clock, which status rightly calls degraded in a live
        // deployment (StatusReportTest pins that rule). Here the rest of the screen is tested.
        Map<String, String> statusSettings = new java.util.LinkedHashMap<>(settings);
        statusSettings.put(Settings.STATUS_WATERMARK_LAG_MAX.key(), "3650 d");

        // The alerts are out: every unauthorized approval of the simulation alerted and committed.
        String alerts = cfg.get(Settings.TOPIC_ALERTS);
        String dlq = cfg.get(Settings.TOPIC_DLQ);
        int ua = truth.unauthorizedApprovals().size();
        await(() -> countBy(cfg, alerts, "rule").getOrDefault("unauthorized_approval", 0L) == ua,
                "the " + ua + " unauthorized_approval alerts on " + alerts);

        // Caught up: every group of both jobs has committed everything on its topics.
        Status caughtUp = awaitStatus(statusSettings, s -> {
            JsonNode lag = s.path("consumer_lag");
            if (!lag.isArray() || lag.isEmpty()) return false;
            for (JsonNode l : lag) if (l.path("lag").asLong() != 0) return false;
            return true;
        }, "every consumer lag 0");
        JsonNode lag = caughtUp.json().path("consumer_lag");
        List<String> inputs = new ArrayList<>(KafkaConnectors.inputTopics(cfg));
        inputs.add(cfg.get(Settings.TOPIC_CONTROL));
        inputs.addAll(io.tourniquet.index.IndexTargets.from(cfg).topics());
        assertThat(lag.findValuesAsText("topic")).containsExactlyElementsOf(inputs);

        // Counted exactly: the topics read before and after the status hold the same, so the status
        // (which reads them in between) must hold exactly that too. Repeated while something still
        // arrives (a late decision), within the deadline.
        Status status = null;
        Map<String, Long> alertsByRule = null;
        Map<String, Long> deadLetters = null;
        long end = System.nanoTime() + DEADLINE.toNanos();
        while (System.nanoTime() < end) {
            Map<String, Long> alertsBefore = countBy(cfg, alerts, "rule");
            Map<String, Long> dlqBefore = countBy(cfg, dlq, "reason_code");
            status = status(statusSettings, "--json");
            alertsByRule = countBy(cfg, alerts, "rule");
            deadLetters = countBy(cfg, dlq, "reason_code");
            if (alertsByRule.equals(alertsBefore) && deadLetters.equals(dlqBefore)) break;
            status = null;
            Thread.sleep(500); // polling interval inside the deadline
        }
        assertThat(status).as("the alerts and dead-letter topics stopped changing within " + DEADLINE).isNotNull();
        JsonNode json = status.json();
        assertThat(status.exit()).as(status.out() + status.err()).isZero();
        assertThat(json.path("status").asText()).isEqualTo("healthy");
        assertThat(json.path("reasons")).isEmpty();
        for (JsonNode job : json.path("jobs")) {
            assertThat(job.path("state").asText()).as(job.toString()).isEqualTo("RUNNING");
            int port = Integer.parseInt(job.path("rest").asText().replace("http://127.0.0.1:", ""));
            assertThat(port).as("a port of job.rest-ports").isBetween(18681, 18700);
            assertThat(job.path("last_checkpoint").path("id").asLong()).as(job.toString()).isPositive();
            assertThat(job.path("last_checkpoint").path("path").asText()).startsWith(dir.resolve("checkpoints").toUri()
                    .toString().replace("file:///", "file:/"));
        }
        assertThat(json.path("jobs").findValuesAsText("job")).containsExactly("detect", "index");
        for (JsonNode l : json.path("consumer_lag")) assertThat(l.path("lag").asLong()).as(l.toString()).isZero();
        assertThat(json.path("alerts_by_rule").path("unauthorized_approval").asLong()).isEqualTo(ua);
        assertThat(counts(json.path("alerts_by_rule"))).isEqualTo(alertsByRule);
        assertThat(deadLetters).isNotEmpty();
        assertThat(counts(json.path("dead_letters_by_reason"))).isEqualTo(deadLetters);
        assertThat(json.path("open_incidents").path("count").asInt()).isGreaterThanOrEqualTo(1);
        assertThat(json.path("open_incidents").path("ids")).isNotEmpty();
        assertThat(json.path("watermark_lag_ms").isNumber()).as("the detect job reports its watermark lag").isTrue();
        assertThat(json.path("elasticsearch_pending_docs").isNumber()).as("the index job reports its backlog").isTrue();
        assertThat(json.path("problems")).isEmpty();

        // Stopped (SIGTERM, as Ctrl-C): nothing answers where 'run' was; the screen says so.
        run.process().destroy();
        assertThat(run.process().waitFor(DEADLINE.toSeconds(), TimeUnit.SECONDS)).as(run.console()).isTrue();
        Status down = status(statusSettings);
        assertThat(down.exit()).as(down.out() + down.err()).isEqualTo(2);
        assertThat(down.out().lines().findFirst().orElseThrow()).startsWith("Tourniquet DOWN (exit 2) at ");
        assertThat(down.out()).contains("  - detect job not running (nothing is detected or frozen): no tourniquet-detect"
                + " at 127.0.0.1 ports " + REST_PORTS + "; no Flink REST endpoint answered there");
        assertThat(down.out()).containsPattern("detect +not running");
        // What Kafka holds is still there for on-call while the job is down.
        assertThat(down.out()).containsPattern("unauthorized_approval +" + ua + "\n");
    }

    static Status status(Map<String, String> settings, String... flags) {
        List<String> args = new ArrayList<>(List.of("status"));
        args.addAll(List.of(flags));
        settings.forEach((k, v) -> args.addAll(List.of("--set", k + "=" + v)));
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        picocli.CommandLine cl = Main.commandLine();
        cl.setOut(new PrintWriter(out, true));
        cl.setErr(new PrintWriter(err, true));
        int exit = cl.execute(args.toArray(String[]::new));
        return new Status(exit, out.toString(), err.toString());
    }

    /** {@code status --json} again and again (a polling loop inside the deadline) until {@code done}. */
    Status awaitStatus(Map<String, String> settings, Predicate<JsonNode> done, String what) throws Exception {
        long end = System.nanoTime() + DEADLINE.toNanos();
        Status last = null;
        while (System.nanoTime() < end) {
            assertThat(run.process().isAlive()).as(run.console()).isTrue();
            last = status(settings, "--json");
            if (!last.out().isBlank() && done.test(last.json())) return last;
            Thread.sleep(500); // polling interval inside the deadline
        }
        throw new AssertionError("not within " + DEADLINE + ": " + what + "; last status:\n"
                + (last == null ? "(none)" : last.out() + last.err()));
    }

    void await(java.util.concurrent.Callable<Boolean> condition, String what) throws Exception {
        long end = System.nanoTime() + DEADLINE.toNanos();
        while (System.nanoTime() < end) {
            assertThat(run.process().isAlive()).as(run.console()).isTrue();
            if (condition.call()) return;
            Thread.sleep(500); // polling interval inside the deadline
        }
        throw new AssertionError("not within " + DEADLINE + ": " + what + "\n" + run.console());
    }

    static Map<String, Long> counts(JsonNode byKey) {
        return Json.MAPPER.convertValue(byKey, new com.fasterxml.jackson.core.type.TypeReference<TreeMap<String, Long>>() {});
    }

    /** The records of a whole topic, by the value of one JSON field. */
    static Map<String, Long> countBy(TourniquetConfig cfg, String topic, String field) throws Exception {
        Map<String, Long> counts = new TreeMap<>();
        for (var r : TopicReader.readAll(cfg.get(Settings.KAFKA_BOOTSTRAP), topic, Duration.ofSeconds(60))) {
            counts.merge(Json.MAPPER.readTree(r.value()).path(field).asText(), 1L, Long::sum);
        }
        return counts;
    }
}
