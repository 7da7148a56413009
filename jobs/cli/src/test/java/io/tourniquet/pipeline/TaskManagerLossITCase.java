package io.tourniquet.pipeline;

import static org.assertj.core.api.Assertions.assertThat;
import com.fasterxml.jackson.databind.JsonNode;
import io.tourniquet.config.Settings;
import io.tourniquet.config.TourniquetConfig;
import io.tourniquet.kafka.KafkaConnectors;
import io.tourniquet.sim.GroundTruth;
import io.tourniquet.sim.SimRecord;
import io.tourniquet.sim.Simulation;
import io.tourniquet.sim.SimulationConfig;
import io.tourniquet.sim.Simulator;
import io.tourniquet.testing.CliProcess;
import io.tourniquet.testing.LocalFlinkCluster;
import io.tourniquet.testing.LocalServices;
import io.tourniquet.testing.ReplayedIncident;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.ListOffsetsOptions;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.IsolationLevel;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Losing a TaskManager mid-replay loses nothing and repeats nothing that matters. The local
 * standalone cluster ({@code infra/local/up --flink-only}: a JobManager and two TaskManagers, each
 * its own JVM) runs the detect job, submitted by {@code tourniquet deploy --bounded} exactly as an
 * operator submits it (RocksDB, durable checkpoints), over a simulated incident.
 *
 * <p><b>Where the kill lands, deterministically.</b> The incident is written up to the middle of
 * the attack in plain records; the rest sits in a Kafka transaction left open. The bounded source's
 * end offsets include it, but its read_committed readers cannot pass it: the job cannot finish, and
 * the first part is all it can read. Once the detect consumer group's committed offsets (committed
 * when a checkpoint completes) reach the open transaction on every input partition, a completed
 * checkpoint holds the whole first part. Then a TaskManager running the job is killed with SIGKILL,
 * a replacement is started with the same script, and only after the job has restarted is the
 * transaction committed: the second part is processed by the recovered job alone, on the state it
 * restored. No wall-clock wait anywhere: every step waits on a condition, with a deadline.
 *
 * <p>The result on Kafka (read_committed) must be what an uninterrupted run gives, which the
 * simulator's ground truth states ({@link ReplayOutcome}, shared with {@link CrashRestartITCase}).
 */
