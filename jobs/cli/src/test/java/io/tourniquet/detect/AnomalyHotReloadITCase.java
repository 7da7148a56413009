package io.tourniquet.detect;

import io.tourniquet.detect.job.DetectJobRunner;
import static io.tourniquet.detect.DetectWorkflowITCase.approval;
import static io.tourniquet.detect.DetectWorkflowITCase.verified;
import static org.assertj.core.api.Assertions.assertThat;
import io.tourniquet.config.Settings;
import io.tourniquet.config.TourniquetConfig;
import io.tourniquet.json.Json;
import io.tourniquet.model.Alert;
import io.tourniquet.model.ControlRequest;
import io.tourniquet.model.EnrichedEvent;
import io.tourniquet.model.RawRecord;
import io.tourniquet.models.ModelArtifact;
import io.tourniquet.models.Scorer;
import io.tourniquet.models.WithdrawalFeatures;
import io.tourniquet.rules.catalog.RuleCatalog;
import io.tourniquet.testing.ControlRecords;
import io.tourniquet.testing.LocalServices;
import io.tourniquet.testing.ReplayedIncident;
import io.tourniquet.testing.SharedMiniCluster;
import io.tourniquet.testing.TestModels;
import io.tourniquet.util.Times;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.apache.flink.core.execution.JobClient;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * Hot reload on the real path: the detect job runs unbounded on real Kafka with model A active
 * from configuration; an analyst's signed {@code update_rule} on the control topic, approved by a
 * second analyst ({@code control.two-person}), activates model B; approvals that arrive after the switch are scored by B (the job never restarts), and
 * approvals scored before keep A's scores.
 *
 * <p>The control topic and the input topics are read by independent sources, so when the switch
 * reaches the scoring operator is not fixed by the order of production. The test makes it
 * observable instead of waiting "long enough": it sends probe approvals until each scoring subtask
 * that will see a phase-2 user has scored a probe with B. Each phase-2 user has a probe twin whose
 * id has the same {@code String.hashCode} (it differs only by "Aa" → "BB", which hash alike), so
 * the twin lands in the same key group, hence on the same subtask at any parallelism, without
 * sharing the user's keyed state (its history, which the features depend on). Once a subtask has
 * applied rule version 2, every event it reads later is scored under it.
 */
@ExtendWith({LocalServices.class, SharedMiniCluster.class})
class AnomalyHotReloadITCase {
    static final String KEY = "hot-reload-signing-key-0123456789abcdef";
    static final String CONTROL_KEY = "hot-reload-control-key-0123456789abcdef";
    static final String MODEL_A = "model-a";
    static final String MODEL_B = "model-b";
    static final Duration DEADLINE = Duration.ofSeconds(60);
    /** Per user: US$ withdrawn of a US$10,000 balance (the one input that differs between users). */
    static final List<Integer> USD = List.of(150, 2_500, 9_900);

    @TempDir
    Path models;

