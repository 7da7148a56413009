package io.tourniquet.cli;

import io.tourniquet.kafka.KafkaClientConfig;
import io.tourniquet.config.Settings;
import io.tourniquet.config.TourniquetConfig;
import io.tourniquet.detect.job.DetectJob;
import io.tourniquet.detect.job.DetectJobRunner;
import io.tourniquet.detect.EventParser;
import io.tourniquet.detect.InvalidEventException;
import io.tourniquet.json.Json;
import io.tourniquet.kafka.KafkaConnectors;
import io.tourniquet.kafka.KafkaTopics;
import io.tourniquet.sim.Simulation;
import io.tourniquet.sim.SimulationConfig;
import io.tourniquet.sim.SimulationWriter;
import io.tourniquet.sim.Simulator;
import io.tourniquet.util.Times;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import org.apache.flink.api.common.JobExecutionResult;
import org.apache.flink.core.execution.JobClient;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "bench", mixinStandardHelpOptions = true,
        description = {"Measure the detect job's throughput and latency on real Kafka, in one run.",
                // Each line fits the 80 columns picocli wraps at, so the numbered list keeps its indentation.
                " 1. throughput: N simulated events pre-loaded, replayed by the detect job",
                "    (bounded), next to a plain consumer that only reads and parses the same",
                "    topics;",
                " 2. latency: approvals without 2FA sent one by one to the running job; time",
                "    from each approval's append to its freeze_account command's append",
                "    (broker LogAppendTime on both topics).",
                "Uses its own fresh topics (prefix bench-<run>.), so it never touches the pipeline's."})
public final class BenchCommand implements Callable<Integer> {
    @Mixin
    ConfigOptions options;

    @Option(names = "--events", description = "Approximate events for the throughput run (default: ${DEFAULT-VALUE}).")
    int events = 200_000;

    @Option(names = "--approvals", description = "Approvals timed in the latency run (default: ${DEFAULT-VALUE}).")
    int approvals = 300;

    @Option(names = "--interval-ms", description = "Pause between timed approvals (default: ${DEFAULT-VALUE}).")
    int intervalMs = 20;

    @Option(names = "--partitions", description = "Partitions per bench topic (default: ${DEFAULT-VALUE}).")
    int partitions = 4;

    @Option(names = "--model", paramLabel = "DIR/VERSION",
            description = "Score every approval with this anomaly model (sets models.dir and"
                    + " rule.anomaly-score.model-version); without it, scoring is off (features are still computed).")
    java.nio.file.Path model;

    @Override
    public Integer call() throws Exception {
        String run = Long.toString(System.currentTimeMillis(), 36);
        Map<String, String> defaults = new java.util.LinkedHashMap<>(Map.of(
                Settings.SIGNING_KEY.key(), DemoCommand.DEMO_SIGNING_KEY,
                Settings.CONTROL_KEY.key(), DemoCommand.DEMO_CONTROL_KEY,
                Settings.TOPIC_PARTITIONS.key(), Integer.toString(partitions)));
        if (model != null) {
            java.nio.file.Path abs = model.toAbsolutePath().normalize();
            if (abs.getParent() == null) throw new IllegalArgumentException("--model must be DIR/VERSION: " + model);
            defaults.put(Settings.MODELS_DIR.key(), abs.getParent().toString());
            defaults.put(Settings.ANOMALY_MODEL_VERSION.key(), abs.getFileName().toString());
            // The bench pins the file it was given, as a signed activation would.
            defaults.put(Settings.ANOMALY_MODEL_SHA256.key(), io.tourniquet.models.ModelArtifact.load(abs).metadata().modelSha256());
        }
        TourniquetConfig base = options.resolve(defaults);
        System.out.printf("bench run %s: Kafka %s, parallelism %d, %d partitions per topic, %d cores, anomaly model %s%n",
                run, base.get(Settings.KAFKA_BOOTSTRAP), base.get(Settings.PARALLELISM), partitions,
                Runtime.getRuntime().availableProcessors(), base.get(Settings.ANOMALY_MODEL_VERSION));
        System.out.println(Main.logFileLine());
        throughput(namespaced(base, "bench-" + run + "-t."));
        latency(namespaced(base, "bench-" + run + "-l."));
        return 0;
    }

