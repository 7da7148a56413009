package io.tourniquet.pipeline;

import static org.assertj.core.api.Assertions.assertThat;
import co.elastic.clients.elasticsearch.ElasticsearchClient;
import com.fasterxml.jackson.databind.JsonNode;
import io.tourniquet.config.Setting;
import io.tourniquet.config.Settings;
import io.tourniquet.config.TourniquetConfig;
import io.tourniquet.detect.job.DetectJobRunner;
import io.tourniquet.index.EsClients;
import io.tourniquet.sim.GroundTruth;
import io.tourniquet.sim.Simulation;
import io.tourniquet.sim.SimulationConfig;
import io.tourniquet.sim.SimulationWriter;
import io.tourniquet.sim.Simulator;
import io.tourniquet.testing.CliProcess;
import io.tourniquet.testing.LocalServices;
import io.tourniquet.testing.ReplayedIncident;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A crash mid-replay loses nothing and repeats nothing that matters. {@code tourniquet run
 * --bounded} runs in its own JVM, exactly as an operator starts it, with durable checkpoints on
 * RocksDB. Once it has completed a checkpoint, and while the detect job is still reading, the
 * process is killed with SIGKILL (no shutdown hook, no savepoint, Kafka transactions left open).
 * The same command is started again: it must say it resumes from that checkpoint, and the result
 * on Kafka (read_committed) and in Elasticsearch must be what an uninterrupted run gives, which
 * the simulator's ground truth states: every expected alert exactly once, no extra alert of any
 * rule, no freeze of an innocent user, every command signed and one per trigger, every event
 * indexed once.
 */
