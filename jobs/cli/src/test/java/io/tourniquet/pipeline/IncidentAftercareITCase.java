package io.tourniquet.pipeline;

import static org.assertj.core.api.Assertions.assertThat;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.tourniquet.config.Settings;
import io.tourniquet.config.TourniquetConfig;
import io.tourniquet.control.ControlRequests;
import io.tourniquet.signing.CommandSigner;
import io.tourniquet.detect.job.DetectJobRunner;
import io.tourniquet.json.Json;
import io.tourniquet.model.ControlRequest;
import io.tourniquet.testing.CliProcess;
import io.tourniquet.testing.ControlRecords;
import io.tourniquet.testing.LocalServices;
import io.tourniquet.testing.ReplayedIncident;
import io.tourniquet.util.Times;
import java.math.BigDecimal;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.function.Predicate;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.core.execution.SavepointFormatType;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * One incident from the freeze to the payout, through the real topics, with the detect job live
 * and restarted from a savepoint half-way (claims and update numbers must survive it).
 *
 * <p>Five victims of unauthorized approvals within minutes (bulk draining: withdrawals suspended),
 * and one bystander whose withdrawal is pending. The claimant {@code v1} lost US$300,000 (BTC and
 * ETH) and set their anti-phishing code 22 days before; {@code v2} set theirs 20 days before. The
 * analysts release v1, resume withdrawals (two analysts), resolve the incident; claims open; after
 * the restart they record v1's documents and approve (two analysts) and deny v2's. A forged and an
 * unsigned decision are dead-lettered and change nothing.
 *
 * <p>Orders are explicit: input on one key per topic, control requests on one key (one
 * partition, read in the order sent), and each phase waits on the outputs of the one before.
 */
@ExtendWith(LocalServices.class)
class IncidentAftercareITCase {
    static final String KEY = "aftercare-itcase-signing-key-0123456789abcdef";
    static final String CONTROL_KEY = "aftercare-itcase-control-key-0123456789abcdef";
    static final Duration DEADLINE = Duration.ofMinutes(2);
    /**
     * The attack, a day ago: the analysts' requests are signed now (the job refuses stale ones),
     * and their updates are about that time, so the incident is recent history, as it would be live.
     */
    static final Instant T = Instant.now().truncatedTo(java.time.temporal.ChronoUnit.HOURS).minus(Duration.ofDays(1));
    static final Path dir = Path.of("target", "incident-aftercare").toAbsolutePath();
    static final List<String> VICTIMS = List.of("v1", "v2", "v3", "v4", "v5");

    TourniquetConfig cfg;
    KafkaProducer<String, String> producer;
    io.tourniquet.testing.LiveInput input;