    @Test
    void aModelActivatedOnTheControlTopicScoresTheApprovalsThatFollowIt() throws Exception {
        TestModels.train(models, MODEL_A, 11, 0.0);
        TestModels.train(models, MODEL_B, 22, 2.0);
        Scorer a = ModelArtifact.load(models.resolve(MODEL_A)).scorer();
        Scorer b = ModelArtifact.load(models.resolve(MODEL_B)).scorer();

        TourniquetConfig cfg = ReplayedIncident.config("hot", KEY, CONTROL_KEY).with(Map.of(
                Settings.MODELS_DIR.key(), models.toString(),
                Settings.ANOMALY_MODEL_VERSION.key(), MODEL_A,
                Settings.ANOMALY_MODEL_SHA256.key(), TestModels.sha256(models, MODEL_A)));
        String bootstrap = cfg.get(Settings.KAFKA_BOOTSTRAP);
        String enrichedTopic = cfg.get(Settings.TOPIC_ENRICHED);
        String alertsTopic = cfg.get(Settings.TOPIC_ALERTS);

        List<String> phase1Users = new ArrayList<>();
        List<String> phase2Users = new ArrayList<>();
        Map<String, String> twinOf = new LinkedHashMap<>();
        for (int i = 0; i < USD.size(); i++) {
            phase1Users.add("p1-Aa-" + i);
            phase2Users.add("p2-Aa-" + i);
            twinOf.put("p2-Aa-" + i, "p2-BB-" + i);
        }
        twinOf.forEach((user, twin) -> assertThat(twin.hashCode()).as("twin of " + user).isEqualTo(user.hashCode()));

        JobClient job = DetectJobRunner.build(cfg, false).executeAsync("hot-reload-detect");
        try (var producer = new KafkaProducer<String, String>(Map.of(
                "bootstrap.servers", bootstrap, "acks", "all",
                "key.serializer", StringSerializer.class.getName(),
                "value.serializer", StringSerializer.class.getName()));
             Tail enriched = new Tail(bootstrap, enrichedTopic, false, job);
             Tail alertTail = new Tail(bootstrap, alertsTopic, true, job)) {
            Inputs in = new Inputs(cfg, producer);

            // (1) Phase 1, under model A.
            sessions(in, enriched, phase1Users, "1-");
            Map<String, EnrichedEvent> phase1 = enriched.approvalsOf(phase1Users);
            assertThat(phase1.values()).as("phase 1 is scored by the configured model A")
                    .allSatisfy(e -> assertScoredBy(e, a, MODEL_A));

            // (2) The analyst activates model B.
            ControlRequest activate = ControlRecords.request("activate-b-" + UUID.randomUUID(),
                    ControlRequest.UPDATE_RULE, "alice@sec", System.currentTimeMillis());
            activate.rule = RuleCatalog.ANOMALY_SCORE;
            activate.params = TestModels.activation(models, MODEL_B);
            // Replacing an active model may score lower: a second analyst approves it (control.two-person).
            ControlRequest approve = ControlRecords.request("approve-b-" + UUID.randomUUID(), ControlRequest.APPROVE,
                    "bob@sec", System.currentTimeMillis());
            approve.approves = activate.requestId;
            String control = cfg.get(Settings.TOPIC_CONTROL);
            for (RawRecord r : new ControlRecords(control, CONTROL_KEY).signed(activate).signed(approve).list()) {
                // One key, one partition: the approval is read after the request it approves.
                producer.send(new ProducerRecord<>(control, activate.requestId,
                        new String(r.value, StandardCharsets.UTF_8))).get();
            }

            // (3) Probe each phase-2 user's subtask until it scores with B: one probe per twin in
            // flight; the next one only after the previous came back still scored by A.
            Map<String, Integer> probesSent = new HashMap<>();
            List<String> waiting = new ArrayList<>(twinOf.values());
            long deadline = System.nanoTime() + DEADLINE.toNanos();
            Map<String, String> inFlight = new HashMap<>(); // twin -> withdrawal id of its probe
            while (!waiting.isEmpty()) {
                for (String twin : waiting) {
                    if (inFlight.containsKey(twin)) continue;
                    int n = probesSent.merge(twin, 1, Integer::sum);
                    inFlight.put(twin, in.probe(twin, n));
                }
                if (System.nanoTime() > deadline) {
                    throw new AssertionError("model B not in force for " + waiting + " within " + DEADLINE
                            + " of the rule change; probes sent: " + probesSent);
                }
                enriched.pollOnce();
                for (String twin : List.copyOf(waiting)) {
                    EnrichedEvent probe = enriched.approvals.get(inFlight.get(twin));
                    if (probe == null) continue;
                    inFlight.remove(twin);
                    if (MODEL_B.equals(probe.anomaly.modelVersion)) {
                        assertScoredBy(probe, b, MODEL_B);
                        waiting.remove(twin);
                    } else {
                        assertScoredBy(probe, a, MODEL_A); // not switched yet: still exactly A
                    }
                }
            }
            System.out.println("[hot-reload] model B observed after probes " + probesSent);

            // (4) Phase 2: the same inputs for fresh users with the same (empty) history, under B.
            sessions(in, enriched, phase2Users, "2-");
            Map<String, EnrichedEvent> phase2 = enriched.approvalsOf(phase2Users);

            for (int i = 0; i < USD.size(); i++) {
                EnrichedEvent before = phase1.get(phase1Users.get(i));
                EnrichedEvent after = phase2.get(phase2Users.get(i));
                assertScoredBy(before, a, MODEL_A);
                assertScoredBy(after, b, MODEL_B);
                double[] x1 = WithdrawalFeatures.fromMap(before.anomaly.features);
                double[] x2 = WithdrawalFeatures.fromMap(after.anomaly.features);
                // The same inputs: every feature equal but the hour of day (seconds apart).
                for (int f = 0; f < WithdrawalFeatures.COUNT; f++) {
                    if (f == WithdrawalFeatures.HOUR_SIN || f == WithdrawalFeatures.HOUR_COS) continue;
                    assertThat(x2[f]).as(WithdrawalFeatures.names().get(f) + " of user " + i).isEqualTo(x1[f]);
                }
                assertThat(after.anomaly.score).as("B's score differs from A's for the same features")
                        .isNotEqualTo(a.score(x2));
                assertThat(before.anomaly.score).as("A's score differs from B's for the same features")
                        .isNotEqualTo(b.score(x1));
            }

            // Alerts: every approval above its model's threshold raised one anomaly alert, under
            // the rule version that activated that model (1 from configuration, 2 from the analyst).
            Map<String, EnrichedEvent> byWithdrawal = new HashMap<>();
            for (EnrichedEvent e : enriched.approvals.values()) byWithdrawal.put(e.event.withdrawalId, e);
            List<String> expected = new ArrayList<>();
            for (EnrichedEvent e : byWithdrawal.values()) {
                if (e.anomaly.score > e.anomaly.threshold) expected.add(e.event.withdrawalId);
            }
            assertThat(expected).as("phase 2 has anomalous approvals, so the alert check is not vacuous")
                    .anyMatch(w -> w.startsWith("w-2-"));
            Map<String, Alert> alerts = alertTail.anomalyAlertsFor(expected);
            assertThat(alerts.values()).allSatisfy(alert -> {
                EnrichedEvent e = byWithdrawal.get(alert.withdrawalId);
                assertThat(alert.evidence.modelVersion).isEqualTo(e.anomaly.modelVersion);
                assertThat(alert.evidence.anomalyScore).isEqualTo(e.anomaly.score);
                assertThat(alert.ruleVersion).as(alert.withdrawalId)
                        .isEqualTo(MODEL_B.equals(e.anomaly.modelVersion) ? 2 : 1);
            });
            assertThat(alerts.values()).filteredOn(x -> x.withdrawalId.startsWith("w-2-"))
                    .isNotEmpty().allSatisfy(x -> assertThat(x.ruleVersion).isEqualTo(2));
        } finally {
            job.cancel().get(30, TimeUnit.SECONDS);
        }
    }

