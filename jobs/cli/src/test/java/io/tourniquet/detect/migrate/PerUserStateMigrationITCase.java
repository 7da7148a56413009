package io.tourniquet.detect.migrate;

import io.tourniquet.detect.WithdrawalRequestFacts;
import io.tourniquet.detect.WhitelistEntry;
import io.tourniquet.detect.SessionLogin;
import io.tourniquet.detect.PendingApproval;
import io.tourniquet.detect.NewAddressRequest;
import io.tourniquet.detect.DrainRequest;
import io.tourniquet.detect.DrainApproval;
import io.tourniquet.detect.Challenge;
import io.tourniquet.detect.AnomalyProfile;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import com.fasterxml.jackson.databind.JsonNode;
import io.tourniquet.json.Json;
import io.tourniquet.rules.catalog.RuleCatalog;
import io.tourniquet.rules.RuleVersion;
import io.tourniquet.testing.CliProcess;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.api.java.tuple.Tuple2;
import org.apache.flink.runtime.checkpoint.OperatorState;
import org.apache.flink.runtime.jobgraph.OperatorID;
import org.apache.flink.runtime.state.hashmap.HashMapStateBackend;
import org.apache.flink.state.api.OperatorIdentifier;
import org.apache.flink.state.api.OperatorTransformation;
import org.apache.flink.state.api.SavepointReader;
import org.apache.flink.state.api.SavepointWriter;
import org.apache.flink.state.api.functions.KeyedStateBootstrapFunction;
import org.apache.flink.state.api.functions.KeyedStateReaderFunction;
import org.apache.flink.state.api.runtime.SavepointLoader;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.util.CloseableIterator;
import org.apache.flink.util.Collector;
import org.junit.jupiter.api.Test;

/**
 * {@link PerUserStateMigration} on real savepoints: the committed fixture of the old layout
 * (written by an earlier build; {@code UpgradeCompatibilityITCase} then restores the result and
 * replays the incident's second half), and a small one written here with every state, both kinds
 * of timers and changed rules. What is read back from the new operator must be exactly what the
 * old operators held, and every other operator must be untouched.
 */
class PerUserStateMigrationITCase {
    static final Path FIXTURE = Path.of("src", "test", "resources", "upgrade", "detect-v1", "savepoint").toAbsolutePath();
    static final Path WORK = Path.of("target", "per-user-migration").toAbsolutePath();

    @Test
    void theCommittedFixtureMovesEveryStateAndTimerToTheNewOperator() throws Exception {
        String from = FIXTURE.toUri().toString();
        String to = fresh("fixture");
        PerUserStateMigration.Report report = PerUserStateMigration.migrate(from, to, "rocksdb", 2);
        report.lines().forEach(System.out::println);

        assertThat(report.alreadyMigrated()).isFalse();
        assertThat(report.removed()).containsExactlyElementsOf(PerUserStateMigration.OLD_UIDS);
        // What the first half of the incident left: verified challenges, whitelistings, ids seen,
        // approvals the anomaly scorer still waits on (its watermark had not reached them), timers.
        assertThat(report.users()).isPositive();
        assertThat(report.entries().get("challenges")).isPositive();
        assertThat(report.entries().get("challenge-count")).isPositive();
        assertThat(report.entries().get("whitelisted-addresses")).isPositive();
        assertThat(report.entries().get("seen-events")).isPositive();
        assertThat(report.entries().get("anomaly-pending-events")).isPositive();
        assertThat(report.eventTimeTimers()).isPositive();

        Map<String, PerUserState> before = readOld(from);
        Map<String, PerUserState> after = readNew(to);
        assertThat(after).hasSize((int) report.users());
        assertThat(json(after)).isEqualTo(json(before));
        assertThat(countEntries(after)).isEqualTo(report.entries());
        assertThat(after.values().stream().mapToLong(u -> u.eventTimeTimers.size()).sum())
                .isEqualTo(report.eventTimeTimers());
        assertThat(after.values().stream().mapToLong(u -> u.processingTimeTimers.size()).sum())
                .isEqualTo(report.processingTimeTimers());
        assertOtherOperatorsKept(from, to);
        assertThat(rulesOf(to)).isEmpty(); // no analyst changed a rule in the fixture's run

        // Already migrated: nothing to do, nothing written.
        String again = WORK.resolve("again").toUri().toString();
        PerUserStateMigration.Report noop = PerUserStateMigration.migrate(to, again, "rocksdb", 2);
        assertThat(noop.alreadyMigrated()).isTrue();
        assertThat(noop.lines()).singleElement().asString().startsWith("nothing to migrate: ");
        assertThat(WORK.resolve("again")).doesNotExist();
    }