    @Test
    void fromTheFreezeToThePayoutWithEveryUpdateNumberedAcrossARestart() throws Exception {
        CliProcess.deleteRecursively(dir);
        Files.createDirectories(dir);
        cfg = ReplayedIncident.config("aftercare", KEY, CONTROL_KEY).with(Map.of(
                Settings.CHECKPOINT_DIR.key(), dir.resolve("checkpoints").toUri().toString(),
                Settings.PROMETHEUS_PORTS.key(), "none",
                Settings.REST_PORTS.key(), "18381-18480"));
        String bootstrap = cfg.get(Settings.KAFKA_BOOTSTRAP);
        input = io.tourniquet.testing.LiveInput.open(cfg, "aftercare");
        producer = input.producer();
        JobClient job = DetectJobRunner.build(cfg, false, Optional.empty()).executeAsync("aftercare-detect");
        try (io.tourniquet.testing.LiveInput closing = input;
             Tail notes = new Tail(bootstrap, cfg.get(Settings.TOPIC_NOTIFICATIONS));
             Tail incidents = new Tail(bootstrap, cfg.get(Settings.TOPIC_INCIDENTS));
             Tail claims = new Tail(bootstrap, cfg.get(Settings.TOPIC_CLAIMS));
             Tail actions = new Tail(bootstrap, cfg.get(Settings.TOPIC_ACTIONS));
             Tail dlq = new Tail(bootstrap, cfg.get(Settings.TOPIC_DLQ));
             Tail enriched = new Tail(bootstrap, cfg.get(Settings.TOPIC_ENRICHED));
             Tail alerts = new Tail(bootstrap, cfg.get(Settings.TOPIC_ALERTS))) {
            // (1) The attack, and what the record says of the victims before it.
            for (String v : VICTIMS) policy(v, T.minus(Duration.ofDays(60)));
            codeSet("v1", "Heron-22", T.minus(Duration.ofDays(22)));
            codeSet("v2", "Owl-20", T.minus(Duration.ofDays(20)));
            codeSet("b1", "Lynx", T.minus(Duration.ofDays(100)));
            requested("b1", "w-b1", T.minusSeconds(120)); // pending, never finished
            approval("v1", "w-v1-btc", "BTC", "4", 200_000, T);
            approval("v1", "w-v1-eth", "ETH", "30", 100_000, T.plusSeconds(30));
            approval("v2", "w-v2", "ETH", "1", 3_000, T.plusSeconds(60));
            approval("v3", "w-v3", "ETH", "1", 3_000, T.plusSeconds(90));
            approval("v4", "w-v4", "ETH", "1", 3_000, T.plusSeconds(120));
            approval("v5", "w-v5", "ETH", "1", 3_000, T.plusSeconds(150));
            verified("g1", "c-g1", "w-g1", T.plus(Duration.ofMinutes(15)));
            tick(T.plus(Duration.ofMinutes(15))); // moves event time past the bulk-drain window

            JsonNode contained = incidents.await(all -> last(all, n -> "contained".equals(n.path("status").asText())),
                    "a contained incident", job);
            String incident = contained.path("incident_id").asText();
            assertThat(contained.path("users_affected").asInt()).isEqualTo(5);
            notes.await(all -> count(all, n -> n.path("kind").asText().equals("withdrawals_suspended")) == 1,
                    "the bystander told of the suspension", job);

            // A genuine user approves long after verifying, every input quiet in between (waiting for the
            // incident took seconds): the verification must still be known. (With the control input at the end
            // of time, a quiet input moved every detector to the end of time and forgot it: a freeze.)
            approval("g1", "w-g1", "ETH", "0.2", 600, T.plus(Duration.ofMinutes(15)).plusSeconds(20), "c-g1");
            JsonNode genuine = enriched.await(all -> last(all, e -> e.path("event").path("withdrawal_id").asText()
                    .equals("w-g1") && e.path("event").path("status").asText().equals("approved")), "g1's approval", job);
            assertThat(genuine.path("mfa_authorized").asBoolean()).as(genuine.toString()).isTrue();

            // (2) Analysts: release v1, resume (a second analyst approves), resolve.
            ControlRequest release = request(ControlRequest.RELEASE_ACCOUNT, "alice@sec");
            release.userId = "v1";
            release.reason = "identity verified by video call";
            ControlRequest resume = request(ControlRequest.RESUME_WITHDRAWALS, "alice@sec");
            ControlRequest approveResume = approval(resume, "bob@sec");
            ControlRequest resolve = request(ControlRequest.RESOLVE_INCIDENT, "alice@sec");
            resolve.incidentId = incident;
            control(release, resume, approveResume, resolve);
            // Their updates are about the requests' signing times: event time must pass them.
            tick(Instant.now().plusSeconds(60));
            claims.await(all -> count(all, c -> c.path("version").asInt() == 1) == 5, "five claims opened", job);
            notes.await(all -> count(all, n -> n.path("kind").asText().equals("claim_opened")) == 5,
                    "five claim_opened notices", job);

            // (3) Restart from a savepoint: claims and update counts must come back with it.
            String savepoint = job.stopWithSavepoint(false, dir.resolve("savepoints").toUri().toString(),
                    SavepointFormatType.CANONICAL).get();
            job = DetectJobRunner.build(cfg, false, Optional.of(savepoint)).executeAsync("aftercare-detect-2");

            // (4) v1's documents and the approval (two analysts); v2 denied; a forged and an unsigned decision.
            ControlRequest police = claimRequest(ControlRequest.CLAIM_DOCUMENT, "v1", incident, "bob@sec");
            police.document = "police_report";
            ControlRequest questionnaire = claimRequest(ControlRequest.CLAIM_DOCUMENT, "v1", incident, "bob@sec");
            questionnaire.document = "questionnaire";
            ControlRequest pay = claimRequest(ControlRequest.CLAIM_DECISION, "v1", incident, "carol@sec");
            pay.decision = "approve";
            pay.reason = "police report and questionnaire consistent with the incident";
            ControlRequest approvePay = approval(pay, "dave@sec");
            ControlRequest deny = claimRequest(ControlRequest.CLAIM_DECISION, "v2", incident, "carol@sec");
            deny.decision = "deny";
            deny.reason = "the anti-phishing code was set 20 days before the theft; the programme requires 21";
            ControlRequest forged = claimRequest(ControlRequest.CLAIM_DECISION, "v3", incident, "mallory");
            forged.decision = "approve";
            ControlRequest unsigned = claimRequest(ControlRequest.CLAIM_DECISION, "v4", incident, "mallory");
            unsigned.decision = "approve";
            control(police, questionnaire, pay, approvePay, deny);
            String key = "aftercare";
            String topic = cfg.get(Settings.TOPIC_CONTROL);
            ControlRequests.sign(forged, new CommandSigner("not-the-control-key-0123456789abcdef"));
            producer.send(new ProducerRecord<>(topic, key, Json.toString(forged))).get();
            byte[] unsignedBytes = new ControlRecords(topic, CONTROL_KEY).unsigned(unsigned).list().get(0).value;
            producer.send(new ProducerRecord<>(topic, key, new String(unsignedBytes, java.nio.charset.StandardCharsets.UTF_8))).get();
            tick(Instant.now().plusSeconds(60));

            claims.await(all -> last(all, c -> c.path("user_id").asText().equals("v1")
                    && c.path("status").asText().equals("approved")) != null
                    && last(all, c -> c.path("user_id").asText().equals("v2")
                    && c.path("status").asText().equals("denied")) != null, "v1 approved and v2 denied", job);
            notes.await(all -> count(all, n -> n.path("kind").asText().startsWith("claim_")
                    && !n.path("kind").asText().equals("claim_opened")) == 4, "the claim notices", job);
            dlq.await(all -> count(all, d -> d.path("reason_code").asText().matches("bad_signature|unsigned")) == 2,
                    "the forged and the unsigned decision dead-lettered", job);

            // ---- claims ----
            JsonNode v1 = last(claims.all, c -> c.path("user_id").asText().equals("v1"));
            assertThat(v1.path("eligibility").asText()).isEqualTo("eligible");
            assertThat(new BigDecimal(v1.path("loss_usd").asText())).isEqualByComparingTo("300000");
            assertThat(new BigDecimal(v1.path("payout_usd").asText())).isEqualByComparingTo("250000");
            assertThat(v1.path("decided_by").asText()).isEqualTo("carol@sec");
            assertThat(v1.path("decision_approved_by").asText()).isEqualTo("dave@sec");
            // Four versions, each once: opened before the restart, three changes after it.
            assertThat(claims.all.stream().filter(c -> c.path("user_id").asText().equals("v1"))
                    .map(c -> c.path("version").asInt() + ":" + c.path("status").asText()).toList())
                    .containsExactly("1:awaiting_documents", "2:awaiting_documents", "3:under_review", "4:approved");
            JsonNode v2 = last(claims.all, c -> c.path("user_id").asText().equals("v2"));
            assertThat(v2.path("eligibility").asText()).isEqualTo("not_eligible");
            assertThat(v2.path("conditions").toString()).contains("\"name\":\"anti_phishing_code\",\"outcome\":\"fail\"");
            assertThat(v2.path("status").asText()).isEqualTo("denied");
            for (String v : List.of("v3", "v4", "v5")) {
                assertThat(last(claims.all, c -> c.path("user_id").asText().equals(v)).path("status").asText())
                        .as("forged and unsigned decisions change nothing").isEqualTo("awaiting_documents");
            }

            // ---- what each user heard, in order, each update once, numbered across the restart ----
            assertThat(notes.all).extracting(n -> n.path("notification_id").asText()).doesNotHaveDuplicates();
            assertThat(kinds(notes.all, "v1")).containsExactly(
                    "unauthorized_approval#1", "mfa_tokens_revoked#2", "bulk_drain#3", "account_released#4",
                    "withdrawals_resumed#5", "incident_resolved#6", "claim_opened#7", "claim_document_received#8",
                    "claim_document_received#9", "claim_approved#10");
            assertThat(kinds(notes.all, "v2")).containsExactly("unauthorized_approval#1", "mfa_tokens_revoked#2",
                    "bulk_drain#3", "withdrawals_resumed#4", "incident_resolved#5", "claim_opened#6", "claim_denied#7");
            assertThat(kinds(notes.all, "b1")).containsExactly("withdrawals_suspended#1", "withdrawals_resumed#2");
            assertThat(notes.all).filteredOn(n -> n.path("user_id").asText().equals("v1"))
                    .allSatisfy(n -> assertThat(n.path("anti_phishing_code").asText()).isEqualTo("Heron-22"));
            assertThat(notes.all).filteredOn(n -> n.path("user_id").asText().equals("b1"))
                    .allSatisfy(n -> assertThat(n.path("anti_phishing_code").asText()).isEqualTo("Lynx"));
            assertThat(notes.all).filteredOn(n -> n.path("user_id").asText().equals("v3"))
                    .allSatisfy(n -> assertThat(n.has("anti_phishing_code")).isFalse());
            JsonNode released = last(notes.all, n -> n.path("kind").asText().equals("account_released"));
            assertThat(released.path("body").asText()).contains("identity verified by video call");
            JsonNode resolved = last(notes.all, n -> n.path("kind").asText().equals("incident_resolved")
                    && n.path("user_id").asText().equals("v1"));
            assertThat(resolved.path("body").asText()).contains("4 BTC (US$200,000.00 when requested)",
                    "30 ETH (US$100,000.00 when requested)", "Together: US$300,000.00").doesNotContain("w-v2");
            JsonNode paid = last(notes.all, n -> n.path("kind").asText().equals("claim_approved"));
            assertThat(paid.path("title").asText()).isEqualTo("Your claim is approved: we will reimburse US$250,000.00");
            JsonNode denied = last(notes.all, n -> n.path("kind").asText().equals("claim_denied"));
            assertThat(denied.path("body").asText()).contains("set 20 days before the theft");
            assertThat(notes.all).filteredOn(n -> n.path("kind").asText().equals("account_released")).hasSize(1);

            alerts.await(all -> true, "alerts", job);
            assertThat(alerts.all).extracting(a -> a.path("user_id").asText()).doesNotContain("g1", "b1");
            // The commands the analysts' requests made, once each.
            actions.await(all -> count(all, a -> a.path("reason").asText().equals("analyst")) >= 2,
                    "the analysts' commands", job);
            assertThat(actions.all).filteredOn(a -> a.path("action").asText().matches("release_account|resume_withdrawals"))
                    .extracting(a -> a.path("action").asText()).containsExactlyInAnyOrder("release_account",
                            "resume_withdrawals");
            printWalkthrough(notes.all, claims.all);
        } finally {
            job.cancel().get();
        }
    }

