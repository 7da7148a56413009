package io.tourniquet.bench;

import com.fasterxml.jackson.annotation.JsonUnwrapped;
import com.fasterxml.jackson.databind.JsonNode;
import com.google.common.util.concurrent.ThreadFactoryBuilder;
import io.tourniquet.config.Settings;
import io.tourniquet.config.TourniquetConfig;
import io.tourniquet.detect.job.DetectJobRunner;
import io.tourniquet.json.Json;
import io.tourniquet.kafka.KafkaClientConfig;
import io.tourniquet.util.Times;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.IntStream;
import org.apache.flink.core.execution.JobClient;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * Freeze latency under load: the detect job runs live on an embedded cluster while
 * {@link BackgroundTraffic} sends benign events at a fixed rate; approvals without 2FA (each
 * a new user, each bound to be frozen) are sent one by one at a fixed interval, each waiting for
 * its acknowledgement. Latency is broker append time of the approval to broker append time of its
 * {@code freeze_account} command: one clock, what an enforcer reading the command topic sees.
 *
 * <p>Order: the job starts and answers a first approval (deployment is not measured); the
 * background starts; {@code warmup} approvals (the freeze path compiled, the background flowing),
 * then the timed ones, in one sequence. The freezes are waited for until a bound: a job that
 * cannot keep up with the background would otherwise make the bench wait for its whole backlog.
 * Garbage collection and the background's achieved rate are taken over the timed window.
 */
public final class FreezeLatency {
    private FreezeLatency() {}

    /** Users of the background traffic; each then has a session every few seconds at 10,000 events/s. */
    public static final int BACKGROUND_USERS = 20_000;

    /**
     * @param warmup         approvals sent before the timed ones, in the same sequence, not timed
     * @param approvals      timed approvals
     * @param interval       between two approvals' sends
     * @param backgroundRate benign events per second; 0 for none
     * @param maxWait        how long after the last approval's send the freezes are waited for
     */
    public record Options(int warmup, int approvals, Duration interval, double backgroundRate, Duration maxWait) {}

    /**
     * @param latency             per timed approval, in send order; one whose freeze had not come
     *                            when the wait ended counts the time it waited (a lower bound)
     * @param windowSeconds       the timed window: first timed send to the end of the wait
     * @param backgroundPerSecond background events acknowledged per second of the window
     * @param backgroundDropped   background events that fell due during a stall and were never sent
     * @param backgroundCommands  commands the job issued for background users (benign: should be 0)
     * @param gc                  garbage collection in the window
     */
    public record Result(@JsonUnwrapped LatencySummary latency, double windowSeconds, double backgroundPerSecond,
                         long backgroundDropped, long backgroundCommands, GcPauses.Window gc) {}

    public static Result run(TourniquetConfig cfg, String run, Options o) throws Exception {
        JobClient job = DetectJobRunner.build(cfg, false).executeAsync("tourniquet-bench-latency");
        ScheduledExecutorService pacer = Executors.newSingleThreadScheduledExecutor(
                new ThreadFactoryBuilder().setNameFormat("bench-approvals").setDaemon(true).build());
        BackgroundTraffic background = null;
        try (KafkaProducer<String, String> producer = approvalProducer(cfg);
             Commands commands = new Commands(cfg)) {
            // Deployment and the first records' class loading: over once a first freeze is back.
            Map<String, Long> first = sendPaced(pacer, producer, cfg, List.of("bench-first"), o.interval());
            if (!commands.await(first.keySet(), Duration.ofMinutes(3))) {
                throw new IllegalStateException("the detect job answered no approval within 3 minutes of its start");
            }

            if (o.backgroundRate() > 0) background = BackgroundTraffic.start(cfg, run, o.backgroundRate(), BACKGROUND_USERS);
            // Warm-up and timed approvals are one sequence at one interval: the job sees no pause
            // between them, and a job that falls behind the background is not waited for twice.
            sendPaced(pacer, producer, cfg, users("bench-warmup-", o.warmup()), o.interval());
            List<String> timed = users("bench-user-", o.approvals());
            long acknowledgedBefore = background == null ? 0 : background.acknowledged();
            long windowStart = System.nanoTime();
            GcPauses gc = GcPauses.start();
            Map<String, Long> appended = sendPaced(pacer, producer, cfg, timed, o.interval());
            commands.await(appended.keySet(), o.maxWait());
            long waitEnd = System.currentTimeMillis();
            GcPauses.Window pauses = gc.stop();
            double window = (System.nanoTime() - windowStart) / 1e9;
            long acknowledged = background == null ? 0 : background.acknowledged() - acknowledgedBefore;
            if (background != null && background.failure() != null) {
                throw new IllegalStateException("the background traffic failed", background.failure());
            }

            // The broker runs on this machine: its append times and this clock are one clock.
            long[] latencies = timed.stream().mapToLong(u -> commands.freezes.getOrDefault(u, waitEnd) - appended.get(u))
                    .toArray();
            int censored = (int) timed.stream().filter(u -> !commands.freezes.containsKey(u)).count();
            return new Result(LatencySummary.of(latencies, censored), window, acknowledged / window,
                    background == null ? 0 : background.dropped(), commands.onBackgroundUsers, pauses);
        } finally {
            pacer.shutdownNow();
            if (background != null) background.close();
            job.cancel().get(1, TimeUnit.MINUTES);
            // Cancelling is acknowledged before the job has ended; its result comes once it has
            // (exceptionally: cancelled), so nothing writes to its checkpoints after this.
            job.getJobExecutionResult().handle((result, failure) -> null).get(1, TimeUnit.MINUTES);
        }
    }

