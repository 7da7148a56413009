package io.tourniquet.cli;

import io.tourniquet.config.Settings;
import io.tourniquet.config.TourniquetConfig;
import io.tourniquet.detect.job.DetectJobRunner;
import io.tourniquet.index.IndexJobRunner;
import io.tourniquet.index.IndexTargets;
import io.tourniquet.kafka.KafkaConnectors;
import io.tourniquet.runtime.JobEnvironments;
import io.tourniquet.runtime.RetainedState;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.core.execution.SavepointFormatType;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "run", mixinStandardHelpOptions = true,
        description = {"Run the detect job and the index job on an embedded Flink against the given Kafka and "
                        + "Elasticsearch.",
                "Each job resumes from its newest retained checkpoint or savepoint (under job.checkpoint-dir, "
                        + "default <local dir>/checkpoints) and says which; --fresh starts over, --from restores "
                        + "a given one. Ctrl-C stops the jobs with a savepoint, which the next start resumes.",
                "Every setting can be given by flag (--set key=value) or environment variable (TOURNIQUET_<KEY>).",
                "The detect job requires the command signing key (TOURNIQUET_SIGNING_KEY) and the analysts' "
                        + "control key (TOURNIQUET_SIGNING_CONTROL_KEY), each at least 32 bytes."})
public final class RunCommand implements Callable<Integer> {
    enum Jobs { both, detect, index }

    /** How long Ctrl-C waits for a job's savepoint before cancelling it (its checkpoints are kept). */
    static final Duration STOP_TIMEOUT = Duration.ofSeconds(60);

    @Mixin
    ConfigOptions options;

    @Option(names = "--bounded", description = "Process what the input topics hold at start, then stop (replay/backtest).")
    boolean bounded;

    @Option(names = "--job", description = "Which job to run: ${COMPLETION-CANDIDATES} (default: ${DEFAULT-VALUE}).")
    Jobs job = Jobs.both;

    @ArgGroup(exclusive = true)
    Start start = new Start();

    static final class Start {
        @Option(names = "--fresh", description = "Start over: ignore retained checkpoints and savepoints (input is "
                + "read from the consumer group's committed offsets).")
        boolean fresh;

        @Option(names = "--from", paramLabel = "PATH", description = "Restore this checkpoint (.../chk-N) or savepoint "
                + "directory; needs --job detect or --job index.")
        String from;
    }

    @Override
    public Integer call() throws Exception {
        TourniquetConfig cfg = options.resolve(localDefaults());
        if (job != Jobs.index && cfg.find(Settings.SIGNING_KEY).isEmpty()) {
            throw new IllegalArgumentException("no signing key: set TOURNIQUET_SIGNING_KEY (at least 32 bytes); "
                    + "enforcers ignore unsigned commands, so the detect job refuses to start without one");
        }
        if (job != Jobs.index && cfg.find(Settings.CONTROL_KEY).isEmpty() && cfg.find(Settings.ANALYST_KEYS_FILE).isEmpty()) {
            throw new IllegalArgumentException("no control key: set TOURNIQUET_SIGNING_CONTROL_KEY (at least 32 bytes), "
                    + "or analysts' own keys with TOURNIQUET_SIGNING_ANALYST_KEYS_FILE; "
                    + "only requests signed with them can release accounts or resume withdrawals");
        }
        if (start.from != null && job == Jobs.both) {
            throw new IllegalArgumentException("--from restores one job's state: add --job detect or --job index");
        }
        if (job != Jobs.index) checkKeys(cfg);
        System.out.println(Main.logFileLine());
        // The detect job starts whatever state Elasticsearch is in: templates are the index job's.
        SetupCommand.applyTopics(cfg);
        if (job != Jobs.detect) SetupCommand.applyIndexTemplates(cfg);
        Restore restore = start.fresh ? Restore.FRESH
                : start.from != null ? Restore.given(start.from) : Restore.LATEST;
        run(cfg, job != Jobs.index, job != Jobs.detect, bounded, restore);
        return 0;
    }

    /** The state directory everything local goes under: the launcher's, TOURNIQUET_LOCAL_DIR, or ./.local. */
    static Path localDir() {
        String dir = System.getenv("TOURNIQUET_LOCAL_DIR");
        if (dir == null || dir.isBlank()) dir = System.getProperty("tourniquet.local.dir");
        if (dir == null || dir.isBlank()) dir = ".local";
        return Path.of(dir).toAbsolutePath().normalize();
    }

