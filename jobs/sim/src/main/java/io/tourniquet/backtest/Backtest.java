package io.tourniquet.backtest;

import io.tourniquet.config.Settings;
import io.tourniquet.config.TourniquetConfig;
import io.tourniquet.model.EventParser;
import io.tourniquet.detect.job.DetectJob;
import io.tourniquet.detect.job.DetectSinks;
import io.tourniquet.kafka.KafkaConnectors;
import io.tourniquet.kafka.RawRecordDeserializer;
import io.tourniquet.model.Action;
import io.tourniquet.model.Alert;
import io.tourniquet.model.ControlRequest;
import io.tourniquet.model.RawRecord;
import io.tourniquet.rules.catalog.RuleCatalog;
import io.tourniquet.runtime.JobEnvironments;
import io.tourniquet.signing.SignedAction;
import io.tourniquet.streams.InMemorySink;
import io.tourniquet.util.SerializableClock;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.UUID;
import java.util.function.Function;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.streaming.api.functions.sink.v2.DiscardingSink;
import org.apache.flink.util.FileUtils;

/**
 * What a rule change would have done: the retained input topics replayed through the detect
 * topology twice, bounded, on the embedded cluster: once with the rules in force (this
 * configuration) and once with the candidate (the same, with the rule's settings changed). Both
 * sides write to queues in this process, never to a topic. History before {@code from} is replayed
 * too (it builds the state the rules decide on, as it did live); what is compared is the alerts and
 * commands whose event time is in [{@code from}, {@code to}).
 *
 * <p>Alerts are matched across the sides by rule, user, withdrawal and event time (what an analyst
 * would call "the same alert"); commands by action, scope and event time. Analysts' verdicts, when
 * a {@link VerdictSource} gives them, make each side's precision and recall on the changed rule.
 */
public final class Backtest {
    private Backtest() {}

    /** One alert, as a line of the report. */
    public record AlertLine(String alertId, String rule, String userId, String withdrawalId, Instant time,
                            String asset, String amount, Double usdValue, String summary) {
        static AlertLine of(Alert a) {
            return new AlertLine(a.alertId, a.rule, a.userId, a.withdrawalId, Instant.ofEpochMilli(a.eventTime),
                    a.evidence == null ? null : a.evidence.asset, a.evidence == null ? null : a.evidence.amount,
                    a.evidence == null ? null : a.evidence.usdValue, a.summary);
        }

        String key() {
            return rule + "\n" + userId + "\n" + withdrawalId + "\n" + time.toEpochMilli();
        }
    }

    /** One command, as a line of the report. */
    public record CommandLine(String actionId, String action, String scope, String reason, Instant time) {
        static CommandLine of(Action a) {
            return new CommandLine(a.actionId, a.action, a.scope == null ? null : a.scope.keyValue(), a.reason,
                    Instant.ofEpochMilli(a.eventTime));
        }

        String key() {
            return action + "\n" + scope + "\n" + time.toEpochMilli();
        }
    }

    /** A count on each side (alerts of a rule, commands of an action). */
    public record Count(String name, int inForce, int candidate) {
    }

    /**
     * One side's quality on the changed rule against analysts' verdicts (each alert's latest).
     * "Right" is a {@code true_positive} or {@code benign_true_positive}, as in {@code forensics precision}.
     *
     * @param judged    alerts of the rule this side raised that have a verdict
     * @param right     of those, judged right
     * @param precision right / judged (null when none was judged)
     * @param recall    right / every alert of the rule in the range judged right, whichever side raised it
     *                  (null when none was)
     */
    public record SideQuality(int judged, int right, Double precision, Double recall) {
    }

    /** Both sides' quality, from {@code verdicts} verdicts on the rule's alerts in the range. */
    public record Quality(int verdicts, int judgedRight, SideQuality inForce, SideQuality candidate) {
    }

