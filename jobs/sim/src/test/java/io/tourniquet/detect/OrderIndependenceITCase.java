package io.tourniquet.detect;

import io.tourniquet.detect.job.DetectSinks;
import io.tourniquet.detect.job.DetectJob;
import io.tourniquet.signing.SignedAction;
import io.tourniquet.signing.CommandSigner;
import io.tourniquet.util.SerializableClock;
import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.fail;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.tourniquet.config.Settings;
import io.tourniquet.config.TourniquetConfig;
import io.tourniquet.json.Json;
import io.tourniquet.model.Alert;
import io.tourniquet.model.DeadLetter;
import io.tourniquet.model.EnrichedEvent;
import io.tourniquet.model.Incident;
import io.tourniquet.model.Notification;
import io.tourniquet.model.RawRecord;
import io.tourniquet.models.ModelArtifact;
import io.tourniquet.models.Scorer;
import io.tourniquet.models.WithdrawalFeatures;
import io.tourniquet.notify.NotificationComposer;
import io.tourniquet.sim.GroundTruth;
import io.tourniquet.sim.SimRecord;
import io.tourniquet.sim.Simulation;
import io.tourniquet.sim.SimulationConfig;
import io.tourniquet.sim.Simulator;
import io.tourniquet.sim.UnauthorizedKind;
import io.tourniquet.testing.CollectingSink;
import io.tourniquet.testing.ControlRecords;
import io.tourniquet.testing.SharedMiniCluster;
import io.tourniquet.testing.TestModels;
import io.tourniquet.util.Times;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.HashSet;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.function.Function;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.apache.flink.api.common.eventtime.Watermark;
import org.apache.flink.api.common.eventtime.WatermarkGenerator;
import org.apache.flink.api.common.eventtime.WatermarkOutput;
import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.api.common.functions.MapFunction;
import org.apache.flink.api.common.functions.Partitioner;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.java.functions.KeySelector;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Order independence, for every rule (issue 9, item 2): the same simulated incident delivered in
 * several cross-topic orders must give identical alerts, signed commands, notifications, enriched
 * events (with their anomaly features and an active model's scores), incidents and dead letters,
 * through the whole detect topology at the shared MiniCluster's parallelism.
 *
 * <p><b>Orders</b>, each a permutation of the same records: the simulator's arrival order (the
 * reference); the same again (what differs there is the topology's own nondeterminism, subtasks
 * racing, not the order's doing); event-time order; each of the four input topics read entirely
 * first and entirely last, the rest in arrival order (so a login comes before and after its
 * approval, a whitelisting after the withdrawal request, an anti-phishing change after the alert
 * that should quote it); and the interleaving of the topics reversed. Except in event-time order,
 * each topic's own records keep their arrival order, as a Kafka partition keeps its offsets.
 *
 * <p><b>Watermarks.</b> Each order comes from one source of parallelism 1 with the tightest
 * watermark that is correct for that order: after the record at position {@code i}, exactly (the
 * smallest event time of every record after {@code i}) − 1, and {@code Long.MAX_VALUE} after the
 * last. It never passes an event that has not been delivered (no event is late, which the test
 * checks), and it moves as far as it can: a topic that is read late holds event time back at its
 * own earliest unread event, which is what the job's per-partition watermarks ({@link RawEventTime})
 * give when the Kafka source reads one topic behind the others, minus the out-of-orderness
 * allowance, which only holds watermarks back further. A difference between orders is then the
 * detectors' doing, not the watermark's. The value rides in the record's Kafka timestamp field,
 * which the detect job does not read on the event input; the records' timestamps are their
 * {@code event_time} ({@link RawEventTime}); a malformed record (no event time) never moves it.
 * Then each topic's records go to one subtask, in order, as a partition's records go to the one
 * source subtask reading it (see {@link TopicPartitioner}); the watermarks reach every subtask.
 *
 * <p><b>Comparison.</b> Wall-clock fields are removed (alert {@code detected_at}, command
 * {@code issued_at} and the signature that covers it, whose validity is checked first,
 * notification {@code created_at}, dead letter {@code rejected_at}, incident {@code detected_at},
 * {@code updated_at} and {@code resolved_at}; the job's clock is fixed anyway), each output is
 * rendered as canonical JSON ({@link Json#canonicalBytes}) and the sorted lists are compared with
 * the arrival order's. Incidents are compared as their last version each (what the incidents index
 * holds; the intermediate versions are a changelog of processing, so their number is not compared
 * either). On a difference the test prints, per output, what is missing, what is extra and which
 * fields of the same record (same alert id, action id, event id ...) differ, grouped by rule or
 * event kind, with examples, and at the end a matrix of every difference over every order.
 * {@code -Dtourniquet.test.order.parallelism=1} runs every operator with one subtask: that takes
 * the races out and leaves the orders' effects alone.
 *
 * <p>Every order is also checked against the simulator's ground truth (each rule's exact alerts
 * and each unauthorized approval's reason, the attack's incident, the victims' notifications with
 * their anti-phishing codes, one enriched event per distinct valid event, one dead letter per
 * malformed record, every approval featured and scored by the model), so that identical outputs
 * cannot be identically empty or identically wrong.
 *
 * <p>Each order here is a backlog read in some order; the job runs as configured by default, live
 * and replay alike.
 */
@ExtendWith(SharedMiniCluster.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class OrderIndependenceITCase {
    static final String KEY = "order-independence-signing-key-0123456789";
    static final String CONTROL_KEY = "order-independence-control-key-0123456789";
    static final long NOW = 1_700_000_000_000L;
    static final long SEED = 20220117L;
    static final String MODEL = "m1";
    /**
     * The job's parallelism: the shared MiniCluster's, unless {@code -Dtourniquet.test.order.parallelism=1}
     * asks for one subtask per operator, which takes the subtasks' races out and leaves the order's effects alone.
     */
    static final int PARALLELISM = Integer.getInteger("tourniquet.test.order.parallelism", SharedMiniCluster.PARALLELISM);
    static final Map<UnauthorizedKind, String> REASON = io.tourniquet.testing.ExpectedReasons.BY_KIND;
    /** Lines of examples printed per output and order. */
    static final int MAX_EXAMPLES = 12;

    @TempDir
    static Path models;

    TourniquetConfig cfg;
    Simulation sim;
    GroundTruth truth;
    Scorer scorer;
    /** The simulator's records in arrival order, with Kafka-like coordinates (offsets per topic). */
    List<RawRecord> arrival;
    Map<String, List<JsonNode>> reference;
    /** Difference matrix over the orders: "output[group] field" → order → records that differ. */
    final Map<String, Map<String, Integer>> matrix = new TreeMap<>();
    final List<String> orderNames = new ArrayList<>();

    /** One way to deliver the records: a name and a permutation of {@link #arrival}. */
    record Order(String name, List<RawRecord> records) {
        @Override
        public String toString() {
            return name;
        }
    }

    @BeforeAll
    void simulateTrainAndRunTheArrivalOrder() throws Exception {
        TestModels.train(models, MODEL, 11, 0.0);
        scorer = ModelArtifact.load(models.resolve(MODEL)).scorer();
        cfg = TourniquetConfig.defaults().with(Map.of(
                Settings.SIGNING_KEY.key(), KEY, Settings.CONTROL_KEY.key(), CONTROL_KEY,
                Settings.MODELS_DIR.key(), models.toString(), Settings.ANOMALY_MODEL_VERSION.key(), MODEL,
                Settings.ANOMALY_MODEL_SHA256.key(), TestModels.sha256(models, MODEL)));
        sim = Simulator.generate(SimulationConfig.builder()
                .seed(SEED).benignUsers(16).attackVictims(10).malformedCount(4).duplicateCount(3)
                .topicsFrom(cfg).build());
        truth = sim.groundTruth();
        for (SimRecord r : sim.records()) {
            if (r.topic().equals(cfg.get(Settings.TOPIC_WITHDRAWALS)) && r.key() != null) usersWithWithdrawals.add(r.key());
        }
        Map<String, Long> nextOffset = new HashMap<>();
        List<RawRecord> records = new ArrayList<>();
        for (SimRecord r : sim.records()) {
            long offset = nextOffset.merge(r.topic(), 1L, Long::sum) - 1;
            byte[] key = r.key() == null ? null : r.key().getBytes(StandardCharsets.UTF_8);
            records.add(new RawRecord(r.topic(), 0, offset, key, r.value().getBytes(StandardCharsets.UTF_8), -1));
        }
        arrival = List.copyOf(records);
        System.out.printf("order independence at parallelism %d: %d records %s; expected alerts %s; incident %s%n",
                PARALLELISM, arrival.size(), nextOffset, truth.expectedAlerts(), truth.incident());

        reference = run(new Order("arrival", arrival));
    }

    List<Order> orders() {
        List<Order> orders = new ArrayList<>();
        // The same order again: whatever differs here is the topology's own nondeterminism at
        // parallelism 2 (subtasks racing), not the order's doing.
        orders.add(new Order("arrival again", arrival));
        // Event time (stable; a malformed record stays behind the valid record it arrived after):
        // every context an event depends on comes before it.
        List<Long> times = new ArrayList<>();
        long previous = Long.MIN_VALUE;
        for (RawRecord r : arrival) {
            long t = RawEventTime.of(r.value);
            previous = t == Long.MIN_VALUE ? previous : t;
            times.add(previous);
        }
        List<Integer> byTime = new ArrayList<>();
        for (int i = 0; i < arrival.size(); i++) byTime.add(i);
        byTime.sort(Comparator.comparingLong(times::get));
        orders.add(new Order("event time", byTime.stream().map(arrival::get).toList()));
        for (String topic : sim.config().topics()) {
            List<RawRecord> mine = arrival.stream().filter(r -> r.topic.equals(topic)).toList();
            List<RawRecord> rest = arrival.stream().filter(r -> !r.topic.equals(topic)).toList();
            orders.add(new Order(shortName(topic) + " first", concat(mine, rest)));
            orders.add(new Order(shortName(topic) + " last", concat(rest, mine)));
        }
        // The interleaving of the topics reversed, each topic's own records still in their order.
        List<String> slots = new ArrayList<>(arrival.stream().map(r -> r.topic).toList());
        Collections.reverse(slots);
        Map<String, Iterator<RawRecord>> next = new HashMap<>();
        for (String topic : sim.config().topics()) {
            next.put(topic, arrival.stream().filter(r -> r.topic.equals(topic)).iterator());
        }
        List<RawRecord> reversed = new ArrayList<>();
        for (String topic : slots) reversed.add(next.get(topic).next());
        orders.add(new Order("reversed", reversed));
        return orders;
    }

    @Test
    void theArrivalOrderGivesWhatTheGroundTruthExpects() {
        List<Executable> checks = new ArrayList<>(groundTruthChecks("arrival", reference));
        checks.addAll(watchNoticeChecks("arrival", reference.get(WATCH_NOTICES)));
        assertAll(checks);
    }

    /** The users with a withdrawal in the input (records are keyed by user), the only ones the watch may tell. */
    final Set<String> usersWithWithdrawals = new HashSet<>();

    /** Where {@link #run} keeps the withdrawal watch's notices, apart from the compared outputs. */
    static final String WATCH_NOTICES = "watch-notices";
    static final Set<String> WATCH_KINDS = Set.of(NotificationComposer.WITHDRAWALS_SUSPENDED,
            NotificationComposer.WITHDRAWALS_RESUMED);

    /**
     * What the withdrawal watch's notices must be in every order: each user hears of each
     * incident's suspension and resumption at most once, and only users with a withdrawal in the
     * input hear of them. (In a replay this fast the tracker's notice usually reaches the watch
     * after every withdrawal has finished there, so usually no one; now and then a few.)
     */
    private List<Executable> watchNoticeChecks(String order, List<JsonNode> notices) {
        List<String> heard = notices.stream().map(n -> n.path("user_id").asText() + " " + n.path("kind").asText()
                + " " + n.path("incident_id").asText()).toList();
        return List.of(
                () -> assertThat(heard).as("withdrawal-watch notices read " + order + ": once per user, kind and incident")
                        .doesNotHaveDuplicates(),
                () -> assertThat(notices).as("withdrawal-watch notices read " + order + ": users with a withdrawal")
                        .allSatisfy(n -> assertThat(usersWithWithdrawals).contains(n.path("user_id").asText())));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("orders")
    void everyOrderGivesTheArrivalOrdersOutputs(Order order) throws Exception {
        assertThat(order.records()).as("a permutation of the arrival order")
                .hasSameSizeAs(arrival).containsExactlyInAnyOrderElementsOf(arrival);
        Map<String, List<JsonNode>> outputs = run(order);
        orderNames.add(order.name());
        List<Executable> checks = new ArrayList<>(groundTruthChecks(order.name(), outputs));
        checks.addAll(watchNoticeChecks(order.name(), outputs.get(WATCH_NOTICES)));
        StringBuilder report = new StringBuilder();
        for (Output o : Output.values()) {
            String diff = diff(order.name(), o, reference.get(o.name()), outputs.get(o.name()));
            if (diff != null) report.append(diff);
            checks.add(() -> {
                if (diff != null) {
                    fail(o.label + " differ from the arrival order's when read " + order.name() + ":\n" + diff);
                }
            });
        }
        System.out.println("=== order '" + order.name() + "': "
                + (report.length() == 0 ? "identical to the arrival order" : "differs\n" + report));
        assertAll(checks);
    }

    @AfterAll
    void printTheMatrix() {
        if (matrix.isEmpty()) {
            System.out.println("=== order independence: every order gave the arrival order's outputs");
            return;
        }
        StringBuilder s = new StringBuilder("=== order independence: records that differ from the arrival order's\n");
        String column = " %" + orderNames.stream().mapToInt(String::length).max().orElse(1) + "s";
        s.append(String.format("%-78s", "output[group] field"));
        for (String o : orderNames) s.append(String.format(column, o));
        s.append('\n');
        matrix.forEach((row, counts) -> {
            s.append(String.format("%-78s", row.length() > 78 ? row.substring(0, 75) + "..." : row));
            for (String o : orderNames) {
                s.append(String.format(column, counts.getOrDefault(o, 0) == 0 ? "." : counts.get(o)));
            }
            s.append('\n');
        });
        System.out.println(s);
    }

    // ------------------------------------------------------------------ running an order

    /** The whole detect topology over one order; its outputs, normalised, per {@link Output}. */
    private Map<String, List<JsonNode>> run(Order order) throws Exception {
        List<RawRecord> input = withExactWatermarks(order.records());
        String prefix = "oi-" + order.name().replace(' ', '-') + "-";
        CollectingSink<Alert> alerts = CollectingSink.named(prefix + "alerts");
        CollectingSink<SignedAction> actions = CollectingSink.named(prefix + "actions");
        CollectingSink<EnrichedEvent> enriched = CollectingSink.named(prefix + "enriched");
        CollectingSink<DeadLetter> dlq = CollectingSink.named(prefix + "dlq");
        CollectingSink<Incident> incidents = CollectingSink.named(prefix + "incidents");
        CollectingSink<Notification> notifications = CollectingSink.named(prefix + "notifications");

        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
        env.setParallelism(PARALLELISM);
        DetectJob.defineWorkflow(
                env.fromData(input, TypeInformation.of(RawRecord.class)).setParallelism(1).uid("oi-input")
                        .assignTimestampsAndWatermarks(exactWatermarks()).setParallelism(1).uid("oi-watermarks")
                        .partitionCustom(new TopicPartitioner(sim.config().topics()), new TopicOf())
                        .map(new Forward()).uid("oi-by-topic").name("Read by topic"),
                ControlRecords.none(env),
                new DetectSinks(alerts, actions, enriched, dlq, incidents, notifications), cfg,
                SerializableClock.fixed(NOW));
        long start = System.nanoTime();
        env.execute("order-independence-" + order.name());
        System.out.printf("order '%s' ran in %d ms%n", order.name(), (System.nanoTime() - start) / 1_000_000);

        CommandSigner verifier = new CommandSigner(KEY);
        Map<String, List<JsonNode>> out = new LinkedHashMap<>();
        out.put(Output.ALERTS.name(), alerts.results().stream()
                .map(a -> stillOrderDependent(Output.ALERTS, without(Json.tree(a), "detected_at"))).toList());
        List<JsonNode> signed = new ArrayList<>();
        for (SignedAction a : actions.results()) {
            JsonNode published = Json.MAPPER.readTree(a.json);
            assertThat(verifier.verify(published)).as("signature of " + a + " read " + order.name()).isTrue();
            signed.add(stillOrderDependent(Output.ACTIONS, without(published, "issued_at", "expires_at", "signature")));
        }
        out.put(Output.ACTIONS.name(), signed);
        // Whatever the order, each user's updates about an incident are numbered 1, 2, ... k,
        // once each (which update gets which number is still order dependent: see below).
        Map<String, List<Integer>> sequences = new TreeMap<>();
        for (var n : notifications.results()) {
            if (n.incidentId != null) {
                sequences.computeIfAbsent(n.userId + " " + n.incidentId, k -> new ArrayList<>()).add(n.updateSequence);
            }
        }
        sequences.forEach((userAndIncident, numbers) -> assertThat(numbers.stream().sorted().toList())
                .as("update numbers of " + userAndIncident + " read " + order.name())
                .isEqualTo(java.util.stream.IntStream.rangeClosed(1, numbers.size()).boxed().toList()));
        // The withdrawal watch's notices (withdrawals suspended, resumed) are not compared: whether a
        // user's withdrawal counts as pending is judged when the tracker's notice meets the user's
        // events in the watch, which is processing order (WithdrawalWatch's class comment), so even
        // the same order read again may tell a user more or fewer. What holds in every order is
        // checked instead (watchNoticeChecks).
        out.put(WATCH_NOTICES, notifications.results().stream().filter(n -> WATCH_KINDS.contains(n.kind))
                .map(Json::tree).toList());
        out.put(Output.NOTIFICATIONS.name(), notifications.results().stream().filter(n -> !WATCH_KINDS.contains(n.kind))
                .map(n -> stillOrderDependent(Output.NOTIFICATIONS, without(Json.tree(n), "created_at"))).toList());
        out.put(Output.ENRICHED.name(), enriched.results().stream()
                .map(e -> stillOrderDependent(Output.ENRICHED, withoutCarriedWatermark(Json.tree(e)))).toList());
        Map<String, Incident> last = new TreeMap<>();
        for (Incident i : incidents.results()) last.merge(i.incidentId, i, (a, b) -> a.version >= b.version ? a : b);
        out.put(Output.INCIDENTS.name(), last.values().stream().map(i -> stillOrderDependent(Output.INCIDENTS,
                without(Json.tree(i), "detected_at", "updated_at", "resolved_at", "version"))).toList());
        out.put(Output.DEAD_LETTERS.name(), dlq.results().stream().map(d -> without(Json.tree(d), "rejected_at")).toList());
        return out;
    }

    /**
     * The records with the watermark that is to follow each in its Kafka timestamp field: the
     * smallest event time of every later record, minus one; {@code Long.MAX_VALUE} after the last.
     */
    static List<RawRecord> withExactWatermarks(List<RawRecord> order) {
        long[] after = new long[order.size()];
        long min = Long.MAX_VALUE;
        for (int i = order.size() - 1; i >= 0; i--) {
            after[i] = min == Long.MAX_VALUE ? Long.MAX_VALUE : min - 1;
            long t = RawEventTime.of(order.get(i).value);
            if (t != Long.MIN_VALUE) min = Math.min(min, t);
        }
        List<RawRecord> out = new ArrayList<>(order.size());
        for (int i = 0; i < order.size(); i++) {
            RawRecord r = order.get(i);
            out.add(new RawRecord(r.topic, r.partition, r.offset, r.key, r.value, after[i]));
        }
        return out;
    }

    /** Event time from {@code event_time}; after each record, the watermark it carries. */
    static WatermarkStrategy<RawRecord> exactWatermarks() {
        return WatermarkStrategy.<RawRecord>forGenerator(ctx -> new CarriedWatermark())
                .withTimestampAssigner((r, previous) -> RawEventTime.of(r.value));
    }

    static final class CarriedWatermark implements WatermarkGenerator<RawRecord> {
        @Override
        public void onEvent(RawRecord r, long eventTimestamp, WatermarkOutput output) {
            output.emitWatermark(new Watermark(r.timestamp));
        }

        @Override
        public void onPeriodicEmit(WatermarkOutput output) {}
    }

    /**
     * One topic's records all go to one subtask, in order, as a Kafka partition's records go to the
     * one source subtask reading it (the parse step is chained to it): without this, the two copies
     * of a redelivered event could race to the deduplication through two parse subtasks, a race the
     * job never sees. The watermarks reach every subtask (they are broadcast), unchanged.
     */
    static final class TopicPartitioner implements Partitioner<String> {
        private static final long serialVersionUID = 1L;
        private final List<String> topics;

        TopicPartitioner(List<String> topics) {
            this.topics = List.copyOf(topics);
        }

        @Override
        public int partition(String topic, int numPartitions) {
            return Math.max(0, topics.indexOf(topic)) % numPartitions;
        }
    }

    static final class TopicOf implements KeySelector<RawRecord, String> {
        private static final long serialVersionUID = 1L;

        @Override
        public String getKey(RawRecord r) {
            return r.topic;
        }
    }

    static final class Forward implements MapFunction<RawRecord, RawRecord> {
        private static final long serialVersionUID = 1L;

        @Override
        public RawRecord map(RawRecord r) {
            return r;
        }
    }

    // ------------------------------------------------------------------ ground truth

    private List<Executable> groundTruthChecks(String order, Map<String, List<JsonNode>> out) {
        GroundTruth.ExpectedAlerts expected = truth.expectedAlerts();
        List<JsonNode> alerts = out.get(Output.ALERTS.name());
        List<JsonNode> enriched = out.get(Output.ENRICHED.name());
        List<JsonNode> approvals = enriched.stream().filter(e -> e.at("/event/status").asText().equals("approved")).toList();
        int distinctValid = truth.validEventsByTopic().values().stream().mapToInt(Integer::intValue).sum();
        String as = " (read " + order + ")";
        return List.of(
                () -> assertThat(field(alerts, "unauthorized_approval", "/withdrawal_id")).as("unauthorized approvals" + as)
                        .isNotEmpty().containsExactlyInAnyOrderElementsOf(expected.unauthorizedApprovals()),
                () -> assertThat(reasons(alerts)).as("each unauthorized approval's reason" + as)
                        .isEqualTo(expectedReasons()),
                () -> assertThat(field(alerts, "account_drain", "/user_id")).as("account drains" + as)
                        .isNotEmpty().containsExactlyInAnyOrderElementsOf(expected.accountDrains()),
                () -> assertThat(field(alerts, "new_address_withdrawal", "/withdrawal_id")).as("new-address withdrawals" + as)
                        .isNotEmpty().containsExactlyInAnyOrderElementsOf(expected.newAddressWithdrawals()),
                () -> assertThat(field(alerts, "destination_concentration", "/evidence/destination_address"))
                        .as("destination concentration" + as)
                        .isNotEmpty().containsExactlyInAnyOrderElementsOf(expected.destinationConcentration()),
                () -> assertThat(field(alerts, "bulk_drain", "/rule")).as("bulk-drain episodes" + as)
                        .hasSize(expected.bulkDrainEpisodes()).isNotEmpty(),
                () -> assertThat(field(alerts, "anomaly_score", "/withdrawal_id")).as("anomaly alerts" + as).isNotEmpty(),
                () -> assertThat(out.get(Output.INCIDENTS.name())).as("incidents" + as).hasSize(expected.incidents()),
                () -> assertThat(out.get(Output.INCIDENTS.name())).as("the attack's incident" + as)
                        .anySatisfy(i -> {
                            assertThat(i.path("users_affected").asInt()).isEqualTo(truth.incident().usersAffected());
                            assertThat(i.path("status").asText()).isEqualTo(Incident.CONTAINED);
                            assertThat(Times.parse(i.path("started_at").asText()))
                                    .isEqualTo(truth.incident().startedAt());
                            assertThat(i.path("contained_at").isTextual()).as("contained").isTrue();
                            assertThat(Times.parse(i.path("contained_at").asText()))
                                    .isEqualTo(truth.incident().containedAt());
                            assertThat(i.path("usd_total").decimalValue())
                                    .isEqualByComparingTo(truth.incident().usdTotal());
                        }),
                () -> assertThat(enriched).as("one enriched event per distinct valid event" + as).hasSize(distinctValid)
                        .extracting(e -> e.at("/event/event_id").asText()).doesNotHaveDuplicates(),
                () -> assertThat(enriched).as("no event is late: the watermarks never pass an undelivered event" + as)
                        .noneMatch(e -> e.path("late").asBoolean()),
                () -> assertThat(approvals).as("every approval featured and scored" + as).isNotEmpty().allSatisfy(e -> {
                    assertThat(e.at("/anomaly/features").size()).isEqualTo(WithdrawalFeatures.COUNT);
                    assertThat(e.at("/anomaly/model_version").asText()).isEqualTo(MODEL);
                    Map<String, Double> features = Json.MAPPER.convertValue(e.at("/anomaly/features"),
                            new TypeReference<LinkedHashMap<String, Double>>() {});
                    assertThat(e.at("/anomaly/score").asDouble()).as("the model's score of the features")
                            .isEqualTo(scorer.score(WithdrawalFeatures.fromMap(features)));
                }),
                () -> assertThat(out.get(Output.DEAD_LETTERS.name())).as("one dead letter per malformed record" + as)
                        .hasSize(truth.malformedEmitted()),
                () -> assertThat(out.get(Output.ACTIONS.name())).as("commands" + as).isNotEmpty(),
                () -> assertThat(out.get(Output.NOTIFICATIONS.name())).as("notifications" + as).isNotEmpty(),
                () -> assertAll(truth.incident().affectedUsers().stream().map(user -> (Executable) () -> {
                    List<JsonNode> mine = out.get(Output.NOTIFICATIONS.name()).stream()
                            .filter(n -> n.path("user_id").asText().equals(user)).toList();
                    assertThat(mine).as("victim " + user + " told once of the approval and once of the suspension" + as)
                            .extracting(n -> n.path("kind").asText())
                            .containsOnlyOnce("unauthorized_approval", "bulk_drain");
                    // Every user set their final code before any withdrawal: the alerts' notices quote it.
                    String code = truth.antiPhishingCodes().get(user);
                    assertThat(mine).as("victim " + user + "'s anti-phishing code" + as)
                            .filteredOn(n -> !n.path("kind").asText().equals("whitelist_address_added"))
                            .allSatisfy(n -> assertThat(n.path("anti_phishing_code").isMissingNode()
                                    ? null : n.path("anti_phishing_code").asText()).isEqualTo(code));
                })));
    }

    /** Approval event id → reason, of the unauthorized-approval alerts. */
    private static Map<String, String> reasons(List<JsonNode> alerts) {
        Map<String, String> out = new TreeMap<>();
        for (JsonNode a : alerts) {
            if (!a.path("rule").asText().equals("unauthorized_approval")) continue;
            out.merge(a.at("/evidence/event_ids/0").asText(), a.at("/evidence/reason").asText(), (x, y) -> x + "," + y);
        }
        return out;
    }

    private Map<String, String> expectedReasons() {
        Map<String, String> out = new TreeMap<>();
        for (GroundTruth.UnauthorizedApproval u : truth.unauthorizedApprovals()) out.put(u.eventId(), REASON.get(u.kind()));
        return out;
    }

    private static List<String> field(List<JsonNode> alerts, String rule, String pointer) {
        return alerts.stream().filter(a -> a.path("rule").asText().equals(rule)).map(a -> a.at(pointer).asText()).toList();
    }

    // ------------------------------------------------------------------ comparison

    /** The outputs compared: how a record is identified, and the group it is reported under. */
    enum Output {
        ALERTS("alerts", n -> n.path("alert_id").asText(), n -> n.path("rule").asText()),
        ACTIONS("commands", n -> n.path("action_id").asText(),
                n -> n.path("action").asText() + "/" + n.path("reason").asText()),
        NOTIFICATIONS("notifications", n -> n.path("notification_id").asText(), n -> n.path("kind").asText()),
        ENRICHED("enriched events", n -> n.at("/event/event_id").asText(), n -> n.at("/event/kind").asText()
                + (n.at("/event/status").isTextual() ? " " + n.at("/event/status").asText() : "")
                + (n.at("/event/action").isTextual() ? " " + n.at("/event/action").asText() : "")),
        INCIDENTS("incidents", n -> n.path("incident_id").asText(), n -> "incident"),
        DEAD_LETTERS("dead letters", n -> n.path("topic").asText() + "@" + n.path("offset").asText(),
                n -> n.path("reason_code").asText());

        final String label;
        final Function<JsonNode, String> id;
        final Function<JsonNode, String> group;

        Output(String label, Function<JsonNode, String> id, Function<JsonNode, String> group) {
            this.label = label;
            this.id = id;
            this.group = group;
        }
    }

    /** Null when equal; else what is missing, extra and different, readable, and counted into {@link #matrix}. */
    private String diff(String order, Output o, List<JsonNode> expected, List<JsonNode> actual) {
        if (sortedCanonical(expected).equals(sortedCanonical(actual))) return null;
        Map<String, List<JsonNode>> want = byId(o, expected);
        Map<String, List<JsonNode>> got = byId(o, actual);
        // group → (field → examples), and group → counts of missing / extra records.
        Map<String, Map<String, List<String>>> fields = new TreeMap<>();
        Map<String, List<String>> missing = new TreeMap<>();
        Map<String, List<String>> extra = new TreeMap<>();
        Set<String> ids = new TreeSet<>(want.keySet());
        ids.addAll(got.keySet());
        for (String id : ids) {
            List<JsonNode> w = want.getOrDefault(id, List.of());
            List<JsonNode> g = got.getOrDefault(id, List.of());
            if (sortedCanonical(w).equals(sortedCanonical(g))) continue;
            if (w.size() != g.size()) {
                JsonNode any = (w.isEmpty() ? g : w).get(0);
                String line = describe(o, id, any)
                        + (w.isEmpty() || g.isEmpty() ? "" : " (" + w.size() + " → " + g.size() + " copies)");
                (w.size() > g.size() ? missing : extra)
                        .computeIfAbsent(o.group.apply(any), k -> new ArrayList<>()).add(line);
                if (w.isEmpty() || g.isEmpty()) continue;
            }
            Map<String, String> changes = new TreeMap<>();
            fieldDiff("", w.get(0), g.get(0), changes);
            String group = o.group.apply(w.get(0));
            changes.forEach((path, change) -> fields.computeIfAbsent(group, k -> new TreeMap<>())
                    .computeIfAbsent(path, k -> new ArrayList<>()).add(describe(o, id, w.get(0)) + ": " + change));
        }
        StringBuilder s = new StringBuilder();
        s.append(String.format("  %s: %d in the arrival order, %d read %s%n", o.label, expected.size(), actual.size(), order));
        missing.forEach((group, lines) -> report(s, order, o, group, "MISSING (only in the arrival order)", lines));
        extra.forEach((group, lines) -> report(s, order, o, group, "EXTRA (not in the arrival order)", lines));
        fields.forEach((group, byField) -> byField.forEach((path, lines) ->
                report(s, order, o, group, "field " + path, lines)));
        return s.toString();
    }

    private void report(StringBuilder s, String order, Output o, String group, String what, List<String> lines) {
        String row = o.label + "[" + group + "] " + what;
        matrix.computeIfAbsent(row, k -> new TreeMap<>()).merge(order, lines.size(), Integer::sum);
        s.append(String.format("    %s: %d%n", row, lines.size()));
        lines.stream().limit(MAX_EXAMPLES).forEach(l -> s.append("      ").append(l).append('\n'));
        if (lines.size() > MAX_EXAMPLES) s.append("      ... and ").append(lines.size() - MAX_EXAMPLES).append(" more\n");
    }

    private static String describe(Output o, String id, JsonNode n) {
        StringBuilder s = new StringBuilder(id);
        for (String p : List.of("/user_id", "/event/user_id", "/withdrawal_id", "/event/withdrawal_id", "/scope/user_id",
                "/scope/withdrawal_id", "/event/session_id")) {
            if (n.at(p).isTextual()) {
                s.append(' ').append(p.substring(p.lastIndexOf('/') + 1)).append('=').append(n.at(p).asText());
            }
        }
        if (n.at("/event/event_time").isTextual()) s.append(" t=").append(n.at("/event/event_time").asText());
        else if (n.path("event_time").isTextual()) s.append(" t=").append(n.path("event_time").asText());
        return s.toString();
    }

    /** Field-level differences of two versions of one record, by dotted path. */
    private static void fieldDiff(String path, JsonNode a, JsonNode b, Map<String, String> out) {
        if (a.equals(b)) return;
        if (a.isObject() && b.isObject()) {
            Set<String> names = new TreeSet<>();
            a.fieldNames().forEachRemaining(names::add);
            b.fieldNames().forEachRemaining(names::add);
            for (String n : names) {
                fieldDiff(path.isEmpty() ? n : path + "." + n, a.path(n), b.path(n), out);
            }
            return;
        }
        if (a.isArray() && b.isArray()) {
            if (sortedCanonical(elements(a)).equals(sortedCanonical(elements(b)))) {
                out.put(path, "same elements in another order: " + shorten(a) + " → " + shorten(b));
                return;
            }
            if (a.size() == b.size() && a.size() > 0 && a.get(0).isObject()) {
                for (int i = 0; i < a.size(); i++) fieldDiff(path + "[]", a.get(i), b.get(i), out);
                return;
            }
        }
        out.merge(path, shorten(a) + " → " + shorten(b), (x, y) -> x + "; " + y);
    }

    private static List<JsonNode> elements(JsonNode array) {
        List<JsonNode> out = new ArrayList<>();
        for (Iterator<JsonNode> it = array.elements(); it.hasNext(); ) out.add(it.next());
        return out;
    }

    private static String shorten(JsonNode n) {
        String s = n.isMissingNode() ? "(absent)" : n.toString();
        return s.length() > 160 ? s.substring(0, 157) + "..." : s;
    }

    private static Map<String, List<JsonNode>> byId(Output o, List<JsonNode> records) {
        return records.stream().collect(Collectors.groupingBy(o.id, TreeMap::new, Collectors.toList()));
    }

    private static List<String> sortedCanonical(List<JsonNode> records) {
        return records.stream().map(n -> new String(Json.canonicalBytes(n), StandardCharsets.UTF_8)).sorted().toList();
    }

    /**
     * What is still known to depend on the order of reading (issue 9, open), left out of the
     * comparison here so that everything else is held to it; each goes when it is fixed.
     * <ul>
     *   <li>The incident id comes from whichever alert reaches the incident tracker first, and
     *       freezes cannot wait for event time to learn the first one: so {@code incident_id} on
     *       alerts, commands, enriched events and notifications, and the notification id derived
     *       from it (replaced by user, kind and text), and the incident's own id (replaced by its
     *       start) and the order of its id lists.</li>
     *   <li>The alert ids a withdrawal request's enriched record carries: a new-address alert
     *       raised after its request left (its whitelisting read after it) names the request in
     *       its evidence, but the request does not name it. Holding requests back until decided
     *       would delay them for the account-drain rule, whose window would then depend on it.</li>
     *   <li>Which of a victim's updates about an incident gets which {@code update_sequence}
     *       (each order is still checked to number them 1 to k, once each). A bulk-drain alert is
     *       decided once event time has passed its crossing by the 2FA grace, so its notice to a
     *       victim reaches the notification step after event time has passed the crossing; that
     *       step numbers updates as it composes them, and whether the victim's own alert notices
     *       (dated after the crossing) were composed first depends on the intermediate watermarks
     *       the parallel subtasks happen to pass on. Seen once in CI at parallelism 2 (read
     *       withdrawals last: 3, 1, 2 where the arrival order gave 1, 2, 3).</li>
     * </ul>
     */
    static JsonNode stillOrderDependent(Output o, JsonNode node) {
        ObjectNode n = ((ObjectNode) node).deepCopy();
        switch (o) {
            case ALERTS -> n.remove("incident_id");
            case ACTIONS -> n.remove("incident_id");
            case NOTIFICATIONS -> {
                String incident = n.path("incident_id").asText("");
                n.remove("incident_id");
                for (String text : List.of("title", "body")) {
                    if (!incident.isEmpty() && n.get(text) != null && n.get(text).isTextual()) {
                        n.put(text, n.get(text).asText().replace(incident, "<incident>"));
                    }
                }
                n.remove("update_sequence");
                n.put("notification_id", n.path("user_id").asText() + "/" + n.path("kind").asText() + "/"
                        + Integer.toHexString(n.path("title").asText().hashCode()) + "/"
                        + Integer.toHexString(n.path("body").asText().hashCode()));
            }
            case ENRICHED -> {
                n.remove("incident_id");
                if ("requested".equals(n.at("/event/status").asText())) n.remove("alert_ids");
            }
            case INCIDENTS -> {
                n.put("incident_id", "incident-started-" + n.path("started_at").asText());
                for (String list : List.of("alert_ids", "user_ids")) {
                    if (n.get(list) instanceof com.fasterxml.jackson.databind.node.ArrayNode a) {
                        List<String> sorted = new ArrayList<>();
                        a.forEach(x -> sorted.add(x.asText()));
                        java.util.Collections.sort(sorted);
                        a.removeAll();
                        sorted.forEach(a::add);
                    }
                }
            }
            default -> { }
        }
        return n;
    }

    /** The record's Kafka timestamp field carries this test's watermark (see {@link #withExactWatermarks}). */
    private static JsonNode withoutCarriedWatermark(JsonNode enriched) {
        ObjectNode copy = ((ObjectNode) enriched).deepCopy();
        if (copy.get("event") instanceof ObjectNode ev) ev.remove("source_timestamp");
        return copy;
    }

    private static JsonNode without(JsonNode node, String... wallClock) {
        ObjectNode copy = ((ObjectNode) node).deepCopy();
        for (String f : wallClock) copy.remove(f);
        return copy;
    }

    private String shortName(String topic) {
        if (topic.equals(cfg.get(Settings.TOPIC_LOGINS))) return "logins";
        if (topic.equals(cfg.get(Settings.TOPIC_MFA))) return "mfa";
        if (topic.equals(cfg.get(Settings.TOPIC_WITHDRAWALS))) return "withdrawals";
        if (topic.equals(cfg.get(Settings.TOPIC_ACCOUNT_CHANGES))) return "account-changes";
        return topic;
    }

    private static List<RawRecord> concat(List<RawRecord> a, List<RawRecord> b) {
        return Stream.concat(a.stream(), b.stream()).toList();
    }
}
