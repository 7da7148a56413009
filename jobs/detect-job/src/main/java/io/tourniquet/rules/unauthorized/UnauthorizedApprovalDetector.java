package io.tourniquet.rules.unauthorized;

import io.tourniquet.runtime.PipelineMetrics;
import io.tourniquet.detect.PendingApproval;
import io.tourniquet.detect.Challenge;
import io.tourniquet.rules.RuleDetector;
import io.tourniquet.streams.Tags;
import io.tourniquet.util.SerializableClock;
import io.tourniquet.model.Alert;
import io.tourniquet.model.AlertEvidence;
import io.tourniquet.model.EnrichedEvent;
import io.tourniquet.model.Event;
import io.tourniquet.util.Ids;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.state.MapState;
import org.apache.flink.api.common.state.MapStateDescriptor;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.metrics.Counter;
import io.tourniquet.rules.RuleVersion;
import io.tourniquet.rules.RuleView;
import org.apache.flink.streaming.api.TimeDomain;
import org.apache.flink.streaming.api.functions.co.KeyedBroadcastProcessFunction;
import org.apache.flink.util.Collector;

/**
 * Keyed by user: decides for every withdrawal approval whether a valid 2FA verification backs it
 * (contract section 2, "Authorized approval") and raises an {@code unauthorized_approval} alert
 * when none does. Every input event leaves enriched on the main output; approvals leave once
 * decided, carrying the decision.
 *
 * <p>Decisions are made as early as they can be made safely: an approval with no challenge id, or
 * one claiming a challenge that already authorized another approval, can never become valid, and
 * an approval whose valid verification is already here can never become invalid. Only the rest
 * wait, for the grace in event time, or, if event time stalls (the watermark does not move for
 * the whole wall-clock bound, e.g. every partition idle), for that bound.
 *
 * <p>Its thresholds are the rule's current version (broadcast state, changed by analysts' signed
 * requests without a restart); every alert names the version that produced it. An unauthorized
 * approval leaves inside its alert ({@link Alert#trigger}) so that it is published with the
 * incident id the incident tracker gives it; everything else leaves on the main output.
 *
 * <p>State per user: the challenges seen (forgotten by an event-time timer once no approval can
 * still claim them, and capped), and the undecided approvals. Timers are never deleted: one that
 * finds nothing due does nothing, which keeps the bookkeeping simple and the state exact.
 */
