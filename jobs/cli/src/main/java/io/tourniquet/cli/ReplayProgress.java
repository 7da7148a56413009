package io.tourniquet.cli;

import io.tourniquet.config.Setting;
import io.tourniquet.config.Settings;
import io.tourniquet.config.TourniquetConfig;
import io.tourniquet.kafka.KafkaTopics;
import java.io.PrintStream;
import java.lang.management.ManagementFactory;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import javax.management.JMException;
import javax.management.MBeanServer;
import javax.management.ObjectName;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.ListOffsetsOptions;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.common.IsolationLevel;
import org.apache.kafka.common.TopicPartition;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * While a bounded job replays Kafka topics, prints one line every few seconds: records read / total,
 * per topic. A replay of a large backlog otherwise shows nothing for minutes.
 *
 * <p>The total is each partition's end offset minus its log start offset, read once at start (a bounded
 * source stops at the end offsets it finds when it starts). The figure read comes from the job's own Kafka
 * consumers: the jobs run on an embedded Flink in this JVM, and every Kafka consumer registers, per
 * assigned partition, {@code records-lead} (its position minus the log start offset) on the platform
 * MBean server, updated with every fetch. The alternatives lag or are out of reach: the consumer group's
 * committed offsets only move when a checkpoint completes (job.checkpoint-interval) and a bounded job's
 * last checkpoint is usually declined as its tasks finish, so they rarely reach the end; Flink's own
 * source metrics need a metric reporter in the job's configuration or the embedded cluster's REST port.
 */