    @Test
    void everyStateTimerAndRuleVersionOfASmallOldSavepointArrives() throws Exception {
        Map<String, List<PerUserState>> byOperator = oldLayout();
        String from = writeOldLayout(byOperator);
        String to = fresh("small-new");

        PerUserStateMigration.Report report = PerUserStateMigration.migrate(from, to, "hashmap", 2);
        report.lines().forEach(System.out::println);

        assertThat(report.users()).isEqualTo(2);
        assertThat(report.entries()).containsEntry("seen-events", 2L).containsEntry("whitelisted-addresses", 1L)
                .containsEntry("new-address-requests", 1L).containsEntry("drain-request-balances", 1L)
                .containsEntry("drain-approvals", 1L).containsEntry("drain-alerted-until", 1L)
                .containsEntry("challenges", 2L).containsEntry("challenge-count", 1L)
                .containsEntry("pending-approvals", 1L).containsEntry("anomaly-profile", 2L)
                .containsEntry("anomaly-sessions", 1L).containsEntry("anomaly-requests", 1L)
                .containsEntry("anomaly-whitelist", 1L).containsEntry("anomaly-pending-events", 1L)
                .containsEntry("anomaly-stall-watermark", 1L).containsEntry("anomaly-stall-deadline", 1L);

        Map<String, JsonNode> after = json(readNew(to));
        assertThat(after).containsOnlyKeys("alice", "bob");
        PerUserState alice = expected(byOperator, "alice");
        // De-duplication's timer moves to the end of its minute, where the new step forgets; the
        // drain rule's timer at that same instant is one timer now (the steps share the service).
        alice.eventTimeTimers = List.of(120_000L, 300_000L, 400_000L);
        alice.processingTimeTimers = List.of(9_000_000_000L);
        assertThat(after.get("alice")).isEqualTo(Json.MAPPER.valueToTree(alice));
        PerUserState bob = expected(byOperator, "bob");
        bob.eventTimeTimers = List.of(180_000L);
        assertThat(after.get("bob")).isEqualTo(Json.MAPPER.valueToTree(bob));
        assertThat(report.eventTimeTimers()).isEqualTo(4);
        assertThat(report.processingTimeTimers()).isEqualTo(1);

        // Each old detector held its own rule's versions; the new operator holds all of them.
        assertThat(rulesOf(to)).containsOnlyKeys("account_drain", "anomaly_score");
        assertThat(rulesOf(to).get("account_drain").version).isEqualTo(3);
        assertThat(report.rules()).extracting(r -> r.rule + " v" + r.version)
                .containsExactly("account_drain v3", "anomaly_score v2");
        assertOtherOperatorsKept(from, to);
    }

    @Test
    void aMissingSavepointOrAnOccupiedTargetIsRefusedClearly() throws Exception {
        String nowhere = WORK.resolve("no-such-savepoint").toUri().toString();
        assertThatThrownBy(() -> PerUserStateMigration.migrate(nowhere, fresh("unused"), "hashmap", 1))
                .isInstanceOf(IllegalArgumentException.class).hasMessageStartingWith("cannot read a savepoint at " + nowhere);
        Path notASavepoint = Files.createDirectories(WORK.resolve("empty-dir"));
        assertThatThrownBy(() -> PerUserStateMigration.migrate(notASavepoint.toUri().toString(), fresh("unused"), "hashmap", 1))
                .isInstanceOf(IllegalArgumentException.class).hasMessageStartingWith("cannot read a savepoint at ");
        Path occupied = Files.createDirectories(WORK.resolve("occupied"));
        Files.writeString(occupied.resolve("something"), "x");
        assertThatThrownBy(() -> PerUserStateMigration.migrate(FIXTURE.toUri().toString(), occupied.toUri().toString(),
                "hashmap", 1)).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("already exists");
    }