    /**
     * @param quality null when no verdicts could be read ({@code qualityNote} says why)
     */
    public record Report(String rule, Map<String, String> params, Instant from, Instant to,
                         List<Count> alertsPerRule, List<AlertLine> onlyInForce, List<AlertLine> onlyCandidate,
                         List<Count> commandsPerAction, List<CommandLine> commandsOnlyInForce,
                         List<CommandLine> commandsOnlyCandidate, Quality quality, String qualityNote) {
    }

    /** The analysts' latest verdict label of each alert of {@code rule} raised in [from, to), by alert id. */
    @FunctionalInterface
    public interface VerdictSource {
        Map<String, String> latestLabels(String rule, Instant from, Instant to) throws Exception;
    }

    /** What one side raised in the range. */
    record Side(List<Alert> alerts, List<Action> commands) {
    }

    /**
     * Checks the candidate as an analyst's rule change would be checked (the rule exists, every key is
     * one of its settings, the values and the configuration they make are valid), then runs both sides.
     *
     * @throws IllegalArgumentException naming what is wrong with the candidate
     */
    public static Report run(TourniquetConfig cfg, String rule, Map<String, String> params, Instant from, Instant to,
                             VerdictSource verdicts) throws Exception {
        return run(cfg, rule, params, from, to, verdicts, null);
    }

    /**
     * As {@link #run(TourniquetConfig, String, Map, Instant, Instant, VerdictSource)}, replaying
     * {@code files} instead of the input topics when it is not null: a directory of NDJSON files
     * named after the input topics ({@code <topic>.ndjson}, as {@code simulate --out-dir} writes
     * them), one record per line.
     */
    public static Report run(TourniquetConfig cfg, String rule, Map<String, String> params, Instant from, Instant to,
                             VerdictSource verdicts, Path files) throws Exception {
        if (!from.isBefore(to)) throw new IllegalArgumentException("--from must be before --to");
        RuleCatalog.next(RuleCatalog.initial(rule, cfg), params, cfg, "backtest", "backtest", System.currentTimeMillis());
        // Commands are compared, never published, and no control request is read: without the
        // command or control key, throwaway ones stand in (no id depends on them), so an analyst
        // needs no enforcement secret to backtest.
        if (cfg.find(Settings.SIGNING_KEY).isEmpty()) cfg = cfg.with(Settings.SIGNING_KEY, throwawayKey());
        if (cfg.find(Settings.CONTROL_KEY).isEmpty() && cfg.find(Settings.ANALYST_KEYS_FILE).isEmpty()) {
            cfg = cfg.with(Settings.CONTROL_KEY, throwawayKey());
        }
        Map<String, Path> input = files == null ? null : InputFiles.find(files, KafkaConnectors.inputTopics(cfg));
        if (files == null) requireInputTopics(cfg);
        TourniquetConfig candidate = cfg.with(params);
        String run = UUID.randomUUID().toString().substring(0, 8);
        Side inForce = side(cfg, "in-force-" + run, from, to, input);
        Side cand = side(candidate, "candidate-" + run, from, to, input);
        return compare(rule, params, from, to, inForce, cand, verdicts);
    }

    /** Lets nothing through. */
    static final class NoRecord implements org.apache.flink.api.common.functions.FilterFunction<RawRecord> {
        private static final long serialVersionUID = 1L;

        @Override
        public boolean filter(RawRecord r) {
            return false;
        }
    }

    /** The replay would fail deep inside the job on a missing topic: say which, first. */
    private static void requireInputTopics(TourniquetConfig cfg) throws Exception {
        List<String> wanted = KafkaConnectors.inputTopics(cfg);
        Set<String> present;
        try (var admin = io.tourniquet.kafka.KafkaTopics.admin(cfg)) {
            present = admin.listTopics().names().get(30, java.util.concurrent.TimeUnit.SECONDS);
        }
        List<String> missing = wanted.stream().filter(t -> !present.contains(t)).toList();
        if (!missing.isEmpty()) {
            throw new IllegalArgumentException("input topics not found on " + cfg.get(Settings.KAFKA_BOOTSTRAP) + ": "
                    + missing + " (topic.logins, topic.mfa, topic.withdrawals, topic.account-changes)");
        }
    }

