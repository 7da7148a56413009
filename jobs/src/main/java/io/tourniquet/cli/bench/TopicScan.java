package io.tourniquet.cli.bench;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
import java.util.function.Consumer;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

/**
 * Reads one topic from its beginning to the end it had when the scan started, without a consumer
 * group's committed offsets (a throw-away group id), handing each record to the caller. The
 * benches read their own output with it after a measured run, so reading never competes with what
 * is measured.
 */
public final class TopicScan {
    private TopicScan() {}

    /**
     * @param limit at most this many records (across partitions, partition by partition in poll order);
     *              {@code Long.MAX_VALUE} for all
     * @return records handed to {@code each}
     * @throws IllegalStateException if the end is not reached within {@code timeout}
     */
    public static long forEach(Properties client, String topic, Duration timeout, long limit,
                               Consumer<ConsumerRecord<byte[], byte[]>> each) {
        Properties p = new Properties();
        p.putAll(client);
        p.put(ConsumerConfig.GROUP_ID_CONFIG, "bench-scan-" + UUID.randomUUID());
        p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        p.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
        p.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
        p.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, "5000");
        long deadline = System.nanoTime() + timeout.toNanos();
        long handed = 0;
        try (KafkaConsumer<byte[], byte[]> c = new KafkaConsumer<>(p)) {
            List<TopicPartition> parts = c.partitionsFor(topic, timeout).stream()
                    .map(i -> new TopicPartition(topic, i.partition())).toList();
            c.assign(parts);
            c.seekToBeginning(parts);
            Map<TopicPartition, Long> end = c.endOffsets(parts, timeout);
            while (handed < limit && parts.stream().anyMatch(tp -> c.position(tp) < end.get(tp))) {
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException("could not read " + topic + " to its end within " + timeout);
                }
                for (ConsumerRecord<byte[], byte[]> r : c.poll(Duration.ofMillis(200))) {
                    // Records appended after the scan started are not part of it.
                    if (r.offset() >= end.get(new TopicPartition(r.topic(), r.partition()))) continue;
                    if (handed >= limit) break;
                    each.accept(r);
                    handed++;
                }
            }
        }
        return handed;
    }
}
