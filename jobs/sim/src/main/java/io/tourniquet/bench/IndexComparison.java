package io.tourniquet.bench;

import io.tourniquet.kafka.TopicReader;
import com.google.common.math.Quantiles;
import io.tourniquet.config.Settings;
import io.tourniquet.config.TourniquetConfig;
import io.tourniquet.index.IndexJobRunner;
import io.tourniquet.kafka.KafkaClientConfig;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.UUID;
import org.apache.flink.api.common.JobExecutionResult;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;

/**
 * The index job against {@link PlainIngest} on the same documents: the first {@code n} enriched
 * events of a loaded topic are copied to the job configuration's (empty) enriched topic; the index
 * job replays it (bounded) into its fresh indices, and the plain client reads the same topic into
 * its own fresh indices. One after the other, so neither competes with the other for the two cores
 * or for Elasticsearch.
 */
public final class IndexComparison {
    private IndexComparison() {}

    /** One run of the index job: its wall clock, and the events documents in its indices afterwards. */
    public record JobSide(ScaleLoad.JobRun run, long documents) {
        /**
         * Per second of the cluster's net runtime: the embedded cluster's start (a few seconds,
         * which a deployed job does not pay per run) is left out, the job's deployment is not.
         */
        public double perSecond() {
            return documents / run.netRuntimeSeconds();
        }
    }

    /**
     * @param documents enriched events copied for the comparison
     * @param job       the index job's runs, in order
     * @param plain     the plain client's runs, in order
     */
    public record Result(long documents, List<JobSide> job, List<PlainIngest.Result> plain) {
        /** Median documents per second of the job's runs. */
        public double jobPerSecond() {
            return Quantiles.median().compute(job.stream().mapToDouble(JobSide::perSecond).toArray());
        }

        public double plainPerSecond() {
            return Quantiles.median().compute(plain.stream().mapToDouble(PlainIngest.Result::perSecond).toArray());
        }

        public double ratio() {
            return jobPerSecond() / plainPerSecond();
        }
    }

    /** What the caller does to the indices around each run. */
    public interface Indices {
        /** Deletes the configuration's indices and applies its templates: every run starts empty. */
        void reset(TourniquetConfig cfg) throws Exception;

        /** Counts the documents behind an alias (after a refresh). */
        long count(TourniquetConfig cfg, String alias) throws Exception;
    }

    /**
     * A warm-up round, then {@code rounds} rounds of one run of each side, in ABBA order (job then
     * plain, plain then job, ...), so that a drift of the machine (Elasticsearch merging, caches)
     * weighs on both sides alike.
     *
     * @param jobCfg   the index job's configuration: its enriched topic exists and is empty
     * @param plainCfg the plain client's
     */
    public static Result run(TourniquetConfig jobCfg, TourniquetConfig plainCfg, String loadedTopic, long n, int rounds,
                             Indices indices) throws Exception {
        String topic = jobCfg.get(Settings.TOPIC_ENRICHED);
        long copied = copy(KafkaClientConfig.base(jobCfg), loadedTopic, topic, n);
        List<JobSide> job = new ArrayList<>();
        List<PlainIngest.Result> plain = new ArrayList<>();
        // Round 0 warms both up (class loading, JIT, Elasticsearch's caches for the fresh indices) and is not counted.
        for (int round = 0; round <= rounds; round++) {
            if (round == 1) {
                job.clear();
                plain.clear();
            }
            for (int side = 0; side < 2; side++) {
                if ((side == 0) == (round % 2 == 1)) {
                    indices.reset(jobCfg);
                    // A consumer group of its own each run: a bounded replay starts from the group's
                    // committed offsets, which the previous run left at the end.
                    TourniquetConfig runCfg = jobCfg.with(Settings.KAFKA_GROUP_PREFIX,
                            jobCfg.get(Settings.KAFKA_GROUP_PREFIX) + "-" + UUID.randomUUID());
                    long start = System.nanoTime();
                    JobExecutionResult result = IndexJobRunner.build(runCfg, true)
                            .execute("tourniquet-bench-forensics-compare");
                    job.add(new JobSide(ScaleLoad.JobRun.of(start, result),
                            indices.count(jobCfg, jobCfg.get(Settings.INDEX_EVENTS))));
                    System.out.printf("   %s, index job: %,.0f documents/s%n", round == 0 ? "warm-up" : "round " + round,
                            job.get(job.size() - 1).perSecond());
                } else {
                    indices.reset(plainCfg);
                    plain.add(PlainIngest.run(plainCfg, topic, plainCfg.get(Settings.INDEX_EVENTS), Duration.ofHours(1)));
                    System.out.printf("   %s, plain BulkIngester: %,.0f documents/s%n", round == 0 ? "warm-up" : "round " + round,
                            plain.get(plain.size() - 1).perSecond());
                }
            }
        }
        return new Result(copied, job, plain);
    }

    private static long copy(Properties client, String from, String to, long n) {
        try (KafkaProducer<byte[], byte[]> producer = ScaleLoad.bulkProducer(client, "none")) {
            long copied = TopicReader.forEach(client, from, Duration.ofMinutes(30), n,
                    r -> producer.send(new ProducerRecord<>(to, r.key(), r.value())));
            producer.flush();
            return copied;
        }
    }
}
