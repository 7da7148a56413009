package io.tourniquet.cli;

import io.tourniquet.model.EventParser;
import com.fasterxml.jackson.annotation.JsonUnwrapped;
import io.tourniquet.bench.AppendRate;
import io.tourniquet.bench.AppendTimes;
import io.tourniquet.bench.DetectReplay;
import io.tourniquet.bench.FreezeLatency;
import io.tourniquet.bench.GcPauses;
import io.tourniquet.bench.LatencySummary;
import io.tourniquet.bench.LimitRun;
import io.tourniquet.config.Settings;
import io.tourniquet.config.TourniquetConfig;
import io.tourniquet.json.Json;
import io.tourniquet.kafka.KafkaClientConfig;
import io.tourniquet.kafka.KafkaTopics;
import io.tourniquet.sim.Simulation;
import io.tourniquet.sim.SimulationConfig;
import io.tourniquet.sim.SimulationWriter;
import io.tourniquet.sim.Simulator;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import org.apache.flink.util.FileUtils;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "bench", mixinStandardHelpOptions = true,
        description = {"Measure the detect job against the limit of what it must do, on real Kafka.",
                "All figures come from one run on fresh topics (prefix bench-<run>-, never",
                "the pipeline's):",
                // Each line fits the 80 columns picocli wraps at, so the numbered list keeps its indentation.
                " 1. the limit: one thread reads the pre-loaded input, parses every record with",
                "    the job's EventParser and produces one enriched-event record per event;",
                " 2. the detect job replaying the same input (bounded, embedded cluster);",
                "    both rates from broker append times of their output, first to last",
                "    record and steady (the first 10 %% of outputs left out); the job's",
                "    deployment and end-of-input draining are reported apart;",
                " 3. their ratio;",
                " 4. freeze latency: approvals without 2FA sent one by one to the live job",
                "    while benign traffic runs at a fixed rate; approval append to",
                "    freeze_account append (broker LogAppendTime on both topics);",
                " 5. garbage collection in this JVM (which runs the cluster) in each phase;",
                "then one line 'BENCH_JSON {...}' with every figure, for tracking.",
                "--events defaults to 200,000, not the 1 M a steady state is best measured",
                "over: at the detect job's rate measured on 2 cores (1,200-4,000 events/s),",
                "1 M events take it 4-14 minutes alone, while with 200,000 a whole run",
                "takes about 6. Pass --events 1000000 for the figure of record."})
public final class BenchCommand implements Callable<Integer> {
    @Mixin
    ConfigOptions options;

    @Option(names = "--events", description = "Approximate events for the throughput runs (default: ${DEFAULT-VALUE}).")
    int events = 200_000;

    @Option(names = "--approvals", description = "Approvals timed in the latency run (default: ${DEFAULT-VALUE}).")
    int approvals = 2_000;

    @Option(names = "--warmup-approvals",
            description = "Approvals sent and answered before the timed ones, background running (default: ${DEFAULT-VALUE}).")
    int warmupApprovals = 200;

    @Option(names = "--interval-ms", description = "Interval between two timed approvals (default: ${DEFAULT-VALUE}).")
    int intervalMs = 20;

    @Option(names = "--background-rate",
            description = "Benign events per second during the latency run; 0 for none (default: ${DEFAULT-VALUE}).")
    int backgroundRate = 10_000;

    @Option(names = "--partitions", description = "Partitions per bench topic (default: ${DEFAULT-VALUE}).")
    int partitions = 4;

    @Option(names = "--model", paramLabel = "DIR/VERSION",
            description = "Score every approval with this anomaly model (sets models.dir and"
                    + " rule.anomaly-score.model-version); without it, scoring is off (features are still computed).")
    Path model;

    /** The whole figure set, as the BENCH_JSON line carries it (snake_case by the project's mapper). */
    record Report(String run, int cores, int parallelism, int partitions, String anomalyModel, String gcCollectors,
                  long inputEvents, Limit limit, Detect detect, Ratio ratio, Latency latency) {}

    // Unwrapped: the line stays flat enough to grep (limit.produced, latency.p99_millis, ...).
    record Limit(@JsonUnwrapped LimitRun.Result run, AppendRate output) {}

    record Detect(AppendRate output, double deploymentSeconds, double drainingSeconds, double netRuntimeSeconds,
                  GcPauses.Window gc) {}

    record Ratio(double firstToLast, double steady) {}

    record Latency(int approvals, int warmupApprovals, int intervalMs, int backgroundTargetPerSecond,
                   @JsonUnwrapped FreezeLatency.Result result) {}

