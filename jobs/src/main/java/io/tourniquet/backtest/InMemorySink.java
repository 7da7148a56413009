package io.tourniquet.backtest;

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
 * Where a backtest's outputs go instead of the live topics: a queue in this JVM that every
 * subtask appends to, read once the bounded job has ended. Only for a job on the embedded cluster
 * (the launcher's own process), which is the only place a backtest runs.
 */
final class InMemorySink<T> implements Sink<T> {
    private static final long serialVersionUID = 1L;
    private static final Map<String, Queue<Object>> QUEUES = new ConcurrentHashMap<>();

    private final String name;

    private InMemorySink(String name) {
        this.name = name;
    }

    static <T> InMemorySink<T> create() {
        String name = UUID.randomUUID().toString();
        QUEUES.put(name, new ConcurrentLinkedQueue<>());
        return new InMemorySink<>(name);
    }

    /** What the job wrote, and the queue released. */
    @SuppressWarnings("unchecked")
    List<T> drain() {
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