    // ---- a small savepoint of the old layout ----

    /** Two users' states, as the five old operators held them (an unrelated operator beside them). */
    private static Map<String, List<PerUserState>> oldLayout() {
        Map<String, List<PerUserState>> ops = new HashMap<>();
        PerUserState dedup = PerUserState.of("alice");
        dedup.seenEvents = Map.of("withdrawal/w1", 61_234L);
        dedup.eventTimeTimers = List.of(61_234L);
        PerUserState dedupBob = PerUserState.of("bob");
        dedupBob.seenEvents = Map.of("login/l1", 180_000L);
        dedupBob.eventTimeTimers = List.of(180_000L);
        ops.put("dedup", List.of(dedup, dedupBob));

        PerUserState newAddress = PerUserState.of("alice");
        WhitelistEntry w = new WhitelistEntry();
        w.address = "bc1q-a";
        w.addedAt = 1_000L;
        w.addedEventId = "wl1";
        newAddress.whitelistedAddresses = Map.of("bc1q-a", w);
        NewAddressRequest r = new NewAddressRequest();
        r.withdrawalId = "w1";
        r.eventTime = 2_000L;
        r.usdValue = 12.5;
        newAddress.newAddressRequests = Map.of("w1", r);
        newAddress.eventTimeTimers = List.of(300_000L);
        ops.put("detect-new-address-withdrawal", List.of(newAddress));

        PerUserState drain = PerUserState.of("alice");
        DrainRequest dr = new DrainRequest();
        dr.withdrawalId = "w2";
        dr.balanceUsd = 100.0;
        dr.requestedAt = 3_000L;
        drain.drainRequestBalances = Map.of("w2", dr);
        DrainApproval da = new DrainApproval();
        da.withdrawalId = "w3";
        da.usdValue = 99.0;
        drain.drainApprovals = Map.of("w3", da);
        drain.drainAlertedUntil = 4_000L;
        drain.eventTimeTimers = List.of(120_000L, 400_000L);
        ops.put("detect-account-drain", List.of(drain));

        PerUserState ua = PerUserState.of("alice");
        Challenge c1 = new Challenge();
        c1.challengeId = "c1";
        c1.status = Challenge.VERIFIED;
        c1.issuedAt = 5_000L;
        Challenge c2 = new Challenge();
        c2.challengeId = "c2";
        c2.status = Challenge.ISSUED;
        ua.challenges = Map.of("c1", c1, "c2", c2);
        ua.challengeCount = 2;
        PendingApproval p = new PendingApproval();
        p.decideAtEventTime = 6_000L;
        p.decideAtProcessingTime = 9_000_000_000L;
        p.enriched = io.tourniquet.model.EnrichedEvent.of(new io.tourniquet.model.Event());
        p.enriched.event.eventId = "a1";
        p.enriched.alertIds.add("alert-1");
        ua.pendingApprovals = Map.of("a1", p);
        ua.processingTimeTimers = List.of(9_000_000_000L);
        ops.put("detect-unauthorized-approval", List.of(ua));

        PerUserState anomaly = PerUserState.of("alice");
        AnomalyProfile profile = new AnomalyProfile();
        profile.withdrawalTimes = new long[] {1L, 2L};
        profile.withdrawalUsd = new double[] {10.0, 20.0};
        profile.devices = new String[] {"d1"};
        anomaly.anomalyProfile = profile;
        SessionLogin s = new SessionLogin();
        s.sessionId = "s1";
        s.loginTime = 7_000L;
        anomaly.anomalySessions = Map.of("s1", s);
        WithdrawalRequestFacts f = new WithdrawalRequestFacts();
        f.withdrawalId = "w1";
        f.requestTime = 2_000L;
        anomaly.anomalyRequests = Map.of("w1", f);
        anomaly.anomalyWhitelist = Map.of("bc1q-a", 1_000L);
        anomaly.anomalyPendingEvents = Map.of("a1", p.enriched);
        anomaly.anomalyStallWatermark = 8_000L;
        anomaly.anomalyStallDeadline = 9_000L;
        PerUserState anomalyBob = PerUserState.of("bob");
        anomalyBob.anomalyProfile = new AnomalyProfile();
        ops.put("detect-anomaly-score", List.of(anomaly, anomalyBob));
        return ops;
    }

