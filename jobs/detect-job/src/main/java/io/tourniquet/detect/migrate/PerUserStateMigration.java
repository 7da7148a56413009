package io.tourniquet.detect.migrate;

import io.tourniquet.rules.unauthorized.UnauthorizedApprovalDetector;
import io.tourniquet.rules.newaddress.NewAddressWithdrawalDetector;
import io.tourniquet.model.EnrichedEvent;
import io.tourniquet.rules.anomaly.AnomalyScoringDetector;
import io.tourniquet.rules.drain.AccountDrainDetector;
import io.tourniquet.detect.DeduplicateFunction;
import io.tourniquet.rules.catalog.RuleCatalog;
import io.tourniquet.rules.RuleVersion;
import java.io.IOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.BiConsumer;
import java.util.function.Function;
import org.apache.flink.api.common.JobExecutionResult;
import org.apache.flink.api.common.RuntimeExecutionMode;
import org.apache.flink.api.common.accumulators.ListAccumulator;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.functions.RichMapFunction;
import org.apache.flink.api.common.functions.RuntimeContext;
import org.apache.flink.api.common.state.BroadcastState;
import org.apache.flink.api.common.state.MapState;
import org.apache.flink.api.common.state.MapStateDescriptor;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.api.java.functions.KeySelector;
import org.apache.flink.api.java.tuple.Tuple2;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.DeploymentOptions;
import org.apache.flink.configuration.ExecutionOptions;
import org.apache.flink.configuration.RestOptions;
import org.apache.flink.core.fs.FileStatus;
import org.apache.flink.core.fs.FileSystem;
import org.apache.flink.core.fs.Path;
import org.apache.flink.runtime.checkpoint.OperatorState;
import org.apache.flink.runtime.jobgraph.OperatorID;
import org.apache.flink.runtime.state.FunctionInitializationContext;
import org.apache.flink.runtime.state.FunctionSnapshotContext;
import org.apache.flink.runtime.state.StateBackend;
import org.apache.flink.runtime.state.hashmap.HashMapStateBackend;
import org.apache.flink.state.api.OperatorIdentifier;
import org.apache.flink.state.api.OperatorTransformation;
import org.apache.flink.state.api.SavepointReader;
import org.apache.flink.state.api.SavepointWriter;
import org.apache.flink.state.api.StateBootstrapTransformation;
import org.apache.flink.state.api.functions.KeyedStateBootstrapFunction;
import org.apache.flink.state.api.functions.KeyedStateReaderFunction;
import org.apache.flink.state.api.runtime.SavepointLoader;
import org.apache.flink.state.rocksdb.EmbeddedRocksDBStateBackend;
import org.apache.flink.streaming.api.checkpoint.CheckpointedFunction;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.streaming.api.functions.sink.v2.DiscardingSink;
import org.apache.flink.util.Collector;

/**
 * Moves a detect-job savepoint from the layout before {@link PerUserDetectors} (five keyed
 * operators: {@code dedup}, {@code detect-new-address-withdrawal}, {@code detect-account-drain},
 * {@code detect-unauthorized-approval}, {@code detect-anomaly-score}) to the one operator
 * {@code detect-per-user}, with Flink's State Processor API on an embedded Flink, as a bounded
 * batch job. Every other operator's state (sources, control, incidents, platform detectors, sinks)
 * is kept as it is.
 *
 * <p>What moves, per user: every keyed state of the five (same names, same types: the steps'
 * own descriptors are used to read and to write), their event-time and processing-time timers
 * (into the one timer service the steps now share), and the rules' broadcast state (each old
 * detector held only its own rule's versions; the new operator holds them all).
 *
 * <p>One change on the way: de-duplication's timers were at each id's own forgetting time; the
 * new step forgets on whole minutes ({@link DeduplicateFunction#bucketEnd}) and ignores a timer
 * off a minute boundary, so each old de-duplication timer moves to the end of its minute (as the
 * new step would have set it). Without that, the old ids would stay until the user's next event.
 *
 * <p>A user with timers but no state at all is not carried: the readers find users through their
 * state, and such a timer would find nothing to do when it fires.
 */
