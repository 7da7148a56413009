package io.tourniquet.rules.platform;

import io.tourniquet.detect.CountedAlert;
import io.tourniquet.rules.unauthorized.UnauthorizedApprovalRule;
import io.tourniquet.rules.drain.AccountDrainRule;
import io.tourniquet.util.SerializableClock;
import io.tourniquet.model.Alert;
import io.tourniquet.rules.RuleVersion;
import io.tourniquet.util.Ids;
import io.tourniquet.util.Times;
import java.util.Set;

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
 * <p>The windowing, the episodes and the decision put off while reading a backlog ahead of event
 * time (so the suspension, and the incident's {@code contained_at}, is dated at the true
 * crossing) live in {@link DistinctUsersDetector}, shared with destination concentration so the
 * two rules cannot drift apart; this class keeps only what bulk draining means: which alerts
 * count and the alert it raises. Its own metric is {@code bulkDrainAlerts}.
 *
 * <p>State on the platform key: the counted alerts of about two windows, the current episode and
 * the time a put-off decision is due, each cleared by an event-time timer; timers are never
 * deleted.
 */
public final class BulkDrainDetector extends DistinctUsersDetector<BulkDrainSettings> {
    private static final long serialVersionUID = 1L;

    public static final String RULE = BulkDrainRule.ID;
    public static final String SEVERITY = BulkDrainRule.DEFINITION.severity();
    /** The alerts that count: a user whose funds are being taken. */
    static final Set<String> COUNTED_RULES = BulkDrainRule.COUNTS;

    public BulkDrainDetector(RuleVersion initial, SerializableClock clock) {
        this(initial, clock, DistinctUserWindows.DEFAULT_MAX_LEAD_MILLIS);
    }

    /** @param maxLeadMillis {@code rule.platform.max-lead} in milliseconds */
    public BulkDrainDetector(RuleVersion initial, SerializableClock clock, long maxLeadMillis) {
        this(initial, clock, maxLeadMillis, 0L);
    }

    /**
     * @param settleMillis the unauthorized-approval grace: such an alert leaves its detector only
     *                     once event time has passed its approval by the grace, so a crossing is
     *                     judged once event time has passed it by as much
     */
    public BulkDrainDetector(RuleVersion initial, SerializableClock clock, long maxLeadMillis, long settleMillis) {
        super(initial, BulkDrainSettings::from, clock, maxLeadMillis, settleMillis, "bulkDrainAlerts");
    }


    @Override
    protected boolean counts(Alert in) {
        // every alert may be routed here; only a user's drained funds count
        return COUNTED_RULES.contains(in.rule) && in.userId != null && in.alertId != null;
    }

    @Override
    protected Alert alertOnArrival(DistinctUserWindows.Window w, Alert in) {
        return alertFor(w, in.alertId, settings, ruleVersion, clock.getAsLong());
    }

    @Override
    protected Alert alertOnDecision(DistinctUserWindows.Window w, CountedAlert crossing, String key) {
        return alertFor(w, crossing.alertId, settings, ruleVersion, clock.getAsLong());
    }

    /**
     * The alert for a window that reached the threshold; {@code triggerAlertId} names the alert
     * that completed it (the arrival, or when judged in event-time order, the crossing alert).
     */
    static Alert alertFor(DistinctUserWindows.Window w, String triggerAlertId, BulkDrainSettings s, int ruleVersion,
                          long now) {
        Alert alert = windowAlert(Ids.of("alert", RULE, Long.toString(w.start()), triggerAlertId), RULE, SEVERITY, w,
                s, ruleVersion, now);
        alert.summary = w.distinctUsers() + " distinct users had an unauthorized approval or an account drain between "
                + Times.format(w.start()) + " and " + Times.format(w.end()) + " (within "
                + DistinctUserWindows.describe(s.windowMillis()) + ", threshold " + s.minUsers()
                + "), a sign of platform-wide draining.";
        return alert;
    }
}