    /**
     * What the README's walk-through quotes: the claimant's messages and claim versions of this run,
     * titles on the console, everything in {@code target/incident-aftercare/walkthrough.txt}.
     */
    private static void printWalkthrough(List<JsonNode> notes, List<JsonNode> claims) throws Exception {
        StringBuilder full = new StringBuilder();
        for (JsonNode n : notes) {
            if (n.path("user_id").asText().equals("v1") || n.path("user_id").asText().equals("b1")) {
                full.append("---- ").append(n.path("user_id").asText()).append(" #").append(n.path("update_sequence").asText())
                        .append(' ').append(n.path("kind").asText()).append('\n').append(n.path("title").asText())
                        .append("\n\n").append(n.path("body").asText()).append("\n\n");
            }
        }
        for (JsonNode c : claims) {
            if (c.path("user_id").asText().matches("v1|v2")) full.append(c.toPrettyString()).append('\n');
        }
        Files.writeString(dir.resolve("walkthrough.txt"), full);
        StringBuilder s = new StringBuilder("[aftercare] what v1 received:\n");
        for (JsonNode n : notes) {
            if (!n.path("user_id").asText().equals("v1")) continue;
            s.append("  #").append(n.path("update_sequence").asInt()).append(' ').append(n.path("kind").asText())
                    .append(": ").append(n.path("title").asText()).append('\n');
        }
        for (JsonNode c : claims) {
            if (!c.path("user_id").asText().equals("v1")) continue;
            s.append("  claim v").append(c.path("version").asInt()).append(' ').append(c.path("status").asText())
                    .append(" outstanding=").append(c.path("outstanding")).append(" payout_usd=")
                    .append(c.path("payout_usd").asText()).append('\n');
        }
        System.out.print(s);
    }

