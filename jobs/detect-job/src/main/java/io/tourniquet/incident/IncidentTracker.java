package io.tourniquet.incident;

import io.tourniquet.runtime.PipelineMetrics;
import io.tourniquet.config.Settings;
import io.tourniquet.config.TourniquetConfig;
import io.tourniquet.util.SerializableClock;
import io.tourniquet.streams.Tags;
import io.tourniquet.json.Json;
import io.tourniquet.model.Alert;
import io.tourniquet.model.Claim;
import io.tourniquet.model.ClaimSignal;
import io.tourniquet.model.PlatformNotice;
import io.tourniquet.notify.NotificationComposer;
import io.tourniquet.model.ControlRequest;
import io.tourniquet.control.ControlSignal;
import io.tourniquet.model.DeadLetter;
import io.tourniquet.model.Incident;
import io.tourniquet.model.NotificationRequest;
import io.tourniquet.model.RawRecord;
import io.tourniquet.model.Suppression;
import io.tourniquet.rules.catalog.RuleCatalog;
import io.tourniquet.rules.RuleVersion;
import io.tourniquet.util.Ids;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.state.MapState;
import org.apache.flink.api.common.state.MapStateDescriptor;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.metrics.Counter;
import org.apache.flink.streaming.api.functions.co.KeyedCoProcessFunction;
import org.apache.flink.util.Collector;

/**
 * Platform-wide (one key): every alert passes through here on its way out, so that alerts of the
 * incident rules open or join an incident (contract section 2, "Incident"), the incident's impact
 * is kept exact, and withdrawals are suspended once per incident however many victims follow.
 *
 * <p>Outputs: the alert with its incident id (main), the incident after every change
 * ({@link Tags#INCIDENTS}), unauthorized approvals with their incident id
 * ({@link Tags#INCIDENT_EVENTS}), and whom to tell about what ({@link Tags#NOTIFY}).
 *
 * <p>The second input is analysts' accepted control requests: resolve an incident, resume
 * withdrawals (the suspension is no longer in force, so a new bulk-drain alert may suspend again),
 * and changes of the incident gap. An open or contained incident stays in state until an analyst
 * resolves it: nothing about an incident ends by itself.
 *
 * <p>State (one key, so every incident is in the same maps): {@code incidents}, one record per
 * incident, read and written at each of its alerts and so small, without id lists; the ids it
 * publishes (at most {@link #MAX_LISTED} of each), in {@code incident-listed}, written only while
 * they grow and otherwise read from a copy on the heap; and the incident's members, one map entry
 * each, touched one at a time: {@code incident-alert-ids}, {@code incident-user-ids} (with each
 * victim's rank) and {@code incident-approvals}. An alert costs the same whether the incident has ten victims or
 * fifty thousand; only rare steps (containment, resolution, a claim, a release) scan the members.
 * A record from a build before this layout is converted the first time it is read.
 */
public final class IncidentTracker extends KeyedCoProcessFunction<String, Alert, ControlSignal, Alert> {
    /** Ids listed in a published incident record at most (about 35 KB each list): it must stay publishable. */
    static final int MAX_LISTED = 1_000;

    private static final long serialVersionUID = 1L;

    /** Rules whose alerts open or join incidents (contract section 2). */
    public static final Set<String> INCIDENT_RULES = Set.of(RuleCatalog.UNAUTHORIZED_APPROVAL,
            RuleCatalog.BULK_DRAIN, RuleCatalog.DESTINATION_CONCENTRATION);

    static final MapStateDescriptor<String, IncidentState> INCIDENTS =
            new MapStateDescriptor<>("incidents", String.class, IncidentState.class);
    /** Member keys ({@link #member}) of every incident's alerts. */
    static final MapStateDescriptor<String, Boolean> ALERT_IDS =
            new MapStateDescriptor<>("incident-alert-ids", String.class, Boolean.class);
    /** Member keys of every incident's victims, each with its rank (0, 1, ...: order of their first approval). */
    static final MapStateDescriptor<String, Integer> USER_IDS =
            new MapStateDescriptor<>("incident-user-ids", String.class, Integer.class);
    /** Member keys (by alert id) of every incident's unauthorized approvals. */
    static final MapStateDescriptor<String, IncidentState.ImpactEntry> APPROVALS =
            new MapStateDescriptor<>("incident-approvals", String.class, IncidentState.ImpactEntry.class);
    /** Each incident's published ids, by incident id: written only while they grow. */
    static final MapStateDescriptor<String, IncidentState.Listed> LISTED =
            new MapStateDescriptor<>("incident-listed", String.class, IncidentState.Listed.class);
    /**
     * Analysts' false-positive verdicts in force, by {@link #suppressionKey} (rule and user): the
     * user's later alerts of that rule are suppressed until the verdict's end, when a timer forgets it.
     */
    static final MapStateDescriptor<String, Suppression> SUPPRESSIONS =
            new MapStateDescriptor<>("verdict-suppressions", String.class, Suppression.class);
    static final ValueStateDescriptor<RuleVersion> GAP_RULE =
            new ValueStateDescriptor<>("incident-rule", RuleVersion.class);

