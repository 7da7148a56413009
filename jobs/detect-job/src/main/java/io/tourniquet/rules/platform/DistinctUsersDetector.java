package io.tourniquet.rules.platform;

import io.tourniquet.detect.CountedAlert;
import io.tourniquet.rules.RuleDetector;
import io.tourniquet.util.SerializableClock;
import io.tourniquet.model.Alert;
import io.tourniquet.model.AlertEvidence;
import io.tourniquet.rules.RuleVersion;
import io.tourniquet.util.Times;
import java.util.ArrayList;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.metrics.Counter;
import org.apache.flink.util.Collector;
import org.apache.flink.util.function.SerializableFunction;

/**
 * What the "at least N distinct users within a sliding window" detectors share (bulk draining and
 * destination concentration, contract section 2): one place for the windowing and the deferral
 * mechanics, so both rules count, fire once per episode, put off a decision read ahead of event
 * time and take it when the watermark comes, in exactly the same way. A subclass keeps only what
 * its rule means: which alerts count ({@link #counts}) and the alert it raises
 * ({@link #alertOnArrival}, {@link #alertOnDecision}).
 *
 * <p>Its input is alerts, keyed by what the rule counts users over; its output, on the main
 * output, is only the rule's own alerts. The thresholds are the rule's current version
 * (broadcast state), and every alert names it.
 *
 * <p>Live it fires on the arrival that makes the count reach N, dated when the Nth user entered
 * the window. Reading a backlog, parallel readers deliver one partition's alerts before
 * another's, so the first window to complete may hold the "wrong" users, crossed minutes after
 * the truth, and the playbook's answer would be dated too late. So a crossing further than
 * {@code rule.platform.max-lead} ahead of the watermark waits for event time, and then the
 * earliest crossing of all counted alerts fires (see {@link DistinctUserWindows}).
 *
 * <p>State per key: the counted alerts of about two windows, the current episode (and the width
 * it was worked out with), the latest counted event time and the time a put-off decision is due,
 * each cleared by an event-time timer (for forgetting, on a one-minute grid: at most one per
 * minute of event time, however many alerts); timers are never deleted. An arrival inside the episode in
 * force costs a constant number of state accesses, whatever the episode's size (a flood of
 * victims); other arrivals read the counted alerts.
 *
 * <p>Metrics: {@code alertsCounted}, {@code alertsIgnored}, {@code alertsJoinedEpisode} (of which
 * {@code alertsJoinedInPlace} without reading the window's alerts),
 * {@code alertsForgotten}, {@code decisionsDeferred}, and the rule's own count of alerts raised
 * (named by the subclass, so existing dashboards keep their names).
 *
 * @param <P> the rule's typed thresholds
 */
