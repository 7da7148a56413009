package io.tourniquet.detect;

import io.tourniquet.config.TourniquetConfig;
import io.tourniquet.kafka.KafkaConnectors;
import io.tourniquet.model.RawRecord;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;

/** Builds the detect job on real Kafka from configuration. */
public final class DetectJobRunner {
    private DetectJobRunner() {}

    public static StreamExecutionEnvironment build(TourniquetConfig cfg, boolean bounded) {
        StreamExecutionEnvironment env = JobEnvironments.create(cfg, "detect");
        DataStream<RawRecord> raw = env
                .fromSource(KafkaConnectors.rawSource(cfg, KafkaConnectors.inputTopics(cfg), "detect", bounded),
                        DetectJob.watermarks(cfg), "Input topics")
                .uid("source-input").name("Input topics");
        DetectJob.defineWorkflow(raw, KafkaConnectors.detectSinks(cfg), cfg, SerializableClock.SYSTEM);
        return env;
    }
}
