package io.tourniquet.index;

import io.tourniquet.config.TourniquetConfig;
import org.apache.flink.api.connector.sink2.Sink;
import org.apache.flink.api.connector.sink2.SinkWriter;
import org.apache.flink.api.connector.sink2.WriterInitContext;

/**
 * Flink sink writing {@link IndexDoc}s to Elasticsearch, at least once: a checkpoint completes
 * only when every document written before it is acknowledged (see {@link ElasticsearchSinkWriter}),
 * and deterministic ids make the replays after a failure overwrite instead of duplicate.
 */
public final class ElasticsearchSink implements Sink<IndexDoc> {
    private static final long serialVersionUID = 1L;

    private final EsSinkSettings settings;

    public ElasticsearchSink(EsSinkSettings settings) {
        this.settings = settings;
    }

    public static ElasticsearchSink fromConfig(TourniquetConfig config) {
        return new ElasticsearchSink(EsSinkSettings.from(config));
    }

    public EsSinkSettings settings() {
        return settings;
    }

    @Override
    public SinkWriter<IndexDoc> createWriter(WriterInitContext context) {
        String name = "es-sink " + (context.getTaskInfo().getIndexOfThisSubtask() + 1) + "/"
                + context.getTaskInfo().getNumberOfParallelSubtasks();
        return new ElasticsearchSinkWriter(settings, context.metricGroup(), name);
    }
}
