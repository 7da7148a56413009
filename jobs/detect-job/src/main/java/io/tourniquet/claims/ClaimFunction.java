package io.tourniquet.claims;

import io.tourniquet.runtime.PipelineMetrics;
import com.google.common.math.LongMath;
import io.tourniquet.config.Settings;
import io.tourniquet.config.TourniquetConfig;
import io.tourniquet.util.SerializableClock;
import io.tourniquet.streams.Tags;
import io.tourniquet.json.Json;
import io.tourniquet.model.Alert;
import io.tourniquet.model.Claim;
import io.tourniquet.model.ClaimSignal;
import io.tourniquet.model.ControlRequest;
import io.tourniquet.model.DeadLetter;
import io.tourniquet.model.Event;
import io.tourniquet.model.NotificationRequest;
import io.tourniquet.model.RawRecord;
import io.tourniquet.notify.NotificationComposer;
import io.tourniquet.util.Ids;
import java.math.BigDecimal;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.state.MapState;
import org.apache.flink.api.common.state.MapStateDescriptor;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.api.common.typeinfo.TypeHint;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.metrics.Counter;
import org.apache.flink.streaming.api.functions.co.KeyedCoProcessFunction;
import org.apache.flink.util.Collector;

/**
 * Keyed by user: the Account Protection Programme from claim to payout. Every change of a claim
 * leaves as a new version ({@code tourniquet.claims}) and a notice to the user ({@link Tags#NOTIFY}).
 *
 * <p>Input 1 is the user's logins and account changes: they keep the {@link ClaimProfile} the
 * conditions are decided from. Input 2 is {@link ClaimSignal}s from the incident tracker: a claim
 * to open (at resolution, or on an analyst's {@code open_claim}) and analysts' verified
 * {@code claim_document} and {@code claim_decision} requests.
 *
 * <p>An opening is decided once event time has reached it (a timer at its event time): by then every
 * login and account change from before it has arrived, so the conditions do not depend on how far
 * each input topic happened to be read. Requests for a claim whose opening is still waiting wait
 * behind it, in order.
 *
 * <p>Refused, dead-lettered with a reason and counted, changing nothing: a request for a claim that
 * does not exist ({@code unknown_claim}), a document already received ({@code document_already_received}),
 * any change to a decided claim ({@code already_decided}), an approval while documents are
 * outstanding ({@code documents_outstanding}) or of a claim a condition fails ({@code not_eligible}:
 * the record rules it out; an analyst denies it, with the reason, instead). Conditions the record
 * cannot decide ({@code review}) are the deciding analyst's to judge.
 *
 * <p>State per user: the profile (for the account's life; its jailbroken logins drain), the claims
 * (a decided claim is forgotten {@code notify.dedup-retention} after its decision: later requests
 * about it are refused as {@code unknown_claim}), and the waiting signals.
 */
public final class ClaimFunction extends KeyedCoProcessFunction<String, Event, ClaimSignal, Claim> {
    private static final long serialVersionUID = 1L;

    static final String UNKNOWN_CLAIM = "unknown_claim";
    static final String DOCUMENT_ALREADY_RECEIVED = "document_already_received";
    static final String ALREADY_DECIDED = "already_decided";
    static final String DOCUMENTS_OUTSTANDING = "documents_outstanding";
    static final String NOT_ELIGIBLE = "not_eligible";

    static final ValueStateDescriptor<ClaimProfile> PROFILE = new ValueStateDescriptor<>("claim-profile", ClaimProfile.class);
    static final MapStateDescriptor<String, Claim> CLAIMS = new MapStateDescriptor<>("claims", String.class, Claim.class);
    /** Incident id → event time a decided claim may be forgotten at. */
    static final MapStateDescriptor<String, Long> DECIDED = new MapStateDescriptor<>("claims-decided", String.class, Long.class);
    static final ValueStateDescriptor<List<ClaimSignal>> WAITING = new ValueStateDescriptor<>("claim-signals-waiting",
            TypeInformation.of(new TypeHint<List<ClaimSignal>>() {}));