@ExtendWith(LocalServices.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class TaskManagerLossITCase implements EqualsAnUninterruptedRun {
    static final String KEY = "tm-loss-itcase-signing-key-0123456789abcdef";
    static final String CONTROL_KEY = "tm-loss-itcase-control-key-0123456789abcdef";
    static final Duration DEADLINE = Duration.ofMinutes(4);

    /** Kept after the run: consoles, the scripts' output; the cluster's logs are under {@link #CLUSTER}. */
    static final Path dir = Path.of("target", "tm-loss").toAbsolutePath();
    /** The cluster's state dir (its downloaded jars are kept between runs, like local-services'). */
    static final Path CLUSTER = Path.of("target", "local-flink").toAbsolutePath();

    TourniquetConfig cfg;
    GroundTruth truth;
    LocalFlinkCluster cluster;
    KafkaProducer<String, String> heldBack;
    int split;
    String jobId;
    String killedTaskManager;
    int completedBeforeKill;
    long latestCheckpointAtKill;
    long restartsAfterKill;
    boolean heldBackCommittedAfterRestart;
    JsonNode finalJob;
    JsonNode checkpoints;

    private final long t0 = System.nanoTime();

    /** Progress with elapsed time on the test's console: what a slow or failed run took where. */
    private void step(String what) {
        System.out.printf("[tm-loss] %6.1f s  %s%n", (System.nanoTime() - t0) / 1e9, what);
    }

    @BeforeAll
    void loseATaskManagerMidReplay() throws Exception {
        CliProcess.deleteRecursively(dir);
        Files.createDirectories(dir);
        cfg = ReplayedIncident.config("tmloss", KEY, CONTROL_KEY);
        Simulation sim = Simulator.generate(SimulationConfig.builder()
                .seed(20220117).benignUsers(60).attackVictims(16).malformedCount(6).duplicateCount(3)
                .topicsFrom(cfg).build());
        truth = sim.groundTruth();
        split = middleOfTheAttack(sim);
        heldBack = writeHoldingBackFrom(sim, split);

        cluster = new LocalFlinkCluster(CLUSTER, dir.resolve("cluster-scripts.log"));
        cluster.down(); // a cluster left by a test JVM that was killed would carry its jobs and slots
        cluster.up();
        step("cluster up: " + cluster.restUrl());
        jobId = deploy();
        step("detect job deployed: " + jobId + "; " + split + " of " + sim.records().size() + " records released");

        awaitCheckpointOfEverythingBeforeTheHeldBackPart();
        JsonNode atKill = cluster.get("/jobs/" + jobId + "/checkpoints").orElseThrow();
        completedBeforeKill = atKill.path("counts").path("completed").asInt();
        latestCheckpointAtKill = atKill.path("latest").path("completed").path("id").asLong();
        assertThat(jobState()).as("the job is mid-replay at the kill").isEqualTo("RUNNING");
        step("checkpoint " + latestCheckpointAtKill + " holds everything before the held-back part");

        List<String> busy = cluster.busyTaskManagers();
        assertThat(busy).as("a TaskManager runs the job").isNotEmpty();
        killedTaskManager = busy.get(0);
        long pid = cluster.taskManagerPids().get(killedTaskManager);
        ProcessHandle tm = ProcessHandle.of(pid).orElseThrow();
        assertThat(tm.info().commandLine().orElse("")).contains("TaskManagerRunner");
        tm.destroyForcibly(); // SIGKILL: no shutdown, no deregistration
        tm.onExit().get(60, TimeUnit.SECONDS);
        step("killed TaskManager " + killedTaskManager + " (pid " + pid + ")");

        cluster.up(); // the script starts a replacement for the dead TaskManager, nothing else
        cluster.await("/jobs/" + jobId, j -> j.path("state").asText().equals("RUNNING") && restarts() >= 1,
                DEADLINE, "the job restarted after the TaskManager was lost");
        restartsAfterKill = restarts();
        step("replacement started; job running again after " + restartsAfterKill + " restart(s)");
        heldBack.commitTransaction();
        heldBackCommittedAfterRestart = true;
        heldBack.close();
        heldBack = null;

        finalJob = cluster.await("/jobs/" + jobId, j -> isTerminal(j.path("state").asText()), DEADLINE,
                "the recovered replay ended");
        checkpoints = cluster.get("/jobs/" + jobId + "/checkpoints").orElseThrow();
        step("replay ended: " + finalJob.path("state").asText());
    }

    @AfterAll
    void stopTheCluster() throws Exception {
        try {
            if (heldBack != null) {
                // Failed before the release: abort, or the namespace's partitions stay blocked for
                // read_committed readers until the transaction times out.
                try {
                    heldBack.abortTransaction();
                } finally {
                    heldBack.close(Duration.ofSeconds(10));
                }
            }
        } finally {
            if (cluster != null) cluster.close();
        }
    }

    /** Index of the record after which the second half of the attack's unauthorized approvals come. */
    static int middleOfTheAttack(Simulation sim) {
        Set<String> approvals = sim.groundTruth().unauthorizedApprovals().stream()
                .map(GroundTruth.UnauthorizedApproval::eventId).collect(Collectors.toSet());
        List<SimRecord> records = sim.records();
        List<Integer> at = new java.util.ArrayList<>();
        for (int i = 0; i < records.size(); i++) {
            for (String id : approvals) {
                if (records.get(i).value().contains("\"" + id + "\"")) at.add(i);
            }
        }
        assertThat(at).hasSize(approvals.size());
        java.util.Collections.sort(at);
        return at.get(at.size() / 2);
    }

    /**
     * Records before {@code split} plainly, the rest in a transaction left open (in the same order,
     * so every partition holds what an uninterrupted write gives). Returns the open producer.
     */
    KafkaProducer<String, String> writeHoldingBackFrom(Simulation sim, int split) throws Exception {
        Properties props = new Properties();
        props.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, cfg.get(Settings.KAFKA_BOOTSTRAP));
        props.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
        props.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
        props.put(ProducerConfig.ACKS_CONFIG, "all");
        props.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true");
        props.put(ProducerConfig.MAX_REQUEST_SIZE_CONFIG, String.valueOf(4 << 20)); // the oversized records
        List<SimRecord> records = sim.records();
        try (KafkaProducer<String, String> plain = new KafkaProducer<>(props)) {
            for (SimRecord r : records.subList(0, split)) plain.send(new ProducerRecord<>(r.topic(), r.key(), r.value())).get();
        }
        Properties tx = new Properties();
        tx.putAll(props);
        tx.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, cfg.get(Settings.KAFKA_GROUP_PREFIX) + "-held-back");
        // Open for as long as the test may take (the broker's default cap is 15 min).
        tx.put(ProducerConfig.TRANSACTION_TIMEOUT_CONFIG, Long.toString(Duration.ofMinutes(14).toMillis()));
        KafkaProducer<String, String> producer = new KafkaProducer<>(tx);
        producer.initTransactions();
        producer.beginTransaction();
        for (SimRecord r : records.subList(split, records.size())) {
            producer.send(new ProducerRecord<>(r.topic(), r.key(), r.value()));
        }
        producer.flush(); // written and acknowledged, so the job's end offsets include them; not committed
        return producer;
    }

    /** {@code tourniquet deploy --job detect --bounded} in its own JVM; returns the job id it printed. */
    private String deploy() throws Exception {
        Map<String, String> settings = CliProcess.settingsOf(cfg);
        settings.put(Settings.CHECKPOINT_DIR.key(), dir.resolve("checkpoints").toUri().toString());
        settings.put(Settings.CHECKPOINT_INTERVAL.key(), "500 ms");
        settings.put(Settings.STATE_BACKEND.key(), "rocksdb");
        CliProcess deploy = CliProcess.start(dir, "deploy", List.of("deploy", "--job", "detect", "--bounded",
                "--jobmanager", cluster.restUrl()), settings, Map.of(
                "TOURNIQUET_SIGNING_KEY", KEY, "TOURNIQUET_SIGNING_CONTROL_KEY", CONTROL_KEY,
                "TOURNIQUET_LOCAL_DIR", dir.toString()));
        assertThat(deploy.process().waitFor(DEADLINE.toSeconds(), TimeUnit.SECONDS)).as("deploy ended").isTrue();
        String console = deploy.console();
        assertThat(deploy.process().exitValue()).as(console).isZero();
        Matcher m = Pattern.compile("detect-replay job: submitted as ([0-9a-f]{32}) ").matcher(console);
        assertThat(m.find()).as(console).isTrue();
        assertThat(console).contains("detect-replay job: no retained checkpoint or savepoint, starting fresh");
        return m.group(1);
    }

    /**
     * Waits until the detect group's committed offsets (committed as each checkpoint completes) reach
     * the last stable offset of every input partition: the open transaction, or the end where it
     * wrote nothing. A completed checkpoint then holds everything before the held-back part.
     */
    private void awaitCheckpointOfEverythingBeforeTheHeldBackPart() throws Exception {
        String group = cfg.get(Settings.KAFKA_GROUP_PREFIX) + "-detect";
        long end = System.nanoTime() + DEADLINE.toNanos();
        try (Admin admin = Admin.create(Map.of("bootstrap.servers", cfg.get(Settings.KAFKA_BOOTSTRAP)))) {
            Map<TopicPartition, OffsetSpec> latest = new HashMap<>();
            for (var d : admin.describeTopics(KafkaConnectors.inputTopics(cfg)).allTopicNames().get().values()) {
                d.partitions().forEach(p -> latest.put(new TopicPartition(d.name(), p.partition()), OffsetSpec.latest()));
            }
            Map<TopicPartition, Long> stable = new HashMap<>();
            admin.listOffsets(latest, new ListOffsetsOptions(IsolationLevel.READ_COMMITTED)).all().get()
                    .forEach((tp, info) -> stable.put(tp, info.offset()));
            while (System.nanoTime() < end) {
                assertThat(jobState()).as("the job ended before the held-back part was released")
                        .matches(state -> !isTerminal(state));
                Map<TopicPartition, OffsetAndMetadata> committed =
                        admin.listConsumerGroupOffsets(group).partitionsToOffsetAndMetadata().get();
                boolean all = stable.entrySet().stream().allMatch(e -> {
                    OffsetAndMetadata c = committed.get(e.getKey());
                    return (c == null ? 0 : c.offset()) >= e.getValue();
                });
                if (all) return;
                Thread.sleep(100); // polling interval; the committed offsets decide
            }
            throw new AssertionError("no checkpoint covering the first part within " + DEADLINE + ": stable "
                    + stable + ", committed " + admin.listConsumerGroupOffsets(group).partitionsToOffsetAndMetadata().get());
        } catch (ExecutionException e) {
            throw new AssertionError("Kafka admin request failed", e);
        }
    }

    private String jobState() throws InterruptedException {
        return cluster.get("/jobs/" + jobId).map(j -> j.path("state").asText()).orElse("UNKNOWN");
    }

    private long restarts() {
        try {
            return cluster.jobMetric(jobId, "numRestarts").orElse(0L);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return 0;
        }
    }

    private static boolean isTerminal(String state) {
        return Set.of("FINISHED", "FAILED", "CANCELED").contains(state);
    }

    private ReplayOutcome outcome;

    @Override
    public ReplayOutcome outcome() {
        // One per class: its topic reads serve every check (the replay has ended by then).
        if (outcome == null) outcome = new ReplayOutcome(cfg, truth, KEY);
        return outcome;
    }

    @Test
    void theKillLandedMidReplayAndTheJobRecoveredFromACheckpoint() throws IOException {
        // Not trivial: the split is at the attack's middle unauthorized approval, so some come before
        // the kill (in the restored state) and some after (read by the recovered job only).
        assertThat(truth.unauthorizedApprovals()).hasSizeGreaterThanOrEqualTo(2);
        assertThat(split).isPositive();
        assertThat(heldBackCommittedAfterRestart).isTrue();
        assertThat(completedBeforeKill).as("a checkpoint had completed before the kill").isPositive();
        assertThat(restartsAfterKill).as("restarts (REST numRestarts)").isGreaterThanOrEqualTo(1);
        assertThat(finalJob.path("state").asText()).as(finalJob.toString()).isEqualTo("FINISHED");
        JsonNode restored = checkpoints.path("latest").path("restored");
        assertThat(restored.isMissingNode() || restored.isNull()).as("restored from a checkpoint: " + checkpoints)
                .isFalse();
        assertThat(restored.path("is_savepoint").asBoolean()).isFalse();
        // Flink restores its newest completed checkpoint: the one that held the first part, or a later one.
        assertThat(restored.path("id").asLong()).isGreaterThanOrEqualTo(latestCheckpointAtKill);
        assertThat(checkpoints.path("counts").path("restored").asInt()).isGreaterThanOrEqualTo(1);
    }

    @Test
    void theLostTaskManagerWasReplaced() throws InterruptedException, IOException {
        Map<String, Long> pids = cluster.taskManagerPids();
        assertThat(pids).doesNotContainKey(killedTaskManager).hasSize(2);
        List<String> registered = cluster.get("/taskmanagers").orElseThrow().findValuesAsText("id");
        assertThat(registered).containsAll(pids.keySet());
    }
}
