package io.tourniquet.detect.job;

import io.tourniquet.detect.ControlWatermarks;
import io.tourniquet.util.SerializableClock;
import io.tourniquet.config.Settings;
import io.tourniquet.config.TourniquetConfig;
import java.util.List;
import java.util.Optional;
import io.tourniquet.runtime.JobEnvironments;
import io.tourniquet.kafka.KafkaConnectors;
import io.tourniquet.kafka.RawRecordDeserializer;
import io.tourniquet.model.EventParser;
import io.tourniquet.model.RawRecord;
import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;

/** Builds the detect job on real Kafka from configuration. */
public final class DetectJobRunner {
    private DetectJobRunner() {}

    /**
     * Entry point on a Flink cluster (application mode, 'deploy', Kubernetes): settings come from
     * TOURNIQUET_* environment variables and {@code key=value} arguments, the cluster supplies
     * checkpoint storage and the state to restore. Runs until cancelled or stopped with a savepoint;
     * with {@code --bounded}, replays what the input topics hold and ends.
     */
    public static void main(String[] args) throws Exception {
        io.tourniquet.config.ClusterArgs.Parsed parsed = io.tourniquet.config.ClusterArgs.parseAll(args);
        TourniquetConfig cfg = TourniquetConfig.fromEnvironment(parsed.settings());
        io.tourniquet.config.SigningKeys.requireOwn(cfg);
        build(cfg, parsed.bounded()).execute("tourniquet-detect");
    }

    public static StreamExecutionEnvironment build(TourniquetConfig given, boolean bounded) {
        return build(given, bounded, Optional.empty());
    }

    /** The name the job's checkpoints and savepoints are kept under: a replay never resumes a live run. */
    public static String stateName(boolean bounded) {
        return bounded ? "detect-replay" : "detect";
    }

    public static StreamExecutionEnvironment build(TourniquetConfig given, boolean bounded, Optional<String> restoreFrom) {
        // A bounded replay always ends, and its end releases event time: a wall-clock decision there
        // could only be taken on a partial read (a machine busy enough to starve one subtask of
        // input for the bound flagged 185 benign approvals in one CI run). So it never takes one.
        TourniquetConfig cfg = bounded ? given.with(Settings.UA_MAX_WAIT, "3650 d") : given;
        StreamExecutionEnvironment env = JobEnvironments.create(cfg, stateName(bounded), restoreFrom);
        wire(env, cfg, bounded, bounded ? DetectJob.replayWatermarks(cfg) : DetectJob.watermarks(cfg),
                kafkaSinks(cfg));
        return env;
    }

    /** The detect job's outputs on their Kafka topics. */
    public static DetectSinks kafkaSinks(TourniquetConfig cfg) {
        return new DetectSinks(KafkaConnectors.alertSink(cfg), KafkaConnectors.actionSink(cfg),
                KafkaConnectors.enrichedSink(cfg), KafkaConnectors.deadLetterSink(cfg), KafkaConnectors.incidentSink(cfg),
                KafkaConnectors.notificationSink(cfg), KafkaConnectors.claimSink(cfg),
                KafkaConnectors.verdictSink(cfg));
    }

    /**
     * The job on {@code env}: its Kafka sources (uids {@code source-input}, {@code source-control},
     * which savepoints map state by) and the detect topology writing to {@code sinks}. Public for
     * the savepoint compatibility test, which must build exactly this with other sinks.
     */
    public static void wire(StreamExecutionEnvironment env, TourniquetConfig cfg, boolean bounded,
                            WatermarkStrategy<RawRecord> watermarks, DetectSinks sinks) {
        DataStream<RawRecord> raw = env
                .fromSource(KafkaConnectors.rawSource(cfg, KafkaConnectors.inputTopics(cfg), "detect", bounded,
                                // Parse once, here (the bounds on event time are applied after).
                                new RawRecordDeserializer(EventParser.from(cfg, SerializableClock.SYSTEM))),
                        watermarks, "Input topics")
                .uid("source-input").name("Input topics");
        DataStream<RawRecord> control = env
                .fromSource(KafkaConnectors.rawSource(cfg, List.of(cfg.get(Settings.TOPIC_CONTROL)), "control",
                        bounded), ControlWatermarks.strategy(), "Control topic")
                .uid("source-control").name("Control topic");
        DetectJob.defineWorkflow(raw, control, sinks, cfg, SerializableClock.SYSTEM);
    }
}