    private final BigDecimal limitUsd;
    private final Duration codeMinAge;
    private final ArrayList<String> mfaTypes;
    private final long jailbrokenRetentionMillis;
    private final long decidedRetentionMillis;
    private final SerializableClock clock;

    private transient ValueState<ClaimProfile> profile;
    private transient MapState<String, Claim> claims;
    private transient ValueState<List<ClaimSignal>> waiting;
    private transient MapState<String, Long> decidedClaims;
    private transient Counter opened;
    private transient Counter decided;
    private transient Counter lateIgnored;
    private transient PipelineMetrics.Labelled refused;

    public ClaimFunction(BigDecimal limitUsd, Duration codeMinAge, List<String> mfaTypes, long jailbrokenRetentionMillis,
                         long decidedRetentionMillis, SerializableClock clock) {
        this.limitUsd = limitUsd;
        this.codeMinAge = codeMinAge;
        this.mfaTypes = new ArrayList<>(mfaTypes);
        this.jailbrokenRetentionMillis = jailbrokenRetentionMillis;
        this.decidedRetentionMillis = decidedRetentionMillis;
        this.clock = clock;
    }

    public static ClaimFunction from(TourniquetConfig cfg, SerializableClock clock) {
        List<String> types = new ArrayList<>();
        for (String t : cfg.get(Settings.APP_MFA_TYPES).split(",")) if (!t.isBlank()) types.add(t.trim());
        return new ClaimFunction(cfg.get(Settings.CLAIMS_LIMIT_USD), cfg.get(Settings.APP_CODE_MIN_AGE), types,
                cfg.get(Settings.CLAIMS_LOGIN_RETENTION).toMillis(), cfg.get(Settings.NOTIFY_RETENTION).toMillis(), clock);
    }

    @Override
    public void open(OpenContext openContext) {
        profile = getRuntimeContext().getState(PROFILE);
        claims = getRuntimeContext().getMapState(CLAIMS);
        waiting = getRuntimeContext().getState(WAITING);
        decidedClaims = getRuntimeContext().getMapState(DECIDED);
        var metrics = PipelineMetrics.of(getRuntimeContext().getMetricGroup());
        opened = metrics.counter("claims_opened");
        decided = metrics.counter("claims_decided");
        lateIgnored = metrics.counter("claim_facts_late_ignored");
        refused = new PipelineMetrics.Labelled(metrics, "reason", "dead_letters");
    }

    // ---- the record -------------------------------------------------------------------------------------

    @Override
    public void processElement1(Event e, Context ctx, Collector<Claim> out) throws Exception {
        ClaimProfile p = profile.value();
        boolean changed = false;
        if (p == null) {
            p = new ClaimProfile();
            changed = true;
        }
        if (p.earliestEventAt == null || e.eventTime < p.earliestEventAt) {
            p.earliestEventAt = e.eventTime;
            changed = true;
        }
        // A record behind the watermark (late) never makes a claim more eligible: a backdated code
        // or 2FA policy is how someone who can write one input record would buy a payout. It still
        // counts against (a jailbroken login, an earlier start of the record).
        boolean mayFavour = !e.late;
        if (!mayFavour && isFavourable(e)) lateIgnored.inc();
        if (mayFavour && e.kind == Event.Kind.ACCOUNT_CHANGE && "anti_phishing_code_set".equals(e.action)
                && (p.firstCodeSetAt == null || e.eventTime < p.firstCodeSetAt)) {
            p.firstCodeSetAt = e.eventTime;
            changed = true;
        }
        if (mayFavour && e.kind == Event.Kind.ACCOUNT_CHANGE && "mfa_policy_changed".equals(e.action)) {
            ClaimProfile.Policy policy = new ClaimProfile.Policy();
            policy.eventTime = e.eventTime;
            policy.login = Boolean.TRUE.equals(e.mfaPolicyLogin);
            policy.withdrawal = Boolean.TRUE.equals(e.mfaPolicyWithdrawal);
            policy.whitelistAddress = Boolean.TRUE.equals(e.mfaPolicyWhitelistAddress);
            policy.settings = Boolean.TRUE.equals(e.mfaPolicySettings);
            insertSorted(p.policies, policy, x -> x.eventTime);
            // The oldest matter least: a claim asks for the latest before its withdrawals.
            while (p.policies.size() > ClaimProfile.MAX_POLICIES) p.policies.remove(0);
            changed = true;
        }
        if (e.kind == Event.Kind.LOGIN && Boolean.TRUE.equals(e.deviceJailbroken)) {
            ClaimProfile.JailbrokenLogin l = new ClaimProfile.JailbrokenLogin();
            l.eventTime = e.eventTime;
            l.deviceId = e.deviceId;
            l.sessionId = e.sessionId;
            l.ip = e.ip;
            insertSorted(p.jailbroken, l, x -> x.eventTime);
            while (p.jailbroken.size() > ClaimProfile.MAX_JAILBROKEN) p.jailbroken.remove(p.jailbroken.size() - 1);
            ctx.timerService().registerEventTimeTimer(forgetAt(e.eventTime, jailbrokenRetentionMillis));
            changed = true;
        }
        if (changed) profile.update(p);
    }