public final class PerUserStateMigration {
    /** The operator the per-user state belongs to now. */
    public static final String NEW_UID = "detect-per-user";
    /** The operators it belonged to before, in the order the steps run. */
    public static final List<String> OLD_UIDS = List.of("dedup", "detect-new-address-withdrawal",
            "detect-account-drain", "detect-unauthorized-approval", "detect-anomaly-score");
    private static final String DEDUP = OLD_UIDS.get(0);

    private PerUserStateMigration() {}

    /** What a migration did, for the console. */
    public record Report(String from, String to, boolean alreadyMigrated, List<String> removed, int keptOperators,
                         long users, Map<String, Long> entries, long eventTimeTimers, long processingTimeTimers,
                         List<RuleVersion> rules) {
        public List<String> lines() {
            List<String> out = new ArrayList<>();
            if (alreadyMigrated) {
                out.add("nothing to migrate: " + from + " already has the per-user layout (operator " + NEW_UID
                        + ", none of " + String.join(", ", OLD_UIDS) + "); nothing was written, run from it as it is");
                return out;
            }
            out.add("migrated " + from);
            out.add("     to " + to);
            out.add(String.format("%s: %,d users, %,d event-time timers, %,d processing-time timers", NEW_UID, users,
                    eventTimeTimers, processingTimeTimers));
            int width = entries.keySet().stream().mapToInt(String::length).max().orElse(0);
            entries.forEach((name, n) -> out.add(String.format("  %-" + width + "s %,9d %s", name, n,
                    n == 1 ? "entry" : "entries")));
            out.add("rule versions: " + (rules.isEmpty() ? "none changed by analysts (every rule at version 1)"
                    : String.join(", ", rules.stream().map(r -> r.rule + " v" + r.version).toList())));
            out.add("removed: " + String.join(", ", removed));
            out.add("kept as they were: " + keptOperators + " other operator" + (keptOperators == 1 ? "" : "s"));
            return out;
        }
    }

    /** With the state backend of that name ({@code rocksdb} or {@code hashmap}, as {@code job.state-backend}). */
    public static Report migrate(String from, String to, String stateBackend, int parallelism) throws Exception {
        return migrate(from, to, backend(stateBackend), parallelism);
    }