    private static String throwawayKey() {
        byte[] key = new byte[32];
        new java.security.SecureRandom().nextBytes(key);
        return java.util.HexFormat.of().formatHex(key);
    }

    /** One bounded replay of the input topics, its alerts and commands kept in memory. */
    static Side side(TourniquetConfig base, String name, Instant from, Instant to, Map<String, Path> files)
            throws Exception {
        Path checkpoints = Files.createTempDirectory("tourniquet-backtest-");
        try {
            // Its own consumer groups (a bounded source may commit offsets), checkpoints in a
            // temporary directory, no metrics port, and no wall-clock decisions (as in every replay).
            TourniquetConfig cfg = base.with(Map.of(
                    Settings.KAFKA_GROUP_PREFIX.key(), base.get(Settings.KAFKA_GROUP_PREFIX) + "-backtest-" + name,
                    Settings.CHECKPOINT_DIR.key(), checkpoints.toUri().toString(),
                    Settings.PROMETHEUS_PORTS.key(), "none",
                    Settings.UA_MAX_WAIT.key(), "3650 d"));
            // A failure ends the backtest with its cause instead of restarting the replay for ever.
            StreamExecutionEnvironment env = JobEnvironments.create(cfg, "backtest-" + name, java.util.Optional.empty(),
                    conf -> conf.set(org.apache.flink.configuration.RestartStrategyOptions.RESTART_STRATEGY, "none"));
            DataStream<RawRecord> raw = files != null ? InputFiles.stream(env, files, DetectJob.replayWatermarks(cfg)) : env
                    .fromSource(KafkaConnectors.rawSource(cfg, KafkaConnectors.inputTopics(cfg), "detect", true,
                                    new RawRecordDeserializer(EventParser.from(cfg, SerializableClock.SYSTEM))),
                            DetectJob.replayWatermarks(cfg), "Input topics")
                    .uid("source-input").name("Input topics");
            // No analysts' requests: replayed, every one would be refused as expired, and what they
            // changed is what the two sides' settings say. An empty stream (Flink 2.2's fromData fails
            // on an empty collection, so one placeholder, filtered out) that ends at once.
            DataStream<RawRecord> control = env.fromData(TypeInformation.of(RawRecord.class), new RawRecord())
                    .uid("source-control").name("No control requests")
                    .filter(new NoRecord()).uid("no-control-requests").name("No control requests");
            InMemorySink<Alert> alerts = InMemorySink.create();
            InMemorySink<SignedAction> actions = InMemorySink.create();
            DetectJob.defineWorkflow(raw, control, new DetectSinks(alerts, actions, new DiscardingSink<>(),
                    new DiscardingSink<>(), new DiscardingSink<>(), new DiscardingSink<>(), new DiscardingSink<>(),
                    new DiscardingSink<>()), cfg, SerializableClock.SYSTEM);
            env.execute("tourniquet-backtest-" + name);
            long lo = from.toEpochMilli();
            long hi = to.toEpochMilli();
            List<Alert> inRange = alerts.drain().stream().filter(a -> a.eventTime >= lo && a.eventTime < hi).toList();
            List<Action> commands = actions.drain().stream().map(s -> s.action)
                    .filter(a -> a.eventTime >= lo && a.eventTime < hi).toList();
            return new Side(inRange, commands);
        } finally {
            try {
                FileUtils.deleteDirectory(checkpoints.toFile());
            } catch (IOException e) {
                // A temporary directory left behind is not worth failing the answer for.
            }
        }
    }