    /**
     * Each user logs in; once the job has written every login (so it is in the scoring operator's
     * state: the login and the withdrawal are on different topics, read independently), each
     * withdraws {@link #USD}. Without that wait the features would depend on which source is ahead.
     */
    private static void sessions(Inputs in, Tail enriched, List<String> users, String prefix) throws Exception {
        List<Long> loginTimes = new ArrayList<>();
        List<String> logins = new ArrayList<>();
        for (int i = 0; i < users.size(); i++) {
            loginTimes.add(in.login(users.get(i), prefix + i));
            logins.add("l-" + prefix + i);
        }
        enriched.awaitEvents(logins);
        for (int i = 0; i < users.size(); i++) in.withdrawal(users.get(i), prefix + i, USD.get(i), loginTimes.get(i));
    }

    private static void assertScoredBy(EnrichedEvent e, Scorer model, String version) {
        assertThat(e.anomaly).as("anomaly of " + e.event.eventId).isNotNull();
        assertThat(e.anomaly.features).hasSize(WithdrawalFeatures.COUNT);
        assertThat(e.anomaly.modelVersion).as("model of " + e.event.eventId).isEqualTo(version);
        assertThat(e.anomaly.threshold).isEqualTo(model.threshold());
        assertThat(e.anomaly.score).as("score of " + e.event.eventId)
                .isEqualTo(model.score(WithdrawalFeatures.fromMap(e.anomaly.features)));
    }