    /**
     * Reads the savepoint at {@code from} and writes the migrated one to {@code to} (a directory that
     * must not hold anything yet); {@code from} is only read. A savepoint already in the new layout
     * is left alone and nothing is written.
     *
     * @param backend reads the old state and writes the new operator's (a canonical savepoint, as
     *                {@code tourniquet savepoint} takes, reads with either; a native one needs its own)
     */
    public static Report migrate(String from, String to, StateBackend backend, int parallelism) throws Exception {
        Set<OperatorID> present = operatorsIn(from);
        List<String> old = OLD_UIDS.stream().filter(uid -> present.contains(id(uid))).toList();
        boolean hasNew = present.contains(id(NEW_UID));
        if (old.isEmpty() && hasNew) {
            return new Report(from, to, true, List.of(), present.size(), 0, Map.of(), 0, 0, List.of());
        }
        if (old.isEmpty()) {
            throw new IllegalArgumentException(from + " is not a savepoint of the detect job: it has neither "
                    + NEW_UID + " nor any of " + String.join(", ", OLD_UIDS));
        }
        if (hasNew) {
            throw new IllegalArgumentException(from + " has both " + NEW_UID + " and the operators it replaced ("
                    + String.join(", ", old) + "); it is neither layout, so there is nothing safe to do with it");
        }
        requireEmptyTarget(from, to);

        List<RuleVersion> rules = ruleVersions(from, old, backend);

        StreamExecutionEnvironment env = environment(parallelism);
        SavepointReader reader = SavepointReader.read(env, from, backend);
        DataStream<PerUserState> read = null;
        for (String uid : old) {
            DataStream<PerUserState> one = reader.readKeyedState(OperatorIdentifier.forUid(uid), new OldStateReader(uid),
                    Types.STRING, TypeInformation.of(PerUserState.class));
            read = read == null ? one : read.union(one);
        }
        // In batch mode a keyed reduce emits one record per key, at its end: each user once, with
        // everything the old operators held for them.
        DataStream<PerUserState> perUser = read.keyBy(new ByUser()).reduce(PerUserState::merge).name("Combine per user")
                .map(new Count()).name("Count");
        StateBootstrapTransformation<PerUserState> written = OperatorTransformation.bootstrapWith(perUser)
                .keyBy(new ByUser()).transform(new NewStateWriter(rules));
        SavepointWriter writer = SavepointWriter.fromExistingSavepoint(env, from, backend);
        for (String uid : old) writer.removeOperator(OperatorIdentifier.forUid(uid));
        writer.withOperator(OperatorIdentifier.forUid(NEW_UID), written).write(to);
        JobExecutionResult result = env.execute("tourniquet-savepoint-migrate");

        Map<String, Long> entries = new LinkedHashMap<>();
        for (Slot slot : SLOTS) entries.put(slot.name(), counter(result, STATE_PREFIX + slot.name()));
        return new Report(from, to, false, old, present.size() - old.size(), counter(result, USERS), entries,
                counter(result, EVENT_TIMERS), counter(result, PROCESSING_TIMERS), rules);
    }

    static StateBackend backend(String name) {
        return switch (name) {
            case "rocksdb" -> new EmbeddedRocksDBStateBackend();
            case "hashmap" -> new HashMapStateBackend();
            default -> throw new IllegalArgumentException("unknown state backend " + name + " (rocksdb or hashmap)");
        };
    }

    private static OperatorID id(String uid) {
        return OperatorIdentifier.forUid(uid).getOperatorId();
    }

    /** The operators the savepoint has state for; a clear error if it is not a savepoint. */
    private static Set<OperatorID> operatorsIn(String savepoint) {
        try {
            // Internal to the State Processor API, but the only way to see which operators a
            // savepoint holds without failing a read; its version is pinned in jobs/pom.xml.
            Set<OperatorID> ids = new HashSet<>();
            for (OperatorState s : SavepointLoader.loadSavepointMetadata(savepoint).getOperatorStates()) {
                ids.add(s.getOperatorID());
            }
            return ids;
        } catch (IOException | RuntimeException e) {
            throw new IllegalArgumentException("cannot read a savepoint at " + savepoint + ": " + e.getMessage(), e);
        }
    }

    private static void requireEmptyTarget(String from, String to) throws IOException {
        Path target = new Path(to);
        if (target.makeQualified(target.getFileSystem()).equals(new Path(from).makeQualified(new Path(from).getFileSystem()))) {
            throw new IllegalArgumentException("--to must be another directory than --from (" + from + " is kept as it is)");
        }
        FileSystem fs = target.getFileSystem();
        if (fs.exists(target)) {
            FileStatus[] inside = fs.getFileStatus(target).isDir() ? fs.listStatus(target) : null;
            if (inside == null || inside.length > 0) {
                throw new IllegalArgumentException(to + " already exists and is not an empty directory; "
                        + "give a new directory for the migrated savepoint");
            }
        }
    }