    private final RuleVersion initialRule;
    private final SerializableClock clock;
    /** forensics.lookback: the incident's window for the claims' no-jailbroken-device condition. */
    private final long lookbackMillis;
    /** verdict.suppress-for: how long a false-positive verdict suppresses (0: never). */
    private final long suppressForMillis;

    private transient MapState<String, IncidentState> incidents;
    private transient MapState<String, Boolean> alertIds;
    private transient MapState<String, Integer> userIds;
    private transient MapState<String, IncidentState.ImpactEntry> approvals;
    private transient MapState<String, IncidentState.Listed> listedState;
    /**
     * {@code incident-listed} as read or last written, by incident id (ids are unique across
     * keys): every alert publishes the listed ids, and reading up to 2,000 of them back from
     * RocksDB each time is what this saves. This instance is their only writer, and a restore
     * makes a new instance, so the copy never disagrees with the state.
     */
    private transient Map<String, IncidentState.Listed> listedCache;
    /** Incidents open now, for the gauge (written by the task thread, read by the metric reporter). */
    private transient volatile int openIncidents;
    private transient ValueState<RuleVersion> gapRule;
    private transient MapState<String, Suppression> suppressions;
    private transient Counter suppressed;
    private transient PipelineMetrics.Labelled verdicts;
    private transient Counter opened;
    private transient Counter suspensions;
    private transient Counter suspensionsSuppressed;
    private transient Counter rejectedRequests;

    public IncidentTracker(RuleVersion initialRule, SerializableClock clock, long lookbackMillis,
                           long suppressForMillis) {
        this.initialRule = initialRule;
        this.clock = clock;
        this.lookbackMillis = lookbackMillis;
        this.suppressForMillis = suppressForMillis;
    }

    public static IncidentTracker from(TourniquetConfig cfg, SerializableClock clock) {
        return new IncidentTracker(RuleCatalog.initial(RuleCatalog.INCIDENT, cfg), clock,
                cfg.get(Settings.FORENSICS_LOOKBACK).toMillis(), cfg.get(Settings.VERDICT_SUPPRESS_FOR).toMillis());
    }

    @Override
    public void open(OpenContext openContext) {
        incidents = getRuntimeContext().getMapState(INCIDENTS);
        alertIds = getRuntimeContext().getMapState(ALERT_IDS);
        userIds = getRuntimeContext().getMapState(USER_IDS);
        approvals = getRuntimeContext().getMapState(APPROVALS);
        listedState = getRuntimeContext().getMapState(LISTED);
        listedCache = new java.util.HashMap<>();
        gapRule = getRuntimeContext().getState(GAP_RULE);
        suppressions = getRuntimeContext().getMapState(SUPPRESSIONS);
        var metrics = getRuntimeContext().getMetricGroup();
        var ours = PipelineMetrics.of(metrics);
        suppressed = ours.counter("alerts_suppressed");
        verdicts = new PipelineMetrics.Labelled(ours, "label", "verdicts");
        opened = metrics.counter("incidentsOpened");
        suspensions = metrics.counter("suspensionsIssued");
        suspensionsSuppressed = metrics.counter("suspensionsAlreadyInForce");
        rejectedRequests = metrics.counter("controlRequestsRejected");
        PipelineMetrics.of(metrics).gauge("open_incidents",
                (org.apache.flink.metrics.Gauge<Integer>) () -> openIncidents);
    }

    private RuleVersion rule() throws Exception {
        RuleVersion v = gapRule.value();
        return v == null ? initialRule : v;
    }

