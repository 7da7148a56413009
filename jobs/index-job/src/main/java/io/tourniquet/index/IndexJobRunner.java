package io.tourniquet.index;

import co.elastic.clients.elasticsearch.ElasticsearchClient;
import io.tourniquet.config.TourniquetConfig;
import io.tourniquet.runtime.JobEnvironments;
import java.util.Optional;
import io.tourniquet.util.SerializableClock;
import io.tourniquet.kafka.KafkaConnectors;
import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;

/** Builds the index job on real Kafka and Elasticsearch from configuration. */
public final class IndexJobRunner {
    private IndexJobRunner() {}

    /**
     * Entry point on a Flink cluster (application mode, 'deploy', Kubernetes): settings come from
     * TOURNIQUET_* environment variables and {@code key=value} arguments, the cluster supplies
     * checkpoint storage and the state to restore. Runs until cancelled or stopped with a savepoint;
     * with {@code --bounded}, replays what the input topics hold and ends.
     */
    public static void main(String[] args) throws Exception {
        io.tourniquet.config.ClusterArgs.Parsed parsed = io.tourniquet.config.ClusterArgs.parseAll(args);
        TourniquetConfig cfg = TourniquetConfig.fromEnvironment(parsed.settings());
        build(cfg, parsed.bounded()).execute("tourniquet-index");
    }

    public static StreamExecutionEnvironment build(TourniquetConfig cfg, boolean bounded) throws Exception {
        return build(cfg, bounded, Optional.empty());
    }

    /** The name the job's checkpoints and savepoints are kept under: a replay never resumes a live run. */
    public static String stateName(boolean bounded) {
        return bounded ? "index-replay" : "index";
    }

    public static StreamExecutionEnvironment build(TourniquetConfig cfg, boolean bounded, Optional<String> restoreFrom)
            throws Exception {
        EsClients.with(cfg, client -> {
            IndexTemplates.apply(client, cfg);
            return null;
        });
        StreamExecutionEnvironment env = JobEnvironments.create(cfg, stateName(bounded), restoreFrom);
        var raw = env.fromSource(KafkaConnectors.rawSource(cfg, IndexTargets.from(cfg).topics(), "index", bounded),
                        WatermarkStrategy.noWatermarks(), "Detect job outputs")
                .uid("source-detect-outputs").name("Detect job outputs");
        IndexJob.defineWorkflow(raw, ElasticsearchSink.fromConfig(cfg), KafkaConnectors.deadLetterSink(cfg), cfg,
                SerializableClock.SYSTEM);
        return env;
    }
}