public abstract class DistinctUsersDetector<P extends DistinctUsersDetector.Thresholds>
        extends RuleDetector<Alert, Alert, P> {
    private static final long serialVersionUID = 1L;

    /** The two numbers the windowing needs from a rule's thresholds. */
    public interface Thresholds {
        /** The sliding window's width (ms). */
        long windowMillis();

        /** How many distinct users in one window make the rule fire. */
        int minUsers();
    }

    /** How far ahead of the watermark a crossing may be and still fire on arrival (ms). */
    private final long maxLeadMillis;
    /** See {@link DistinctUserWindows}: how long after a crossing earlier alerts may still arrive. */
    private final long settleMillis;
    /** The metric name of the rule's raised alerts. */
    private final String raisedMetric;

    private transient DistinctUserWindows windows;
    private transient Counter alertsCounted;
    private transient Counter alertsIgnored;
    private transient Counter alertsJoinedEpisode;
    private transient Counter alertsRaised;
    private transient Counter alertsForgotten;
    private transient Counter decisionsDeferred;

    /**
     * @param maxLeadMillis {@code rule.platform.max-lead} in milliseconds
     * @param raisedMetric  the name of the counter of alerts this rule raises
     */
    protected DistinctUsersDetector(RuleVersion initial, SerializableFunction<RuleVersion, P> parser,
                                    SerializableClock clock, long maxLeadMillis, String raisedMetric) {
        this(initial, parser, clock, maxLeadMillis, 0L, raisedMetric);
    }

    /** @param settleMillis how long after a crossing (event time) alerts that precede it may still arrive */
    protected DistinctUsersDetector(RuleVersion initial, SerializableFunction<RuleVersion, P> parser,
                                    SerializableClock clock, long maxLeadMillis, long settleMillis,
                                    String raisedMetric) {
        super(initial, parser, clock);
        if (settleMillis < 0) throw new IllegalArgumentException("settle must not be negative: " + settleMillis);
        this.settleMillis = settleMillis;
        this.maxLeadMillis = DistinctUserWindows.checkMaxLead(maxLeadMillis);
        this.raisedMetric = raisedMetric;
    }

    /** Whether {@code in} is an alert this rule counts; the others are ignored (every alert may be routed here). */
    protected abstract boolean counts(Alert in);

    /**
     * The alert for a window that reached the threshold on the arrival of {@code in}, which
     * completed it. Reads {@link #settings}, {@link #ruleVersion} and {@link #clock}.
     */
    protected abstract Alert alertOnArrival(DistinctUserWindows.Window w, Alert in);

    /**
     * The alert for a window judged in event-time order when a put-off decision fell due;
     * {@code crossing} is the counted alert that completed it (naming the alert after it gives the
     * same id whichever order the backlog was read in), {@code key} the current key.
     */
    protected abstract Alert alertOnDecision(DistinctUserWindows.Window w, CountedAlert crossing, String key);

    @Override
    public final void open(OpenContext openContext) {
        windows = new DistinctUserWindows(getRuntimeContext(), settleMillis);
        var metrics = getRuntimeContext().getMetricGroup();
        alertsCounted = metrics.counter("alertsCounted");
        alertsIgnored = metrics.counter("alertsIgnored");
        alertsJoinedEpisode = metrics.counter("alertsJoinedEpisode");
        alertsRaised = metrics.counter(raisedMetric);
        alertsForgotten = metrics.counter("alertsForgotten");
        decisionsDeferred = metrics.counter("decisionsDeferred");
        metrics.gauge("alertsJoinedInPlace", (org.apache.flink.metrics.Gauge<Long>) windows::joinedInPlace);
    }

    @Override
    public final void processElement(Alert in, ReadOnlyContext ctx, Collector<Alert> out) throws Exception {
        if (!counts(in)) {
            alertsIgnored.inc();
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
                alertsRaised.inc();
                out.collect(alertOnArrival(outcome.window(), in));
            }
            case DEFERRED -> {
                alertsCounted.inc();
                decisionsDeferred.inc();
            }
        }
    }

    @Override
    public final void onTimer(long timestamp, OnTimerContext ctx, Collector<Alert> out) throws Exception {
        useRule(ctx);
        alertsForgotten.inc(windows.forgetDue(timestamp));
        for (var w : windows.decideDue(timestamp, settings.windowMillis(), settings.minUsers(), ctx.timerService())) {
            alertsRaised.inc();
            out.collect(alertOnDecision(w, w.crossing(settings.minUsers()), ctx.getCurrentKey()));
        }
    }

    /**
     * A new alert of {@code rule} for window {@code w} with what every such alert carries: dated
     * when the window reached {@code s.minUsers()} users, on no one user or withdrawal, and naming
     * the window's events, users, alerts and withdrawals. The caller adds the summary and what is
     * particular to its rule.
     */
    static Alert windowAlert(String alertId, String rule, String severity, DistinctUserWindows.Window w,
                             Thresholds s, int ruleVersion, long now) {
        Alert alert = new Alert();
        alert.alertId = alertId;
        alert.rule = rule;
        alert.ruleVersion = ruleVersion;
        alert.severity = severity;
        alert.eventTime = w.crossedAt(s.minUsers());
        alert.detectedAt = now;
        alert.userId = null;
        alert.withdrawalId = null;
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