    @Override
    public void processElement1(Alert alert, Context ctx, Collector<Alert> out) throws Exception {
        // Every alert passes here before it is published, notified or planned: its trace starts here.
        alert.traceparent = io.tourniquet.util.TraceParents.forAlert(alert.alertId);
        if (!INCIDENT_RULES.contains(alert.rule)) {
            if (suppressible(alert.rule, alert.userId)) {
                Suppression s = suppressions.get(suppressionKey(alert.rule, alert.userId));
                if (s != null && alert.eventTime > s.from && alert.eventTime <= s.until) {
                    // Raised and published (the audit trail), but nobody is told and nothing is done.
                    alert.suppressedBy = s;
                    suppressed.inc();
                    releaseTrigger(alert, ctx);
                    out.collect(alert);
                    return;
                }
            }
            notifyUsers(alert, List.of(alert.userId), alert.rule, ctx);
            releaseTrigger(alert, ctx);
            out.collect(alert);
            return;
        }
        RuleVersion rule = rule();
        long gap = rule.get(Settings.INCIDENT_GAP).toMillis();
        IncidentState st = join(alert, gap);
        Incident inc = st.incident;
        boolean isNew = st.alertCount == 0;
        alert.incidentId = inc.incidentId;
        String alertKey = member(inc.incidentId, alert.alertId);
        if (!alertIds.contains(alertKey)) {
            alertIds.put(alertKey, Boolean.TRUE);
            st.alertCount++;
            list(inc.incidentId, null, alert.alertId);
            inc.alertsByRule.merge(alert.rule, 1, Integer::sum);
            inc.startedAt = isNew ? alert.eventTime : Math.min(inc.startedAt, alert.eventTime);
            inc.lastAlertAt = isNew ? alert.eventTime : Math.max(inc.lastAlertAt, alert.eventTime);
            if (RuleCatalog.UNAUTHORIZED_APPROVAL.equals(alert.rule)) {
                IncidentState.ImpactEntry e = entryOf(alert);
                approvals.put(alertKey, e);
                addToImpact(st, e);
            }
        }
        List<String> toTell = new ArrayList<>();
        switch (alert.rule) {
            case RuleCatalog.UNAUTHORIZED_APPROVAL -> {
                notifyUsers(alert, List.of(alert.userId), alert.rule, ctx);
                // Its playbook revokes the user's 2FA tokens: they need to know how to enrol again.
                notifyUsers(alert, List.of(alert.userId), NotificationComposer.MFA_TOKENS_REVOKED, ctx);
                // A victim after the suspension learns why withdrawals are suspended, too.
                if (st.suspensionAlert != null) notifyUsers(st.suspensionAlert, List.of(alert.userId),
                        RuleCatalog.BULK_DRAIN, ctx);
            }
            case RuleCatalog.BULK_DRAIN -> {
                if (st.suspensionActive) {
                    alert.evidence.suspendWithdrawals = false;
                    suspensionsSuppressed.inc();
                } else {
                    alert.evidence.suspendWithdrawals = true;
                    st.suspensionActive = true;
                    st.suspensionAlert = copyWithoutTrigger(alert);
                    inc.suspensionActionId = Ids.of("action", alert.alertId, "suspend_withdrawals", "platform");
                    if (inc.containedAt == null) {
                        inc.containedAt = alert.eventTime;
                        long contained = inc.containedAt;
                        // Once, at containment; later approvals after it are added as they come.
                        inc.impactAfterContainment = Impact.perAsset(approvalsIn(inc.incidentId),
                                e -> e.eventTime > contained);
                        inc.usdAfterContainment = Impact.usdTotal(inc.impactAfterContainment);
                    }
                    suspensions.inc();
                    // The users this alert tells itself: the listed victims and the users it
                    // counted. A counted victim's own alert may reach this step after the bulk
                    // alert (it comes from another subtask); without its name in the notice, the
                    // withdrawal watch would tell them a second time, depending on that race.
                    Set<String> told = new LinkedHashSet<>(listed(inc.incidentId));
                    if (alert.evidence.userIds != null) told.addAll(alert.evidence.userIds);
                    ctx.output(Tags.PLATFORM_NOTICES,
                            new PlatformNotice(PlatformNotice.SUSPENDED, inc.incidentId, alert.eventTime, List.copyOf(told)));
                }
                Set<String> affected = new LinkedHashSet<>();
                if (alert.evidence.userIds != null) affected.addAll(alert.evidence.userIds);
                affected.addAll(victims(st));
                toTell.addAll(affected);
                notifyUsers(alert, toTell, alert.rule, ctx);
            }
            case RuleCatalog.DESTINATION_CONCENTRATION -> {
                if (alert.evidence.userIds != null) toTell.addAll(alert.evidence.userIds);
                notifyUsers(alert, toTell, alert.rule, ctx);
            }
            default -> throw new IllegalStateException("not an incident rule: " + alert.rule);
        }
        if (!Incident.RESOLVED.equals(inc.status)) {
            inc.status = inc.containedAt != null ? Incident.CONTAINED : Incident.OPEN;
        }
        if (isNew) opened.inc();
        publish(st, ctx);
        if (alert.trigger != null) alert.trigger.incidentId = inc.incidentId;
        releaseTrigger(alert, ctx);
        out.collect(alert);
    }

