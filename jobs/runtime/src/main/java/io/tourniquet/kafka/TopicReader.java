package io.tourniquet.kafka;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndTimestamp;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

/**
 * Reads a whole topic as it is now (committed records only), for reports, benchmarks and tests.
 * Stops at the end offsets taken when it starts, so it always terminates.
 */
public final class TopicReader {
    private TopicReader() {}

    public static List<ConsumerRecord<byte[], byte[]>> readAll(String bootstrap, String topic, Duration timeout) {
        return readAll(KafkaClientConfig.plain(bootstrap), topic, timeout);
    }

    /** Reads with the given client properties (bootstrap servers and security: {@link KafkaClientConfig}). */
    public static List<ConsumerRecord<byte[], byte[]>> readAll(Properties client, String topic, Duration timeout) {
        return read(client, topic, null, timeout);
    }

    /**
     * The records appended at or after {@code sinceMillis} (their Kafka timestamp, which the jobs'
     * sinks leave to the producer: the append time), up to the end offsets taken when it starts.
     */
    public static List<ConsumerRecord<byte[], byte[]>> readSince(Properties client, String topic, long sinceMillis,
                                                                 Duration timeout) {
        return read(client, topic, sinceMillis, timeout);
    }

    /**
     * Hands each record, from the beginning up to the end offsets taken when it starts, to
     * {@code each}, at most {@code limit} of them, keeping none: for topics too large to hold.
     *
     * @return the records handed over
     */
    public static long forEach(Properties client, String topic, Duration timeout, long limit,
                               Consumer<ConsumerRecord<byte[], byte[]>> each) {
        long[] n = {0};
        scan(client, topic, null, true, timeout, () -> n[0] >= limit, r -> {
            each.accept(r);
            n[0]++;
        });
        return n[0];
    }

    private static List<ConsumerRecord<byte[], byte[]>> read(Properties client, String topic, Long sinceMillis,
                                                             Duration timeout) {
        List<ConsumerRecord<byte[], byte[]>> out = new ArrayList<>();
        // A window's count stops at the end taken at the start: what was appended since is left for
        // the next look (a whole-topic read keeps it, as it always has).
        scan(client, topic, sinceMillis, sinceMillis != null, timeout, () -> false, out::add);
        return out;
    }

    private static void scan(Properties client, String topic, Long sinceMillis, boolean stopAtEnd, Duration timeout,
                             BooleanSupplier done, Consumer<ConsumerRecord<byte[], byte[]>> each) {
        Properties p = new Properties();
        p.putAll(client);
        p.put(ConsumerConfig.GROUP_ID_CONFIG, "tourniquet-reader-" + UUID.randomUUID());
        p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        p.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
        p.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
        try (KafkaConsumer<byte[], byte[]> c = new KafkaConsumer<>(p)) {
            List<TopicPartition> parts = c.partitionsFor(topic, timeout).stream()
                    .map(i -> new TopicPartition(topic, i.partition())).toList();
            c.assign(parts);
            Map<TopicPartition, Long> end = c.endOffsets(parts, timeout);
            if (sinceMillis == null) {
                c.seekToBeginning(parts);
            } else {
                Map<TopicPartition, Long> query = new HashMap<>();
                for (TopicPartition tp : parts) query.put(tp, sinceMillis);
                Map<TopicPartition, OffsetAndTimestamp> first = c.offsetsForTimes(query, timeout);
                for (TopicPartition tp : parts) {
                    OffsetAndTimestamp o = first.get(tp);
                    // None at or after that time: nothing of this partition is wanted.
                    c.seek(tp, o == null ? end.get(tp) : Math.min(o.offset(), end.get(tp)));
                }
            }
            long deadline = System.nanoTime() + timeout.toNanos();
            while (!done.getAsBoolean() && !reachedEnd(c, end)) {
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException("timed out reading " + topic + " to its end within " + timeout);
                }
                for (ConsumerRecord<byte[], byte[]> r : c.poll(Duration.ofMillis(200))) {
                    if (done.getAsBoolean()) break;
                    if (!stopAtEnd || r.offset() < end.get(new TopicPartition(r.topic(), r.partition()))) each.accept(r);
                }
            }
        }
    }

    private static boolean reachedEnd(KafkaConsumer<byte[], byte[]> c, Map<TopicPartition, Long> end) {
        // With read_committed the position can jump past transaction markers straight to the end.
        for (Map.Entry<TopicPartition, Long> e : end.entrySet()) {
            if (c.position(e.getKey()) < e.getValue()) return false;
        }
        return true;
    }
}
