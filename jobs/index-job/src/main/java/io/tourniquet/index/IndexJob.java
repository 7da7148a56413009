package io.tourniquet.index;

import io.tourniquet.config.TourniquetConfig;
import io.tourniquet.util.SerializableClock;
import io.tourniquet.model.DeadLetter;
import io.tourniquet.model.RawRecord;
import org.apache.flink.api.connector.sink2.Sink;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.datastream.SingleOutputStreamOperator;

/**
 * The forensic path: the detect job's enriched events, alerts, commands, incidents and claims → ECS
 * documents → Elasticsearch. Its checkpoints wait for Elasticsearch to acknowledge every document, which is
 * why it is a job of its own: an outage here delays indexing and nothing else.
 */
public final class IndexJob {
    private IndexJob() {}

    public static void defineWorkflow(DataStream<RawRecord> raw, Sink<IndexDoc> elasticsearch,
                                      Sink<DeadLetter> deadLetters, TourniquetConfig cfg, SerializableClock clock) {
        SingleOutputStreamOperator<IndexDoc> docs = raw
                .process(new ToIndexDoc(IndexTargets.from(cfg), clock))
                .uid("to-ecs").name("Map to ECS documents");
        docs.getSideOutput(ToIndexDoc.UNREADABLE).sinkTo(deadLetters).uid("index-sink-dlq").name("Dead-letter sink");
        docs.sinkTo(elasticsearch).uid("sink-elasticsearch").name("Elasticsearch sink");
    }
}