    private static boolean isFavourable(Event e) {
        return e.kind == Event.Kind.ACCOUNT_CHANGE
                && ("anti_phishing_code_set".equals(e.action) || "mfa_policy_changed".equals(e.action));
    }

    private static <T> void insertSorted(List<T> list, T item, java.util.function.ToLongFunction<T> time) {
        int i = list.size();
        while (i > 0 && time.applyAsLong(list.get(i - 1)) > time.applyAsLong(item)) i--;
        list.add(i, item);
    }

    // ---- claims -----------------------------------------------------------------------------------------

    @Override
    public void processElement2(ClaimSignal s, Context ctx, Collector<Claim> out) throws Exception {
        List<ClaimSignal> queue = waiting.value();
        boolean behindAnOpening = queue != null && queue.stream().anyMatch(w -> w.incidentId.equals(s.incidentId));
        // A timer at or before the watermark would fire only at the next watermark, which a quiet
        // input may not send for a long time: what event time has already reached is done now.
        boolean due = s.eventTime <= ctx.timerService().currentWatermark();
        if ((ClaimSignal.OPEN.equals(s.type) && !due) || behindAnOpening) {
            if (queue == null) queue = new ArrayList<>();
            queue.add(s);
            waiting.update(queue);
            if (ClaimSignal.OPEN.equals(s.type)) ctx.timerService().registerEventTimeTimer(s.eventTime);
            return;
        }
        apply(s, ctx, out);
    }

    @Override
    public void onTimer(long timestamp, OnTimerContext ctx, Collector<Claim> out) throws Exception {
        List<ClaimSignal> queue = waiting.value();
        if (queue != null) {
            // Openings due now, and everything queued behind them, in arrival order.
            List<String> due = new ArrayList<>();
            for (ClaimSignal s : queue) {
                if (ClaimSignal.OPEN.equals(s.type) && s.eventTime <= timestamp) due.add(s.incidentId);
            }
            List<ClaimSignal> rest = new ArrayList<>();
            for (ClaimSignal s : queue) {
                if (due.contains(s.incidentId)) apply(s, ctx, out);
                else rest.add(s);
            }
            if (rest.isEmpty()) waiting.clear();
            else waiting.update(rest);
        }
        drain(timestamp);
    }

    private void apply(ClaimSignal s, Context ctx, Collector<Claim> out) throws Exception {
        switch (s.type) {
            case ClaimSignal.OPEN -> open(s, ctx, out);
            case ClaimSignal.DOCUMENT -> document(s, ctx, out);
            case ClaimSignal.DECISION -> decide(s, ctx, out);
            default -> refuse(s, "malformed", "unknown claim signal " + s.type, ctx);
        }
    }