    static Report compare(String rule, Map<String, String> params, Instant from, Instant to, Side inForce, Side cand,
                          VerdictSource verdicts) {
        List<AlertLine> a = inForce.alerts().stream().map(AlertLine::of).toList();
        List<AlertLine> b = cand.alerts().stream().map(AlertLine::of).toList();
        List<CommandLine> x = inForce.commands().stream().map(CommandLine::of).toList();
        List<CommandLine> y = cand.commands().stream().map(CommandLine::of).toList();
        Comparator<AlertLine> byTime = Comparator.comparing(AlertLine::time).thenComparing(AlertLine::key);
        Comparator<CommandLine> cmdByTime = Comparator.comparing(CommandLine::time).thenComparing(CommandLine::key);

        Quality quality = null;
        String note = null;
        if (verdicts == null) {
            note = "no verdicts asked for";
        } else {
            try {
                quality = quality(rule, verdicts.latestLabels(rule, from, to), a, b);
            } catch (Exception e) {
                note = "verdicts unavailable: " + e.getMessage();
            }
        }
        return new Report(rule, new LinkedHashMap<>(params), from, to,
                counts(a, b, AlertLine::rule,
                        RuleCatalog.rules().stream().filter(r -> !RuleCatalog.INCIDENT.equals(r)).toList()),
                only(a, b, AlertLine::key).stream().sorted(byTime).toList(),
                only(b, a, AlertLine::key).stream().sorted(byTime).toList(),
                counts(x, y, CommandLine::action, List.of()),
                only(x, y, CommandLine::key).stream().sorted(cmdByTime).toList(),
                only(y, x, CommandLine::key).stream().sorted(cmdByTime).toList(),
                quality, note);
    }

    /** The entries of {@code mine} with no entry of the same key in {@code theirs}. */
    static <T> List<T> only(List<T> mine, List<T> theirs, Function<T, String> key) {
        Set<String> other = new java.util.HashSet<>();
        for (T t : theirs) other.add(key.apply(t));
        List<T> out = new ArrayList<>();
        for (T t : mine) if (!other.contains(key.apply(t))) out.add(t);
        return out;
    }

    /** Counts per name on each side: every name in {@code always} (in order), then the rest seen, sorted. */
    private static <T> List<Count> counts(List<T> a, List<T> b, Function<T, String> name, List<String> always) {
        Map<String, int[]> c = new LinkedHashMap<>();
        for (String n : always) c.put(n, new int[2]);
        Map<String, int[]> rest = new TreeMap<>();
        Function<T, int[]> slot = t -> c.containsKey(name.apply(t)) ? c.get(name.apply(t))
                : rest.computeIfAbsent(name.apply(t), k -> new int[2]);
        for (T t : a) slot.apply(t)[0]++;
        for (T t : b) slot.apply(t)[1]++;
        c.putAll(rest);
        List<Count> out = new ArrayList<>();
        c.forEach((n, v) -> out.add(new Count(n, v[0], v[1])));
        return out;
    }

    static Quality quality(String rule, Map<String, String> labels, List<AlertLine> inForce, List<AlertLine> cand) {
        Set<String> right = new TreeSet<>();
        labels.forEach((id, label) -> {
            if (ControlRequest.RIGHT_LABELS.contains(label)) right.add(id);
        });
        return new Quality(labels.size(), right.size(), sideQuality(rule, labels, right, inForce),
                sideQuality(rule, labels, right, cand));
    }

    private static SideQuality sideQuality(String rule, Map<String, String> labels, Set<String> right,
                                           List<AlertLine> raised) {
        int judged = 0;
        int ok = 0;
        for (AlertLine a : raised) {
            if (!rule.equals(a.rule()) || !labels.containsKey(a.alertId())) continue;
            judged++;
            if (right.contains(a.alertId())) ok++;
        }
        return new SideQuality(judged, ok, judged == 0 ? null : (double) ok / judged,
                right.isEmpty() ? null : (double) ok / right.size());
    }
}
