package io.tourniquet.runtime;

import io.tourniquet.config.Settings;
import io.tourniquet.config.TourniquetConfig;
import java.util.Optional;
import org.apache.flink.configuration.CheckpointingOptions;
import org.apache.flink.configuration.ConfigOptions;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.MemorySize;
import org.apache.flink.configuration.TaskManagerOptions;
import org.apache.flink.configuration.ExecutionOptions;
import org.apache.flink.configuration.ExternalizedCheckpointRetention;
import org.apache.flink.configuration.PipelineOptions;
import org.apache.flink.configuration.RestOptions;
import org.apache.flink.configuration.StateBackendOptions;
import org.apache.flink.configuration.StateRecoveryOptions;
import org.apache.flink.core.execution.CheckpointingMode;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;

/**
 * One way to make a job's environment: checkpointing on (exactly once), parallelism, state backend
 * and durable checkpoint storage from configuration, and optionally the checkpoint or savepoint to
 * restore. In a cluster this returns the cluster's environment; from the launcher, an embedded one.
 */
public final class JobEnvironments {
    private JobEnvironments() {}

    public static StreamExecutionEnvironment create(TourniquetConfig cfg, String jobName) {
        return create(cfg, jobName, Optional.empty());
    }

    public static StreamExecutionEnvironment create(TourniquetConfig cfg, String jobName, Optional<String> restoreFrom) {
        return create(cfg, jobName, restoreFrom, conf -> { });
    }

    /** As above, with the Flink configuration adjusted by {@code adjust} before the environment is made. */
    public static StreamExecutionEnvironment create(TourniquetConfig cfg, String jobName, Optional<String> restoreFrom,
                                                    java.util.function.Consumer<Configuration> adjust) {
        Configuration conf = configuration(cfg, jobName, restoreFrom);
        adjust.accept(conf);
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment(conf);
        env.setParallelism(cfg.get(Settings.PARALLELISM));
        // Alerts are few and urgent: a network buffer that waits to fill delays a freeze, and lets
        // alerts from parallel detectors overtake each other on their way to the platform rules.
        env.setBufferTimeout(cfg.get(Settings.BUFFER_TIMEOUT).toMillis());
        env.enableCheckpointing(cfg.get(Settings.CHECKPOINT_INTERVAL).toMillis(), CheckpointingMode.EXACTLY_ONCE);
        return env;
    }

