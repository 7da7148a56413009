package io.tourniquet.bench;

import io.tourniquet.config.Settings;
import io.tourniquet.config.TourniquetConfig;
import io.tourniquet.model.EventParser;
import io.tourniquet.model.InvalidEventException;
import io.tourniquet.util.SerializableClock;
import io.tourniquet.json.Json;
import io.tourniquet.kafka.KafkaClientConfig;
import io.tourniquet.kafka.KafkaConnectors;
import io.tourniquet.model.EnrichedEvent;
import io.tourniquet.model.Event;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/**
 * The limit: what the detect job minimally must do, with nothing else. One thread of this JVM
 * reads the input topics (read_committed, as the job's source), parses and validates every record
 * with the job's own {@link EventParser} (same settings), and produces one record per valid event
 * to its output topic: the event as the job's enriched-event sink writes it (JSON through the
 * project's mapper, keyed by user), with the sink's producer settings (acks=all, its linger).
 * Its rate is read from that topic's append times ({@link AppendTimes}), as the job's is.
 */
public final class LimitRun {
    private LimitRun() {}

    /**
     * @param consumed records read
     * @param produced records produced (the valid ones)
     * @param invalid  records the parser refused (the job would send them to the DLQ)
     * @param seconds  wall time of the read-parse-produce loop, flush included
     * @param gc       garbage collection during it
     */
    public record Result(long consumed, long produced, long invalid, double seconds, GcPauses.Window gc) {}

    public static Result run(TourniquetConfig cfg, String outputTopic, Duration timeout) throws Exception {
        EventParser parser = EventParser.from(cfg, SerializableClock.SYSTEM);
        AtomicReference<Exception> failure = new AtomicReference<>();
        long consumed = 0;
        long produced = 0;
        long invalid = 0;
        long start = System.nanoTime();
        long deadline = start + timeout.toNanos();
        try (GcPauses gc = GcPauses.start();
             KafkaConsumer<byte[], byte[]> in = new KafkaConsumer<>(consumerProps(cfg));
             KafkaProducer<byte[], byte[]> out = new KafkaProducer<>(producerProps(cfg))) {
            List<TopicPartition> parts = new ArrayList<>();
            for (String t : KafkaConnectors.inputTopics(cfg)) {
                in.partitionsFor(t).forEach(i -> parts.add(new TopicPartition(t, i.partition())));
            }
            in.assign(parts);
            in.seekToBeginning(parts);
            // The input as it is now: the bench loaded it before, nothing is added meanwhile.
            Map<TopicPartition, Long> end = in.endOffsets(parts);
            while (parts.stream().anyMatch(tp -> in.position(tp) < end.get(tp))) {
                if (System.nanoTime() > deadline) throw new IllegalStateException("the limit run took over " + timeout);
                for (ConsumerRecord<byte[], byte[]> r : in.poll(Duration.ofMillis(100))) {
                    consumed++;
                    Event ev;
                    try {
                        ev = parser.parse(r.topic(), r.partition(), r.offset(), r.value());
                    } catch (InvalidEventException e) {
                        invalid++;
                        continue;
                    }
                    ev.sourceTimestamp = Math.max(0L, r.timestamp());
                    out.send(new ProducerRecord<>(outputTopic, ev.userId.getBytes(StandardCharsets.UTF_8),
                            Json.toBytes(EnrichedEvent.of(ev))), (m, e) -> {
                                if (e != null) failure.compareAndSet(null, e);
                            });
                    produced++;
                }
            }
            out.flush();
            if (failure.get() != null) throw new IllegalStateException("the limit's producer failed", failure.get());
            return new Result(consumed, produced, invalid, (System.nanoTime() - start) / 1e9, gc.stop());
        }
    }

    private static Properties consumerProps(TourniquetConfig cfg) {
        Properties p = KafkaClientConfig.base(cfg);
        p.put(ConsumerConfig.GROUP_ID_CONFIG, "bench-limit-" + UUID.randomUUID());
        p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        p.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
        p.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
        return p;
    }

    private static Properties producerProps(TourniquetConfig cfg) {
        Properties p = KafkaClientConfig.base(cfg);
        p.put(ProducerConfig.ACKS_CONFIG, "all");
        p.put(ProducerConfig.LINGER_MS_CONFIG, Long.toString(cfg.get(Settings.KAFKA_BATCH_LINGER).toMillis()));
        p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
        p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
        return p;
    }
}
