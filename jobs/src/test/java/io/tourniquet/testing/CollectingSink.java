package io.tourniquet.testing;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import org.apache.flink.api.connector.sink2.Sink;
import org.apache.flink.api.connector.sink2.SinkWriter;
import org.apache.flink.api.connector.sink2.WriterInitContext;

/**
 * A Sink V2 test double for jobs on the in-process MiniCluster: every subtask appends to one
 * JVM-wide queue named by the sink, which the test reads after the job ends.
 *
 * @param <T> record type
 */
public final class CollectingSink<T> implements Sink<T> {
    private static final long serialVersionUID = 1L;
    private static final Map<String, Queue<Object>> RESULTS = new ConcurrentHashMap<>();

    private final String name;

    private CollectingSink(String name) {
        this.name = name;
    }

    /** A fresh, empty sink; names should be unique per test. */
    public static <T> CollectingSink<T> named(String name) {
        RESULTS.put(name, new ConcurrentLinkedQueue<>());
        return new CollectingSink<>(name);
    }

    @SuppressWarnings("unchecked")
    public List<T> results() {
        return new ArrayList<>((Queue<T>) (Queue<?>) RESULTS.get(name));
    }

    @Override
    public SinkWriter<T> createWriter(WriterInitContext context) {
        Queue<Object> target = RESULTS.get(name);
        return new SinkWriter<>() {
            @Override
            public void write(T element, Context ctx) {
                target.add(element);
            }

            @Override
            public void flush(boolean endOfInput) {}

            @Override
            public void close() {}
        };
    }
}
