package io.tourniquet.rules.platform;

import io.tourniquet.detect.CountedAlert;
import io.tourniquet.rules.newaddress.NewAddressWithdrawalRule;
import io.tourniquet.util.SerializableClock;
import io.tourniquet.model.Alert;
import io.tourniquet.rules.RuleVersion;
import io.tourniquet.util.Ids;
import io.tourniquet.util.Times;

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
 * <p>The windowing, the episodes and the decision put off while reading a backlog ahead of event
 * time (so the block is dated at the true crossing) live in {@link DistinctUsersDetector}, shared
 * with bulk draining so the two rules cannot drift apart; this class keeps only what destination
 * concentration means: which alerts count and the alert it raises. Its own metric is
 * {@code concentrationAlerts}.
 *
 * <p>State per address: the counted alerts of about two windows, the current episode and the time
 * a put-off decision is due, each cleared by an event-time timer; timers are never deleted.
 */
public final class DestinationConcentrationDetector extends DistinctUsersDetector<DestinationConcentrationSettings> {
    private static final long serialVersionUID = 1L;

    public static final String RULE = DestinationConcentrationRule.ID;
    public static final String SEVERITY = DestinationConcentrationRule.DEFINITION.severity();

    public DestinationConcentrationDetector(RuleVersion initial, SerializableClock clock) {
        this(initial, clock, DistinctUserWindows.DEFAULT_MAX_LEAD_MILLIS);
    }

    /** @param maxLeadMillis {@code rule.platform.max-lead} in milliseconds */
    public DestinationConcentrationDetector(RuleVersion initial, SerializableClock clock, long maxLeadMillis) {
        super(initial, DestinationConcentrationSettings::from, clock, maxLeadMillis, "concentrationAlerts");
    }


    @Override
    protected boolean counts(Alert in) {
        // only withdrawals to freshly whitelisted addresses count
        return NewAddressWithdrawalRule.ID.equals(in.rule) && in.userId != null && in.alertId != null
                && in.evidence != null && in.evidence.destinationAddress != null;
    }

    @Override
    protected Alert alertOnArrival(DistinctUserWindows.Window w, Alert in) {
        return alertFor(w, in.alertId, in.evidence.destinationAddress, in.evidence.asset, in.evidence.network,
                settings, ruleVersion, clock.getAsLong());
    }

    @Override
    protected Alert alertOnDecision(DistinctUserWindows.Window w, CountedAlert crossing, String key) {
        // The key is the address; asset and network are the crossing alert's.
        return alertFor(w, crossing.alertId, key, crossing.asset, crossing.network, settings, ruleVersion,
                clock.getAsLong());
    }

    /**
     * The alert for a window of withdrawals to {@code address} that reached the threshold;
     * {@code triggerAlertId} names the alert that completed it (the arrival, or when judged in
     * event-time order, the crossing alert), {@code asset} and {@code network} are that alert's.
     */
    static Alert alertFor(DistinctUserWindows.Window w, String triggerAlertId, String address, String asset,
                          String network, DestinationConcentrationSettings s, int ruleVersion, long now) {
        Alert alert = windowAlert(Ids.of("alert", RULE, address, Long.toString(w.start()), triggerAlertId), RULE,
                SEVERITY, w, s, ruleVersion, now);
        alert.summary = w.distinctUsers() + " distinct users made withdrawals to the newly whitelisted address "
                + address + " between " + Times.format(w.start()) + " and " + Times.format(w.end()) + " (within "
                + DistinctUserWindows.describe(s.windowMillis()) + ", threshold " + s.minUsers()
                + "), a sign of one thief collecting from many accounts.";
        alert.evidence.destinationAddress = address;
        alert.evidence.asset = asset;
        alert.evidence.network = network;
        return alert;
    }
}