    @Override
    public void processElement2(ControlSignal signal, Context ctx, Collector<Alert> out) throws Exception {
        switch (signal.type) {
            case ControlRequest.RESOLVE_INCIDENT -> resolve(signal, ctx);
            case ControlRequest.RESUME_WITHDRAWALS -> {
                List<IncidentState> resumed = new ArrayList<>();
                for (IncidentState st : all()) {
                    if (!st.suspensionActive) continue;
                    st.suspensionActive = false;
                    incidents.put(st.incident.incidentId, st);
                    resumed.add(st);
                }
                countOpen();
                for (IncidentState st : resumed) {
                    long at = requestTime(st, signal);
                    ctx.output(Tags.PLATFORM_NOTICES, new PlatformNotice(PlatformNotice.RESUMED, st.incident.incidentId, at, listed(st.incident.incidentId)));
                    for (String user : victims(st)) {
                        NotificationRequest req = new NotificationRequest(user, NotificationComposer.WITHDRAWALS_RESUMED,
                                update(st.incident, at));
                        ctx.output(Tags.NOTIFY, req);
                    }
                }
            }
            case ControlRequest.RELEASE_ACCOUNT -> released(signal, ctx);
            case ControlRequest.VERDICT -> verdict(signal, ctx);
            case ControlRequest.OPEN_CLAIM -> openClaim(signal, ctx);
            case ControlRequest.CLAIM_DOCUMENT, ControlRequest.CLAIM_DECISION ->
                    ctx.output(Tags.CLAIMS, claimRequest(signal, ctx));
            case ControlRequest.UPDATE_RULE -> {
                if (signal.ruleVersion != null && RuleCatalog.INCIDENT.equals(signal.ruleVersion.rule)
                        && signal.ruleVersion.version > rule().version) {
                    gapRule.update(signal.ruleVersion);
                }
            }
            default -> { }
        }
    }

    /**
     * Only a user's own alerts of a rule that acts on one user can be suppressed: never an
     * unauthorized approval (the incident rules open incidents and suspend withdrawals; one
     * mistaken verdict must not let an attacker's approvals through), never a platform alert.
     */
    static boolean suppressible(String rule, String userId) {
        return userId != null && !INCIDENT_RULES.contains(rule) && !RuleCatalog.UNAUTHORIZED_APPROVAL.equals(rule);
    }

    static String suppressionKey(String rule, String userId) {
        return rule + "|" + userId;
    }

    /**
     * An analyst's verdict: published as it is (the index keeps every verdict), and a false
     * positive of a suppressible rule suppresses that user's alerts of the rule from the judged
     * alert's event time for {@code verdict.suppress-for}. A later verdict on the same rule and
     * user replaces the earlier one; any other label ends a suppression in force.
     */
    private void verdict(ControlSignal signal, Context ctx) throws Exception {
        io.tourniquet.model.Verdict v = new io.tourniquet.model.Verdict();
        v.verdictId = Ids.of("verdict", signal.requestId);
        v.requestId = signal.requestId;
        v.alertId = signal.alertId;
        v.rule = signal.rule;
        v.userId = signal.userId;
        v.label = signal.label;
        v.by = signal.requestedBy;
        v.note = signal.reason;
        v.decidedAt = signal.requestedAt;
        v.alertTime = signal.alertTime;
        if (signal.alertShadow) v.alertShadow = Boolean.TRUE;
        // A shadow version's alert acted on nothing: its verdict must not silence the version in force.
        if (!signal.alertShadow && suppressible(signal.rule, signal.userId)) {
            String key = suppressionKey(signal.rule, signal.userId);
            if (ControlRequest.FALSE_POSITIVE.equals(signal.label) && suppressForMillis > 0) {
                Suppression s = new Suppression(v.verdictId, v.alertId, v.by, com.google.common.math.LongMath.saturatedAdd(v.alertTime, suppressForMillis));
                s.from = v.alertTime;
                suppressions.put(key, s);
                v.suppressesUntil = s.until;
                // Forgotten once event time passes its end (nothing later can fall inside it).
                if (s.until < Long.MAX_VALUE) ctx.timerService().registerEventTimeTimer(s.until + 1);
            } else {
                // Any other verdict on this rule and user (e.g. a suppressed alert judged a true
                // positive after all) ends the suppression: the analyst's latest word counts.
                suppressions.remove(key);
            }
        }
        verdicts.get(v.label).inc();
        ctx.output(Tags.VERDICTS, v);
    }

    @Override
    public void onTimer(long timestamp, OnTimerContext ctx, Collector<Alert> out) throws Exception {
        List<String> over = new ArrayList<>();
        for (Map.Entry<String, Suppression> e : suppressions.entries()) {
            if (e.getValue().until < timestamp) over.add(e.getKey());
        }
        for (String key : over) suppressions.remove(key);
    }