    private static PerUserState expected(Map<String, List<PerUserState>> ops, String user) {
        PerUserState all = PerUserState.of(user);
        ops.values().forEach(list -> list.stream().filter(s -> s.userId.equals(user)).forEach(all::merge));
        return all;
    }

    private static String writeOldLayout(Map<String, List<PerUserState>> ops) throws Exception {
        String path = fresh("small-old");
        StreamExecutionEnvironment env = PerUserStateMigration.environment(2);
        SavepointWriter writer = SavepointWriter.newSavepoint(env, new HashMapStateBackend(), 128);
        Map<String, List<RuleVersion>> rules = Map.of(
                "detect-account-drain", List.of(rule("account_drain", 3)),
                "detect-anomaly-score", List.of(rule("anomaly_score", 2)));
        for (String uid : PerUserStateMigration.OLD_UIDS) {
            DataStream<PerUserState> users = env.fromData(ops.get(uid));
            writer.withOperator(OperatorIdentifier.forUid(uid), OperatorTransformation.bootstrapWith(users)
                    .keyBy(new PerUserStateMigration.ByUser())
                    .transform(new PerUserStateMigration.NewStateWriter(rules.getOrDefault(uid, List.of()), true)));
        }
        // Another operator of the job, with keyed state of its own: it must come through untouched.
        writer.withOperator(OperatorIdentifier.forUid("incidents"), OperatorTransformation
                .bootstrapWith(env.fromData(List.of("i1", "i2"))).keyBy(x -> x).transform(new Unrelated()));
        writer.write(path);
        env.execute("write-old-layout");
        return path;
    }

    private static RuleVersion rule(String name, int version) {
        return new RuleVersion(name, version, Map.of("k", "v" + version), "analyst", "req-" + version, 1L);
    }

    static final class Unrelated extends KeyedStateBootstrapFunction<String, String> {
        private transient org.apache.flink.api.common.state.ValueState<String> state;

        @Override
        public void open(OpenContext ctx) {
            state = getRuntimeContext().getState(new org.apache.flink.api.common.state.ValueStateDescriptor<>(
                    "incident", String.class));
        }

        @Override
        public void processElement(String value, Context ctx) throws Exception {
            state.update(value);
        }
    }

    // ---- reading savepoints back ----

    private static String fresh(String name) throws Exception {
        Path dir = WORK.resolve(name);
        CliProcess.deleteRecursively(dir);
        return dir.toUri().toString();
    }

    /** Each user's states and timers as the old operators held them (de-duplication's timers bucketed). */
    private static Map<String, PerUserState> readOld(String savepoint) throws Exception {
        StreamExecutionEnvironment env = PerUserStateMigration.environment(2);
        SavepointReader reader = SavepointReader.read(env, savepoint, new HashMapStateBackend());
        DataStream<PerUserState> all = null;
        for (String uid : PerUserStateMigration.OLD_UIDS) {
            DataStream<PerUserState> one = reader.readKeyedState(OperatorIdentifier.forUid(uid),
                    new PerUserStateMigration.OldStateReader(uid), Types.STRING, TypeInformation.of(PerUserState.class));
            all = all == null ? one : all.union(one);
        }
        return collect(all.keyBy(new PerUserStateMigration.ByUser()).reduce(PerUserState::merge));
    }

    /** Each user's states and timers in the new operator. */
    private static Map<String, PerUserState> readNew(String savepoint) throws Exception {
        StreamExecutionEnvironment env = PerUserStateMigration.environment(2);
        return collect(SavepointReader.read(env, savepoint, new HashMapStateBackend())
                .readKeyedState(OperatorIdentifier.forUid(PerUserStateMigration.NEW_UID), new NewStateReader(),
                        Types.STRING, TypeInformation.of(PerUserState.class)));
    }

