package io.tourniquet.detect;

import io.tourniquet.config.Settings;
import io.tourniquet.config.TourniquetConfig;
import org.apache.flink.configuration.CheckpointingOptions;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.PipelineOptions;
import org.apache.flink.core.execution.CheckpointingMode;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;

/**
 * One way to make a job's environment: checkpointing on (exactly once), parallelism and
 * checkpoint storage from configuration. In a cluster this returns the cluster's environment;
 * from the launcher, an embedded local one.
 */
public final class JobEnvironments {
    private JobEnvironments() {}

    public static StreamExecutionEnvironment create(TourniquetConfig cfg, String jobName) {
        Configuration conf = new Configuration();
        conf.set(PipelineOptions.NAME, "tourniquet-" + jobName);
        cfg.find(Settings.CHECKPOINT_DIR).ifPresent(dir -> conf.set(CheckpointingOptions.CHECKPOINTS_DIRECTORY, dir));
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment(conf);
        env.setParallelism(cfg.get(Settings.PARALLELISM));
        // Alerts are few and urgent: a network buffer that waits to fill delays a freeze, and lets
        // alerts from parallel detectors overtake each other on their way to the platform rules.
        env.setBufferTimeout(cfg.get(Settings.BUFFER_TIMEOUT).toMillis());
        env.enableCheckpointing(cfg.get(Settings.CHECKPOINT_INTERVAL).toMillis(), CheckpointingMode.EXACTLY_ONCE);
        // A checkpoint that cannot complete (e.g. Elasticsearch down under the index job) is retried,
        // not fatal: the job keeps its position and nothing is acknowledged early.
        env.getCheckpointConfig().setTolerableCheckpointFailureNumber(Integer.MAX_VALUE);
        return env;
    }
}
