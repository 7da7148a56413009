package io.tourniquet.rules.anomaly;

import io.tourniquet.runtime.PipelineMetrics;
import io.tourniquet.detect.WithdrawalRequestFacts;
import io.tourniquet.detect.SessionLogin;
import io.tourniquet.detect.AnomalyProfile;
import io.tourniquet.rules.newaddress.NewAddressWithdrawalDetector;
import io.tourniquet.rules.RuleDetector;
import io.tourniquet.streams.Tags;
import io.tourniquet.util.SerializableClock;
import io.tourniquet.config.Settings;
import io.tourniquet.config.TourniquetConfig;
import io.tourniquet.model.Alert;
import io.tourniquet.model.AlertEvidence;
import io.tourniquet.model.Anomaly;
import io.tourniquet.model.AnomalyContribution;
import io.tourniquet.model.EnrichedEvent;
import io.tourniquet.model.wire.EnrichedEventSerializer;
import io.tourniquet.model.wire.WireTypes;
import io.tourniquet.model.Event;
import io.tourniquet.models.Contribution;
import io.tourniquet.models.ModelArtifact;
import io.tourniquet.models.ModelRejectedException;
import io.tourniquet.models.Scorer;
import io.tourniquet.models.UserHistory;
import io.tourniquet.models.WithdrawalContext;
import io.tourniquet.models.WithdrawalFeatures;
import io.tourniquet.rules.RuleVersion;
import io.tourniquet.util.Ids;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.state.MapState;
import org.apache.flink.api.common.state.MapStateDescriptor;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.metrics.Counter;
import org.apache.flink.streaming.api.TimeDomain;
import org.apache.flink.util.Collector;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keyed by user: computes the withdrawal feature vector ({@link WithdrawalFeatures}, the models
 * module's one definition) at every approval, logs it on the enriched event (the training data),
 * and, when the {@code anomaly_score} rule names a model version, scores it with that model and
 * raises an {@code anomaly_score} alert above the model's threshold, naming the model version,
 * the score and the top three contributing features.
 *
 * <p><b>Hot reload.</b> The model version is a parameter of the rule, so a model is activated by an
 * analyst's signed, audited rule change (validated by {@link RuleCatalog#next}, which loads the
 * artifact first and refuses a missing or rejected one). The detector loads a version the first
 * time an approval needs it and keeps that one scorer in a transient field: the first approval
 * after a switch (or after a restart) pauses this subtask for the load, about a second for a
 * 100-tree forest; later approvals cost one scoring (tens of microseconds). A version that fails
 * to load here (deleted after validation, for example) is logged and counted, and approvals are
 * then logged with their features but no score: scoring never fails the job.
 *
 * <p><b>State per user.</b> The profile ({@link AnomalyProfile}: past approved withdrawals, known
 * devices, IPs, countries), kept for as long as the user exists: that is what "unlike the account's
 * own history" compares with. The rest drains by event-time timers: session logins after
 * {@link #SESSION_RETENTION_MS} (after that, login age is at its cap anyway), withdrawal requests
 * after {@link #REQUEST_RETENTION_MS}, and whitelisted destinations after
 * {@link #WHITELIST_RETENTION_MS} (an older one counts as never whitelisted, which the destination
 * age caps near the same value). Timers are never deleted: one that finds nothing due does nothing.
 *
 * <p><b>Event time, whatever the order of reading.</b> An approval's features use exactly the
 * facts (logins, whitelistings, requests, earlier withdrawals, devices) whose event time is before
 * the approval's, so that what a model is trained on (a replay) and what it scores live agree.
 * Those facts come on other topics and may be read after the approval, so every event of the user
 * waits here until the watermark passes it, and is then applied in event-time order (facts before
 * an approval of the same millisecond, then by event id): one code path, live and replay. When
 * event time stalls (the watermark has not moved for the rule.unauthorized-approval.max-wait, e.g.
 * every partition idle) the waiting approvals are featured on the wall clock with what is known.
 * An event already behind the watermark when it arrives (late) is applied at once.
 *
 * <p>The detector runs beside the containment chain, not in it (see {@link DetectJob}): it emits
 * each approval once, featured (and scored), for the enriched-event record, and raises its alerts;
 * it never holds back another rule's decision, so waiting for event time costs only
 * {@code anomaly_score} alerts their latency (the out-of-orderness, 30 s by default, live).
 */
public final class AnomalyScoringDetector extends RuleDetector<EnrichedEvent, EnrichedEvent, AnomalySettings> {
    private static final long serialVersionUID = 1L;
    private static final Logger LOG = LoggerFactory.getLogger(AnomalyScoringDetector.class);

    public static final String RULE = AnomalyScoreRule.ID;
    public static final int TOP_CONTRIBUTIONS = 3;
    public static final long SESSION_RETENTION_MS = 24 * 3_600_000L;
    public static final long REQUEST_RETENTION_MS = 24 * 3_600_000L;
    public static final long WHITELIST_RETENTION_MS = 30 * 24 * 3_600_000L;

    public static final ValueStateDescriptor<AnomalyProfile> PROFILE =
            new ValueStateDescriptor<>("anomaly-profile", AnomalyProfile.class);
    public static final MapStateDescriptor<String, SessionLogin> SESSIONS =
            new MapStateDescriptor<>("anomaly-sessions", String.class, SessionLogin.class);
    public static final MapStateDescriptor<String, WithdrawalRequestFacts> REQUESTS =
            new MapStateDescriptor<>("anomaly-requests", String.class, WithdrawalRequestFacts.class);
    public static final MapStateDescriptor<String, Long> WHITELIST =
            new MapStateDescriptor<>("anomaly-whitelist", String.class, Long.class);

    /**
     * The user's events the watermark has not passed yet, by event time. Keyed by time so that the
     * timer at a time reads exactly the events due then with one lookup: keyed by event id, every
     * timer iterated and deserialized every waiting event (46 % of the per-user task on RocksDB).
     * Every event is written here and read back once, so its events are serialized by
     * {@link EnrichedEventSerializer}, not reflectively (the POJO serializer's reads and writes of
     * this state were a tenth of the per-user task in a profile); savepoints of builds before are
     * migrated on restore.
     */
    public static final MapStateDescriptor<Long, List<EnrichedEvent>> PENDING = new MapStateDescriptor<>(
            "anomaly-pending-at", Types.LONG, Types.LIST(WireTypes.ENRICHED_EVENT));
    /**
     * Builds before the per-user operator kept waiting events by event id under this name; only
     * the savepoint migration reads it ({@link #adoptLegacyPending}).
     */
    public static final MapStateDescriptor<String, EnrichedEvent> LEGACY_PENDING =
            new MapStateDescriptor<>("anomaly-pending-events", String.class, EnrichedEvent.class);
    /** How many featured approvals wait in {@link #PENDING}: the wall-clock check is armed while any do. */
    public static final ValueStateDescriptor<Integer> WAITING_APPROVALS =
            new ValueStateDescriptor<>("anomaly-waiting-approvals", Integer.class);
    /** While approvals wait: the watermark when the wall-clock check was armed, and its deadline. */
    public static final ValueStateDescriptor<Long> STALL_WATERMARK = new ValueStateDescriptor<>("anomaly-stall-watermark",
            Long.class);
    public static final ValueStateDescriptor<Long> STALL_DEADLINE = new ValueStateDescriptor<>("anomaly-stall-deadline",
            Long.class);

    private static final java.util.Comparator<EnrichedEvent> EVENT_TIME_ORDER = java.util.Comparator
            .comparingLong((EnrichedEvent e) -> e.event.eventTime)
            .thenComparingInt(e -> isFeaturedApproval(e.event) ? 1 : 0)
            .thenComparing(e -> e.event.eventId);

    private final String modelsDir;
    private final long maxWaitMillis;

    private transient ValueState<AnomalyProfile> profile;
    private transient MapState<String, SessionLogin> sessions;
    private transient MapState<String, WithdrawalRequestFacts> requests;
    private transient MapState<String, Long> whitelist;
    private transient MapState<Long, List<EnrichedEvent>> pending;
    private transient ValueState<Integer> waitingApprovals;
    private transient ValueState<Long> stallWatermark;
    private transient ValueState<Long> stallDeadline;
    private transient Counter approvalsLate;
    private transient Counter featuredByWallClock;
    /** The one loaded model (the version in force), and versions that failed to load here. */
    private transient String loadedVersion;
    private transient Scorer loadedScorer;
    private transient Set<String> refusedVersions;
    private transient Counter approvalsFeatured;
    private transient Counter approvalsScored;
    private transient Counter anomalyAlerts;
    private transient Counter modelsLoaded;
    private transient Counter modelLoadFailures;
    private transient org.apache.flink.metrics.Histogram scoringMicros;

    /**
     * @param maxWaitMillis wall-clock bound on waiting for event time when it stalls (the
     *                      unauthorized-approval rule's max-wait)
     */
    public AnomalyScoringDetector(RuleVersion initial, String modelsDir, SerializableClock clock, long maxWaitMillis) {
        super(initial, AnomalySettings::from, clock);
        if (maxWaitMillis <= 0) throw new IllegalArgumentException("max wait must be positive: " + maxWaitMillis);
        this.modelsDir = modelsDir;
        this.maxWaitMillis = maxWaitMillis;
    }

    /**
     * The detector as configured; a model version set in configuration (version 1 of the rule) is
     * checked here like an analyst's change, so a job never starts with a bad model.
     */
    public static AnomalyScoringDetector from(TourniquetConfig cfg, SerializableClock clock) {
        AnomalyScoreRule.checkModel(cfg);
        return new AnomalyScoringDetector(AnomalyScoreRule.DEFINITION.initial(cfg), cfg.get(Settings.MODELS_DIR), clock,
                cfg.get(Settings.UA_MAX_WAIT).toMillis());
    }

    @Override
    public void open(OpenContext openContext) {
        profile = getRuntimeContext().getState(PROFILE);
        sessions = getRuntimeContext().getMapState(SESSIONS);
        requests = getRuntimeContext().getMapState(REQUESTS);
        whitelist = getRuntimeContext().getMapState(WHITELIST);
        pending = getRuntimeContext().getMapState(PENDING);
        waitingApprovals = getRuntimeContext().getState(WAITING_APPROVALS);
        stallWatermark = getRuntimeContext().getState(STALL_WATERMARK);
        stallDeadline = getRuntimeContext().getState(STALL_DEADLINE);
        refusedVersions = new HashSet<>();
        var metrics = getRuntimeContext().getMetricGroup();
        approvalsFeatured = metrics.counter("anomalyApprovalsFeatured");
        approvalsScored = metrics.counter("anomalyApprovalsScored");
        approvalsLate = metrics.counter("anomalyLateApprovals");
        featuredByWallClock = metrics.counter("anomalyApprovalsFeaturedByWallClock");
        anomalyAlerts = metrics.counter("anomalyAlerts");
        modelsLoaded = metrics.counter("anomalyModelsLoaded");
        modelLoadFailures = metrics.counter("anomalyModelLoadFailures");
        scoringMicros = PipelineMetrics.histogram(PipelineMetrics.of(metrics),
                "anomaly_scoring_us");
    }

    @Override
    public void processElement(EnrichedEvent in, ReadOnlyContext ctx, Collector<EnrichedEvent> out) throws Exception {
        useRule(ctx);
        inputArrived(ctx);
        Event ev = in.event;
        long watermark = ctx.timerService().currentWatermark();
        if (ev.eventTime <= watermark) {
            // Late: everything still waiting is later than the watermark, so this comes first.
            if (isFeaturedApproval(ev)) approvalsLate.inc();
            apply(in, ctx, out);
            return;
        }
        List<EnrichedEvent> at = pending.get(ev.eventTime);
        if (at == null) at = new ArrayList<>(1);
        at.add(in);
        pending.put(ev.eventTime, at);
        ctx.timerService().registerEventTimeTimer(ev.eventTime);
        if (isFeaturedApproval(ev)) {
            Integer waiting = waitingApprovals.value();
            waitingApprovals.update(waiting == null ? 1 : waiting + 1);
            if (stallWatermark.value() == null) armStallCheck(watermark, ctx);
        }
    }

    /**
     * Takes waiting events kept by a build before the per-user operator (by event id, under
     * {@link #LEGACY_PENDING}) into today's layout, for the savepoint migration: {@code put} writes
     * the event-time list, and the result is how many of them are featured approvals.
     */
    public static int adoptLegacyPending(Iterable<EnrichedEvent> legacy,
                                         java.util.function.BiConsumer<Long, List<EnrichedEvent>> put) {
        java.util.TreeMap<Long, List<EnrichedEvent>> byTime = new java.util.TreeMap<>();
        int approvals = 0;
        for (EnrichedEvent e : legacy) {
            byTime.computeIfAbsent(e.event.eventTime, t -> new ArrayList<>()).add(e);
            if (isFeaturedApproval(e.event)) approvals++;
        }
        byTime.forEach(put);
        return approvals;
    }

    public static boolean isFeaturedApproval(Event ev) {
        return ev.isApproval() && ev.withdrawalId != null;
    }

    /** One event's effect on the user's state, in event-time order; an approval is featured and leaves. */
    private void apply(EnrichedEvent in, ReadOnlyContext ctx, Collector<EnrichedEvent> out) throws Exception {
        Event ev = in.event;
        if (ev.kind == Event.Kind.LOGIN) {
            // A failed login proves nothing about the device being the account's.
            if ("success".equals(ev.outcome) && ev.sessionId != null) onLogin(ev, ctx);
            return;
        }
        // Any other event of the account names a device and address it used: the user's own
        // activity before a login is what makes that login's device "known".
        rememberDeviceOf(ev);
        if (ev.kind == Event.Kind.ACCOUNT_CHANGE && ev.address != null) {
            onAccountChange(ev, ctx);
        } else if (ev.kind == Event.Kind.WITHDRAWAL && "requested".equals(ev.status) && ev.withdrawalId != null) {
            onRequest(ev, ctx);
        } else if (isFeaturedApproval(ev)) {
            onApproval(in, ctx);
            out.collect(in);
        }
    }

    /**
     * Applies, in event-time order, every waiting event at or before {@code upTo}: the wall-clock
     * path, which is rare (event time stalled), so it may read every waiting event. Returns how
     * many featured approvals it applied.
     */
    private int applyUpTo(long upTo, ReadOnlyContext ctx, Collector<EnrichedEvent> out) throws Exception {
        List<Long> times = new ArrayList<>();
        List<EnrichedEvent> due = new ArrayList<>();
        for (Map.Entry<Long, List<EnrichedEvent>> e : pending.entries()) {
            if (e.getKey() <= upTo) {
                times.add(e.getKey());
                due.addAll(e.getValue());
            }
        }
        for (Long t : times) pending.remove(t);
        return applyInOrder(due, ctx, out);
    }

    /** Applies the waiting events of exactly {@code time}: the event-time path, one lookup. */
    private void applyAt(long time, ReadOnlyContext ctx, Collector<EnrichedEvent> out) throws Exception {
        List<EnrichedEvent> due = pending.get(time);
        if (due == null) return; // another time's timer, or one of another step in PerUserDetectors
        pending.remove(time);
        applyInOrder(due, ctx, out);
    }

    /** Applies {@code due} in event-time order; returns how many of them were featured approvals. */
    private int applyInOrder(List<EnrichedEvent> due, ReadOnlyContext ctx, Collector<EnrichedEvent> out)
            throws Exception {
        if (due.isEmpty()) return 0;
        due.sort(EVENT_TIME_ORDER);
        int approvals = 0;
        for (EnrichedEvent e : due) {
            if (isFeaturedApproval(e.event)) approvals++;
            apply(e, ctx, out);
        }
        if (approvals == 0) return 0;
        Integer waiting = waitingApprovals.value();
        int left = (waiting == null ? 0 : waiting) - approvals;
        if (left > 0) {
            waitingApprovals.update(left);
        } else {
            waitingApprovals.clear();
            if (stallWatermark.value() != null) disarmStallCheck();
        }
        return approvals;
    }

    private void armStallCheck(long watermark, ReadOnlyContext ctx) throws Exception {
        long deadline = ctx.timerService().currentProcessingTime() + maxWaitMillis;
        stallWatermark.update(watermark);
        stallDeadline.update(deadline);
        ctx.timerService().registerProcessingTimeTimer(deadline);
    }

    private void disarmStallCheck() throws Exception {
        // The timer stays (in PerUserDetectors another step may have set the same one); without
        // a deadline in state it finds nothing to do.
        stallWatermark.clear();
        stallDeadline.clear();
    }

    private long latestWaitingApproval() throws Exception {
        long latest = Long.MIN_VALUE;
        for (List<EnrichedEvent> at : pending.values()) {
            for (EnrichedEvent e : at) {
                if (isFeaturedApproval(e.event)) latest = Math.max(latest, e.event.eventTime);
            }
        }
        return latest;
    }

    private void onLogin(Event ev, ReadOnlyContext ctx) throws Exception {
        UserHistory h = history();
        SessionLogin s = new SessionLogin();
        s.sessionId = ev.sessionId;
        s.loginTime = ev.eventTime;
        s.deviceId = ev.deviceId;
        s.ip = ev.ip;
        s.country = ev.geoCountry;
        s.jailbroken = Boolean.TRUE.equals(ev.deviceJailbroken);
        // Known as of this login, before it is added (the features' contract).
        s.deviceKnown = ev.deviceId != null && h.knownDevices().contains(ev.deviceId);
        s.ipKnown = ev.ip != null && h.knownIps().contains(ev.ip);
        s.countryKnown = ev.geoCountry != null && h.knownCountries().contains(ev.geoCountry);
        sessions.put(s.sessionId, s);
        profile.update(AnomalyProfile.of(h.withLogin(ev.deviceId, ev.ip, ev.geoCountry)));
        ctx.timerService().registerEventTimeTimer(ev.eventTime + SESSION_RETENTION_MS);
    }

    private void rememberDeviceOf(Event ev) throws Exception {
        if (ev.deviceId == null && ev.ip == null) return;
        UserHistory h = history();
        boolean knownDevice = ev.deviceId == null || h.knownDevices().contains(ev.deviceId);
        boolean knownIp = ev.ip == null || h.knownIps().contains(ev.ip);
        if (knownDevice && knownIp) return;
        profile.update(AnomalyProfile.of(h.withLogin(ev.deviceId, ev.ip, null)));
    }

    private void onAccountChange(Event ev, ReadOnlyContext ctx) throws Exception {
        if (NewAddressWithdrawalDetector.WHITELIST_ADDED.equals(ev.action)) {
            Long before = whitelist.get(ev.address);
            if (before == null || before < ev.eventTime) whitelist.put(ev.address, ev.eventTime);
            ctx.timerService().registerEventTimeTimer(ev.eventTime + WHITELIST_RETENTION_MS);
        } else if (NewAddressWithdrawalDetector.WHITELIST_REMOVED.equals(ev.action)) {
            whitelist.remove(ev.address);
        }
    }

    private void onRequest(Event ev, ReadOnlyContext ctx) throws Exception {
        WithdrawalRequestFacts r = new WithdrawalRequestFacts();
        r.withdrawalId = ev.withdrawalId;
        r.requestTime = ev.eventTime;
        r.usdValue = ev.usdValue;
        r.accountBalanceUsd = ev.accountBalanceUsd;
        r.destinationAddress = ev.destinationAddress;
        r.sessionId = ev.sessionId;
        Long at = ev.destinationAddress == null ? null : whitelist.get(ev.destinationAddress);
        r.whitelistedAt = at != null && at <= ev.eventTime ? at : null;
        requests.put(r.withdrawalId, r);
        ctx.timerService().registerEventTimeTimer(ev.eventTime + REQUEST_RETENTION_MS);
    }

    private void onApproval(EnrichedEvent in, ReadOnlyContext ctx) throws Exception {
        Event a = in.event;
        WithdrawalRequestFacts r = requests.get(a.withdrawalId);
        Double usd = a.usdValue != null ? a.usdValue : r != null ? r.usdValue : null;
        if (usd == null || !Double.isFinite(usd) || usd < 0) return; // nothing to compare; left unfeatured
        requests.remove(a.withdrawalId);
        // An approval whose request was not seen (older than the retention, or lost) is taken as
        // requested at the approval: no delay, no balance, whitelisting as of now.
        long requestTime = r != null ? r.requestTime : a.eventTime;
        // Looked up again now: the whitelisting may have been read after the request (another topic).
        Long at = a.destinationAddress == null ? null : whitelist.get(a.destinationAddress);
        Long whitelistedAt = at != null && at <= requestTime ? at : r != null ? r.whitelistedAt : null;
        String sessionId = r != null && r.sessionId != null ? r.sessionId : a.sessionId;
        SessionLogin s = sessionId == null ? null : sessions.get(sessionId);

        UserHistory current = history();
        double[] x = WithdrawalFeatures.compute(asAtLogin(current, s), new WithdrawalContext(requestTime,
                a.eventTime, usd, r != null ? r.accountBalanceUsd : null,
                s != null ? s.loginTime : null, s != null ? s.deviceId : null, s != null ? s.ip : null,
                s != null ? s.country : null, s != null && s.jailbroken, whitelistedAt));
        profile.update(AnomalyProfile.of(current.withWithdrawal(requestTime, usd)));

        Anomaly an = new Anomaly();
        an.schemaVersion = WithdrawalFeatures.SCHEMA_VERSION;
        an.schemaHash = WithdrawalFeatures.SCHEMA_HASH;
        an.features.putAll(WithdrawalFeatures.toMap(x));
        in.anomaly = an;
        approvalsFeatured.inc();

        Scorer scorer = scorer(settings.modelVersion(), settings.modelSha256());
        if (scorer == null) return;
        long scoringStart = System.nanoTime();
        double score = scorer.score(x);
        scoringMicros.update((System.nanoTime() - scoringStart) / 1_000L);
        an.modelVersion = scorer.modelVersion();
        an.score = score;
        an.threshold = scorer.threshold();
        approvalsScored.inc();
        if (!scorer.anomalous(score)) return;
        an.topContributions = new ArrayList<>();
        for (Contribution c : scorer.topContributions(x, TOP_CONTRIBUTIONS)) {
            an.topContributions.add(new AnomalyContribution(c.feature(), c.value(), c.baseline(), c.scoreChange()));
        }
        Alert alert = alertFor(a, an, settings, clock.getAsLong());
        alert.ruleVersion = ruleVersion;
        in.alertIds.add(alert.alertId);
        anomalyAlerts.inc();
        ctx.output(Tags.ALERTS, alert);
    }

    /**
     * The history as the features' contract wants it: as of the session's login, before it. The
     * login's device, IP and country count as known exactly when they were known then (decided at
     * the login), which is all {@link WithdrawalFeatures#compute} asks of the known lists; the
     * past withdrawals are today's, which compute limits to those requested before this one.
     */
    private static UserHistory asAtLogin(UserHistory current, SessionLogin s) {
        if (s == null) return new UserHistory(current.pastWithdrawals(), List.of(), List.of(), List.of());
        return new UserHistory(current.pastWithdrawals(),
                s.deviceKnown ? List.of(s.deviceId) : List.of(),
                s.ipKnown ? List.of(s.ip) : List.of(),
                s.countryKnown ? List.of(s.country) : List.of());
    }

    private UserHistory history() throws Exception {
        AnomalyProfile p = profile.value();
        return p == null ? UserHistory.empty() : p.toHistory();
    }

    /**
     * The scorer of a version, loaded on first use; null when scoring is off or the version failed.
     * A pinned version loads only if its file has exactly the pinned sha256: a directory replaced
     * after the signed request was checked (metadata and file together) is refused.
     */
    private Scorer scorer(String version, String pinnedSha256) {
        if (version == null) return null;
        String id = version + "@" + pinnedSha256;
        if (id.equals(loadedVersion)) return loadedScorer;
        if (refusedVersions.contains(id)) return null;
        Path dir = Path.of(modelsDir).resolve(version);
        try {
            long start = System.nanoTime();
            ModelArtifact artifact = ModelArtifact.load(dir);
            if (pinnedSha256 == null) {
                LOG.warn("anomaly model {} is active without a pinned sha256 (a rule version from before the pin);"
                        + " activate it again with {} to pin it", version, Settings.ANOMALY_MODEL_SHA256.key());
            } else if (!pinnedSha256.equals(artifact.metadata().modelSha256())) {
                throw new ModelRejectedException(ModelRejectedException.Reason.CHECKSUM_MISMATCH, "its file has sha256 " + artifact.metadata().modelSha256()
                        + ", the active rule version pins " + pinnedSha256);
            }
            Scorer s = artifact.scorer();
            loadedVersion = id;
            loadedScorer = s;
            modelsLoaded.inc();
            LOG.info("anomaly model {} loaded from {} in {} ms", version, dir, (System.nanoTime() - start) / 1_000_000);
            return s;
        } catch (ModelRejectedException | RuntimeException e) {
            // Validated when activated, so this is a model removed, damaged or replaced since: keep running.
            refusedVersions.add(id);
            modelLoadFailures.inc();
            LOG.error("anomaly model {} in {} cannot be loaded; approvals are logged unscored until another"
                    + " version is activated: {}", version, dir, e.getMessage());
            return null;
        }
    }

    @Override
    public void onTimer(long timestamp, OnTimerContext ctx, Collector<EnrichedEvent> out) throws Exception {
        useRule(ctx);
        if (ctx.timeDomain() == TimeDomain.PROCESSING_TIME) {
            onWallClock(timestamp, ctx, out);
            return;
        }
        applyAt(timestamp, ctx, out);
        removeWhere(sessions, s -> s.loginTime + SESSION_RETENTION_MS <= timestamp);
        removeWhere(requests, r -> r.requestTime + REQUEST_RETENTION_MS <= timestamp);
        removeWhere(whitelist, t -> t + WHITELIST_RETENTION_MS <= timestamp);
    }

    /**
     * The wall-clock bound: approvals wait for event time as long as it moves or events still arrive
     * (a backlog being read); when neither has happened for the whole bound, the input is idle,
     * everything there is has been read, and the waiting approvals are featured with what is known.
     */
    private void onWallClock(long timestamp, OnTimerContext ctx, Collector<EnrichedEvent> out) throws Exception {
        Long armedAt = stallWatermark.value();
        Long deadline = stallDeadline.value();
        if (armedAt == null || deadline == null || deadline > timestamp) return;
        stallWatermark.clear();
        stallDeadline.clear();
        long watermark = ctx.timerService().currentWatermark();
        long latest = latestWaitingApproval();
        if (latest == Long.MIN_VALUE) return;
        if (watermark != armedAt || !inputQuietFor(maxWaitMillis, timestamp)) {
            armStallCheck(watermark, ctx); // event time moves, or events still arrive: event time will decide
            return;
        }
        featuredByWallClock.inc(applyUpTo(latest, ctx, out));
    }

    private static <V> void removeWhere(MapState<String, V> map, java.util.function.Predicate<V> due) throws Exception {
        List<String> gone = new ArrayList<>();
        for (Map.Entry<String, V> e : map.entries()) {
            if (due.test(e.getValue())) gone.add(e.getKey());
        }
        for (String k : gone) map.remove(k);
    }

    static Alert alertFor(Event a, Anomaly an, AnomalySettings s, long now) {
        Alert alert = new Alert();
        alert.triggerAppendedAt = a.sourceTimestamp;
        alert.alertId = Ids.of("alert", RULE, a.eventId);
        alert.rule = RULE;
        alert.severity = s.severity();
        alert.eventTime = a.eventTime;
        alert.detectedAt = now;
        alert.userId = a.userId;
        alert.withdrawalId = a.withdrawalId;
        StringBuilder why = new StringBuilder();
        for (AnomalyContribution c : an.topContributions) {
            if (why.length() > 0) why.append(", ");
            why.append(c.feature);
        }
        alert.summary = String.format(Locale.ROOT, "Withdrawal %s of %s %s (US$%,.2f) by user %s scored %.3f by"
                        + " anomaly model %s (threshold %.3f); most unusual: %s.", a.withdrawalId, a.amount, a.asset,
                a.usdValue == null ? 0.0 : a.usdValue, a.userId, an.score, an.modelVersion, an.threshold, why);
        AlertEvidence e = alert.evidence;
        e.eventIds.add(a.eventId);
        e.reason = "anomalous_withdrawal";
        e.withdrawal(a);
        e.anomalyScore = an.score;
        e.anomalyThreshold = an.threshold;
        e.modelVersion = an.modelVersion;
        e.contributions = new ArrayList<>(an.topContributions);
        if (s.freeze()) e.freezeAccount = true;
        return alert;
    }
}
