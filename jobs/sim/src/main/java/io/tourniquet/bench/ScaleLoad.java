package io.tourniquet.bench;

import io.tourniquet.kafka.TopicReader;
import io.tourniquet.config.Settings;
import io.tourniquet.config.TourniquetConfig;
import io.tourniquet.detect.job.DetectJobRunner;
import io.tourniquet.index.IndexJobRunner;
import io.tourniquet.json.Json;
import io.tourniquet.kafka.KafkaClientConfig;
import io.tourniquet.model.Event;
import io.tourniquet.model.EnrichedEvent;
import io.tourniquet.sim.Simulation;
import io.tourniquet.sim.SimulationConfig;
import io.tourniquet.sim.SimulationWriter;
import io.tourniquet.sim.Simulator;
import io.tourniquet.util.Times;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.apache.flink.api.common.JobExecutionResult;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/**
 * Fills a namespaced pipeline's indices with many events around one incident, through the
 * project's own jobs:
 * <ol>
 *   <li>the simulator writes an incident (its victims) among ordinary users to the input topics;</li>
 *   <li>the detect job replays them (bounded), publishing enriched events, alerts, commands and the incident;</li>
 *   <li>the ordinary users' enriched events are copied under other user, event, session, withdrawal
 *       and challenge ids, each copy shifted by a whole number of hours around the original
 *       (copies are centred on it), until the enriched topic holds the events asked for. A copy
 *       of an ordinary user's history is as ordinary as the original, so what the detect job would
 *       have concluded about it is what it concluded about the original; replaying ten million
 *       events through the detect job instead would take an hour on two cores;</li>
 *   <li>the index job indexes everything (bounded), which is the load the analysts' queries meet.</li>
 * </ol>
 */
public final class ScaleLoad {
    private ScaleLoad() {}

    /** The shift between two consecutive copies of the ordinary traffic. */
    public static final Duration COPY_STEP = Duration.ofHours(1);

    /**
     * @param simulated      input records the simulator wrote
     * @param detected       enriched events the detect job published
     * @param ordinary       of those, the events of users no alert or incident concerns (the copied ones)
     * @param copies         how many times they were copied
     * @param copied         enriched events added by copying
     * @param detectSeconds  the detect job's replay, wall clock
     * @param copySeconds    copying, wall clock
     * @param index          the index job's bounded run over everything
     */
    public record Result(int simulated, long detected, long ordinary, int copies, long copied, double detectSeconds,
                         double copySeconds, JobRun index) {}

    /** A bounded job run: wall clock around {@code execute} and the cluster's net runtime. */
    public record JobRun(double wallSeconds, double netRuntimeSeconds) {
        static JobRun of(long startNanos, JobExecutionResult result) {
            return new JobRun((System.nanoTime() - startNanos) / 1e9, result.getNetRuntime(TimeUnit.MILLISECONDS) / 1e3);
        }
    }

    /** The simulation behind the load: the incident and the ordinary users that get copied. */
    public static Simulation simulate(TourniquetConfig cfg, long seed, int victims, int ordinaryUsers) {
        return Simulator.generate(SimulationConfig.builder().seed(seed).attackVictims(victims)
                .benignUsers(ordinaryUsers).topicsFrom(cfg).build());
    }

    public static Result run(TourniquetConfig cfg, Simulation sim, long events) throws Exception {
        Properties client = KafkaClientConfig.base(cfg);
        int simulated = SimulationWriter.writeToKafka(sim, client);
        System.out.printf("   simulated %,d input records (%,d victims, %,d ordinary users)%n", simulated,
                sim.config().attackVictims(), sim.config().benignUsers());

        long t0 = System.nanoTime();
        DetectJobRunner.build(cfg, true).execute("tourniquet-bench-forensics-detect");
        double detectSeconds = (System.nanoTime() - t0) / 1e9;

        String enrichedTopic = cfg.get(Settings.TOPIC_ENRICHED);
        record Read(String userId, byte[] value) {}
        List<Read> all = new ArrayList<>();
        Set<String> concerned = new HashSet<>();
        TopicReader.forEach(client, enrichedTopic, Duration.ofMinutes(5), Long.MAX_VALUE, r -> {
            EnrichedEvent e = Json.fromBytes(r.value(), EnrichedEvent.class);
            all.add(new Read(e.event.userId, r.value()));
            if (!e.alertIds.isEmpty() || e.incidentId != null || Boolean.FALSE.equals(e.mfaAuthorized)) {
                concerned.add(e.event.userId);
            }
        });
        List<byte[]> ordinary = all.stream().filter(r -> !concerned.contains(r.userId())).map(Read::value).toList();
        System.out.printf("   detect job: %,d enriched events in %.1f s, %,d of them of users no alert or incident"
                + " concerns%n", all.size(), detectSeconds, ordinary.size());
        if (ordinary.isEmpty()) throw new IllegalStateException("no ordinary users' events to copy");

        int copies = (int) Math.max(0, Math.ceil((events - all.size()) / (double) ordinary.size()));
        long t1 = System.nanoTime();
        long copied = copy(client, enrichedTopic, ordinary, copies);
        double copySeconds = (System.nanoTime() - t1) / 1e9;
        System.out.printf("   copied the ordinary events %,d times, shifted by %d h steps around the originals:"
                + " %,d events added in %.1f s%n", copies, COPY_STEP.toHours(), copied, copySeconds);

        long t2 = System.nanoTime();
        JobExecutionResult indexed = IndexJobRunner.build(cfg, true).execute("tourniquet-bench-forensics-index");
        JobRun index = JobRun.of(t2, indexed);
        return new Result(simulated, all.size(), ordinary.size(), copies, copied, detectSeconds, copySeconds, index);
    }

    private static long copy(Properties client, String topic, List<byte[]> ordinary, int copies) {
        long n = 0;
        try (KafkaProducer<byte[], byte[]> producer = bulkProducer(client, "lz4")) {
            for (int k = 1; k <= copies; k++) {
                long shift = (k - (copies + 1) / 2) * COPY_STEP.toMillis();
                for (byte[] v : ordinary) {
                    EnrichedEvent e = Json.fromBytes(v, EnrichedEvent.class);
                    relabel(e.event, "-c" + k, shift);
                    producer.send(new ProducerRecord<>(topic, e.event.userId.getBytes(StandardCharsets.UTF_8),
                            Json.toBytes(e)));
                    n++;
                }
            }
            producer.flush();
        }
        return n;
    }

    /** A producer for copying records in bulk: large batches, a short linger, the given compression. */
    static KafkaProducer<byte[], byte[]> bulkProducer(Properties client, String compression) {
        return new KafkaProducer<>(KafkaClientConfig.with(client,
                ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName(),
                ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName(),
                ProducerConfig.LINGER_MS_CONFIG, 20, ProducerConfig.BATCH_SIZE_CONFIG, 256 * 1024,
                ProducerConfig.COMPRESSION_TYPE_CONFIG, compression));
    }

    /** Another user's event like this one: every identifier suffixed, the event time shifted. */
    static void relabel(Event e, String suffix, long shiftMillis) {
        e.eventId = e.eventId + suffix;
        e.userId = e.userId + suffix;
        if (e.sessionId != null) e.sessionId = e.sessionId + suffix;
        if (e.withdrawalId != null) e.withdrawalId = e.withdrawalId + suffix;
        if (e.challengeId != null) e.challengeId = e.challengeId + suffix;
        if (e.mfaChallengeId != null) e.mfaChallengeId = e.mfaChallengeId + suffix;
        e.eventTime += shiftMillis;
        e.eventTimeRaw = Times.format(e.eventTime);
    }
}