    /** The Flink configuration a job of this name runs with (public for the deployment checks). */
    public static Configuration configuration(TourniquetConfig cfg, String jobName, Optional<String> restoreFrom) {
        Configuration conf = new Configuration();
        conf.set(PipelineOptions.NAME, "tourniquet-" + jobName);
        conf.set(StateBackendOptions.STATE_BACKEND, cfg.get(Settings.STATE_BACKEND));
        conf.set(CheckpointingOptions.INCREMENTAL_CHECKPOINTS, cfg.get(Settings.CHECKPOINT_INCREMENTAL));
        // Heap snapshots are written and read through unbuffered file streams; the compressing
        // stream buffers them (bench-state: a heap restore 33 s -> 1.6 s for 20,000 users).
        conf.set(ExecutionOptions.SNAPSHOT_COMPRESSION, cfg.get(Settings.SNAPSHOT_COMPRESSION));
        // Each job its own directory, so "the latest checkpoint of the detect job" is a directory scan
        // and never picks up the index job's (their operators differ; Flink would refuse the state).
        checkpointDir(cfg, jobName).ifPresent(dir -> conf.set(CheckpointingOptions.CHECKPOINTS_DIRECTORY, dir));
        savepointDir(cfg, jobName).ifPresent(dir -> conf.set(CheckpointingOptions.SAVEPOINT_DIRECTORY, dir));
        conf.set(CheckpointingOptions.MAX_RETAINED_CHECKPOINTS, cfg.get(Settings.CHECKPOINTS_RETAINED));
        // Kept when the job is cancelled (Ctrl-C, a failed stop-with-savepoint), so the next start
        // resumes instead of re-reading committed offsets with every 2FA challenge forgotten.
        conf.set(CheckpointingOptions.EXTERNALIZED_CHECKPOINT_RETENTION,
                ExternalizedCheckpointRetention.RETAIN_ON_CANCELLATION);
        conf.set(CheckpointingOptions.CHECKPOINTING_TIMEOUT, cfg.get(Settings.CHECKPOINT_TIMEOUT));
        // Bounded, not unlimited: with failures tolerated for ever, alerts' Kafka transactions abort
        // and offsets stop being committed while the job looks healthy. Past the bound the job
        // restarts from its last completed checkpoint, which is loud (restart count, logs).
        conf.set(CheckpointingOptions.TOLERABLE_FAILURE_NUMBER, cfg.get(Settings.CHECKPOINT_TOLERABLE_FAILURES));
        restoreFrom.ifPresent(path -> conf.set(StateRecoveryOptions.SAVEPOINT_PATH, path));
        // The embedded cluster's managed memory (a cluster's TaskManagers ignore a job's): RocksDB
        // shares it per slot among all of the slot's stateful operators, and the local default of
        // 128 MiB gave each a few MiB, less than one write buffer (it warned at every start).
        conf.set(TaskManagerOptions.MANAGED_MEMORY_SIZE, MemorySize.ofMebiBytes(cfg.get(Settings.MANAGED_MEMORY_MB)));
        // The embedded cluster's REST endpoint, on loopback only, on a known range, so 'savepoint'
        // can find a running 'run' (a cluster ignores these: its own configuration decides).
        conf.set(RestOptions.BIND_ADDRESS, "127.0.0.1");
        conf.set(RestOptions.ADDRESS, "127.0.0.1");
        conf.set(RestOptions.BIND_PORT, cfg.get(Settings.REST_PORTS));
        // Flink's own Prometheus reporter: Flink's metrics and ours (names in PipelineMetrics), on the
        // first free port of the range (detect and index each run their own embedded cluster).
        String prometheus = cfg.get(Settings.PROMETHEUS_PORTS);
        if (!prometheus.equals("none")) {
            conf.set(ConfigOptions.key("metrics.reporter.prom.factory.class").stringType().noDefaultValue(),
                    "org.apache.flink.metrics.prometheus.PrometheusReporterFactory");
            conf.set(ConfigOptions.key("metrics.reporter.prom.port").stringType().noDefaultValue(), prometheus);
        }
        cfg.find(Settings.OTLP_ENDPOINT).ifPresent(endpoint -> {
            otlp(conf, "factory.class", OtlpMetricReporterFactory.class.getName());
            otlp(conf, "endpoint", endpoint);
            otlp(conf, "interval", cfg.get(Settings.OTLP_INTERVAL).toMillis() + " ms");
            // detect-replay and detect are the same service; the job name says which run it was.
            otlp(conf, "service.name", "tourniquet-" + jobName.replace("-replay", ""));
            otlp(conf, "deployment.environment", cfg.get(Settings.DEPLOYMENT_ENVIRONMENT));
        });
        return conf;
    }

    private static void otlp(Configuration conf, String key, String value) {
        conf.set(ConfigOptions.key("metrics.reporter.otlp." + key).stringType().noDefaultValue(), value);
    }

    /** {@code <job.checkpoint-dir>/<job>}, when a directory is configured. */
    public static Optional<String> checkpointDir(TourniquetConfig cfg, String jobName) {
        return cfg.find(Settings.CHECKPOINT_DIR).map(dir -> child(dir, jobName));
    }

    /** {@code <job.savepoint-dir>/<job>}, or {@code savepoints/<job>} beside the checkpoint directory. */
    public static Optional<String> savepointDir(TourniquetConfig cfg, String jobName) {
        Optional<String> base = cfg.find(Settings.SAVEPOINT_DIR)
                .or(() -> cfg.find(Settings.CHECKPOINT_DIR).map(JobEnvironments::sibling));
        return base.map(dir -> child(dir, jobName));
    }

    private static String child(String dir, String name) {
        return dir.endsWith("/") ? dir + name : dir + "/" + name;
    }

    private static String sibling(String checkpointDir) {
        String trimmed = checkpointDir.replaceAll("/+$", "");
        int slash = trimmed.lastIndexOf('/');
        // "file:///x/checkpoints" -> "file:///x/savepoints"; a bare bucket "s3://b" -> "s3://b/savepoints"
        return slash <= trimmed.indexOf("//") + 1 ? trimmed + "/savepoints" : trimmed.substring(0, slash) + "/savepoints";
    }
}