    private static TourniquetConfig namespaced(TourniquetConfig base, String prefix) {
        TourniquetConfig cfg = base.namespaced(prefix);
        // Broker append time on every bench topic: latency is measured append to append, on one clock.
        KafkaTopics.ensure(cfg, KafkaTopics.all(cfg), Map.of("message.timestamp.type", "LogAppendTime"));
        return cfg;
    }

    private void throughput(TourniquetConfig cfg) throws Exception {
        // About 29 records per benign user with the simulator's defaults.
        Simulation sim = Simulator.generate(SimulationConfig.builder().seed(7).benignUsers(Math.max(10, events / 29))
                .attackVictims(50).benignWindow(Duration.ofHours(24))
                .topicsFrom(cfg).build());
        int n = SimulationWriter.writeToKafka(sim, KafkaClientConfig.base(cfg));
        System.out.printf("%nthroughput: %,d events pre-loaded%n", n);

        double[] plain = new double[3];
        for (int i = 0; i < plain.length; i++) plain[i] = plainConsumerRate(cfg, n);
        Arrays.sort(plain);
        System.out.printf("  plain consumer (read + parse only), 3 runs: median %,.0f events/s  (runs %s)%n",
                plain[1], fmt(plain));

        long wallStart = System.nanoTime();
        JobExecutionResult result = DetectJobRunner.build(cfg, true).execute("tourniquet-bench-detect");
        double wall = (System.nanoTime() - wallStart) / 1e9;
        double net = result.getNetRuntime(TimeUnit.MILLISECONDS) / 1e3;
        System.out.printf("  detect job (bounded replay, all operators and sinks): %,.0f events/s over its net "
                + "runtime of %.1f s (%,.0f events/s including %.1f s of embedded-cluster start)%n",
                n / net, net, n / wall, wall - net);
        System.out.printf("  ratio detect job / plain consumer: %.2f%n", (n / net) / plain[1]);
    }

    private static double plainConsumerRate(TourniquetConfig cfg, int expected) {
        EventParser parser = new EventParser(EventParser.kindByTopic(cfg), cfg.get(Settings.MAX_RECORD_BYTES));
        Properties p = consumerProps(cfg);
        int seen = 0;
        long start = System.nanoTime();
        try (KafkaConsumer<byte[], byte[]> c = new KafkaConsumer<>(p)) {
            List<TopicPartition> parts = new ArrayList<>();
            for (String t : KafkaConnectors.inputTopics(cfg)) {
                c.partitionsFor(t).forEach(i -> parts.add(new TopicPartition(t, i.partition())));
            }
            c.assign(parts);
            c.seekToBeginning(parts);
            long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(5);
            while (seen < expected && System.nanoTime() < deadline) {
                for (ConsumerRecord<byte[], byte[]> r : c.poll(Duration.ofMillis(100))) {
                    seen++;
                    try {
                        parser.parse(r.topic(), r.partition(), r.offset(), r.value());
                    } catch (InvalidEventException e) {
                        // counted like a valid one: the baseline reads and parses, whatever the verdict
                    }
                }
            }
        }
        return seen / ((System.nanoTime() - start) / 1e9);
    }