    /**
     * The rules' versions from the old detectors' broadcast state (each held its own rule's), newest
     * per rule. A small job of its own: the writer needs them before it starts.
     */
    private static List<RuleVersion> ruleVersions(String from, List<String> old, StateBackend backend) throws Exception {
        StreamExecutionEnvironment env = environment(1);
        SavepointReader reader = SavepointReader.read(env, from, backend);
        DataStream<Tuple2<String, RuleVersion>> all = null;
        for (String uid : old) {
            if (uid.equals(DEDUP)) continue; // de-duplication had no rule, so no broadcast state
            DataStream<Tuple2<String, RuleVersion>> one = reader.readBroadcastState(OperatorIdentifier.forUid(uid),
                    RuleCatalog.BROADCAST.getName(), Types.STRING, TypeInformation.of(RuleVersion.class));
            all = all == null ? one : all.union(one);
        }
        if (all == null) return List.of();
        all.map(new CollectRules()).sinkTo(new DiscardingSink<>());
        List<RuleVersion> read = env.execute("tourniquet-savepoint-migrate-rules").getAccumulatorResult(RULES);
        Map<String, RuleVersion> newest = new TreeMap<>();
        if (read != null) read.forEach(r -> newest.merge(r.rule, r, (a, b) -> a.version >= b.version ? a : b));
        return new ArrayList<>(newest.values());
    }

    /** An embedded Flink of its own for one bounded job (batch: the State Processor API's mode). */
    static StreamExecutionEnvironment environment(int parallelism) {
        Configuration conf = new Configuration();
        // As UpgradeCompatibilityITCase does: a plain environment whose target is "local" gets a
        // MiniCluster per job even where a test has installed a shared cluster as context.
        conf.set(DeploymentOptions.TARGET, "local");
        conf.set(DeploymentOptions.ATTACHED, true);
        conf.set(ExecutionOptions.RUNTIME_MODE, RuntimeExecutionMode.BATCH);
        // Its REST endpoint on loopback and any free port: never one of a running 'run' (job.rest-ports).
        conf.set(RestOptions.BIND_ADDRESS, "127.0.0.1");
        conf.set(RestOptions.ADDRESS, "127.0.0.1");
        conf.set(RestOptions.BIND_PORT, "0");
        StreamExecutionEnvironment env = new StreamExecutionEnvironment(conf);
        env.setParallelism(parallelism);
        return env;
    }

    private static long counter(JobExecutionResult result, String name) {
        Object v = result.getAllAccumulatorResults().get(name);
        return v == null ? 0 : ((Number) v).longValue();
    }

    // ---- the states: where each lived, and its field in PerUserState ----

    /** A keyed state of one old operator, copied with its own descriptor (so its own types). */
    interface Slot {
        String oldUid();

        String name();

        /** Entries a user has in it: a map's entries, 1 for a value. */
        long entries(PerUserState s);

        /** Its state in the function's keyed state backend (call in {@code open}). */
        Bound bind(RuntimeContext ctx);

        /** Where the old operator kept it (the same as {@link #bind} unless the layout changed). */
        default Bound bindOld(RuntimeContext ctx) {
            return bind(ctx);
        }
    }

    interface Bound {
        void read(PerUserState into) throws Exception;

        void write(PerUserState from) throws Exception;
    }

    private record MapSlot<V>(String oldUid, MapStateDescriptor<String, V> descriptor,
                              Function<PerUserState, Map<String, V>> get,
                              BiConsumer<PerUserState, Map<String, V>> set) implements Slot {
        @Override
        public String name() {
            return descriptor.getName();
        }

        @Override
        public long entries(PerUserState s) {
            Map<String, V> m = get.apply(s);
            return m == null ? 0 : m.size();
        }

        @Override
        public Bound bind(RuntimeContext ctx) {
            MapState<String, V> state = ctx.getMapState(descriptor);
            return new Bound() {
                @Override
                public void read(PerUserState into) throws Exception {
                    // Entry by entry, each value as its state's serializer read it.
                    Map<String, V> copy = new HashMap<>();
                    for (Map.Entry<String, V> e : state.entries()) copy.put(e.getKey(), e.getValue());
                    if (!copy.isEmpty()) set.accept(into, copy);
                }

                @Override
                public void write(PerUserState from) throws Exception {
                    Map<String, V> m = get.apply(from);
                    if (m != null && !m.isEmpty()) state.putAll(m);
                }
            };
        }
    }