    /** Contract-shaped input events, timed just behind the wall clock so the unbounded job is live. */
    private static final class Inputs {
        final TourniquetConfig cfg;
        final KafkaProducer<String, String> producer;

        Inputs(TourniquetConfig cfg, KafkaProducer<String, String> producer) {
            this.cfg = cfg;
            this.producer = producer;
        }

        /** A successful login from a device and country, 20 s ago; returns its event time. */
        long login(String user, String tag) throws Exception {
            long t = System.currentTimeMillis() - 20_000;
            send(Settings.TOPIC_LOGINS, user, "{\"event_id\":\"l-" + tag + "\",\"event_time\":\"" + Times.format(t)
                    + "\",\"user_id\":\"" + user + "\",\"session_id\":\"s-" + tag + "\",\"ip\":\"198.51.100.7\","
                    + "\"device_id\":\"dev-" + tag + "\",\"outcome\":\"success\",\"auth_method\":\"password\","
                    + "\"device_jailbroken\":false,\"user_agent\":\"Mozilla/5.0\","
                    + "\"geo\":{\"country\":\"DE\",\"lat\":52.52,\"lon\":13.40}}");
            producer.flush();
            return t;
        }

        /**
         * In the login's session: a request of {@code usd} of a US$10,000 balance 5 s after the
         * login, its 2FA verification and its approval, at the same offsets every time, so the
         * features depend only on {@code usd} and the hour of day.
         */
        void withdrawal(String user, String tag, int usd, long loginTime) throws Exception {
            long t = loginTime;
            String session = "s-" + tag;
            String wid = "w-" + tag;
            send(Settings.TOPIC_WITHDRAWALS, user, "{\"event_id\":\"r-" + tag + "\",\"event_time\":\""
                    + Times.format(t + 5_000) + "\",\"user_id\":\"" + user + "\",\"session_id\":\"" + session
                    + "\",\"ip\":\"198.51.100.7\",\"device_id\":\"dev-" + tag + "\",\"withdrawal_id\":\"" + wid
                    + "\",\"status\":\"requested\",\"asset\":\"USDC\",\"network\":\"ethereum\",\"amount\":\"" + usd
                    + ".00\",\"usd_value\":" + usd + ",\"destination_address\":\"0xdest" + tag + "\","
                    + "\"account_balance_usd\":10000}");
            send(Settings.TOPIC_MFA, user, verified("v-" + tag, user, wid, "c-" + tag, Times.format(t + 12_000)));
            send(Settings.TOPIC_WITHDRAWALS, user, approval("a-" + tag, user, wid, "c-" + tag, Times.format(t + 15_000))
                    .replace("\"session_id\":\"s\"", "\"session_id\":\"" + session + "\""));
            producer.flush();
        }

        /** A verified approval for {@code user} (no login or request); returns its withdrawal id. */
        String probe(String user, int n) throws Exception {
            long t = System.currentTimeMillis() - 5_000;
            String tag = "probe-" + user + "-" + n;
            String wid = "w-" + tag;
            send(Settings.TOPIC_MFA, user, verified("v-" + tag, user, wid, "c-" + tag, Times.format(t)));
            send(Settings.TOPIC_WITHDRAWALS, user, approval("a-" + tag, user, wid, "c-" + tag, Times.format(t + 1_000)));
            producer.flush();
            return wid;
        }

        private void send(io.tourniquet.config.Setting<String> topic, String user, String json) throws Exception {
            producer.send(new ProducerRecord<>(cfg.get(topic), user, json)).get();
        }
    }

