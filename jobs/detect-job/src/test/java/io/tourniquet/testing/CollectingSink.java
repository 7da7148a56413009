package io.tourniquet.testing;

import io.tourniquet.streams.InMemorySink;
import java.util.List;
import org.apache.flink.api.connector.sink2.Sink;
import org.apache.flink.api.connector.sink2.SinkWriter;
import org.apache.flink.api.connector.sink2.WriterInitContext;

/**
 * A Sink V2 test double for jobs on the in-process MiniCluster: every subtask appends to one
 * JVM-wide queue named by the sink, which the test reads after the job ends (the backtest's
 * {@link InMemorySink}, under the test's name).
 *
 * @param <T> record type
 */
public final class CollectingSink<T> implements Sink<T> {
    private static final long serialVersionUID = 1L;

    private final InMemorySink<T> queue;

    private CollectingSink(InMemorySink<T> queue) {
        this.queue = queue;
    }

    /** A fresh, empty sink; names should be unique per test. */
    public static <T> CollectingSink<T> named(String name) {
        return new CollectingSink<>(InMemorySink.named(name));
    }

    public List<T> results() {
        return queue.results();
    }

    @Override
    public SinkWriter<T> createWriter(WriterInitContext context) {
        return queue.createWriter(context);
    }
}