    // ---- input ---------------------------------------------------------------------------------------

    private ObjectNode event(String user, Instant at) {
        return input.event(user, at);
    }

    /** One key per topic: one partition, read in the order written. */
    private void send(Setting topic, ObjectNode e) throws Exception {
        input.send(topic.setting, e);
    }

    enum Setting {
        LOGINS(Settings.TOPIC_LOGINS), MFA(Settings.TOPIC_MFA), WITHDRAWALS(Settings.TOPIC_WITHDRAWALS), CHANGES(Settings.TOPIC_ACCOUNT_CHANGES);

        final io.tourniquet.config.Setting<String> setting;

        Setting(io.tourniquet.config.Setting<String> setting) {
            this.setting = setting;
        }
    }

    private void policy(String user, Instant at) throws Exception {
        ObjectNode e = event(user, at);
        e.put("action", "mfa_policy_changed");
        ObjectNode p = e.putObject("mfa_policy");
        for (String t : List.of("login", "withdrawal", "whitelist_address", "settings")) p.put(t, true);
        send(Setting.CHANGES, e);
    }

    private void codeSet(String user, String code, Instant at) throws Exception {
        ObjectNode e = event(user, at);
        e.put("action", "anti_phishing_code_set");
        e.put("anti_phishing_code", code);
        send(Setting.CHANGES, e);
    }