    /** The user hears that an analyst released their account, with what was checked (the request's reason). */
    private void released(ControlSignal signal, Context ctx) throws Exception {
        IncidentState in = null;
        for (IncidentState st : all()) {
            if (signal.userId != null && userIds.contains(member(st.incident.incidentId, signal.userId))
                    && (in == null || st.incident.startedAt < in.incident.startedAt)) in = st;
        }
        Alert about;
        if (in != null) {
            about = update(in.incident, requestTime(in, signal));
        } else {
            // Not (or no longer) in an open incident: the release is its own update.
            about = new Alert();
            about.rule = NotificationComposer.ACCOUNT_RELEASED;
            about.alertId = Ids.of("release", signal.requestId);
            about.eventTime = signal.requestedAt;
        }
        NotificationRequest req = new NotificationRequest(signal.userId, NotificationComposer.ACCOUNT_RELEASED, about);
        req.subject = signal.requestId; // each release is news, even the second one in an incident
        req.note = signal.reason;
        ctx.output(Tags.NOTIFY, req);
    }

    /** An analyst opens a claim before resolution: only for a victim of an incident still in state. */
    private void openClaim(ControlSignal signal, Context ctx) throws Exception {
        IncidentState st = signal.incidentId == null ? null : get(signal.incidentId);
        List<IncidentState.ImpactEntry> own = st == null || signal.userId == null ? List.of()
                : byUser(approvalsIn(st.incident.incidentId)).getOrDefault(signal.userId, List.of());
        if (own.isEmpty()) {
            refuse(signal, st == null ? "unknown_incident" : "not_a_victim", st == null
                    ? "request " + signal.requestId + " opens a claim in incident " + signal.incidentId
                            + ", which is not open (a resolved incident's claims opened when it was resolved)"
                    : "request " + signal.requestId + " opens a claim for " + signal.userId + ", who has no"
                            + " unauthorized withdrawal in incident " + signal.incidentId, ctx);
            return;
        }
        ClaimSignal open = claimRequest(signal, ctx);
        open.type = ClaimSignal.OPEN;
        fillOpening(open, st, own, ctx);
        ctx.output(Tags.CLAIMS, open);
    }

    private ClaimSignal claimRequest(ControlSignal signal, Context ctx) {
        ClaimSignal c = new ClaimSignal();
        c.type = ControlRequest.CLAIM_DOCUMENT.equals(signal.type) ? ClaimSignal.DOCUMENT : ClaimSignal.DECISION;
        c.userId = signal.userId;
        c.incidentId = signal.incidentId;
        c.by = signal.requestedBy;
        c.approvedBy = signal.approvedBy;
        c.at = signal.requestedAt;
        c.requestId = signal.requestId;
        c.reason = signal.reason;
        c.document = signal.document;
        c.decision = signal.decision;
        c.eventTime = signal.requestedAt;
        c.raw = signal.raw;
        return c;
    }

    private void fillOpening(ClaimSignal c, IncidentState st, List<IncidentState.ImpactEntry> own, Context ctx) {
        for (IncidentState.ImpactEntry e : own) {
            Claim.ClaimWithdrawal w = new Claim.ClaimWithdrawal();
            w.withdrawalId = e.withdrawalId;
            w.alertId = e.alertId;
            w.asset = e.asset;
            w.amount = e.amount;
            w.usdValue = Impact.usd(e.usdValue);
            w.eventTime = e.eventTime;
            c.withdrawals.add(w);
        }
        c.windowStart = st.incident.startedAt - lookbackMillis;
        c.windowEnd = st.incident.lastAlertAt + lookbackMillis;
        // Decided once event time has passed the incident's last alert: every login and account
        // change before the user's withdrawals has arrived by then.
        c.eventTime = st.incident.lastAlertAt;
    }

    /** Each victim's own approvals, in time order (withdrawal id on a tie). */
    private static Map<String, List<IncidentState.ImpactEntry>> byUser(List<IncidentState.ImpactEntry> entries) {
        Map<String, List<IncidentState.ImpactEntry>> own = new java.util.HashMap<>();
        for (IncidentState.ImpactEntry e : entries) {
            if (e.userId != null) own.computeIfAbsent(e.userId, u -> new ArrayList<>()).add(e);
        }
        for (List<IncidentState.ImpactEntry> list : own.values()) {
            list.sort(java.util.Comparator.comparingLong((IncidentState.ImpactEntry e) -> e.eventTime)
                    .thenComparing(e -> e.withdrawalId == null ? "" : e.withdrawalId));
        }
        return own;
    }