    private void open(ClaimSignal s, Context ctx, Collector<Claim> out) throws Exception {
        if (claims.contains(s.incidentId)) {
            // Opened already (by an analyst before resolution, or the other way round): not twice.
            if (!ClaimSignal.BY_TOURNIQUET.equals(s.by)) {
                refuse(s, "claim_already_open", "claim of " + s.userId + " in incident " + s.incidentId + " is already open", ctx);
            }
            return;
        }
        if (s.withdrawals.isEmpty()) {
            refuse(s, UNKNOWN_CLAIM, s.userId + " has no unauthorized withdrawal in incident " + s.incidentId, ctx);
            return;
        }
        ClaimProfile p = profile.value();
        if (p == null) p = new ClaimProfile();
        long first = s.withdrawals.stream().mapToLong(w -> w.eventTime).min().orElse(s.eventTime);

        Claim c = new Claim();
        c.claimId = Ids.of("claim", s.incidentId, s.userId);
        c.userId = s.userId;
        c.incidentId = s.incidentId;
        c.status = Claim.AWAITING_DOCUMENTS;
        c.openedAt = s.at;
        c.openedBy = s.by;
        c.withdrawals = new ArrayList<>(s.withdrawals);
        c.loss = Payout.loss(c.withdrawals);
        c.lossUsd = Payout.total(c.loss);
        c.limitUsd = limitUsd;
        c.conditions = ClaimConditions.check(p, first, s.windowStart, s.windowEnd, codeMinAge, mfaTypes);
        c.eligibility = ClaimConditions.eligibility(c.conditions);
        for (String d : Claim.DOCUMENTS) c.documents.add(new Claim.Document(d));
        c.outstanding = new ArrayList<>(Claim.DOCUMENTS);
        c.payoutUsd = null;
        change(c, "opened", s, s.reason);
        opened.inc();
        publish(c, s, NotificationComposer.CLAIM_OPENED, null, ctx, out);
    }

    private void document(ClaimSignal s, Context ctx, Collector<Claim> out) throws Exception {
        Claim c = undecided(s, ctx);
        if (c == null) return;
        Claim.Document d = c.documents.stream().filter(x -> x.name.equals(s.document)).findFirst().orElse(null);
        if (d == null || d.received) {
            refuse(s, DOCUMENT_ALREADY_RECEIVED, "claim " + c.claimId + ": " + s.document + " was already received"
                    + (d == null ? "" : " (recorded by " + d.recordedBy + ")"), ctx);
            return;
        }
        d.received = true;
        d.receivedAt = s.at;
        d.recordedBy = s.by;
        c.outstanding.remove(s.document);
        if (c.outstanding.isEmpty()) c.status = Claim.UNDER_REVIEW;
        change(c, "document_received", s, s.document);
        publish(c, s, NotificationComposer.CLAIM_DOCUMENT_RECEIVED, s.document, ctx, out);
    }

    /** The claim {@code s} changes, or null (refused and dead-lettered) if there is none or it is decided. */
    private Claim undecided(ClaimSignal s, Context ctx) throws Exception {
        Claim c = claims.get(s.incidentId);
        if (c == null) {
            refuse(s, UNKNOWN_CLAIM, "no claim of " + s.userId + " in incident " + s.incidentId, ctx);
        } else if (c.decision != null) {
            refuse(s, ALREADY_DECIDED, "claim " + c.claimId + " was decided (" + c.decision + ") by " + c.decidedBy, ctx);
            c = null;
        }
        return c;
    }

