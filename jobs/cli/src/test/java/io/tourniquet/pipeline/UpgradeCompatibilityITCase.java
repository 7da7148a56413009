package io.tourniquet.pipeline;

import static org.assertj.core.api.Assertions.assertThat;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.tourniquet.cli.SetupCommand;
import io.tourniquet.config.Settings;
import io.tourniquet.config.TourniquetConfig;
import io.tourniquet.signing.CommandSigner;
import io.tourniquet.detect.job.DetectJob;
import io.tourniquet.detect.job.DetectJobRunner;
import io.tourniquet.detect.job.DetectSinks;
import io.tourniquet.detect.migrate.PerUserStateMigration;
import io.tourniquet.signing.SignedAction;
import io.tourniquet.json.Json;
import io.tourniquet.kafka.KafkaConnectors;
import io.tourniquet.model.Alert;
import io.tourniquet.runtime.JobEnvironments;
import io.tourniquet.sim.GroundTruth;
import io.tourniquet.sim.SimRecord;
import io.tourniquet.sim.Simulation;
import io.tourniquet.sim.SimulationConfig;
import io.tourniquet.sim.SimulationWriter;
import io.tourniquet.sim.Simulator;
import io.tourniquet.testing.CliProcess;
import io.tourniquet.testing.CollectingSink;
import io.tourniquet.testing.LocalServices;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.DeploymentOptions;
import org.apache.flink.core.execution.CheckpointingMode;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.core.execution.SavepointFormatType;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.ListOffsetsResult;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.UnknownTopicOrPartitionException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A savepoint taken by an earlier build restores in this one. The savepoint under
 * {@code src/test/resources/upgrade/detect-v1/} was written by the build named in its
 * {@code fixture.json}: the detect job (its real Kafka sources and every operator, by uid) had
 * read the first half of a simulated incident, keyed state full of verified 2FA challenges,
 * whitelistings, drain windows, anomaly profiles and open incidents. This build restores it,
 * reads the second half and must finish the incident exactly as one uninterrupted run would: every
 * unauthorized approval alerted once over both halves, no other alert, no benign freeze. Lost or
 * unreadable state shows as benign approvals of the second half flagged {@code unknown_challenge}
 * (their challenges were verified in the first half); a changed uid or an incompatible state type
 * fails the restore itself. The control run proves that: the second half without the savepoint
 * alerts innocent users.
 *
 * <p>The committed savepoint predates {@code detect-per-user} (the five per-user operators it
 * replaced are in it); it is restored as an upgrade across that change is: after
 * {@link PerUserStateMigration} (what {@code tourniquet savepoint migrate} runs).
 *
 * <p>The sinks are collecting ones (the Kafka sinks' transactions would tie the fixture to one
 * broker's transaction log); everything else is {@link DetectJobRunner#wire}. To write a new
 * fixture (only when a change is meant to break compatibility, with a note in the README's
 * upgrade section): {@code mvn -pl jobs verify -Dit.test=UpgradeCompatibilityITCase
 * -Dtourniquet.upgrade.generate=true}.
 */
@ExtendWith(LocalServices.class)
class UpgradeCompatibilityITCase {
    static final Path FIXTURE = Path.of("src", "test", "resources", "upgrade", "detect-v1").toAbsolutePath();
    static final Path WORK = Path.of("target", "upgrade").toAbsolutePath();
    /** Fixed: the savepoint's Kafka splits name these topics. */
    static final String NAMESPACE = "upgrade-v1-";
    static final String KEY = "upgrade-itcase-signing-key-0123456789abcdef";
    static final String CONTROL_KEY = "upgrade-itcase-control-key-0123456789abcdef";
    static final long SEED = 20220117L;
    static final Duration DEADLINE = Duration.ofMinutes(3);

    static TourniquetConfig config() {
        return TourniquetConfig.load(Map.of(), Map.of(
                Settings.KAFKA_BOOTSTRAP.key(), LocalServices.kafkaBootstrap(),
                Settings.ES_URL.key(), LocalServices.elasticsearchUrl(),
                Settings.SIGNING_KEY.key(), KEY,
                Settings.CONTROL_KEY.key(), CONTROL_KEY,
                Settings.CHECKPOINT_DIR.key(), WORK.resolve("checkpoints").toUri().toString(),
                Settings.CHECKPOINT_INTERVAL.key(), "500 ms",
                // As in a replay: never a wall-clock decision, so the result depends on input only.
                Settings.UA_MAX_WAIT.key(), "3650 d")).namespaced(NAMESPACE);
    }

    static Simulation simulation(TourniquetConfig cfg) {
        return Simulator.generate(SimulationConfig.builder().seed(SEED).benignUsers(60).attackVictims(12)
                .malformedCount(6).duplicateCount(3).topicsFrom(cfg).build());
    }

    /** The first half in arrival order, and the rest. */
    static List<List<SimRecord>> halves(Simulation sim) {
        int half = sim.records().size() / 2;
        return List.of(sim.records().subList(0, half), sim.records().subList(half, sim.records().size()));
    }

    @Test
    void theCommittedSavepointRestoresAndTheIncidentEndsAsIfUninterrupted() throws Exception {
        JsonNode fixture = Json.MAPPER.readTree(FIXTURE.resolve("fixture.json").toFile());
        TourniquetConfig cfg = config();
        Simulation sim = simulation(cfg);
        assertThat(fixture.path("records").asInt()).as("the fixture's simulation").isEqualTo(sim.records().size());
        // The same records in the same order give the same offsets the savepoint's splits hold.
        freshTopics(cfg);
        write(sim, halves(sim).get(0), cfg);
        write(sim, halves(sim).get(1), cfg);

        Outputs after = runToEnd(cfg, Optional.of(restorable(cfg)), "restored");
        List<JsonNode> alerts = new ArrayList<>();
        fixture.path("alerts_before").forEach(alerts::add);
        alerts.addAll(after.alerts());
        List<JsonNode> actions = new ArrayList<>();
        fixture.path("actions_before").forEach(actions::add);
        actions.addAll(after.actions());
        assertThat(after.alerts()).as("the restored job alerts on the second half").isNotEmpty();
        assertExactlyTheIncident(sim.groundTruth(), alerts, actions);
    }

    @Test
    void withoutTheSavepointTheSecondHalfEndsDifferently() throws Exception {
        // The control: the state the savepoint carries is what keeps this test from passing trivially.
        TourniquetConfig cfg = config();
        Simulation sim = simulation(cfg);
        freshTopics(cfg);
        write(sim, halves(sim).get(1), cfg);
        Outputs fresh = runToEnd(cfg, Optional.empty(), "fresh");
        AssertionError differs = org.assertj.core.api.Assertions.catchThrowableOfType(
                () -> assertExactlyTheIncident(sim.groundTruth(), fresh.alerts(), fresh.actions()), AssertionError.class);
        assertThat(differs).as("the second half alone does not end the incident as an uninterrupted run").isNotNull();
        System.out.println("without the savepoint: " + differs.getMessage().strip().lines().limit(12)
                .collect(Collectors.joining(" ")));
    }

    /**
     * The fixture as this build restores it: migrated first, as an upgrade across a layout change
     * does ({@code tourniquet savepoint migrate}). The committed fixture has the layout from before
     * {@link PerUserStateMigration#NEW_UID}; one written by {@link #generateFixture} after it
     * already has this build's layout, and the migration leaves it alone.
     */
    private static String restorable(TourniquetConfig cfg) throws Exception {
        Path migrated = WORK.resolve("migrated");
        CliProcess.deleteRecursively(migrated);
        String fixture = FIXTURE.resolve("savepoint").toUri().toString();
        PerUserStateMigration.Report report = PerUserStateMigration.migrate(fixture, migrated.toUri().toString(),
                cfg.get(Settings.STATE_BACKEND), 2);
        report.lines().forEach(System.out::println);
        return report.alreadyMigrated() ? fixture : report.to();
    }

    /** Writes the fixture: the first half read by this build, then a savepoint. Not part of the suite. */
    @Test
    @EnabledIfSystemProperty(named = "tourniquet.upgrade.generate", matches = "true")
    void generateFixture() throws Exception {
        TourniquetConfig cfg = config();
        Simulation sim = simulation(cfg);
        freshTopics(cfg);
        write(sim, halves(sim).get(0), cfg);
        CollectingSink<Alert> alerts = CollectingSink.named("upgrade-gen-alerts");
        CollectingSink<SignedAction> actions = CollectingSink.named("upgrade-gen-actions");
        StreamExecutionEnvironment env = environment(cfg, Optional.empty());
        DetectJobRunner.wire(env, cfg, false, DetectJob.replayWatermarks(cfg), sinks(alerts, actions, "upgrade-gen"));
        JobClient job = env.executeAsync("upgrade-fixture");
        awaitConsumed(cfg);
        String savepoint = job.stopWithSavepoint(false, WORK.resolve("generated").toUri().toString(),
                SavepointFormatType.CANONICAL).get(2, TimeUnit.MINUTES);
        CliProcess.deleteRecursively(FIXTURE);
        Files.createDirectories(FIXTURE);
        copyTree(Path.of(java.net.URI.create(savepoint)), FIXTURE.resolve("savepoint"));
        ObjectNode f = Json.MAPPER.createObjectNode();
        f.put("built_from", gitHead());
        f.put("namespace", NAMESPACE);
        f.put("seed", SEED);
        f.put("records", sim.records().size());
        f.put("first_half", halves(sim).get(0).size());
        ArrayNode a = f.putArray("alerts_before");
        alerts.results().forEach(x -> a.add(Json.MAPPER.valueToTree(x)));
        ArrayNode c = f.putArray("actions_before");
        for (SignedAction x : actions.results()) c.add(Json.MAPPER.readTree(x.json));
        Json.MAPPER.writerWithDefaultPrettyPrinter().writeValue(FIXTURE.resolve("fixture.json").toFile(), f);
    }

    record Outputs(List<JsonNode> alerts, List<JsonNode> actions) {}

    /**
     * Runs the job (restored or fresh) until it has read every input record and checkpointed past
     * it, then stops it draining: the final watermark fires every pending timer, as the end of a
     * bounded replay does.
     */
    private Outputs runToEnd(TourniquetConfig cfg, Optional<String> restore, String name) throws Exception {
        CollectingSink<Alert> alerts = CollectingSink.named("upgrade-" + name + "-alerts");
        CollectingSink<SignedAction> actions = CollectingSink.named("upgrade-" + name + "-actions");
        StreamExecutionEnvironment env = environment(cfg, restore);
        DetectJobRunner.wire(env, cfg, false, DetectJob.replayWatermarks(cfg), sinks(alerts, actions, "upgrade-" + name));
        JobClient job = env.executeAsync("upgrade-" + name);
        boolean stopped = false;
        try {
            awaitConsumed(cfg);
            job.stopWithSavepoint(true, WORK.resolve("after-" + name).toUri().toString(), SavepointFormatType.CANONICAL)
                    .get(2, TimeUnit.MINUTES);
            stopped = true;
        } finally {
            if (!stopped) job.cancel().get(1, TimeUnit.MINUTES); // its embedded cluster ends with it
        }
        List<JsonNode> a = alerts.results().stream().map(x -> (JsonNode) Json.MAPPER.valueToTree(x)).toList();
        List<JsonNode> c = new ArrayList<>();
        for (SignedAction x : actions.results()) c.add(Json.MAPPER.readTree(x.json));
        return new Outputs(a, c);
    }

    private static StreamExecutionEnvironment environment(TourniquetConfig cfg, Optional<String> restore) {
        // An embedded cluster of its own: the shared test MiniCluster's context environment would
        // not take a savepoint to restore from the job's configuration. Built with the plain
        // constructor, not createLocalEnvironment: once another test class in this JVM has installed
        // the shared cluster as context environment, Flink refuses explicit local environments
        // (seen in CI), while an environment whose target is "local" still gets a MiniCluster per job.
        Configuration conf = JobEnvironments.configuration(cfg, "upgrade", restore);
        conf.set(DeploymentOptions.TARGET, "local");
        conf.set(DeploymentOptions.ATTACHED, true);
        StreamExecutionEnvironment env = new StreamExecutionEnvironment(conf);
        env.setParallelism(2);
        env.enableCheckpointing(cfg.get(Settings.CHECKPOINT_INTERVAL).toMillis(), CheckpointingMode.EXACTLY_ONCE);
        env.setBufferTimeout(cfg.get(Settings.BUFFER_TIMEOUT).toMillis());
        return env;
    }

    private static DetectSinks sinks(CollectingSink<Alert> alerts, CollectingSink<SignedAction> actions, String name) {
        return new DetectSinks(alerts, actions, CollectingSink.named(name + "-enriched"),
                CollectingSink.named(name + "-dlq"), CollectingSink.named(name + "-incidents"),
                CollectingSink.named(name + "-notifications"));
    }

    static void assertExactlyTheIncident(GroundTruth truth, List<JsonNode> alerts, List<JsonNode> actions) {
        ReplayOutcome.assertUnauthorizedApprovalsAlertedOnceWithTheirReasons(truth, alerts);
        assertThat(alerts).extracting(a -> a.path("alert_id").asText()).doesNotHaveDuplicates();
        ReplayOutcome.assertOtherRulesAlertAsExpected(truth, alerts);
        CommandSigner verifier = new CommandSigner(KEY);
        assertThat(actions).allSatisfy(a -> assertThat(verifier.verify(a)).as(a.toString()).isTrue());
        Set<String> victims = new HashSet<>(truth.affectedUsers());
        assertThat(actions).filteredOn(a -> a.path("action").asText().equals("freeze_account"))
                .extracting(a -> a.path("scope").path("user_id").asText())
                .allSatisfy(u -> assertThat(victims).as("frozen user is a victim").contains(u));
        assertThat(actions).extracting(a -> a.path("action_id").asText()).doesNotHaveDuplicates();
    }

    private static Admin admin(TourniquetConfig cfg) {
        Properties p = new Properties();
        p.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, cfg.get(Settings.KAFKA_BOOTSTRAP));
        return Admin.create(p);
    }

    /** Deletes this fixture's topics and consumer groups if an earlier run left them, then creates the topics. */
    private static void freshTopics(TourniquetConfig cfg) throws Exception {
        List<String> topics = Settings.TOPICS.stream().map(cfg::get).toList();
        try (Admin admin = admin(cfg)) {
            Set<String> existing = new HashSet<>(admin.listTopics().names().get());
            List<String> gone = topics.stream().filter(existing::contains).toList();
            if (!gone.isEmpty()) admin.deleteTopics(gone).all().get();
            String prefix = cfg.get(Settings.KAFKA_GROUP_PREFIX);
            try {
                admin.deleteConsumerGroups(List.of(prefix + "-detect", prefix + "-control")).all().get();
            } catch (java.util.concurrent.ExecutionException e) {
                // none yet (GroupIdNotFound) is the usual case
            }
            long end = System.nanoTime() + DEADLINE.toNanos();
            while (!java.util.Collections.disjoint(admin.listTopics().names().get(), topics)) {
                if (System.nanoTime() > end) throw new AssertionError("topics not deleted: " + topics);
                Thread.sleep(100);
            }
        }
        long end = System.nanoTime() + DEADLINE.toNanos();
        while (true) {
            try {
                SetupCommand.applyTopics(cfg);
                break;
            } catch (Exception e) {
                // a deleted topic's name is free again only once the controller is done with it
                if (System.nanoTime() > end) throw e;
                Thread.sleep(200);
            }
        }
        awaitServing(cfg, topics, end);
    }

    /**
     * Until every partition of the recreated topics has a leader that answers for it. Creation
     * returns once the controller has recorded the topic; producing before the broker has loaded
     * the new partitions (while it may still be removing the deleted ones of the same name) failed
     * a CI run's write.
     */
    private static void awaitServing(TourniquetConfig cfg, List<String> topics, long deadline) throws Exception {
        try (Admin admin = admin(cfg)) {
            Exception last = null;
            while (System.nanoTime() < deadline) {
                try {
                    Map<TopicPartition, OffsetSpec> latest = new HashMap<>();
                    for (TopicDescription t : admin.describeTopics(topics).allTopicNames().get().values()) {
                        for (var p : t.partitions()) {
                            if (p.leader() == null || p.leader().isEmpty()) throw new IllegalStateException(
                                    "no leader yet for " + t.name() + "-" + p.partition());
                            latest.put(new TopicPartition(t.name(), p.partition()), OffsetSpec.latest());
                        }
                    }
                    Map<TopicPartition, ListOffsetsResult.ListOffsetsResultInfo> ends = admin.listOffsets(latest).all().get();
                    if (ends.values().stream().allMatch(o -> o.offset() == 0)) return;
                    last = new IllegalStateException("recreated topics are not empty: " + ends);
                } catch (Exception e) {
                    last = e;
                }
                Thread.sleep(100);
            }
            throw new AssertionError("recreated topics not served within " + DEADLINE, last);
        }
    }

    private static void write(Simulation sim, List<SimRecord> records, TourniquetConfig cfg) throws Exception {
        SimulationWriter.writeToKafka(new Simulation(sim.config(), records, sim.groundTruth()),
                cfg.get(Settings.KAFKA_BOOTSTRAP));
    }

    /**
     * Until the job's consumer group has committed every input partition's end offset: offsets are
     * committed when a checkpoint completes, and a completed checkpoint means every record before
     * its barrier went through every operator.
     */
    private static void awaitConsumed(TourniquetConfig cfg) throws Exception {
        String group = cfg.get(Settings.KAFKA_GROUP_PREFIX) + "-detect";
        try (Admin admin = admin(cfg)) {
            Map<String, TopicDescription> topics = admin.describeTopics(KafkaConnectors.inputTopics(cfg))
                    .allTopicNames().get();
            Map<TopicPartition, OffsetSpec> latest = new HashMap<>();
            topics.values().forEach(t -> t.partitions().forEach(p ->
                    latest.put(new TopicPartition(t.name(), p.partition()), OffsetSpec.latest())));
            Map<TopicPartition, ListOffsetsResult.ListOffsetsResultInfo> ends = admin.listOffsets(latest).all().get();
            long end = System.nanoTime() + DEADLINE.toNanos();
            while (System.nanoTime() < end) {
                Map<TopicPartition, OffsetAndMetadata> committed =
                        admin.listConsumerGroupOffsets(group).partitionsToOffsetAndMetadata().get();
                boolean all = ends.entrySet().stream().allMatch(e -> e.getValue().offset() == 0
                        || (committed.get(e.getKey()) != null
                        && committed.get(e.getKey()).offset() >= e.getValue().offset()));
                if (all) return;
                Thread.sleep(100);
            }
            throw new AssertionError("the job did not read every input record within " + DEADLINE);
        } catch (UnknownTopicOrPartitionException e) {
            throw new AssertionError(e);
        }
    }

    private static void copyTree(Path from, Path to) throws Exception {
        try (var all = Files.walk(from)) {
            for (Path p : all.toList()) {
                Path target = to.resolve(from.relativize(p).toString());
                if (Files.isDirectory(p)) Files.createDirectories(target);
                else Files.copy(p, target);
            }
        }
    }

    private static String gitHead() {
        try {
            Process p = new ProcessBuilder("git", "rev-parse", "HEAD").redirectErrorStream(true).start();
            String head = new String(p.getInputStream().readAllBytes()).trim();
            return p.waitFor() == 0 ? head : "unknown";
        } catch (Exception e) {
            return "unknown";
        }
    }
}