    private record ValueSlot<V>(String oldUid, ValueStateDescriptor<V> descriptor, Function<PerUserState, V> get,
                                BiConsumer<PerUserState, V> set) implements Slot {
        @Override
        public String name() {
            return descriptor.getName();
        }

        @Override
        public long entries(PerUserState s) {
            return get.apply(s) == null ? 0 : 1;
        }

        @Override
        public Bound bind(RuntimeContext ctx) {
            ValueState<V> state = ctx.getState(descriptor);
            return new Bound() {
                @Override
                public void read(PerUserState into) throws Exception {
                    V v = state.value();
                    if (v != null) set.accept(into, v);
                }

                @Override
                public void write(PerUserState from) throws Exception {
                    V v = get.apply(from);
                    if (v != null) state.update(v);
                }
            };
        }
    }

    /** Every keyed state of the five old operators, in the order of {@link #OLD_UIDS}. */
    static final List<Slot> SLOTS = List.of(
            new MapSlot<>(OLD_UIDS.get(0), DeduplicateFunction.SEEN, s -> s.seenEvents, (s, v) -> s.seenEvents = v),
            new MapSlot<>(OLD_UIDS.get(1), NewAddressWithdrawalDetector.WHITELIST, s -> s.whitelistedAddresses,
                    (s, v) -> s.whitelistedAddresses = v),
            new MapSlot<>(OLD_UIDS.get(1), NewAddressWithdrawalDetector.REQUESTS, s -> s.newAddressRequests,
                    (s, v) -> s.newAddressRequests = v),
            new MapSlot<>(OLD_UIDS.get(2), AccountDrainDetector.REQUESTS, s -> s.drainRequestBalances,
                    (s, v) -> s.drainRequestBalances = v),
            new MapSlot<>(OLD_UIDS.get(2), AccountDrainDetector.APPROVALS, s -> s.drainApprovals,
                    (s, v) -> s.drainApprovals = v),
            new ValueSlot<>(OLD_UIDS.get(2), AccountDrainDetector.ALERTED_UNTIL, s -> s.drainAlertedUntil,
                    (s, v) -> s.drainAlertedUntil = v),
            new MapSlot<>(OLD_UIDS.get(3), UnauthorizedApprovalDetector.CHALLENGES, s -> s.challenges,
                    (s, v) -> s.challenges = v),
            new ValueSlot<>(OLD_UIDS.get(3), UnauthorizedApprovalDetector.CHALLENGE_COUNT, s -> s.challengeCount,
                    (s, v) -> s.challengeCount = v),
            new MapSlot<>(OLD_UIDS.get(3), UnauthorizedApprovalDetector.PENDING, s -> s.pendingApprovals,
                    (s, v) -> s.pendingApprovals = v),
            new ValueSlot<>(OLD_UIDS.get(4), AnomalyScoringDetector.PROFILE, s -> s.anomalyProfile,
                    (s, v) -> s.anomalyProfile = v),
            new MapSlot<>(OLD_UIDS.get(4), AnomalyScoringDetector.SESSIONS, s -> s.anomalySessions,
                    (s, v) -> s.anomalySessions = v),
            new MapSlot<>(OLD_UIDS.get(4), AnomalyScoringDetector.REQUESTS, s -> s.anomalyRequests,
                    (s, v) -> s.anomalyRequests = v),
            new MapSlot<>(OLD_UIDS.get(4), AnomalyScoringDetector.WHITELIST, s -> s.anomalyWhitelist,
                    (s, v) -> s.anomalyWhitelist = v),
            new AnomalyPendingSlot(),
            new ValueSlot<>(OLD_UIDS.get(4), AnomalyScoringDetector.STALL_WATERMARK, s -> s.anomalyStallWatermark,
                    (s, v) -> s.anomalyStallWatermark = v),
            new ValueSlot<>(OLD_UIDS.get(4), AnomalyScoringDetector.STALL_DEADLINE, s -> s.anomalyStallDeadline,
                    (s, v) -> s.anomalyStallDeadline = v));

