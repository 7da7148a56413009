package io.tourniquet.streams;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import org.apache.flink.api.connector.sink2.Sink;
import org.apache.flink.api.connector.sink2.SinkWriter;
import org.apache.flink.api.connector.sink2.WriterInitContext;

/**
 * A sink into a queue of this JVM that every subtask appends to, read once the bounded job has
 * ended: where a backtest's outputs go instead of the live topics, and the tests' collecting sink.
 * Only for jobs on an embedded cluster (this process).
 */
public final class InMemorySink<T> implements Sink<T> {
    private static final long serialVersionUID = 1L;
    private static final Map<String, Queue<Object>> QUEUES = new ConcurrentHashMap<>();

    private final String name;

    private InMemorySink(String name) {
        this.name = name;
    }

    /** A fresh, empty sink under a name of its own. */
    public static <T> InMemorySink<T> create() {
        return named(UUID.randomUUID().toString());
    }

    /** A fresh, empty sink under {@code name} (replacing any earlier one of that name). */
    public static <T> InMemorySink<T> named(String name) {
        QUEUES.put(name, new ConcurrentLinkedQueue<>());
        return new InMemorySink<>(name);
    }

    /** What the job wrote so far. */
    @SuppressWarnings("unchecked")
    public List<T> results() {
        Queue<Object> q = QUEUES.get(name);
        return q == null ? List.of() : new ArrayList<>((Queue<T>) (Queue<?>) q);
    }

    /** What the job wrote, and the queue released. */
    @SuppressWarnings("unchecked")
    public List<T> drain() {
        Queue<Object> q = QUEUES.remove(name);
        return q == null ? List.of() : new ArrayList<>((Queue<T>) (Queue<?>) q);
    }

    @Override
    public SinkWriter<T> createWriter(WriterInitContext context) {
        Queue<Object> target = QUEUES.get(name);
        if (target == null) throw new IllegalStateException("backtest output " + name + " is not in this JVM");
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