    @Override
    public Integer call() throws Exception {
        String run = Long.toString(System.currentTimeMillis(), 36);
        // Durable checkpoints as deployed (the JobManager's memory refuses state over 5 MB, and a
        // job whose checkpoints fail restarts mid-measurement), in a directory of this run only:
        // a bench job must never become "the latest checkpoint" of the pipeline's own jobs.
        Path checkpoints = Files.createTempDirectory("tourniquet-bench-" + run + "-");
        try {
            return measure(run, options.resolve(defaults(checkpoints.toUri().toString())));
        } finally {
            try {
                FileUtils.deleteDirectory(checkpoints.toFile());
            } catch (IOException e) {
                System.err.printf("could not delete the bench's checkpoints in %s: %s%n", checkpoints, e);
            }
        }
    }

    private int measure(String run, TourniquetConfig base) throws Exception {
        System.out.printf("bench run %s: Kafka %s, parallelism %d, %d partitions per topic, %d cores, anomaly model %s,"
                        + " GC %s%n", run, base.get(Settings.KAFKA_BOOTSTRAP), base.get(Settings.PARALLELISM), partitions,
                Runtime.getRuntime().availableProcessors(), base.get(Settings.ANOMALY_MODEL_VERSION), GcPauses.collectors());
        System.out.printf("state backend %s, checkpoints every %d s to %s (deleted at the end)%n",
                base.get(Settings.STATE_BACKEND), base.get(Settings.CHECKPOINT_INTERVAL).toSeconds(),
                base.get(Settings.CHECKPOINT_DIR));
        System.out.println(Main.logFileLine());

        // Throughput: the limit and the job read the same pre-loaded topics and partitions.
        TourniquetConfig t = namespaced(base, "bench-" + run + "-t.");
        String limitTopic = "bench-" + run + "-t.limit.events.enriched";
        KafkaTopics.ensure(t, List.of(limitTopic), APPEND_TIME);
        long n = preload(t);

        System.out.printf("%n1. limit: one thread reads the input (read_committed), parses each record with the job's"
                + " EventParser,%n   produces one enriched-event record per event (as the job's sink: acks=all, linger %d ms)%n",
                t.get(Settings.KAFKA_BATCH_LINGER).toMillis());
        LimitRun.Result limitRun = LimitRun.run(t, limitTopic, Duration.ofMinutes(30));
        AppendRate limitRate = rate(t, limitTopic);
        System.out.printf("   %,d read, %,d produced, %,d invalid, in %.1f s%n", limitRun.consumed(), limitRun.produced(),
                limitRun.invalid(), limitRun.seconds());
        printRate("   output append times: ", limitRate);
        printGc("   GC during the run: ", limitRun.gc());

        System.out.printf("%n2. detect job: bounded replay of the same topics on an embedded cluster in this JVM,"
                + " all operators and sinks%n");
        DetectReplay.Result replay = DetectReplay.run(t, "tourniquet-bench-detect");
        AppendRate jobRate = rate(t, t.get(Settings.TOPIC_ENRICHED));
        double deployment = (jobRate.firstMillis() - replay.startMillis()) / 1e3;
        double draining = (replay.endMillis() - jobRate.lastMillis()) / 1e3;
        System.out.printf("   deployment (start to first enriched event, cluster start included) %.1f s%n", deployment);
        printRate("   enriched-event append times: ", jobRate);
        System.out.printf("   end-of-input draining (last enriched event to job end) %.1f s; the cluster's net runtime"
                + " %.1f s%n", draining, replay.netRuntimeMillis() / 1e3);
        printGc("   GC from start to end: ", replay.gc());

        Ratio ratio = new Ratio(jobRate.perSecond() / limitRate.perSecond(),
                jobRate.steadyPerSecond() / limitRate.steadyPerSecond());
        System.out.printf("%n3. ratio detect job / limit: %.2f first to last, %.2f steady%n", ratio.firstToLast(),
                ratio.steady());

        System.out.printf("%n4. freeze latency: %,d approvals without 2FA, one every %d ms (after %,d untimed), to the"
                        + " live detect job,%n   while %,d benign events/s run (%,d users, each a 2FA'd withdrawal"
                        + " session of login, request, challenge, approval, settlement)%n",
                approvals, intervalMs, warmupApprovals, backgroundRate, FreezeLatency.BACKGROUND_USERS);
        FreezeLatency.Result latency = FreezeLatency.run(namespaced(base, "bench-" + run + "-l."), run,
                new FreezeLatency.Options(warmupApprovals, approvals, Duration.ofMillis(intervalMs), backgroundRate,
                        FREEZE_WAIT));
        LatencySummary l = latency.latency();
        String bound = l.censored() > 0 ? ">= " : "";
        System.out.printf("   approval append -> freeze_account append: p50 %s%,.0f ms, p99 %s%,.0f ms, max %s%,d ms,"
                + " min %,d ms (n=%,d)%n", bound, l.p50Millis(), bound, l.p99Millis(), bound, l.maxMillis(),
                l.minMillis(), l.count());
        if (l.censored() > 0) {
            System.out.printf("   %,d approvals had no freeze %d s after the last send: counted at the time waited,"
                    + " so the figures are lower bounds%n", l.censored(), FREEZE_WAIT.toSeconds());
        }
        System.out.printf("   median of the first tenth sent %s%,.0f ms, of the last tenth %s%,.0f ms: the job %s%n",
                bound, l.firstTenthP50Millis(), bound, l.lastTenthP50Millis(), l.trend());
        System.out.printf("   background achieved %,.0f events/s over the %.1f s timed window (%,d dropped after stalls);"
                + " commands on background users: %d%n", latency.backgroundPerSecond(), latency.windowSeconds(),
                latency.backgroundDropped(), latency.backgroundCommands());
        printGc("   GC in the timed window: ", latency.gc());

        Report report = new Report(run, Runtime.getRuntime().availableProcessors(), base.get(Settings.PARALLELISM),
                partitions, base.get(Settings.ANOMALY_MODEL_VERSION), GcPauses.collectors(), n,
                new Limit(limitRun, limitRate),
                new Detect(jobRate, deployment, draining, replay.netRuntimeMillis() / 1e3, replay.gc()), ratio,
                new Latency(approvals, warmupApprovals, intervalMs, backgroundRate, latency));
        System.out.println();
        System.out.println("BENCH_JSON " + Json.toString(report));
        return 0;
    }