    /**
     * The anomaly scorer's waiting events: by event id in the old operator (under
     * {@link AnomalyScoringDetector#LEGACY_PENDING}), by event time in the new one (with the count
     * of waiting approvals); carried in {@link PerUserState#anomalyPendingEvents} by event id.
     */
    private record AnomalyPendingSlot() implements Slot {
        @Override
        public String oldUid() {
            return OLD_UIDS.get(4);
        }

        @Override
        public String name() {
            return AnomalyScoringDetector.LEGACY_PENDING.getName();
        }

        @Override
        public long entries(PerUserState s) {
            return s.anomalyPendingEvents == null ? 0 : s.anomalyPendingEvents.size();
        }

        @Override
        public Bound bindOld(RuntimeContext ctx) {
            return new MapSlot<>(oldUid(), AnomalyScoringDetector.LEGACY_PENDING, s -> s.anomalyPendingEvents,
                    (s, v) -> s.anomalyPendingEvents = v).bind(ctx);
        }

        @Override
        public Bound bind(RuntimeContext ctx) {
            MapState<Long, List<EnrichedEvent>> pending = ctx.getMapState(AnomalyScoringDetector.PENDING);
            ValueState<Integer> waiting = ctx.getState(AnomalyScoringDetector.WAITING_APPROVALS);
            return new Bound() {
                @Override
                public void read(PerUserState into) throws Exception {
                    Map<String, EnrichedEvent> byId = new HashMap<>();
                    for (List<EnrichedEvent> at : pending.values()) {
                        for (EnrichedEvent e : at) byId.put(e.event.eventId, e);
                    }
                    if (!byId.isEmpty()) into.anomalyPendingEvents = byId;
                }

                @Override
                public void write(PerUserState from) throws Exception {
                    if (from.anomalyPendingEvents == null || from.anomalyPendingEvents.isEmpty()) return;
                    Map<Long, List<EnrichedEvent>> byTime = new TreeMap<>();
                    int approvals = AnomalyScoringDetector.adoptLegacyPending(from.anomalyPendingEvents.values(),
                            byTime::put);
                    pending.putAll(byTime);
                    if (approvals > 0) waiting.update(approvals);
                }
            };
        }
    }

    static {
        // The new operator keeps all of them in one backend: a name used twice would be one state.
        Set<String> names = new HashSet<>();
        for (Slot s : SLOTS) {
            if (!names.add(s.name())) throw new IllegalStateException("two per-user states named " + s.name());
        }
    }

    // ---- the job's functions ----

    private static final String RULES = "rule versions";
    private static final String USERS = "users";
    private static final String STATE_PREFIX = "state ";
    private static final String EVENT_TIMERS = "event-time timers";
    private static final String PROCESSING_TIMERS = "processing-time timers";

    static final class ByUser implements KeySelector<PerUserState, String> {
        private static final long serialVersionUID = 1L;

        @Override
        public String getKey(PerUserState s) {
            return s.userId;
        }
    }

    /** One old operator's states and timers of each user it has state for. */
    static final class OldStateReader extends KeyedStateReaderFunction<String, PerUserState> {
        private static final long serialVersionUID = 1L;
        private final String oldUid;
        private transient List<Bound> states;

        OldStateReader(String oldUid) {
            this.oldUid = oldUid;
        }

        @Override
        public void open(OpenContext openContext) {
            // Registered here, all of them: the reader finds users through the states registered in open.
            states = new ArrayList<>();
            for (Slot s : SLOTS) if (s.oldUid().equals(oldUid)) states.add(s.bindOld(getRuntimeContext()));
        }