public final class UnauthorizedApprovalDetector
        extends RuleDetector<EnrichedEvent, EnrichedEvent, UnauthorizedApprovalSettings> {
    private static final long serialVersionUID = 1L;

    public static final String RULE = UnauthorizedApprovalRule.ID;
    public static final String SEVERITY = UnauthorizedApprovalRule.DEFINITION.severity();

    public static final MapStateDescriptor<String, Challenge> CHALLENGES =
            new MapStateDescriptor<>("challenges", String.class, Challenge.class);
    public static final ValueStateDescriptor<Integer> CHALLENGE_COUNT =
            new ValueStateDescriptor<>("challenge-count", Integer.class);
    public static final MapStateDescriptor<String, PendingApproval> PENDING =
            new MapStateDescriptor<>("pending-approvals", String.class, PendingApproval.class);

    private static final Comparator<PendingApproval> OLDEST_FIRST = Comparator
            .comparingLong((PendingApproval p) -> p.approval().eventTime)
            .thenComparing(p -> p.approval().eventId);


    private transient MapState<String, Challenge> challenges;
    private transient ValueState<Integer> challengeCount;
    private transient MapState<String, PendingApproval> pending;
    private transient Counter approvalsAuthorized;
    private transient Counter approvalsUnauthorized;
    private transient Counter challengesEvicted;
    private transient Counter decidedByWallClock;

    public UnauthorizedApprovalDetector(RuleVersion initial, SerializableClock clock) {
        super(initial, UnauthorizedApprovalSettings::from, clock);
    }


    @Override
    public void open(OpenContext openContext) {
        challenges = getRuntimeContext().getMapState(CHALLENGES);
        challengeCount = getRuntimeContext().getState(CHALLENGE_COUNT);
        pending = getRuntimeContext().getMapState(PENDING);
        var metrics = getRuntimeContext().getMetricGroup();
        approvalsAuthorized = metrics.counter("approvalsAuthorized");
        approvalsUnauthorized = metrics.counter("approvalsUnauthorized");
        challengesEvicted = metrics.counter("challengesEvicted");
        decidedByWallClock = metrics.counter("decidedByWallClock");
        lastWatermark = Long.MIN_VALUE;
        // How far event time trails the wall clock, as of the last approval or 2FA event seen: a
        // stalled or lagging watermark delays every decision that waits for event time.
        PipelineMetrics.of(metrics).gauge("watermark_lag_ms", (org.apache.flink.metrics.Gauge<Long>) () -> {
            long wm = lastWatermark;
            return wm == Long.MIN_VALUE ? 0L : Math.max(0L, clock.getAsLong() - wm);
        });
    }

    /** The watermark as of the last element, for the lag gauge (read by the metric reporter's thread). */
    private transient volatile long lastWatermark;

    @Override
    public void processElement(EnrichedEvent in, ReadOnlyContext ctx, Collector<EnrichedEvent> out) throws Exception {
        lastWatermark = ctx.timerService().currentWatermark();
        useRule(ctx);
        inputArrived(ctx);
        Event ev = in.event;
        if (ev.isMfaChallenge()) {
            out.collect(in);
            remember(ev, ctx);
            if (Challenge.VERIFIED.equals(statusOf(ev))) authorizeWaitingFor(ev.challengeId, ctx, out);
        } else if (ev.isApproval()) {
            onApproval(in, ctx, out);
        } else {
            out.collect(in);
        }
    }

    private void onApproval(EnrichedEvent in, ReadOnlyContext ctx, Collector<EnrichedEvent> out) throws Exception {
        Event approval = in.event;
        Verdict verdict = judge(approval);
        if (verdict.finalNow) {
            decide(in, verdict, ctx, out);
            return;
        }
        long decideAt = approval.eventTime + settings.graceMillis();
        long wallDeadline = ctx.timerService().currentProcessingTime() + settings.maxWaitMillis();
        pending.put(approval.eventId, new PendingApproval(in, decideAt, wallDeadline,
                ctx.timerService().currentWatermark()));
        ctx.timerService().registerEventTimeTimer(decideAt);
        ctx.timerService().registerProcessingTimeTimer(wallDeadline);
    }

    @Override
    public void onTimer(long timestamp, OnTimerContext ctx, Collector<EnrichedEvent> out) throws Exception {
        useRule(ctx);
        boolean eventTime = ctx.timeDomain() == TimeDomain.EVENT_TIME;
        long watermark = ctx.timerService().currentWatermark();
        List<PendingApproval> due = new ArrayList<>();
        for (PendingApproval p : pending.values()) {
            if (eventTime) {
                if (p.decideAtEventTime <= timestamp) due.add(p);
            } else if (p.decideAtProcessingTime <= timestamp) {
                if (watermark == p.watermarkAtDeadline && inputQuietFor(settings.maxWaitMillis(), timestamp)) {
                    due.add(p); // event time stalled and nothing arrives: the input is idle, decide now
                } else {
                    // Event time is moving, or events still arrive (a backlog, a partition behind):
                    // event time will decide; check again later.
                    p.decideAtProcessingTime = timestamp + settings.maxWaitMillis();
                    p.watermarkAtDeadline = watermark;
                    pending.put(p.approval().eventId, p);
                    ctx.timerService().registerProcessingTimeTimer(p.decideAtProcessingTime);
                }
            }
        }
        due.sort(OLDEST_FIRST);
        for (PendingApproval p : due) {
            pending.remove(p.approval().eventId);
            if (!eventTime) decidedByWallClock.inc();
            // On the facts up to the decision point, so the verdict and its reason do not depend on
            // whether a verification stamped after it happened to be read already.
            decide(p.enriched, judge(p.approval(), p.decideAtEventTime), ctx, out);
        }
        if (eventTime) forgetExpiredChallenges(timestamp);
    }

    /** A verification arrived: approvals waiting for exactly it can be decided now. */
    private void authorizeWaitingFor(String challengeId, ReadOnlyContext ctx, Collector<EnrichedEvent> out) throws Exception {
        List<PendingApproval> claimants = new ArrayList<>();
        for (PendingApproval p : pending.values()) {
            if (challengeId.equals(p.approval().mfaChallengeId)) claimants.add(p);
        }
        claimants.sort(OLDEST_FIRST);
        for (PendingApproval p : claimants) {
            Verdict v = judge(p.approval());
            if (v.authorized) {
                pending.remove(p.approval().eventId);
                decide(p.enriched, v, ctx, out);
            }
        }
    }

    private void decide(EnrichedEvent enriched, Verdict verdict, ReadOnlyContext ctx, Collector<EnrichedEvent> out)
            throws Exception {
        Event approval = enriched.event;
        enriched.mfaAuthorized = verdict.authorized;
        if (verdict.authorized) {
            approvalsAuthorized.inc();
            verdict.challenge.usedByApproval = approval.eventId;
            challenges.put(verdict.challenge.challengeId, verdict.challenge);
        } else {
            approvalsUnauthorized.inc();
            Alert alert = alertFor(approval, verdict, clock.getAsLong());
            alert.ruleVersion = ruleVersion;
            enriched.mfaDecisionReason = verdict.reason;
            enriched.alertIds.add(alert.alertId);
            alert.trigger = enriched; // leaves with its incident id, from the incident tracker
            ctx.output(Tags.ALERTS, alert);
            return;
        }
        out.collect(enriched);
    }

    /** The contract's definition, checked in an order that gives the most specific reason. */
    private Verdict judge(Event a) throws Exception {
        return judge(a, Long.MAX_VALUE);
    }

    /** The verdict on the challenge events up to {@code asOf} (event time). */
    private Verdict judge(Event a, long asOf) throws Exception {
        String id = a.mfaChallengeId;
        if (id == null) return Verdict.unauthorized("no_challenge", null, true);
        Challenge stored = challenges.get(id);
        Challenge c = stored == null ? null : stored.asOf(asOf);
        if (c == null) return Verdict.unauthorized("unknown_challenge", null, false);
        if (Challenge.FAILED.equals(c.status)) return Verdict.unauthorized("challenge_failed", c, false);
        if (!Challenge.VERIFIED.equals(c.status)) return Verdict.unauthorized("challenge_not_verified", c, false);
        if (c.usedByApproval != null && !c.usedByApproval.equals(a.eventId)) {
            return Verdict.unauthorized("challenge_reused", c, true);
        }
        if (!"withdrawal".equals(c.purpose)) return Verdict.unauthorized("challenge_wrong_purpose", c, false);
        if (!a.withdrawalId.equals(c.withdrawalId)) return Verdict.unauthorized("other_withdrawal_challenge", c, false);
        if (c.eventTime > a.eventTime + settings.skewMillis()) {
            return Verdict.unauthorized("verification_after_approval", c, false);
        }
        if (c.eventTime < a.eventTime - settings.validityMillis()) {
            return Verdict.unauthorized("verification_too_old", c, false);
        }
        return Verdict.authorized(c);
    }

    private void remember(Event ev, ReadOnlyContext ctx) throws Exception {
        Challenge c = challenges.get(ev.challengeId);
        boolean isNew = c == null;
        if (isNew) {
            c = new Challenge();
            c.challengeId = ev.challengeId;
        }
        boolean issue = Challenge.ISSUED.equals(statusOf(ev));
        if (issue && (c.issuedAt == null || ev.eventTime < c.issuedAt)) {
            c.issuedAt = ev.eventTime;
            c.issuedEventId = ev.eventId;
            if (c.purpose == null) c.purpose = ev.purpose;
            if (c.withdrawalId == null) c.withdrawalId = ev.withdrawalId;
        }
        if (!isNew && Challenge.VERIFIED.equals(c.status)) {
            challenges.put(c.challengeId, c);
            return; // a verified challenge stays verified; a later failure event does not undo it
        } else if (!isNew && Challenge.FAILED.equals(c.status) && issue) {
            challenges.put(c.challengeId, c);
            return; // its issue event read after its failure (out of order) does not make it pending again
        }
        c.status = statusOf(ev);
        c.purpose = ev.purpose;
        c.withdrawalId = ev.withdrawalId;
        c.eventTime = ev.eventTime;
        c.eventId = ev.eventId;
        challenges.put(c.challengeId, c);
        // By then every approval that could claim it has been decided (see forgetAt).
        ctx.timerService().registerEventTimeTimer(forgetAt(c));
        if (isNew) {
            int count = (challengeCount.value() == null ? 0 : challengeCount.value()) + 1;
            if (count > settings.maxChallengesPerUser()) {
                evictOldest();
                count--;
            }
            challengeCount.update(count);
        }
    }

    /**
     * A challenge could authorize nothing after validity + grace, but it is kept one validity
     * longer so that an approval claiming a stale verification is reported as
     * {@code verification_too_old} (a replayed or stale 2FA), not as a challenge never seen.
     */
    private long forgetAt(Challenge c) {
        return c.eventTime + 2 * settings.validityMillis() + settings.graceMillis() + 1;
    }

    private void forgetExpiredChallenges(long watermark) throws Exception {
        List<String> expired = new ArrayList<>();
        for (Map.Entry<String, Challenge> e : challenges.entries()) {
            if (forgetAt(e.getValue()) <= watermark) expired.add(e.getKey());
        }
        if (expired.isEmpty()) return;
        for (String id : expired) challenges.remove(id);
        int left = (challengeCount.value() == null ? 0 : challengeCount.value()) - expired.size();
        if (left <= 0) challengeCount.clear(); else challengeCount.update(left);
    }

    private void evictOldest() throws Exception {
        String oldest = null;
        long oldestTime = Long.MAX_VALUE;
        for (Map.Entry<String, Challenge> e : challenges.entries()) {
            if (e.getValue().eventTime < oldestTime) {
                oldestTime = e.getValue().eventTime;
                oldest = e.getKey();
            }
        }
        if (oldest != null) {
            challenges.remove(oldest);
            challengesEvicted.inc();
        }
    }

    private static String statusOf(Event ev) {
        return switch (ev.action) {
            case "challenge_verified" -> Challenge.VERIFIED;
            case "challenge_failed" -> Challenge.FAILED;
            default -> Challenge.ISSUED;
        };
    }

    static Alert alertFor(Event a, Verdict v, long now) {
        Alert alert = new Alert();
        alert.triggerAppendedAt = a.sourceTimestamp;
        alert.alertId = Ids.of("alert", RULE, a.eventId);
        alert.rule = RULE;
        alert.severity = SEVERITY;
        alert.eventTime = a.eventTime;
        alert.detectedAt = now;
        alert.userId = a.userId;
        alert.withdrawalId = a.withdrawalId;
        alert.summary = "Withdrawal " + a.withdrawalId + " of " + a.amount + " " + a.asset + " (US$"
                + String.format(java.util.Locale.ROOT, "%,.2f", a.usdValue) + ") by user " + a.userId
                + " was approved by " + a.approvalService + " " + a.approvalServiceVersion + " via "
                + a.approvalChannel + " without a valid 2FA verification (" + v.reason.replace('_', ' ') + ").";
        AlertEvidence e = alert.evidence;
        e.eventIds.add(a.eventId);
        if (v.challenge != null && v.challenge.eventId != null) {
            e.eventIds.add(v.challenge.eventId);
            e.challengeEventId = v.challenge.eventId;
        }
        e.reason = v.reason;
        e.mfaChallengeId = a.mfaChallengeId;
        e.approvalService = a.approvalService;
        e.approvalServiceVersion = a.approvalServiceVersion;
        e.approvalChannel = a.approvalChannel;
        e.withdrawal(a);
        return alert;
    }

    /** The outcome of checking one approval against what is known now. */
    static final class Verdict {
        final boolean authorized;
        final String reason;
        final Challenge challenge;
        /** True when no later event can change this verdict, so waiting would only add latency. */
        final boolean finalNow;

        private Verdict(boolean authorized, String reason, Challenge challenge, boolean finalNow) {
            this.authorized = authorized;
            this.reason = reason;
            this.challenge = challenge;
            this.finalNow = finalNow;
        }

        static Verdict authorized(Challenge c) {
            return new Verdict(true, null, c, true);
        }

        static Verdict unauthorized(String reason, Challenge c, boolean finalNow) {
            return new Verdict(false, reason, c, finalNow);
        }
    }
}