    private static final Map<String, String> APPEND_TIME = Map.of("message.timestamp.type", "LogAppendTime");
    /**
     * How long freezes are waited for after the last approval: a job that keeps up answers in
     * well under a second; one that does not would have the bench wait for its whole backlog.
     */
    private static final Duration FREEZE_WAIT = Duration.ofSeconds(60);

    private Map<String, String> defaults(String checkpointDir) throws Exception {
        Map<String, String> defaults = new LinkedHashMap<>(Map.of(
                Settings.CHECKPOINT_DIR.key(), checkpointDir,
                Settings.SIGNING_KEY.key(), DemoCommand.DEMO_SIGNING_KEY,
                Settings.CONTROL_KEY.key(), DemoCommand.DEMO_CONTROL_KEY,
                Settings.TOPIC_PARTITIONS.key(), Integer.toString(partitions)));
        if (model != null) {
            Path abs = model.toAbsolutePath().normalize();
            if (abs.getParent() == null) throw new IllegalArgumentException("--model must be DIR/VERSION: " + model);
            defaults.put(Settings.MODELS_DIR.key(), abs.getParent().toString());
            defaults.put(Settings.ANOMALY_MODEL_VERSION.key(), abs.getFileName().toString());
            // The bench pins the file it was given, as a signed activation would.
            defaults.put(Settings.ANOMALY_MODEL_SHA256.key(), io.tourniquet.models.ModelArtifact.load(abs).metadata().modelSha256());
        }
        return defaults;
    }

    private static TourniquetConfig namespaced(TourniquetConfig base, String prefix) {
        TourniquetConfig cfg = base.namespaced(prefix);
        // Broker append time on every bench topic: rates and latencies are read on the broker's one clock.
        KafkaTopics.ensure(cfg, KafkaTopics.all(cfg), APPEND_TIME);
        return cfg;
    }

    /** Simulated traffic on the input topics; the simulation is dropped before anything is measured. */
    private long preload(TourniquetConfig cfg) throws Exception {
        long start = System.nanoTime();
        // About 29 records per benign user with the simulator's defaults.
        Simulation sim = Simulator.generate(SimulationConfig.builder().seed(7).benignUsers(Math.max(10, events / 29))
                .attackVictims(50).benignWindow(Duration.ofHours(24)).topicsFrom(cfg).build());
        int n = SimulationWriter.writeToKafka(sim, KafkaClientConfig.base(cfg));
        System.out.printf("%ninput: %,d simulated events (seed 7, an attack on 50 of the users) pre-loaded in %.1f s%n",
                n, (System.nanoTime() - start) / 1e9);
        return n;
    }

    private static AppendRate rate(TourniquetConfig cfg, String topic) {
        return AppendRate.of(AppendTimes.read(KafkaClientConfig.base(cfg), topic, Duration.ofMinutes(10)),
                AppendRate.WARMUP_FRACTION);
    }

    private static void printRate(String prefix, AppendRate r) {
        System.out.printf("%s%,d records; %,.0f events/s first to last (%.1f s), %,.0f events/s steady (the last %,d,"
                        + " %.1f s)%n", prefix, r.records(), r.perSecond(), r.seconds(), r.steadyPerSecond(),
                r.steadyRecords(), r.steadySeconds());
    }

    private static void printGc(String prefix, GcPauses.Window gc) {
        System.out.printf("%s%,d collections, %,d ms total, longest %,d ms%n", prefix, gc.collections(),
                gc.totalMillis(), gc.maxMillis());
    }
}