    /** The incident's listed victims (a copy). */
    private List<String> listed(String incidentId) throws Exception {
        return new ArrayList<>(listedOf(incidentId).userIds);
    }

    /**
     * Adds a victim or an alert to the incident's listed ids while there is room: as a new object,
     * since one put into state must not change under an asynchronous heap-state snapshot.
     */
    private void list(String incidentId, String userId, String alertId) throws Exception {
        IncidentState.Listed old = listedOf(incidentId);
        boolean addUser = userId != null && old.userIds.size() < MAX_LISTED;
        boolean addAlert = alertId != null && old.alertIds.size() < MAX_LISTED;
        if (!addUser && !addAlert) return;
        IncidentState.Listed next = new IncidentState.Listed();
        next.userIds = new ArrayList<>(old.userIds);
        next.alertIds = new ArrayList<>(old.alertIds);
        if (addUser) next.userIds.add(userId);
        if (addAlert) next.alertIds.add(alertId);
        listedState.put(incidentId, next);
        listedCache.put(incidentId, next);
    }

    /** The incident's published ids: never to be changed (see {@link #list}). */
    private IncidentState.Listed listedOf(String incidentId) throws Exception {
        IncidentState.Listed listed = listedCache.get(incidentId);
        if (listed == null) {
            listed = listedState.get(incidentId);
            if (listed == null) listed = new IncidentState.Listed();
            listedCache.put(incidentId, listed);
        }
        return listed;
    }

    /**
     * The key of an incident's member (alert or user) in the map states: the incident id (hex,
     * no space), a space, the member's id. Every incident's members share the one platform key.
     */
    static String member(String incidentId, String id) {
        return incidentId + ' ' + id;
    }

    /**
     * One incident's entries of a member map, by member id: a scan of every incident's (one key
     * holds them all), so for rare events only.
     */
    private static <V> Map<String, V> membersOf(MapState<String, V> members, String incidentId) throws Exception {
        String prefix = member(incidentId, "");
        Map<String, V> of = new java.util.LinkedHashMap<>();
        for (Map.Entry<String, V> e : members.entries()) {
            if (e.getKey().startsWith(prefix)) of.put(e.getKey().substring(prefix.length()), e.getValue());
        }
        return of;
    }

    /** The incident's victims: users with an unauthorized approval in it, in order of their first. */
    private List<String> victims(IncidentState st) throws Exception {
        List<Map.Entry<String, Integer>> ranked = new ArrayList<>(membersOf(userIds, st.incident.incidentId).entrySet());
        ranked.sort(Map.Entry.comparingByValue());
        List<String> users = new ArrayList<>(ranked.size());
        for (var e : ranked) users.add(e.getKey());
        return users;
    }

    /** The incident's unauthorized approvals. */
    private List<IncidentState.ImpactEntry> approvalsIn(String incidentId) throws Exception {
        return new ArrayList<>(membersOf(approvals, incidentId).values());
    }

    /** Forgets a resolved incident's members. */
    private void forgetMembers(String incidentId) throws Exception {
        for (MapState<String, ?> members : List.<MapState<String, ?>>of(alertIds, userIds, approvals)) {
            for (String id : membersOf(members, incidentId).keySet()) members.remove(member(incidentId, id));
        }
        listedState.remove(incidentId);
        listedCache.remove(incidentId);
    }

    /** The incident kept under {@code id}, in the current layout; null if none. */
    private IncidentState get(String id) throws Exception {
        IncidentState st = incidents.get(id);
        return st == null ? null : current(st);
    }

    /** Every incident kept, in the current layout. */
    private List<IncidentState> all() throws Exception {
        List<IncidentState> out = new ArrayList<>();
        for (IncidentState st : incidents.values()) out.add(current(st));
        return out;
    }

    /**
     * A record written by a build before the split layout (its alert ids, user ids and approvals
     * whole inside it) moves them into the map states and caps its lists, once, when first read.
     */
    private IncidentState current(IncidentState st) throws Exception {
        if (st.layout == IncidentState.LAYOUT_SPLIT) return st;
        Incident inc = st.incident;
        for (String id : inc.alertIds) alertIds.put(member(inc.incidentId, id), Boolean.TRUE);
        st.alertCount = new java.util.HashSet<>(inc.alertIds).size();
        int rank = 0;
        for (String user : new LinkedHashSet<>(inc.userIds)) {
            if (user != null) userIds.put(member(inc.incidentId, user), rank++);
        }
        for (IncidentState.ImpactEntry e : st.approvals) approvals.put(member(inc.incidentId, e.alertId), e);
        st.approvals = new ArrayList<>();
        IncidentState.Listed listed = new IncidentState.Listed();
        listed.alertIds = new ArrayList<>(inc.alertIds.subList(0, Math.min(MAX_LISTED, inc.alertIds.size())));
        listed.userIds = new ArrayList<>(inc.userIds.subList(0, Math.min(MAX_LISTED, inc.userIds.size())));
        listedState.put(inc.incidentId, listed);
        listedCache.put(inc.incidentId, listed);
        inc.alertIds = new ArrayList<>();
        inc.userIds = new ArrayList<>();
        st.layout = IncidentState.LAYOUT_SPLIT;
        incidents.put(inc.incidentId, st);
        return st;
    }

