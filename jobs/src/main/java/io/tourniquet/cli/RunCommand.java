package io.tourniquet.cli;

import io.tourniquet.config.Settings;
import io.tourniquet.config.TourniquetConfig;
import io.tourniquet.detect.DetectJobRunner;
import io.tourniquet.index.IndexJobRunner;
import io.tourniquet.index.IndexTargets;
import io.tourniquet.kafka.KafkaConnectors;
import java.util.concurrent.Callable;
import org.apache.flink.core.execution.JobClient;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "run", mixinStandardHelpOptions = true,
        description = {"Run the detect job and the index job on an embedded Flink against the given Kafka and "
                        + "Elasticsearch.",
                "Every setting can be given by flag (--set key=value) or environment variable (TOURNIQUET_<KEY>).",
                "The detect job requires the command signing key (TOURNIQUET_SIGNING_KEY) and the analysts' "
                        + "control key (TOURNIQUET_SIGNING_CONTROL_KEY), each at least 32 bytes."})
public final class RunCommand implements Callable<Integer> {
    enum Jobs { both, detect, index }

    @Mixin
    ConfigOptions options;

    @Option(names = "--bounded", description = "Process what the input topics hold at start, then stop (replay/backtest).")
    boolean bounded;

    @Option(names = "--job", description = "Which job to run: ${COMPLETION-CANDIDATES} (default: ${DEFAULT-VALUE}).")
    Jobs job = Jobs.both;

    @Override
    public Integer call() throws Exception {
        TourniquetConfig cfg = options.resolve();
        if (job != Jobs.index && cfg.find(Settings.SIGNING_KEY).isEmpty()) {
            throw new IllegalArgumentException("no signing key: set TOURNIQUET_SIGNING_KEY (at least 32 bytes); "
                    + "enforcers ignore unsigned commands, so the detect job refuses to start without one");
        }
        if (job != Jobs.index && cfg.find(Settings.CONTROL_KEY).isEmpty()) {
            throw new IllegalArgumentException("no control key: set TOURNIQUET_SIGNING_CONTROL_KEY (at least 32 bytes); "
                    + "only requests signed with it can release accounts or resume withdrawals");
        }
        if (job != Jobs.index) checkKeys(cfg);
        System.out.println(Main.logFileLine());
        // The detect job starts whatever state Elasticsearch is in: templates are the index job's.
        SetupCommand.applyTopics(cfg);
        if (job != Jobs.detect) SetupCommand.applyIndexTemplates(cfg);
        run(cfg, job != Jobs.index, job != Jobs.detect, bounded);
        return 0;
    }

    /**
     * Outside the demo, keys anyone can read in this repository would let anyone forge commands or
     * analysts' requests, and one key for both would let a command signer pass as an analyst.
     */
    static void checkKeys(TourniquetConfig cfg) {
        String signing = cfg.get(Settings.SIGNING_KEY);
        String control = cfg.get(Settings.CONTROL_KEY);
        java.util.List<String> problems = new java.util.ArrayList<>();
        if (signing.equals(DemoCommand.DEMO_SIGNING_KEY) || signing.equals(DemoCommand.DEMO_CONTROL_KEY)) {
            problems.add("TOURNIQUET_SIGNING_KEY is the public demo key");
        }
        if (control.equals(DemoCommand.DEMO_SIGNING_KEY) || control.equals(DemoCommand.DEMO_CONTROL_KEY)) {
            problems.add("TOURNIQUET_SIGNING_CONTROL_KEY is the public demo key");
        }
        if (signing.equals(control)) {
            problems.add("TOURNIQUET_SIGNING_CONTROL_KEY equals TOURNIQUET_SIGNING_KEY: analysts' requests need their own key");
        }
        if (!problems.isEmpty()) {
            throw new IllegalArgumentException(String.join("; ", problems) + ". Use the demo for the public keys; "
                    + "'run' needs keys of your own.");
        }
    }

    /**
     * Bounded: the detect job first, then the index job over what it wrote. Unbounded: both at
     * once, as separate jobs, so the index job's checkpoints (which wait for Elasticsearch) never
     * hold back the detect job's.
     */
    static void run(TourniquetConfig cfg, boolean detect, boolean index, boolean bounded) throws Exception {
        if (bounded) {
            if (detect) {
                try (ReplayProgress progress = ReplayProgress.start(cfg, "replay, detect job",
                        KafkaConnectors.inputTopics(cfg))) {
                    DetectJobRunner.build(cfg, true).execute("tourniquet-detect");
                    progress.finished();
                }
            }
            if (index) {
                try (ReplayProgress progress = ReplayProgress.start(cfg, "replay, index job",
                        IndexTargets.from(cfg).topics())) {
                    IndexJobRunner.build(cfg, true).execute("tourniquet-index");
                    progress.finished();
                }
            }
            return;
        }
        JobClient detectJob = detect ? DetectJobRunner.build(cfg, false).executeAsync("tourniquet-detect") : null;
        JobClient indexJob = index ? IndexJobRunner.build(cfg, false).executeAsync("tourniquet-index") : null;
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            if (detectJob != null) detectJob.cancel();
            if (indexJob != null) indexJob.cancel();
        }, "tourniquet-shutdown"));
        System.out.println("running; Ctrl-C stops both jobs");
        if (detectJob != null) detectJob.getJobExecutionResult().get();
        if (indexJob != null) indexJob.getJobExecutionResult().get();
    }
}