@ExtendWith(LocalServices.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class CrashRestartITCase implements EqualsAnUninterruptedRun {
    static final String KEY = "crash-itcase-signing-key-0123456789abcdef";
    static final String CONTROL_KEY = "crash-itcase-control-key-0123456789abcdef";
    static final Duration RUN_DEADLINE = Duration.ofMinutes(5);

    /** Kept after the run (not a temp dir): the two runs' consoles and logs are what explains a failure. */
    static final Path dir = Path.of("target", "crash-restart").toAbsolutePath();

    TourniquetConfig cfg;
    GroundTruth truth;
    ElasticsearchClient es;
    String firstRun;
    String secondRun;
    boolean detectFinishedBeforeKill;
    Path completedAtKill;

    @BeforeAll
    void crashAndRestart() throws Exception {
        CliProcess.deleteRecursively(dir);
        Files.createDirectories(dir);
        cfg = ReplayedIncident.config("crash", KEY, CONTROL_KEY);
        // Large enough that the detect job is still reading when its first checkpoint completes.
        Simulation sim = Simulator.generate(SimulationConfig.builder()
                .seed(20220117).benignUsers(400).attackVictims(40).malformedCount(6).duplicateCount(3)
                .topicsFrom(cfg).build());
        truth = sim.groundTruth();
        SimulationWriter.writeToKafka(sim, cfg.get(Settings.KAFKA_BOOTSTRAP));

        Path checkpoints = dir.resolve("checkpoints");
        Process first = start("first");
        Path completed = awaitCheckpointAfterReading(first, dir.resolve("first.out"),
                checkpoints.resolve(DetectJobRunner.stateName(true)));
        firstRun = Files.readString(dir.resolve("first.out"));
        // Still in the detect job: the index job's line comes only after the detect job finished.
        detectFinishedBeforeKill = firstRun.contains("index-replay job:");
        first.destroyForcibly(); // SIGKILL
        assertThat(first.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(completed).exists();
        completedAtKill = completed;

        Process second = start("second");
        if (!second.waitFor(RUN_DEADLINE.toSeconds(), TimeUnit.SECONDS)) {
            second.destroyForcibly();
            throw new AssertionError("the resumed run did not end within " + RUN_DEADLINE + "; see " + dir);
        }
        secondRun = Files.readString(dir.resolve("second.out"));
        assertThat(second.exitValue()).as(secondRun).isZero();

        es = EsClients.create(cfg);
        for (var s : Settings.INDEX_ALIASES) es.indices().refresh(r -> r.index(cfg.get(s)));
    }

    @AfterAll
    void close() throws IOException {
        if (es != null) es.close();
    }

    /** {@code tourniquet run --bounded} in a JVM of its own, settings as flags, output to {@code <name>.out}. */
    private Process start(String name) throws IOException {
        Map<String, String> settings = CliProcess.settingsOf(cfg);
        settings.put(Settings.CHECKPOINT_DIR.key(), dir.resolve("checkpoints").toUri().toString());
        settings.put(Settings.CHECKPOINT_INTERVAL.key(), "300 ms");
        settings.put(Settings.STATE_BACKEND.key(), "rocksdb");
        return CliProcess.start(dir, name, List.of("run", "--bounded"), settings, Map.of(
                "TOURNIQUET_SIGNING_KEY", KEY, "TOURNIQUET_SIGNING_CONTROL_KEY", CONTROL_KEY,
                "TOURNIQUET_LOCAL_DIR", dir.toString())).process();
    }

    /**
     * Waits (deadline, no fixed sleep) until the detect job has read records and then completed a
     * checkpoint: a checkpoint taken before anything was read would make the restart trivial.
     */
    private static Path awaitCheckpointAfterReading(Process p, Path out, Path jobDir) throws Exception {
        long deadline = System.nanoTime() + RUN_DEADLINE.toNanos();
        int before = -1;
        while (System.nanoTime() < deadline) {
            assertThat(p.isAlive()).as("the first run ended before the kill").isTrue();
            if (before < 0) {
                if (READ_SOME.matcher(Files.readString(out)).find()) before = newestCheckpoint(jobDir);
            } else if (newestCheckpoint(jobDir) > before) {
                return completedCheckpoints(jobDir).max(java.util.Comparator.comparingInt(CrashRestartITCase::number))
                        .orElseThrow();
            }
            Thread.sleep(20);
        }
        throw new AssertionError("no checkpoint after reading under " + jobDir + " within " + RUN_DEADLINE);
    }

    /** A progress line of the detect job with a non-zero count read. */
    static final java.util.regex.Pattern READ_SOME = java.util.regex.Pattern.compile("replay, detect job: [1-9][0-9,]* /");

    private static int newestCheckpoint(Path jobDir) throws IOException {
        return completedCheckpoints(jobDir).mapToInt(CrashRestartITCase::number).max().orElse(0);
    }

    private static int number(Path chk) {
        return Integer.parseInt(chk.getFileName().toString().substring("chk-".length()));
    }

    /**
     * Checkpoint directories whose metadata is written (the last file a checkpoint writes). Lists
     * directories only: files appear and are renamed while the job runs.
     */
    private static Stream<Path> completedCheckpoints(Path jobDir) throws IOException {
        List<Path> done = new ArrayList<>();
        for (Path job : list(jobDir)) {
            for (Path chk : list(job)) {
                if (chk.getFileName().toString().matches("chk-\\d+") && Files.exists(chk.resolve("_metadata"))) {
                    done.add(chk);
                }
            }
        }
        return done.stream();
    }

    private static List<Path> list(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.filter(Files::isDirectory).toList();
        } catch (java.nio.file.NoSuchFileException e) {
            return List.of(); // not created yet, or a checkpoint subsumed and deleted meanwhile
        }
    }

    private List<JsonNode> read(Setting<String> topic) throws IOException {
        return outcome().read(topic);
    }

    private ReplayOutcome outcome;

    @Override
    public ReplayOutcome outcome() {
        // One per class: its topic reads serve every check (the replay has ended by then).
        if (outcome == null) outcome = new ReplayOutcome(cfg, truth, KEY);
        return outcome;
    }

    @Test
    void theKillLandedMidReplayAndTheSecondRunSaysItResumed() {
        assertThat(detectFinishedBeforeKill).as("killed while the detect job was still running: " + firstRun).isFalse();
        assertThat(secondRun).contains("detect-replay job: resuming from checkpoint ");
        // The newest checkpoint at the kill: the one seen, or one completed in the instant after.
        var resumed = java.util.regex.Pattern.compile("detect-replay job: resuming from checkpoint \\S*/chk-(\\d+) ")
                .matcher(secondRun);
        assertThat(resumed.find()).isTrue();
        assertThat(Integer.parseInt(resumed.group(1))).isGreaterThanOrEqualTo(number(completedAtKill));
    }

    @Test
    void everyDocumentIsIndexedOnce() throws IOException {
        long validUnique = truth.validEventsByTopic().values().stream().mapToLong(Integer::longValue).sum();
        assertThat(es.count(c -> c.index(cfg.get(Settings.INDEX_EVENTS))).count()).isEqualTo(validUnique);
        assertThat(es.count(c -> c.index(cfg.get(Settings.INDEX_ALERTS))).count())
                .isEqualTo(read(Settings.TOPIC_ALERTS).size());
        long distinctActions = read(Settings.TOPIC_ACTIONS).stream().map(a -> a.path("action_id").asText())
                .distinct().count();
        assertThat(es.count(c -> c.index(cfg.get(Settings.INDEX_ACTIONS))).count()).isEqualTo(distinctActions);
    }
}