    /** Checkpoints are durable by default: under the local state directory unless configured. */
    static Map<String, String> localDefaults() {
        return Map.of(Settings.CHECKPOINT_DIR.key(), localDir().resolve("checkpoints").toUri().toString());
    }

    /** Which state a job starts from. */
    record Restore(boolean latest, Optional<String> path) {
        static final Restore FRESH = new Restore(false, Optional.empty());
        static final Restore LATEST = new Restore(true, Optional.empty());

        static Restore given(String path) {
            return new Restore(false, Optional.of(path));
        }

        /** Resolves to a path (or none) for one job, and says on the console what it chose and why. */
        Optional<String> resolve(TourniquetConfig cfg, String jobName) throws java.io.IOException {
            String where = JobEnvironments.checkpointDir(cfg, jobName).orElse("(no checkpoint directory)");
            if (path.isPresent()) {
                System.out.println(jobName + " job: restoring " + path.get() + " (--from)");
                return path;
            }
            if (!latest) {
                System.out.println(jobName + " job: starting fresh (--fresh); checkpoints go to " + where);
                return Optional.empty();
            }
            Optional<RetainedState.Snapshot> found = RetainedState.latest(cfg, jobName);
            if (found.isPresent()) {
                System.out.println(jobName + " job: resuming from " + found.get().describe());
                return Optional.of(found.get().path());
            }
            System.out.println(jobName + " job: no retained checkpoint or savepoint, starting fresh; checkpoints go to "
                    + where);
            return Optional.empty();
        }
    }

    /** See {@link io.tourniquet.config.SigningKeys#requireOwn}. */
    static void checkKeys(TourniquetConfig cfg) {
        io.tourniquet.config.SigningKeys.requireOwn(cfg);
    }

    /**
     * Bounded: the detect job first, then the index job over what it wrote. Unbounded: both at
     * once, as separate jobs, so the index job's checkpoints (which wait for Elasticsearch) never
     * hold back the detect job's.
     */
    static void run(TourniquetConfig cfg, boolean detect, boolean index, boolean bounded, Restore restore)
            throws Exception {
        if (bounded) {
            if (detect) {
                Optional<String> from = restore.resolve(cfg, DetectJobRunner.stateName(true));
                try (ReplayProgress progress = ReplayProgress.start(cfg, "replay, detect job",
                        KafkaConnectors.inputTopics(cfg))) {
                    DetectJobRunner.build(cfg, true, from).execute("tourniquet-detect");
                    progress.finished();
                }
            }
            if (index) {
                Optional<String> from = restore.resolve(cfg, IndexJobRunner.stateName(true));
                try (ReplayProgress progress = ReplayProgress.start(cfg, "replay, index job",
                        IndexTargets.from(cfg).topics())) {
                    IndexJobRunner.build(cfg, true, from).execute("tourniquet-index");
                    progress.finished();
                }
            }
            return;
        }
        JobClient detectJob = detect ? DetectJobRunner.build(cfg, false,
                restore.resolve(cfg, DetectJobRunner.stateName(false))).executeAsync("tourniquet-detect") : null;
        JobClient indexJob = index ? IndexJobRunner.build(cfg, false,
                restore.resolve(cfg, IndexJobRunner.stateName(false))).executeAsync("tourniquet-index") : null;
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            stop("detect", detectJob);
            stop("index", indexJob);
        }, "tourniquet-shutdown"));
        System.out.println("running; Ctrl-C stops both jobs with a savepoint");
        if (detectJob != null) detectJob.getJobExecutionResult().get();
        if (indexJob != null) indexJob.getJobExecutionResult().get();
    }

    /**
     * Stop with a savepoint (sources stop first, so nothing is half processed), into the job's
     * savepoint directory, which the next start resumes from. If that fails or takes too long, the
     * job is cancelled: its retained checkpoints still let the next start resume.
     */
    static void stop(String name, JobClient job) {
        if (job == null) return;
        try {
            String savepoint = job.stopWithSavepoint(false, null, SavepointFormatType.CANONICAL)
                    .get(STOP_TIMEOUT.toSeconds(), TimeUnit.SECONDS);
            System.out.println(name + " job stopped with savepoint " + savepoint);
        } catch (Exception e) {
            System.out.println(name + " job: savepoint failed (" + Main.rootMessage(e) + "); cancelling, the "
                    + "next start resumes from its newest retained checkpoint");
            try {
                job.cancel().get(STOP_TIMEOUT.toSeconds(), TimeUnit.SECONDS);
            } catch (Exception ignored) {
                // The JVM is exiting: the retained checkpoints are all that matters now.
            }
        }
    }
}
