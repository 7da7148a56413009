package io.tourniquet.detect;

import io.tourniquet.model.Alert;
import io.tourniquet.model.AlertEvidence;
import io.tourniquet.rules.RuleCatalog;
import io.tourniquet.rules.RuleVersion;
import io.tourniquet.rules.RuleView;
import io.tourniquet.util.Ids;
import io.tourniquet.util.Times;
import java.util.ArrayList;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.metrics.Counter;
import org.apache.flink.streaming.api.functions.co.KeyedBroadcastProcessFunction;
import org.apache.flink.util.Collector;

/**
 * Destination concentration (contract section 2): within a sliding window (default 10 min), at
 * least M distinct users (default 5) making new-address withdrawals to the same destination
 * address. Keyed by that address ({@link EventKeys#ALERT_DESTINATION}); its input is alerts, of
 * which only {@code new_address_withdrawal} ones count. That is what keeps a popular deposit
 * address that users whitelisted long ago from triggering it: withdrawals to an old whitelist
 * entry raise no such alert. Its output, on the main output, is only its own
 * {@code destination_concentration} alerts, which the playbook answers with {@code block_address}.
 *
 * <p>It fires once per episode and address (see {@link DistinctUserWindows}), naming every user
 * counted in the window; users who join after it fired raise nothing new here (the incident
 * tracker and the notification path take their later alerts). The thresholds are the rule's
 * current version (broadcast state), and every alert names it.
 *
 * <p>Live it fires on the arrival that makes the count reach M, dated when the Mth user entered
 * the window. Reading a backlog, parallel readers deliver one partition's withdrawals before
 * another's, so the first window to complete may hold the "wrong" users, crossed minutes after
 * the truth, and the block would be dated too late. So a crossing further than
 * {@code rule.platform.max-lead} ahead of the watermark waits for event time, and then the
 * earliest crossing of all counted alerts fires (see {@link DistinctUserWindows}).
 *
 * <p>State per address: the counted alerts of about two windows, the current episode and the time
 * a put-off decision is due, each cleared by an event-time timer; timers are never deleted.
 */
public final class DestinationConcentrationDetector
        extends RuleDetector<Alert, Alert, DestinationConcentrationSettings> {
    private static final long serialVersionUID = 1L;

    public static final String RULE = RuleCatalog.DESTINATION_CONCENTRATION;
    public static final String SEVERITY = Playbook.severityOf(RULE);


    private transient DistinctUserWindows windows;
    private transient Counter alertsCounted;
    private transient Counter alertsIgnored;
    private transient Counter alertsJoinedEpisode;
    private transient Counter concentrationAlerts;
    private transient Counter alertsForgotten;
    private transient Counter decisionsDeferred;

    /** How far ahead of the watermark a crossing may be and still fire on arrival (ms). */
    private final long maxLeadMillis;

    public DestinationConcentrationDetector(RuleVersion initial, SerializableClock clock) {
        this(initial, clock, DistinctUserWindows.DEFAULT_MAX_LEAD_MILLIS);
    }

    /** @param maxLeadMillis {@code rule.platform.max-lead} in milliseconds */
    public DestinationConcentrationDetector(RuleVersion initial, SerializableClock clock, long maxLeadMillis) {
        super(initial, DestinationConcentrationSettings::from, clock);
        this.maxLeadMillis = DistinctUserWindows.checkMaxLead(maxLeadMillis);
    }

    public DestinationConcentrationDetector(DestinationConcentrationSettings settings, SerializableClock clock) {
        this(settings.asRuleVersion(), clock);
    }

    @Override
    public void open(OpenContext openContext) {
        windows = new DistinctUserWindows(getRuntimeContext());
        var metrics = getRuntimeContext().getMetricGroup();
        alertsCounted = metrics.counter("alertsCounted");
        alertsIgnored = metrics.counter("alertsIgnored");
        alertsJoinedEpisode = metrics.counter("alertsJoinedEpisode");
        concentrationAlerts = metrics.counter("concentrationAlerts");
        alertsForgotten = metrics.counter("alertsForgotten");
        decisionsDeferred = metrics.counter("decisionsDeferred");
    }

    @Override
    public void processElement(Alert in, ReadOnlyContext ctx, Collector<Alert> out) throws Exception {
        if (!RuleCatalog.NEW_ADDRESS_WITHDRAWAL.equals(in.rule) || in.userId == null || in.alertId == null
                || in.evidence == null || in.evidence.destinationAddress == null) {
            alertsIgnored.inc(); // only withdrawals to freshly whitelisted addresses count
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
                concentrationAlerts.inc();
                out.collect(alertFor(outcome.window(), in.alertId, in.evidence.destinationAddress,
                        in.evidence.asset, in.evidence.network, settings, ruleVersion, clock.getAsLong()));
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
            concentrationAlerts.inc();
            // Named after the alert that crossed the threshold: the same input gives the same id
            // whichever order the backlog was read in. The key is the address.
            CountedAlert crossing = w.crossing(settings.minUsers());
            out.collect(alertFor(w, crossing.alertId, ctx.getCurrentKey(), crossing.asset, crossing.network,
                    settings, ruleVersion, clock.getAsLong()));
        }
    }

    /**
     * The alert for a window of withdrawals to {@code address} that reached the threshold;
     * {@code triggerAlertId} names the alert that completed it (the arrival, or when judged in
     * event-time order, the crossing alert), {@code asset} and {@code network} are that alert's.
     */
    static Alert alertFor(DistinctUserWindows.Window w, String triggerAlertId, String address, String asset,
                          String network, DestinationConcentrationSettings s, int ruleVersion, long now) {
        Alert alert = new Alert();
        alert.alertId = Ids.of("alert", RULE, address, Long.toString(w.start()), triggerAlertId);
        alert.rule = RULE;
        alert.ruleVersion = ruleVersion;
        alert.severity = SEVERITY;
        alert.eventTime = w.crossedAt(s.minUsers());
        alert.detectedAt = now;
        alert.userId = null;
        alert.withdrawalId = null;
        alert.summary = w.distinctUsers() + " distinct users made withdrawals to the newly whitelisted address "
                + address + " between " + Times.format(w.start()) + " and " + Times.format(w.end()) + " (within "
                + DistinctUserWindows.describe(s.windowMillis()) + ", threshold " + s.minUsers()
                + "), a sign of one thief collecting from many accounts.";
        AlertEvidence e = alert.evidence;
        e.eventIds = new ArrayList<>(w.eventIds());
        e.destinationAddress = address;
        e.asset = asset;
        e.network = network;
        e.userIds = new ArrayList<>(w.userIds());
        e.distinctUsers = w.distinctUsers();
        e.alertIds = new ArrayList<>(w.alertIds());
        e.withdrawalIds = new ArrayList<>(w.withdrawalIds());
        e.windowStart = Times.format(w.start());
        e.windowEnd = Times.format(w.end());
        return alert;
    }
}