        @Override
        public void readKey(String user, Context ctx, Collector<PerUserState> out) throws Exception {
            PerUserState s = PerUserState.of(user);
            for (Bound b : states) b.read(s);
            List<Long> events = new ArrayList<>(ctx.registeredEventTimeTimers());
            if (oldUid.equals(DEDUP)) events.replaceAll(DeduplicateFunction::bucketEnd);
            s.eventTimeTimers = PerUserState.union(events, null);
            s.processingTimeTimers = PerUserState.union(ctx.registeredProcessingTimeTimers(), null);
            out.collect(s);
        }
    }

    /**
     * Hands the rule versions read to the client in an accumulator: they are a handful, and unlike
     * collecting a stream this ends with the job (no fetcher left to ask a stopped cluster).
     */
    static final class CollectRules extends RichMapFunction<Tuple2<String, RuleVersion>, String> {
        private static final long serialVersionUID = 1L;
        private transient ListAccumulator<RuleVersion> rules;

        @Override
        public void open(OpenContext openContext) {
            rules = new ListAccumulator<>();
            getRuntimeContext().addAccumulator(RULES, rules);
        }

        @Override
        public String map(Tuple2<String, RuleVersion> rule) {
            rules.add(rule.f1);
            return rule.f0;
        }
    }

    /** Counts what the writer gets (the writer itself runs where accumulators are not reported). */
    static final class Count extends RichMapFunction<PerUserState, PerUserState> {
        private static final long serialVersionUID = 1L;

        @Override
        public PerUserState map(PerUserState s) {
            RuntimeContext ctx = getRuntimeContext();
            ctx.getLongCounter(USERS).add(1);
            for (Slot slot : SLOTS) ctx.getLongCounter(STATE_PREFIX + slot.name()).add(slot.entries(s));
            ctx.getLongCounter(EVENT_TIMERS).add(s.eventTimeTimers.size());
            ctx.getLongCounter(PROCESSING_TIMERS).add(s.processingTimeTimers.size());
            return s;
        }
    }

    /**
     * Writes each user's states and timers into {@link #NEW_UID}'s keyed state, and on every subtask
     * the rules' versions into its broadcast state (a broadcast state is restored per subtask, so
     * each needs all of it). Timers are registered, never fired: the writer's time does not move.
     */
    static final class NewStateWriter extends KeyedStateBootstrapFunction<String, PerUserState>
            implements CheckpointedFunction {
        private static final long serialVersionUID = 1L;
        private final ArrayList<RuleVersion> rules;
        /** Writes the states as the old operators kept them: only to build test savepoints of that layout. */
        private final boolean oldLayout;
        private transient List<Bound> states;

        NewStateWriter(List<RuleVersion> rules) {
            this(rules, false);
        }

        NewStateWriter(List<RuleVersion> rules, boolean oldLayout) {
            this.rules = new ArrayList<>(rules);
            this.oldLayout = oldLayout;
        }

        @Override
        public void initializeState(FunctionInitializationContext context) throws Exception {
            BroadcastState<String, RuleVersion> broadcast = context.getOperatorStateStore()
                    .getBroadcastState(RuleCatalog.BROADCAST);
            for (RuleVersion r : rules) broadcast.put(r.rule, r);
        }

        @Override
        public void snapshotState(FunctionSnapshotContext context) {
            // The broadcast state is snapshotted by the operator state backend it lives in.
        }

        @Override
        public void open(OpenContext openContext) {
            states = new ArrayList<>();
            for (Slot s : SLOTS) states.add(oldLayout ? s.bindOld(getRuntimeContext()) : s.bind(getRuntimeContext()));
        }

        @Override
        public void processElement(PerUserState s, Context ctx) throws Exception {
            for (Bound b : states) b.write(s);
            for (long t : s.eventTimeTimers) ctx.timerService().registerEventTimeTimer(t);
            for (long t : s.processingTimeTimers) ctx.timerService().registerProcessingTimeTimer(t);
        }
    }
}
