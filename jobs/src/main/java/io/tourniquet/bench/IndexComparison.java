package io.tourniquet.bench;

import io.tourniquet.kafka.TopicReader;
import io.tourniquet.config.Settings;
import io.tourniquet.config.TourniquetConfig;
import io.tourniquet.index.IndexJobRunner;
import io.tourniquet.kafka.KafkaClientConfig;
import java.time.Duration;
import java.util.Properties;
import org.apache.flink.api.common.JobExecutionResult;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/**
 * The index job against {@link PlainIngest} on the same documents: the first {@code n} enriched
 * events of a loaded topic are copied to the job configuration's (empty) enriched topic, then the
 * index job replays it (bounded) into its fresh indices, then the plain client reads the same
 * topic into its own fresh indices. One after the other, so neither competes with the other for
 * the two cores or for Elasticsearch.
 */
public final class IndexComparison {
    private IndexComparison() {}

    /**
     * @param documents    enriched events copied for the comparison
     * @param job          the index job's run
     * @param jobDocuments events documents in its indices afterwards
     * @param plain        the plain client's run
     */
    public record Result(long documents, ScaleLoad.JobRun job, long jobDocuments, PlainIngest.Result plain) {
        /** Documents per second of wall clock, deployment included (a few seconds against minutes). */
        public double jobPerSecond() {
            return jobDocuments / job.wallSeconds();
        }

        public double ratio() {
            return jobPerSecond() / plain.perSecond();
        }
    }

    /** Counts the documents behind an alias (after a refresh). */
    @FunctionalInterface
    public interface Counter {
        long count(TourniquetConfig cfg, String alias) throws Exception;
    }

    /**
     * @param jobCfg   the index job's configuration: its enriched topic exists and is empty, its indices do not exist
     * @param plainCfg the plain client's: its templates applied, its indices do not exist
     */
    public static Result run(TourniquetConfig jobCfg, TourniquetConfig plainCfg, String loadedTopic, long n,
                             Counter counter) throws Exception {
        String topic = jobCfg.get(Settings.TOPIC_ENRICHED);
        long copied = copy(KafkaClientConfig.base(jobCfg), loadedTopic, topic, n);

        long start = System.nanoTime();
        JobExecutionResult result = IndexJobRunner.build(jobCfg, true).execute("tourniquet-bench-forensics-compare");
        ScaleLoad.JobRun job = ScaleLoad.JobRun.of(start, result);
        long jobDocuments = counter.count(jobCfg, jobCfg.get(Settings.INDEX_EVENTS));

        PlainIngest.Result plain = PlainIngest.run(plainCfg, topic, plainCfg.get(Settings.INDEX_EVENTS),
                Duration.ofHours(1));
        return new Result(copied, job, jobDocuments, plain);
    }

    private static long copy(Properties client, String from, String to, long n) {
        Properties p = KafkaClientConfig.with(client,
                ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName(),
                ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName(),
                ProducerConfig.LINGER_MS_CONFIG, 20, ProducerConfig.BATCH_SIZE_CONFIG, 256 * 1024);
        try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(p)) {
            long copied = TopicReader.forEach(client, from, Duration.ofMinutes(30), n,
                    r -> producer.send(new ProducerRecord<>(to, r.key(), r.value())));
            producer.flush();
            return copied;
        }
    }
}