    private void requested(String user, String withdrawal, Instant at) throws Exception {
        ObjectNode e = withdrawal(user, withdrawal, "ETH", "0.5", 1_500, at);
        e.put("status", "requested");
        e.put("account_balance_usd", 40_000);
        send(Setting.WITHDRAWALS, e);
    }

    private void approval(String user, String withdrawal, String asset, String amount, double usd, Instant at)
            throws Exception {
        approval(user, withdrawal, asset, amount, usd, at, null); // the January 2022 pattern: no 2FA at all
    }

    private void verified(String user, String challenge, String withdrawal, Instant at) throws Exception {
        ObjectNode e = event(user, at);
        e.put("action", "challenge_verified");
        e.put("challenge_id", challenge);
        e.put("method", "totp");
        e.put("purpose", "withdrawal");
        e.put("withdrawal_id", withdrawal);
        send(Setting.MFA, e);
    }

    private void approval(String user, String withdrawal, String asset, String amount, double usd, Instant at,
                          String challenge) throws Exception {
        ObjectNode e = withdrawal(user, withdrawal, asset, amount, usd, at);
        e.put("status", "approved");
        e.put("mfa_challenge_id", challenge);
        e.put("approval_channel", "internal");
        e.put("approval_service", "withdrawal-approver");
        e.put("approval_service_version", "2.14.0-rc1");
        send(Setting.WITHDRAWALS, e);
    }

    private ObjectNode withdrawal(String user, String withdrawal, String asset, String amount, double usd, Instant at) {
        ObjectNode e = event(user, at);
        e.put("withdrawal_id", withdrawal);
        e.put("asset", asset);
        e.put("network", asset.equals("BTC") ? "bitcoin" : "ethereum");
        e.put("amount", amount);
        e.put("usd_value", usd);
        e.put("destination_address", "0xattacker");
        return e;
    }

    /** An event on every input topic, later than everything: event time moves on. */
    private void tick(Instant at) throws Exception {
        input.tick(at);
    }

    // ---- control ---------------------------------------------------------------------------------------

    /** Signing times one second apart, in the order the requests are made: their updates keep that order. */
    private static long signedAt = System.currentTimeMillis() - 60_000;

