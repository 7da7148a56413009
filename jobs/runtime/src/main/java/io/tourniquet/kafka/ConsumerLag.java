package io.tourniquet.kafka;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.ListOffsetsOptions;
import org.apache.kafka.clients.admin.ListOffsetsResult;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.IsolationLevel;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

/**
 * How far a job's consumer group is behind, per topic: the records between the offsets it last
 * committed (the jobs commit on each completed checkpoint) and the end of each partition, summed
 * over partitions. A partition the group never committed counts from its first offset, which is
 * where the job would start.
 *
 * <p>The end is the last stable offset (what a read_committed reader, as the jobs are, can read).
 * On a topic written in transactions (alerts) the offset difference also counts the commit marker
 * each transaction leaves after its records, which no reader ever receives: a caught-up index job
 * would show one record of lag per partition for ever. So a small difference (at most
 * {@link #EXACT_BELOW} offsets in a partition) is counted by reading those records; a larger one
 * is the offset difference (markers included: at most one per checkpoint).
 */
public final class ConsumerLag {
    /** Offsets per partition up to which lag is counted record by record. */
    static final long EXACT_BELOW = 1_000;

    private ConsumerLag() {}

    /** One topic's lag for one group. */
    public record TopicLag(String group, String topic, long lag) {}

    public static List<TopicLag> of(Admin admin, Properties client, String group, List<String> topics, Duration timeout)
            throws InterruptedException, ExecutionException, TimeoutException {
        long ms = timeout.toMillis();
        Map<String, TopicDescription> described = admin.describeTopics(topics).allTopicNames()
                .get(ms, TimeUnit.MILLISECONDS);
        List<TopicPartition> parts = new ArrayList<>();
        for (String t : topics) {
            described.get(t).partitions().forEach(p -> parts.add(new TopicPartition(t, p.partition())));
        }
        Map<TopicPartition, OffsetAndMetadata> committed = admin.listConsumerGroupOffsets(group)
                .partitionsToOffsetAndMetadata().get(ms, TimeUnit.MILLISECONDS);
        Map<TopicPartition, OffsetSpec> latestSpec = new HashMap<>();
        Map<TopicPartition, OffsetSpec> earliestSpec = new HashMap<>();
        for (TopicPartition tp : parts) {
            latestSpec.put(tp, OffsetSpec.latest());
            earliestSpec.put(tp, OffsetSpec.earliest());
        }
        Map<TopicPartition, ListOffsetsResult.ListOffsetsResultInfo> end = admin.listOffsets(latestSpec,
                new ListOffsetsOptions(IsolationLevel.READ_COMMITTED)).all().get(ms, TimeUnit.MILLISECONDS);
        Map<TopicPartition, ListOffsetsResult.ListOffsetsResultInfo> start = admin.listOffsets(earliestSpec)
                .all().get(ms, TimeUnit.MILLISECONDS);

        Map<TopicPartition, long[]> toCount = new HashMap<>(); // {from, to}
        Map<String, Long> byTopic = new LinkedHashMap<>();
        for (String t : topics) byTopic.put(t, 0L);
        for (TopicPartition tp : parts) {
            OffsetAndMetadata c = committed.get(tp);
            long from = Math.max(c != null ? c.offset() : 0L, start.get(tp).offset());
            long to = end.get(tp).offset();
            long gap = Math.max(0L, to - from);
            if (gap > 0 && gap <= EXACT_BELOW) {
                toCount.put(tp, new long[] {from, to});
            } else {
                byTopic.merge(tp.topic(), gap, Long::sum);
            }
        }
        countRecords(client, toCount, timeout).forEach((tp, n) -> byTopic.merge(tp.topic(), n, Long::sum));
        List<TopicLag> out = new ArrayList<>();
        byTopic.forEach((t, lag) -> out.add(new TopicLag(group, t, lag)));
        return out;
    }

    /** The records a read_committed reader gets in each {@code [from, to)}. */
    private static Map<TopicPartition, Long> countRecords(Properties client, Map<TopicPartition, long[]> ranges,
                                                          Duration timeout) {
        Map<TopicPartition, Long> counts = new HashMap<>();
        if (ranges.isEmpty()) return counts;
        Properties p = new Properties();
        p.putAll(client);
        p.put(ConsumerConfig.GROUP_ID_CONFIG, "tourniquet-lag-" + UUID.randomUUID());
        p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        p.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
        p.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
        try (KafkaConsumer<byte[], byte[]> c = new KafkaConsumer<>(p)) {
            c.assign(ranges.keySet());
            ranges.forEach((tp, r) -> {
                c.seek(tp, r[0]);
                counts.put(tp, 0L);
            });
            long deadline = System.nanoTime() + timeout.toNanos();
            while (!ranges.entrySet().stream().allMatch(e -> c.position(e.getKey()) >= e.getValue()[1])) {
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException("timed out counting the records behind consumer offsets in "
                            + ranges.keySet());
                }
                for (ConsumerRecord<byte[], byte[]> r : c.poll(Duration.ofMillis(200))) {
                    TopicPartition tp = new TopicPartition(r.topic(), r.partition());
                    if (r.offset() < ranges.get(tp)[1]) counts.merge(tp, 1L, Long::sum);
                }
            }
        }
        return counts;
    }
}