    /**
     * Event time of an update an analyst's request caused: when it was signed (never before the
     * incident's last alert). The notice is composed once event time reaches it, like every other,
     * so it carries the code the user had set by then whatever order the topics are read in (a
     * replay reads the control topic before the history it answers).
     */
    private static long requestTime(IncidentState st, ControlSignal signal) {
        return Math.max(st.incident.lastAlertAt, signal.requestedAt);
    }

    /** An alert-shaped record for an update about {@code inc}: no alert id of its own, the incident's id. */
    private static Alert update(Incident inc, long eventTime) {
        Alert a = new Alert();
        a.incidentId = inc.incidentId;
        a.eventTime = eventTime;
        return a;
    }

    private void refuse(ControlSignal signal, String code, String why, Context ctx) {
        rejectedRequests.inc();
        RawRecord raw = signal.raw != null ? signal.raw : new RawRecord();
        if (raw.value == null) raw.value = Json.toBytes(signal);
        ctx.output(Tags.DEAD_LETTERS, DeadLetter.of(raw, code, why, clock.getAsLong()));
    }

    private void resolve(ControlSignal signal, Context ctx) throws Exception {
        IncidentState st = signal.incidentId == null ? null : get(signal.incidentId);
        if (st == null) {
            refuse(signal, "unknown_incident", "request " + signal.requestId + " asks to resolve incident "
                    + signal.incidentId + ", which is not open", ctx);
            return;
        }
        st.incident.status = Incident.RESOLVED;
        st.incident.resolvedAt = signal.requestedAt;
        st.incident.resolvedBy = signal.requestedBy;
        publish(st, ctx);
        // Every victim hears how it ended for them, and gets a claim under the programme.
        long at = requestTime(st, signal);
        Map<String, List<IncidentState.ImpactEntry>> ownOf = byUser(approvalsIn(st.incident.incidentId));
        for (String user : victims(st)) {
            List<IncidentState.ImpactEntry> own = ownOf.getOrDefault(user, List.of());
            NotificationRequest req = new NotificationRequest(user, NotificationComposer.INCIDENT_RESOLVED,
                    update(st.incident, at));
            ClaimSignal open = new ClaimSignal();
            open.type = ClaimSignal.OPEN;
            open.userId = user;
            open.incidentId = st.incident.incidentId;
            open.by = ClaimSignal.BY_TOURNIQUET;
            open.at = signal.requestedAt;
            open.requestId = signal.requestId;
            open.reason = "incident resolved by " + signal.requestedBy;
            fillOpening(open, st, own, ctx);
            req.withdrawals = open.withdrawals;
            ctx.output(Tags.NOTIFY, req);
            ctx.output(Tags.CLAIMS, open);
        }
        // Resolved: later alerts open a new incident, so nothing more is needed from it.
        incidents.remove(signal.incidentId);
        forgetMembers(signal.incidentId);
        countOpen();
    }

    /** The open incident whose alerts are less than the gap away, else a new one. */
    private IncidentState join(Alert alert, long gap) throws Exception {
        IncidentState best = null;
        for (IncidentState st : all()) {
            Incident inc = st.incident;
            if (Incident.RESOLVED.equals(inc.status)) continue;
            boolean near = alert.eventTime > inc.startedAt - gap && alert.eventTime < inc.lastAlertAt + gap;
            if (near && (best == null || inc.startedAt < best.incident.startedAt)) best = st;
        }
        if (best != null) return best;
        IncidentState st = new IncidentState();
        st.layout = IncidentState.LAYOUT_SPLIT;
        Incident inc = new Incident();
        inc.incidentId = Ids.of("incident", alert.alertId);
        inc.status = Incident.OPEN;
        inc.startedAt = alert.eventTime;
        inc.lastAlertAt = alert.eventTime;
        inc.detectedAt = alert.detectedAt;
        st.incident = inc;
        return st;
    }

    private static IncidentState.ImpactEntry entryOf(Alert a) {
        IncidentState.ImpactEntry e = new IncidentState.ImpactEntry();
        e.alertId = a.alertId;
        e.userId = a.userId;
        e.withdrawalId = a.withdrawalId;
        e.asset = a.evidence.asset;
        e.amount = a.evidence.amount;
        e.usdValue = a.evidence.usdValue;
        e.eventTime = a.eventTime;
        return e;
    }