    /**
     * Reads a topic from its beginning as the job writes it (read_committed), polling until what
     * a test waits for is there or {@link #DEADLINE} fails it; fails at once if the job stops.
     */
    private static final class Tail implements AutoCloseable {
        final KafkaConsumer<byte[], byte[]> consumer;
        final String topic;
        final boolean holdsAlerts;
        final JobClient job;
        /** Approvals by withdrawal id (a redelivered duplicate replaces its twin). */
        final Map<String, EnrichedEvent> approvals = new LinkedHashMap<>();
        final List<Alert> alerts = new ArrayList<>();
        /** Ids of every event written so far. */
        final Set<String> eventIds = new HashSet<>();

        Tail(String bootstrap, String topic, boolean holdsAlerts, JobClient job) {
            Properties p = new Properties();
            p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
            p.put(ConsumerConfig.GROUP_ID_CONFIG, "hot-reload-tail-" + UUID.randomUUID());
            p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
            p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
            p.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
            p.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
            this.consumer = new KafkaConsumer<>(p);
            this.topic = topic;
            this.holdsAlerts = holdsAlerts;
            this.job = job;
            List<TopicPartition> parts = consumer.partitionsFor(topic, DEADLINE).stream()
                    .map(i -> new TopicPartition(topic, i.partition())).toList();
            consumer.assign(parts);
            consumer.seekToBeginning(parts);
        }

        /** One poll (returns as soon as records arrive, at most after 500 ms). */
        void pollOnce() throws Exception {
            var status = job.getJobStatus().get(10, TimeUnit.SECONDS);
            if (status.isGloballyTerminalState()) throw new AssertionError("the detect job stopped: " + status);
            for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(500))) {
                if (holdsAlerts) {
                    alerts.add(Json.fromBytes(r.value(), Alert.class));
                    continue;
                }
                EnrichedEvent e = Json.fromBytes(r.value(), EnrichedEvent.class);
                eventIds.add(e.event.eventId);
                if (e.event.isApproval()) approvals.put(e.event.withdrawalId, e);
            }
        }

        void awaitEvents(List<String> ids) throws Exception {
            long deadline = System.nanoTime() + DEADLINE.toNanos();
            while (!eventIds.containsAll(ids)) {
                if (System.nanoTime() > deadline) {
                    throw new AssertionError("events " + ids + " not on " + topic + " within " + DEADLINE);
                }
                pollOnce();
            }
        }

        /** The approval of each user (one each), once all have been written. */
        Map<String, EnrichedEvent> approvalsOf(List<String> users) throws Exception {
            long deadline = System.nanoTime() + DEADLINE.toNanos();
            while (true) {
                Map<String, EnrichedEvent> byUser = new LinkedHashMap<>();
                for (EnrichedEvent e : approvals.values()) {
                    if (users.contains(e.event.userId)) byUser.put(e.event.userId, e);
                }
                if (byUser.size() == users.size()) return byUser;
                if (System.nanoTime() > deadline) {
                    throw new AssertionError("approvals of " + users + " not on " + topic + " within " + DEADLINE
                            + "; have " + byUser.keySet());
                }
                pollOnce();
            }
        }

        /** The anomaly alert of each withdrawal, once all are on the topic (none other for them). */
        Map<String, Alert> anomalyAlertsFor(List<String> withdrawals) throws Exception {
            long deadline = System.nanoTime() + DEADLINE.toNanos();
            while (true) {
                Map<String, Alert> byWithdrawal = new LinkedHashMap<>();
                for (Alert x : alerts) {
                    if (RuleCatalog.ANOMALY_SCORE.equals(x.rule) && withdrawals.contains(x.withdrawalId)) {
                        byWithdrawal.put(x.withdrawalId, x);
                    }
                }
                if (byWithdrawal.size() == withdrawals.size()) return byWithdrawal;
                if (System.nanoTime() > deadline) {
                    throw new AssertionError("anomaly alerts for " + withdrawals + " not on " + topic + " within "
                            + DEADLINE + "; have " + byWithdrawal.keySet());
                }
                pollOnce();
            }
        }

        @Override
        public void close() {
            consumer.close();
        }
    }
}