    private static ControlRequest request(String type, String by) {
        signedAt = Math.max(signedAt + 1_000, System.currentTimeMillis() - 30_000);
        ControlRequest r = ControlRecords.request(type + "-" + UUID.randomUUID(), type, by, signedAt);
        r.reason = "aftercare test";
        return r;
    }

    private static ControlRequest approval(ControlRequest held, String by) {
        ControlRequest r = request(ControlRequest.APPROVE, by);
        r.approves = held.requestId;
        return r;
    }

    private static ControlRequest claimRequest(String type, String user, String incident, String by) {
        ControlRequest r = request(type, by);
        r.userId = user;
        r.incidentId = incident;
        return r;
    }

    /** Signed, on one key: one partition, read in this order. */
    private void control(ControlRequest... requests) throws Exception {
        String topic = cfg.get(Settings.TOPIC_CONTROL);
        ControlRecords records = new ControlRecords(topic, CONTROL_KEY);
        for (ControlRequest r : requests) records.signed(r);
        for (var r : records.list()) {
            producer.send(new ProducerRecord<>(topic, "aftercare", new String(r.value, java.nio.charset.StandardCharsets.UTF_8))).get();
        }
    }

    // ---- output ----------------------------------------------------------------------------------------

    private static JsonNode last(List<JsonNode> all, Predicate<JsonNode> p) {
        JsonNode found = null;
        for (JsonNode n : all) if (p.test(n)) found = n;
        return found;
    }

    private static long count(List<JsonNode> all, Predicate<JsonNode> p) {
        return all.stream().filter(p).count();
    }

    /** The user's notifications as kind#update, ordered by update number. */
    private static List<String> kinds(List<JsonNode> all, String user) {
        return all.stream().filter(n -> n.path("user_id").asText().equals(user))
                .sorted(java.util.Comparator.comparingInt(n -> n.path("update_sequence").asInt()))
                .map(n -> n.path("kind").asText() + "#" + n.path("update_sequence").asInt()).toList();
    }

    /** A topic read from the start, read_committed, accumulating every record as JSON. */
    static final class Tail implements AutoCloseable {
        final KafkaConsumer<String, String> consumer;
        final List<JsonNode> all = new ArrayList<>();
        final String topic;

        Tail(String bootstrap, String topic) {
            this.topic = topic;
            consumer = new KafkaConsumer<>(Map.of(
                    ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap,
                    ConsumerConfig.GROUP_ID_CONFIG, "aftercare-tail-" + UUID.randomUUID(),
                    ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed",
                    ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false",
                    ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName(),
                    ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName()));
            List<TopicPartition> parts = consumer.partitionsFor(topic).stream()
                    .map(i -> new TopicPartition(topic, i.partition())).toList();
            consumer.assign(parts);
            consumer.seekToBeginning(parts);
        }

        /** Polls until {@code done} holds for what was read, or fails after {@link #DEADLINE}. */
        <T> T await(java.util.function.Function<List<JsonNode>, T> done, String what, JobClient job) throws Exception {
            long end = System.nanoTime() + DEADLINE.toNanos();
            while (true) {
                for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(200))) {
                    all.add(Json.MAPPER.readTree(r.value()));
                }
                T result = done.apply(all);
                if (result != null && !Boolean.FALSE.equals(result)) return result;
                if (job.getJobStatus().get().isGloballyTerminalState()) {
                    throw new AssertionError("the detect job ended while waiting for " + what);
                }
                if (System.nanoTime() > end) {
                    throw new AssertionError("no " + what + " on " + topic + " within " + DEADLINE + "; read: " + all);
                }
            }
        }

        /**
         * Reads every record committed so far (up to each partition's last stable offset): what
         * was committed with a record already read is then read too, whichever partition it is in.
         */
        void readToEnd(JobClient job) throws Exception {
            Map<TopicPartition, Long> end = consumer.endOffsets(consumer.assignment());
            await(all -> end.entrySet().stream().allMatch(e -> consumer.position(e.getKey()) >= e.getValue()),
                    "the records committed so far", job);
        }

        @Override
        public void close() {
            consumer.close();
        }
    }
}