    /**
     * Adds one unauthorized approval to the incident's figures. Incremental, not recomputed from
     * every approval at every alert: an incident of 50,000 alerts (an attacker's flood) made that
     * quadratic on the one platform key that every freeze passes through. Exact either way:
     * decimal sums do not depend on the order of addition.
     */
    private void addToImpact(IncidentState st, IncidentState.ImpactEntry e) throws Exception {
        Incident inc = st.incident;
        String userKey = e.userId == null ? null : member(inc.incidentId, e.userId);
        if (userKey != null && !userIds.contains(userKey)) {
            userIds.put(userKey, inc.usersAffected);
            list(inc.incidentId, e.userId, null);
            inc.usersAffected++;
        }
        inc.usdTotal = inc.usdTotal.add(Impact.usd(e.usdValue));
        Impact.add(inc.impact, e);
        if (inc.containedAt != null && e.eventTime > inc.containedAt) {
            inc.usdAfterContainment = inc.usdAfterContainment.add(Impact.usd(e.usdValue));
            Impact.add(inc.impactAfterContainment, e);
        }
    }

    private void publish(IncidentState st, Context ctx) throws Exception {
        Incident inc = st.incident;
        inc.version++;
        inc.updatedAt = clock.getAsLong();
        if (!Incident.RESOLVED.equals(inc.status)) incidents.put(inc.incidentId, st);
        countOpen();
        ctx.output(Tags.INCIDENTS, publishable(inc, listedOf(inc.incidentId), st.alertCount));
    }

    /**
     * A copy (the published record must not change when the state object does) whose id lists
     * hold at most {@link #MAX_LISTED} entries: built field by field, in time independent of the
     * incident's size, since it is made at every change of it.
     */
    static Incident publishable(Incident inc, IncidentState.Listed listed, int alertCount) {
        Incident p = new Incident();
        p.incidentId = inc.incidentId;
        p.status = inc.status;
        p.startedAt = inc.startedAt;
        p.detectedAt = inc.detectedAt;
        p.containedAt = inc.containedAt;
        p.resolvedAt = inc.resolvedAt;
        p.resolvedBy = inc.resolvedBy;
        p.lastAlertAt = inc.lastAlertAt;
        p.usersAffected = inc.usersAffected;
        p.userIds = new ArrayList<>(listed.userIds);
        p.alertIds = new ArrayList<>(listed.alertIds);
        p.idListsTruncated = inc.usersAffected > MAX_LISTED || alertCount > MAX_LISTED;
        p.impact = copyOf(inc.impact);
        p.usdTotal = inc.usdTotal;
        p.impactAfterContainment = copyOf(inc.impactAfterContainment);
        p.usdAfterContainment = inc.usdAfterContainment;
        p.alertsByRule = new java.util.LinkedHashMap<>(inc.alertsByRule);
        p.suspensionActionId = inc.suspensionActionId;
        p.version = inc.version;
        p.updatedAt = inc.updatedAt;
        return p;
    }

    private static List<io.tourniquet.model.AssetImpact> copyOf(List<io.tourniquet.model.AssetImpact> impact) {
        List<io.tourniquet.model.AssetImpact> out = new ArrayList<>(impact.size());
        for (var a : impact) out.add(new io.tourniquet.model.AssetImpact(a.asset, a.amount, a.usdValue, a.withdrawals));
        return out;
    }

    private static void notifyUsers(Alert alert, List<String> users, String kind, Context ctx) {
        Alert copy = copyWithoutTrigger(alert);
        for (String user : users) {
            if (user != null) ctx.output(Tags.NOTIFY, new NotificationRequest(user, kind, copy));
        }
    }

    /** The trigger (an unauthorized approval) leaves now, carrying the incident id. */
    private static void releaseTrigger(Alert alert, Context ctx) {
        if (alert.trigger != null) {
            ctx.output(Tags.INCIDENT_EVENTS, alert.trigger);
            alert.trigger = null;
        }
    }

    /**
     * Refreshes the open-incidents gauge. Called where incidents change, with the (single,
     * platform) key set: the metric thread must never read keyed state itself.
     */
    private void countOpen() throws Exception {
        int n = 0;
        for (String ignored : incidents.keys()) n++;
        openIncidents = n;
    }

    private static Alert copyWithoutTrigger(Alert a) {
        Alert copy = Json.MAPPER.convertValue(Json.tree(a), Alert.class);
        copy.trigger = null;
        return copy;
    }
}