    private static List<String> users(String prefix, int n) {
        return IntStream.range(0, n).mapToObj(i -> prefix + i).toList();
    }

    /**
     * Sends one approval per {@code interval} (a fixed-rate schedule), each only after the previous
     * one was acknowledged, and returns each user's approval append time once all are sent.
     */
    private static Map<String, Long> sendPaced(ScheduledExecutorService pacer, KafkaProducer<String, String> producer,
                                               TourniquetConfig cfg, List<String> users, Duration interval)
            throws Exception {
        Map<String, Long> appended = new ConcurrentHashMap<>();
        CompletableFuture<Void> done = new CompletableFuture<>();
        AtomicInteger next = new AtomicInteger();
        var schedule = pacer.scheduleAtFixedRate(() -> {
            int i = next.getAndIncrement();
            if (i >= users.size()) {
                done.complete(null);
                return;
            }
            try {
                appended.put(users.get(i), send(producer, cfg, users.get(i)));
            } catch (Exception e) {
                done.completeExceptionally(e);
            }
        }, 0, Math.max(1, interval.toMillis()), TimeUnit.MILLISECONDS);
        try {
            // Generous: a send waits for its acknowledgement, which a loaded broker may delay.
            done.get(interval.multipliedBy(users.size()).plusMinutes(2).toMillis(), TimeUnit.MILLISECONDS);
        } finally {
            schedule.cancel(false);
        }
        return appended;
    }

    /** An approval without 2FA by the compromised backend: unauthorized, so a freeze of its user. */
    private static long send(KafkaProducer<String, String> producer, TourniquetConfig cfg, String user) throws Exception {
        String json = "{\"event_id\":\"" + UUID.randomUUID() + "\",\"event_time\":\"" + Times.format(System.currentTimeMillis())
                + "\",\"user_id\":\"" + user + "\",\"session_id\":\"s-" + user + "\",\"ip\":\"198.51.100.66\","
                + "\"device_id\":\"attacker-device\",\"withdrawal_id\":\"w-" + user + "\",\"status\":\"approved\","
                + "\"asset\":\"ETH\",\"network\":\"ethereum\",\"amount\":\"12.5\",\"usd_value\":40000,"
                + "\"destination_address\":\"0xattacker\",\"mfa_challenge_id\":null,\"approval_channel\":\"internal\","
                + "\"approval_service\":\"withdrawal-approver\",\"approval_service_version\":\"2.14.0-rc1\"}";
        // The topic uses LogAppendTime: the acknowledged timestamp is the broker's append time.
        return producer.send(new ProducerRecord<>(cfg.get(Settings.TOPIC_WITHDRAWALS), user, json)).get().timestamp();
    }

    private static KafkaProducer<String, String> approvalProducer(TourniquetConfig cfg) {
        Properties p = KafkaClientConfig.base(cfg);
        p.put(ProducerConfig.ACKS_CONFIG, "all");
        p.put(ProducerConfig.LINGER_MS_CONFIG, "0");
        p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
        p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
        return new KafkaProducer<>(p);
    }

    /** The command topic from its beginning: each user's first freeze_account append time. */
    private static final class Commands implements AutoCloseable {
        final Map<String, Long> freezes = new HashMap<>();
        long onBackgroundUsers;
        private final KafkaConsumer<byte[], byte[]> consumer;

        Commands(TourniquetConfig cfg) {
            Properties p = KafkaClientConfig.base(cfg);
            p.put(ConsumerConfig.GROUP_ID_CONFIG, "bench-" + UUID.randomUUID());
            p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
            p.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
            p.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
            consumer = new KafkaConsumer<>(p);
            List<TopicPartition> parts = new ArrayList<>();
            consumer.partitionsFor(cfg.get(Settings.TOPIC_ACTIONS))
                    .forEach(i -> parts.add(new TopicPartition(i.topic(), i.partition())));
            consumer.assign(parts);
            consumer.seekToBeginning(parts);
        }

        /** Reads commands until every one of {@code users} has a freeze (true) or the timeout passed. */
        boolean await(Collection<String> users, Duration timeout) throws Exception {
            long deadline = System.nanoTime() + timeout.toNanos();
            while (!freezes.keySet().containsAll(users)) {
                if (System.nanoTime() > deadline) return false;
                for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(50))) {
                    JsonNode a = Json.MAPPER.readTree(r.value());
                    String user = a.path("scope").path("user_id").asText();
                    if (user.startsWith(BenignSessions.USER_PREFIX)) onBackgroundUsers++;
                    if ("freeze_account".equals(a.path("action").asText())) freezes.putIfAbsent(user, r.timestamp());
                }
            }
            return true;
        }

        @Override
        public void close() {
            consumer.close();
        }
    }
}