    private void latency(TourniquetConfig cfg) throws Exception {
        System.out.printf("%nlatency: %d approvals without 2FA, one every %d ms, to the running detect job%n",
                approvals, intervalMs);
        JobClient job = DetectJobRunner.build(cfg, false).executeAsync("tourniquet-bench-latency");
        try (KafkaProducer<String, String> producer = producer(cfg);
             KafkaConsumer<byte[], byte[]> actions = new KafkaConsumer<>(consumerProps(cfg))) {
            List<TopicPartition> parts = new ArrayList<>();
            actions.partitionsFor(cfg.get(Settings.TOPIC_ACTIONS))
                    .forEach(i -> parts.add(new TopicPartition(i.topic(), i.partition())));
            actions.assign(parts);
            actions.seekToBeginning(parts);
            Map<String, Long> freezes = new HashMap<>();

            // Warm-up: the job is ready once a first freeze comes back.
            send(producer, cfg, "warmup-user");
            awaitFreezes(actions, freezes, List.of("warmup-user"), Duration.ofMinutes(3));

            Map<String, Long> appended = new HashMap<>();
            for (int i = 0; i < approvals; i++) {
                String user = "bench-user-" + i;
                appended.put(user, send(producer, cfg, user).timestamp());
                if (intervalMs > 0) TimeUnit.MILLISECONDS.sleep(intervalMs);
            }
            awaitFreezes(actions, freezes, new ArrayList<>(appended.keySet()), Duration.ofMinutes(2));
            long[] lat = appended.entrySet().stream()
                    .mapToLong(e -> freezes.get(e.getKey()) - e.getValue()).sorted().toArray();
            System.out.printf("  approval append -> freeze_account append: p50 %d ms, p99 %d ms, max %d ms, min %d ms "
                    + "(n=%d)%n", pct(lat, 50), pct(lat, 99), lat[lat.length - 1], lat[0], lat.length);
        } finally {
            job.cancel().get(1, TimeUnit.MINUTES);
        }
    }

    private static RecordMetadata send(KafkaProducer<String, String> producer, TourniquetConfig cfg, String user)
            throws Exception {
        long now = System.currentTimeMillis();
        String json = "{\"event_id\":\"" + UUID.randomUUID() + "\",\"event_time\":\"" + Times.format(now)
                + "\",\"user_id\":\"" + user + "\",\"session_id\":\"s-" + user + "\",\"ip\":\"198.51.100.66\","
                + "\"device_id\":\"attacker-device\",\"withdrawal_id\":\"w-" + user + "\",\"status\":\"approved\","
                + "\"asset\":\"ETH\",\"network\":\"ethereum\",\"amount\":\"12.5\",\"usd_value\":40000,"
                + "\"destination_address\":\"0xattacker\",\"mfa_challenge_id\":null,\"approval_channel\":\"internal\","
                + "\"approval_service\":\"withdrawal-approver\",\"approval_service_version\":\"2.14.0-rc1\"}";
        return producer.send(new ProducerRecord<>(cfg.get(Settings.TOPIC_WITHDRAWALS), user, json)).get();
    }

    private static void awaitFreezes(KafkaConsumer<byte[], byte[]> actions, Map<String, Long> freezes,
                                     List<String> users, Duration timeout) throws Exception {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!freezes.keySet().containsAll(users)) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("no freeze within " + timeout + " for "
                        + users.stream().filter(u -> !freezes.containsKey(u)).count() + " approvals");
            }
            for (ConsumerRecord<byte[], byte[]> r : actions.poll(Duration.ofMillis(50))) {
                var a = Json.MAPPER.readTree(r.value());
                if ("freeze_account".equals(a.path("action").asText())) {
                    freezes.putIfAbsent(a.path("scope").path("user_id").asText(), r.timestamp());
                }
            }
        }
    }

    private static Properties consumerProps(TourniquetConfig cfg) {
        Properties p = KafkaClientConfig.base(cfg);
        p.put(ConsumerConfig.GROUP_ID_CONFIG, "bench-" + UUID.randomUUID());
        p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        p.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
        p.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
        p.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, "2000");
        return p;
    }

    private static KafkaProducer<String, String> producer(TourniquetConfig cfg) {
        Properties p = KafkaClientConfig.base(cfg);
        p.put(ProducerConfig.ACKS_CONFIG, "all");
        p.put(ProducerConfig.LINGER_MS_CONFIG, "0");
        p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
        p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
        return new KafkaProducer<>(p);
    }

    private static long pct(long[] sorted, int p) {
        int idx = (int) Math.ceil(p / 100.0 * sorted.length) - 1;
        return sorted[Math.max(0, Math.min(sorted.length - 1, idx))];
    }

    private static String fmt(double[] v) {
        StringBuilder b = new StringBuilder();
        for (double d : v) b.append(b.length() == 0 ? "" : ", ").append(String.format("%,.0f", d));
        return b.toString();
    }
}