final class ReplayProgress implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(ReplayProgress.class);
    static final long INTERVAL_SECONDS = 3;
    static final String CONSUMER_PARTITION_METRICS = "kafka.consumer:type=consumer-fetch-manager-metrics,*";

    private final String what;
    /** Topic to its label, in display order. */
    private final Map<String, String> labels;
    /** Records per partition between the log start and the end offset, at start. */
    private final Map<TopicPartition, Long> totals;
    /**
     * Highest position seen per partition: a consumer drops a partition's metrics once its split is
     * finished, and the line must not go back when it does.
     */
    private final Map<TopicPartition, Long> read = new HashMap<>();
    private final MBeanServer mbeans;
    private final PrintStream out;
    private final long startNanos = System.nanoTime();
    private ScheduledExecutorService timer;

    ReplayProgress(String what, Map<String, String> labels, Map<TopicPartition, Long> totals, MBeanServer mbeans,
                   PrintStream out) {
        this.what = what;
        this.labels = labels;
        this.totals = totals;
        this.mbeans = mbeans;
        this.out = out;
    }

    /**
     * Starts printing for a job about to read {@code topics}. If the totals cannot be read, says so once and
     * prints nothing more: the replay itself must not fail for its progress line.
     */
    static ReplayProgress start(TourniquetConfig cfg, String what, List<String> topics) {
        Map<TopicPartition, Long> totals;
        try {
            totals = totals(cfg, topics);
        } catch (Exception e) {
            LOG.warn("{}: no progress lines ({})", what, Main.rootMessage(e));
            return new ReplayProgress(what, Map.of(), Map.of(), null, System.out);
        }
        ReplayProgress p = new ReplayProgress(what, labels(cfg, topics), totals,
                ManagementFactory.getPlatformMBeanServer(), System.out);
        p.timer = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "tourniquet-replay-progress");
            t.setDaemon(true);
            return t;
        });
        p.timer.scheduleAtFixedRate(() -> p.out.println(p.line()), INTERVAL_SECONDS, INTERVAL_SECONDS,
                TimeUnit.SECONDS);
        return p;
    }

    /** Call when the bounded job has finished: it read every partition to its end offset, so all of it. */
    void finished() {
        stop();
        if (mbeans == null) return;
        synchronized (this) {
            read.putAll(totals);
        }
        out.printf("%s, done in %.1f s%n", line(), (System.nanoTime() - startNanos) / 1e9);
    }

    @Override
    public void close() {
        stop();
    }

    private void stop() {
        if (timer == null) return;
        timer.shutdownNow();
        try {
            timer.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        timer = null;
    }

    /** E.g. {@code replay, detect job: 1,234 / 2,253 records (logins 400/700, mfa 300/500, ...)}. */
    synchronized String line() {
        poll();
        Map<String, long[]> byTopic = new LinkedHashMap<>();
        for (String topic : labels.keySet()) byTopic.put(topic, new long[2]);
        totals.forEach((tp, total) -> {
            long[] t = byTopic.get(tp.topic());
            if (t == null) return;
            t[0] += Math.min(read.getOrDefault(tp, 0L), total);
            t[1] += total;
        });
        long done = 0, all = 0;
        StringBuilder parts = new StringBuilder();
        for (Map.Entry<String, long[]> e : byTopic.entrySet()) {
            done += e.getValue()[0];
            all += e.getValue()[1];
            if (parts.length() > 0) parts.append(", ");
            parts.append(String.format("%s %,d/%,d", labels.get(e.getKey()), e.getValue()[0], e.getValue()[1]));
        }
        return String.format("%s: %,d / %,d records (%s)", what, done, all, parts);
    }

    /** Reads every consumer's per-partition position from JMX; partitions of other topics are skipped. */
    private void poll() {
        if (mbeans == null) return;
        ObjectName pattern;
        try {
            pattern = new ObjectName(CONSUMER_PARTITION_METRICS);
        } catch (JMException e) {
            throw new IllegalStateException(e);
        }
        for (ObjectName name : mbeans.queryNames(pattern, null)) {
            String topic = unquote(name.getKeyProperty("topic"));
            String partition = unquote(name.getKeyProperty("partition"));
            if (topic == null || partition == null || !labels.containsKey(topic)) continue;
            try {
                Object lead = mbeans.getAttribute(name, "records-lead");
                if (!(lead instanceof Number n) || Double.isNaN(n.doubleValue())) continue;
                read.merge(new TopicPartition(topic, Integer.parseInt(partition)), n.longValue(), Math::max);
            } catch (JMException | NumberFormatException e) {
                // The consumer closed between the query and the read (its split finished): keep what was seen.
            }
        }
    }

    /** Kafka quotes a tag value with characters JMX reserves; topic names rarely have any. */
    private static String unquote(String value) {
        return value != null && value.startsWith("\"") ? ObjectName.unquote(value) : value;
    }

    private static Map<TopicPartition, Long> totals(TourniquetConfig cfg, List<String> topics) throws Exception {
        try (Admin admin = KafkaTopics.admin(cfg)) {
            Map<TopicPartition, OffsetSpec> earliest = new HashMap<>();
            Map<TopicPartition, OffsetSpec> latest = new HashMap<>();
            for (TopicDescription d : admin.describeTopics(topics).allTopicNames().get(30, TimeUnit.SECONDS).values()) {
                d.partitions().forEach(p -> {
                    TopicPartition tp = new TopicPartition(d.name(), p.partition());
                    earliest.put(tp, OffsetSpec.earliest());
                    latest.put(tp, OffsetSpec.latest());
                });
            }
            // The jobs read read_committed: their end is the last stable offset, not the high watermark.
            ListOffsetsOptions committed = new ListOffsetsOptions(IsolationLevel.READ_COMMITTED);
            var starts = admin.listOffsets(earliest, committed).all().get(30, TimeUnit.SECONDS);
            var ends = admin.listOffsets(latest, committed).all().get(30, TimeUnit.SECONDS);
            Map<TopicPartition, Long> totals = new HashMap<>();
            ends.forEach((tp, end) -> totals.put(tp, Math.max(0, end.offset() - starts.get(tp).offset())));
            return totals;
        }
    }

    /** A topic's label is its setting's name: topic.account-changes reads "account changes". */
    static Map<String, String> labels(TourniquetConfig cfg, List<String> topics) {
        Map<String, String> labels = new LinkedHashMap<>();
        for (String topic : topics) {
            String label = topic;
            for (Setting<String> s : Settings.TOPICS) {
                if (cfg.get(s).equals(topic)) label = s.key().substring("topic.".length()).replace('-', ' ');
            }
            labels.put(topic, label);
        }
        return labels;
    }
}
