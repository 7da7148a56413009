package io.tourniquet.bench;

import com.google.common.util.concurrent.ThreadFactoryBuilder;
import io.tourniquet.config.TourniquetConfig;
import io.tourniquet.kafka.KafkaClientConfig;
import java.util.Properties;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * Benign traffic at a fixed rate while freeze latency is measured: a scheduler thread ticks every
 * {@link #TICK_MILLIS} ms and sends what {@link RatePacer} says is due, from {@link BenignSessions}.
 * Its own producer (batching like an exchange's services would), so the timed approvals never
 * queue behind it in the client, only where a real approval would: at the broker and in the job.
 */
public final class BackgroundTraffic implements AutoCloseable {
    /** Small enough that the traffic is smooth at the job's input, large enough to cost nothing. */
    static final long TICK_MILLIS = 5;
    /** A stall longer than a second is not made up for at once (see {@link RatePacer}). */
    private static final double MAX_BURST_SECONDS = 1.0;

    private final ScheduledExecutorService scheduler = Executors.newSingleThreadScheduledExecutor(
            new ThreadFactoryBuilder().setNameFormat("bench-background").setDaemon(true).build());
    private final KafkaProducer<String, String> producer;
    private final BenignSessions sessions;
    private final RatePacer pacer;
    private final AtomicLong acknowledged = new AtomicLong();
    private final AtomicLong dropped = new AtomicLong();
    private final AtomicReference<Exception> failure = new AtomicReference<>();
    private long seq;

    private BackgroundTraffic(TourniquetConfig cfg, String run, double perSecond, int users) {
        Properties p = KafkaClientConfig.base(cfg);
        p.put(ProducerConfig.ACKS_CONFIG, "all");
        p.put(ProducerConfig.LINGER_MS_CONFIG, "5");
        p.put(ProducerConfig.CLIENT_ID_CONFIG, "bench-background");
        p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
        p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
        producer = new KafkaProducer<>(p);
        sessions = new BenignSessions(cfg, run, users);
        pacer = new RatePacer(perSecond, System.nanoTime(), (int) Math.max(1, perSecond * MAX_BURST_SECONDS));
        scheduler.scheduleAtFixedRate(this::tick, 0, TICK_MILLIS, TimeUnit.MILLISECONDS);
    }

    /** Starts sending now, at {@code perSecond} events per second, over {@code users} users. */
    public static BackgroundTraffic start(TourniquetConfig cfg, String run, double perSecond, int users) {
        return new BackgroundTraffic(cfg, run, perSecond, users);
    }

    private void tick() {
        // An exception escaping a periodic task would cancel it silently: keep it for the report.
        try {
            int due = pacer.release(System.nanoTime());
            long now = System.currentTimeMillis();
            for (int i = 0; i < due; i++) {
                BenignSessions.Out o = sessions.event(seq++, now);
                producer.send(new ProducerRecord<>(o.topic(), o.key(), o.json()), (m, e) -> {
                    if (e == null) acknowledged.incrementAndGet();
                    else failure.compareAndSet(null, e);
                });
            }
            dropped.set(pacer.dropped());
        } catch (RuntimeException e) {
            failure.compareAndSet(null, e);
            throw e;
        }
    }

    /** Events the broker has acknowledged so far. */
    public long acknowledged() {
        return acknowledged.get();
    }

    /** Events that fell due during a stall of over a second and were never sent. */
    public long dropped() {
        return dropped.get();
    }

    /** The first send that failed, if any. */
    public Exception failure() {
        return failure.get();
    }

    /** Stops the scheduler, then sends what is buffered and closes the producer. */
    @Override
    public void close() throws InterruptedException {
        scheduler.shutdown();
        if (!scheduler.awaitTermination(30, TimeUnit.SECONDS)) scheduler.shutdownNow();
        producer.close();
    }
}
