package io.tourniquet.detect;

import io.tourniquet.model.Alert;
import io.tourniquet.model.AlertEvidence;
import io.tourniquet.rules.RuleCatalog;
import io.tourniquet.rules.RuleVersion;
import io.tourniquet.rules.RuleView;
import io.tourniquet.util.Ids;
import io.tourniquet.util.Times;
import java.util.ArrayList;
import java.util.Set;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.metrics.Counter;
import org.apache.flink.streaming.api.functions.co.KeyedBroadcastProcessFunction;
import org.apache.flink.util.Collector;

/**
 * Bulk draining (contract section 2): across the platform, within a sliding window (default
 * 10 min), at least N distinct users (default 5) with an unauthorized approval or an account
 * drain. Its input is the alerts the per-user detectors raise, all on the one key
 * {@link EventKeys#PLATFORM} ({@code keyBy(EventKeys.platform())}), so the count is global
 * whatever the parallelism; its output, on the main output, is only its own {@code bulk_drain}
 * alerts, which the playbook answers with a platform-wide {@code suspend_withdrawals}.
 *
 * <p>It fires once per episode (see {@link DistinctUserWindows}): the users who join after it
 * fired raise nothing new here; the incident tracker adds their alerts to the incident. The
 * thresholds are the rule's current version (broadcast state), and every alert names it.
 *
 * <p>Live it fires on the arrival that makes the count reach N, dated when the Nth user entered
 * the window. Reading a backlog, parallel readers deliver one partition's victims before
 * another's, so the first window to complete may hold the "wrong" users, crossed minutes after
 * the truth, and the suspension (and the incident's {@code contained_at}) would be dated too
 * late. So a crossing further than {@code rule.platform.max-lead} ahead of the watermark waits
 * for event time, and then the earliest crossing of all counted alerts fires (see
 * {@link DistinctUserWindows}).
 *
 * <p>State on the platform key: the counted alerts of about two windows, the current episode and
 * the time a put-off decision is due, each cleared by an event-time timer; timers are never
 * deleted.
 */
public final class BulkDrainDetector extends RuleDetector<Alert, Alert, BulkDrainSettings> {
    private static final long serialVersionUID = 1L;

    public static final String RULE = RuleCatalog.BULK_DRAIN;
    public static final String SEVERITY = Playbook.severityOf(RULE);
    /** The alerts that count: a user whose funds are being taken. */
    static final Set<String> COUNTED_RULES = Set.of(RuleCatalog.UNAUTHORIZED_APPROVAL, RuleCatalog.ACCOUNT_DRAIN);


    private transient DistinctUserWindows windows;
    private transient Counter alertsCounted;
    private transient Counter alertsIgnored;
    private transient Counter alertsJoinedEpisode;
    private transient Counter bulkDrainAlerts;
    private transient Counter alertsForgotten;
    private transient Counter decisionsDeferred;

    /** How far ahead of the watermark a crossing may be and still fire on arrival (ms). */
    private final long maxLeadMillis;

    public BulkDrainDetector(RuleVersion initial, SerializableClock clock) {
        this(initial, clock, DistinctUserWindows.DEFAULT_MAX_LEAD_MILLIS);
    }

    /** @param maxLeadMillis {@code rule.platform.max-lead} in milliseconds */
    public BulkDrainDetector(RuleVersion initial, SerializableClock clock, long maxLeadMillis) {
        super(initial, BulkDrainSettings::from, clock);
        this.maxLeadMillis = DistinctUserWindows.checkMaxLead(maxLeadMillis);
    }

    public BulkDrainDetector(BulkDrainSettings settings, SerializableClock clock) {
        this(settings.asRuleVersion(), clock);
    }

    @Override
    public void open(OpenContext openContext) {
        windows = new DistinctUserWindows(getRuntimeContext());
        var metrics = getRuntimeContext().getMetricGroup();
        alertsCounted = metrics.counter("alertsCounted");
        alertsIgnored = metrics.counter("alertsIgnored");
        alertsJoinedEpisode = metrics.counter("alertsJoinedEpisode");
        bulkDrainAlerts = metrics.counter("bulkDrainAlerts");
        alertsForgotten = metrics.counter("alertsForgotten");
        decisionsDeferred = metrics.counter("decisionsDeferred");
    }

    @Override
    public void processElement(Alert in, ReadOnlyContext ctx, Collector<Alert> out) throws Exception {
        if (!COUNTED_RULES.contains(in.rule) || in.userId == null || in.alertId == null) {
            alertsIgnored.inc(); // every alert may be routed here; only a user's drained funds count
            return;
        }
        useRule(ctx);
        var outcome = windows.add(CountedAlert.of(in), settings.windowMillis(), settings.minUsers(), maxLeadMillis,
                ctx.timerService());
        switch (outcome.kind()) {
            case DUPLICATE -> { }
            case COUNTED -> alertsCounted.inc();
            case JOINED -> {
                alertsCounted.inc();
                alertsJoinedEpisode.inc();
            }
            case FIRED -> {
                alertsCounted.inc();
                bulkDrainAlerts.inc();
                out.collect(alertFor(outcome.window(), in.alertId, settings, ruleVersion, clock.getAsLong()));
            }
            case DEFERRED -> {
                alertsCounted.inc();
                decisionsDeferred.inc();
            }
        }
    }

    @Override
    public void onTimer(long timestamp, OnTimerContext ctx, Collector<Alert> out) throws Exception {
        useRule(ctx);
        alertsForgotten.inc(windows.forgetDue(timestamp));
        for (var w : windows.decideDue(timestamp, settings.windowMillis(), settings.minUsers(), ctx.timerService())) {
            bulkDrainAlerts.inc();
            // Named after the alert that crossed the threshold: the same input gives the same id
            // whichever order the backlog was read in.
            out.collect(alertFor(w, w.crossing(settings.minUsers()).alertId, settings, ruleVersion,
                    clock.getAsLong()));
        }
    }

    /**
     * The alert for a window that reached the threshold; {@code triggerAlertId} names the alert
     * that completed it (the arrival, or when judged in event-time order, the crossing alert).
     */
    static Alert alertFor(DistinctUserWindows.Window w, String triggerAlertId, BulkDrainSettings s, int ruleVersion,
                          long now) {
        Alert alert = new Alert();
        alert.alertId = Ids.of("alert", RULE, Long.toString(w.start()), triggerAlertId);
        alert.rule = RULE;
        alert.ruleVersion = ruleVersion;
        alert.severity = SEVERITY;
        alert.eventTime = w.crossedAt(s.minUsers());
        alert.detectedAt = now;
        alert.userId = null;
        alert.withdrawalId = null;
        alert.summary = w.distinctUsers() + " distinct users had an unauthorized approval or an account drain between "
                + Times.format(w.start()) + " and " + Times.format(w.end()) + " (within "
                + DistinctUserWindows.describe(s.windowMillis()) + ", threshold " + s.minUsers()
                + "), a sign of platform-wide draining.";
        AlertEvidence e = alert.evidence;
        e.eventIds = new ArrayList<>(w.eventIds());
        e.userIds = new ArrayList<>(w.userIds());
        e.distinctUsers = w.distinctUsers();
        e.alertIds = new ArrayList<>(w.alertIds());
        e.withdrawalIds = new ArrayList<>(w.withdrawalIds());
        e.windowStart = Times.format(w.start());
        e.windowEnd = Times.format(w.end());
        return alert;
    }
}