    private void decide(ClaimSignal s, Context ctx, Collector<Claim> out) throws Exception {
        Claim c = undecided(s, ctx);
        if (c == null) return;
        boolean approve = ControlRequest.APPROVE_CLAIM.equals(s.decision);
        if (approve && !c.outstanding.isEmpty()) {
            refuse(s, DOCUMENTS_OUTSTANDING, "claim " + c.claimId + " cannot be approved before "
                    + String.join(" and ", c.outstanding) + " arrive", ctx);
            return;
        }
        if (approve && ClaimConditions.NOT_ELIGIBLE.equals(c.eligibility)) {
            refuse(s, NOT_ELIGIBLE, "claim " + c.claimId + " fails a programme condition ("
                    + failed(c) + "); deny it with the reason instead", ctx);
            return;
        }
        c.decision = s.decision;
        c.decisionReason = s.reason;
        c.decidedBy = s.by;
        c.decisionApprovedBy = s.approvedBy;
        c.decidedAt = s.at;
        c.limitUsd = limitUsd;
        if (approve) {
            c.status = Claim.APPROVED;
            c.payout = Payout.payout(c.loss, limitUsd);
            c.payoutUsd = Payout.total(c.payout);
        } else {
            c.status = Claim.DENIED;
            c.payout = new ArrayList<>();
            c.payoutUsd = BigDecimal.ZERO;
        }
        change(c, approve ? "approved" : "denied", s, s.reason);
        decided.inc();
        publish(c, s, approve ? NotificationComposer.CLAIM_APPROVED : NotificationComposer.CLAIM_DENIED, null, ctx, out);
        long forget = forgetAt(noticeTime(s, ctx), decidedRetentionMillis);
        decidedClaims.put(c.incidentId, forget);
        ctx.timerService().registerEventTimeTimer(forget);
    }

    private static String failed(Claim c) {
        List<String> names = new ArrayList<>();
        for (Claim.Condition k : c.conditions) if (ClaimConditions.FAIL.equals(k.outcome)) names.add(k.name + ": " + k.detail);
        return String.join("; ", names);
    }

    private void change(Claim c, String what, ClaimSignal s, String detail) {
        c.version++;
        c.updatedAt = clock.getAsLong();
        Claim.Change ch = new Claim.Change();
        ch.version = c.version;
        ch.change = what;
        ch.by = s.by;
        ch.approvedBy = s.approvedBy;
        ch.at = s.at;
        ch.requestId = s.requestId;
        ch.detail = detail;
        c.history.add(ch);
    }

    private void publish(Claim c, ClaimSignal s, String kind, String subject, Context ctx, Collector<Claim> out)
            throws Exception {
        claims.put(c.incidentId, c);
        // A copy: the state object changes with the next version, the published one must not. The
        // record and the notice share it (neither changes it; Flink copies between chained tasks).
        Claim published = copy(c);
        out.collect(published);
        Alert about = new Alert();
        about.incidentId = c.incidentId;
        about.eventTime = noticeTime(s, ctx);
        NotificationRequest req = new NotificationRequest(c.userId, kind, about);
        req.claim = published;
        req.subject = subject;
        req.note = c.decisionReason;
        ctx.output(Tags.NOTIFY, req);
    }

    /** The request's signing time (its notice is composed once event time reaches it), never before the opening. */
    private static long noticeTime(ClaimSignal s, Context ctx) {
        return Math.max(s.eventTime, s.at);
    }

    private static Claim copy(Claim c) {
        return Json.MAPPER.convertValue(Json.tree(c), Claim.class);
    }

    private void refuse(ClaimSignal s, String code, String why, Context ctx) {
        refused.get(code).inc();
        RawRecord raw = s.raw != null ? s.raw : new RawRecord();
        if (raw.value == null) raw.value = Json.toBytes(s);
        ctx.output(Tags.DEAD_LETTERS, DeadLetter.of(raw, code, why, clock.getAsLong()));
    }

    /** Jailbroken logins past retention, and decided claims past theirs. */
    private void drain(long timestamp) throws Exception {
        ClaimProfile p = profile.value();
        if (p != null && p.jailbroken.removeIf(l -> forgetAt(l.eventTime, jailbrokenRetentionMillis) <= timestamp)) {
            profile.update(p);
        }
        List<String> done = new ArrayList<>();
        for (var e : decidedClaims.entries()) if (e.getValue() <= timestamp) done.add(e.getKey());
        for (String k : done) {
            claims.remove(k);
            decidedClaims.remove(k);
        }
    }

    private static long forgetAt(long eventTime, long retention) {
        return LongMath.saturatedAdd(eventTime, retention);
    }
}