    private static Map<String, PerUserState> collect(DataStream<PerUserState> users) throws Exception {
        Map<String, PerUserState> out = new TreeMap<>();
        try (CloseableIterator<PerUserState> it = users.executeAndCollect("read-back")) {
            it.forEachRemaining(u -> assertThat(out.put(u.userId, u)).as("user " + u.userId + " read once").isNull());
        }
        return out;
    }

    /** Comparable as values: the state classes have no equals of their own. */
    private static Map<String, JsonNode> json(Map<String, PerUserState> users) {
        Map<String, JsonNode> out = new TreeMap<>();
        users.forEach((user, s) -> out.put(user, Json.MAPPER.valueToTree(s)));
        return out;
    }

    static final class NewStateReader extends KeyedStateReaderFunction<String, PerUserState> {
        private transient List<PerUserStateMigration.Bound> states;

        @Override
        public void open(OpenContext ctx) {
            states = new ArrayList<>();
            for (PerUserStateMigration.Slot s : PerUserStateMigration.SLOTS) states.add(s.bind(getRuntimeContext()));
        }

        @Override
        public void readKey(String user, Context ctx, Collector<PerUserState> out) throws Exception {
            PerUserState s = PerUserState.of(user);
            for (PerUserStateMigration.Bound b : states) b.read(s);
            s.eventTimeTimers = PerUserState.union(ctx.registeredEventTimeTimers(), null);
            s.processingTimeTimers = PerUserState.union(ctx.registeredProcessingTimeTimers(), null);
            out.collect(s);
        }
    }

    private static Map<String, Long> countEntries(Map<String, PerUserState> users) {
        Map<String, Long> counts = new java.util.LinkedHashMap<>();
        for (PerUserStateMigration.Slot slot : PerUserStateMigration.SLOTS) {
            counts.put(slot.name(), users.values().stream().mapToLong(slot::entries).sum());
        }
        return counts;
    }

    private static Map<String, RuleVersion> rulesOf(String savepoint) throws Exception {
        StreamExecutionEnvironment env = PerUserStateMigration.environment(1);
        Map<String, RuleVersion> rules = new TreeMap<>();
        try (CloseableIterator<Tuple2<String, RuleVersion>> it = SavepointReader.read(env, savepoint, new HashMapStateBackend())
                .readBroadcastState(OperatorIdentifier.forUid(PerUserStateMigration.NEW_UID),
                        RuleCatalog.BROADCAST.getName(), Types.STRING, TypeInformation.of(RuleVersion.class))
                .executeAndCollect("read-rules")) {
            it.forEachRemaining(t -> rules.put(t.f0, t.f1));
        }
        return rules;
    }

    /** The old operators gone, the new one there, every other operator's state the same as before. */
    private static void assertOtherOperatorsKept(String from, String to) throws Exception {
        Map<OperatorID, OperatorState> before = operators(from);
        Map<OperatorID, OperatorState> after = operators(to);
        for (String uid : PerUserStateMigration.OLD_UIDS) {
            assertThat(after).doesNotContainKey(OperatorIdentifier.forUid(uid).getOperatorId());
            before.remove(OperatorIdentifier.forUid(uid).getOperatorId());
        }
        OperatorState added = after.remove(OperatorIdentifier.forUid(PerUserStateMigration.NEW_UID).getOperatorId());
        assertThat(added).isNotNull();
        assertThat(added.getMaxParallelism()).isEqualTo(128);
        assertThat(after.keySet()).containsExactlyInAnyOrderElementsOf(before.keySet());
        before.forEach((id, state) -> {
            assertThat(after.get(id).getStateSize()).as("state of " + id).isEqualTo(state.getStateSize());
            assertThat(after.get(id).getMaxParallelism()).isEqualTo(state.getMaxParallelism());
            assertThat(after.get(id).getParallelism()).isEqualTo(state.getParallelism());
        });
    }

    private static Map<OperatorID, OperatorState> operators(String savepoint) throws Exception {
        Map<OperatorID, OperatorState> out = new HashMap<>();
        for (OperatorState s : SavepointLoader.loadSavepointMetadata(savepoint).getOperatorStates()) {
            out.put(s.getOperatorID(), s);
        }
        return out;
    }
}
