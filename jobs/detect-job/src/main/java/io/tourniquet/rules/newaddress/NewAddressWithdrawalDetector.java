package io.tourniquet.rules.newaddress;

import io.tourniquet.detect.WhitelistEntry;
import io.tourniquet.detect.NewAddressRequest;
import io.tourniquet.rules.RuleDetector;
import io.tourniquet.util.Durations;
import io.tourniquet.streams.Tags;
import io.tourniquet.util.SerializableClock;
import io.tourniquet.model.Alert;
import io.tourniquet.model.AlertEvidence;
import io.tourniquet.model.EnrichedEvent;
import io.tourniquet.model.Event;
import io.tourniquet.rules.RuleVersion;
import io.tourniquet.rules.RuleView;
import io.tourniquet.util.Ids;
import io.tourniquet.util.Times;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.state.MapState;
import org.apache.flink.api.common.state.MapStateDescriptor;
import org.apache.flink.metrics.Counter;
import org.apache.flink.streaming.api.functions.co.KeyedBroadcastProcessFunction;
import org.apache.flink.util.Collector;

/**
 * Keyed by user: raises a {@code new_address_withdrawal} alert (contract section 2) for a
 * withdrawal request to a {@code destination_address} the same user whitelisted less than the
 * minimum age (default 24 h) before the request. The playbook holds such a withdrawal until the
 * address is that old ({@code evidence.hold_until}).
 *
 * <p>Every input event leaves on the main output at once, exactly once. A request whose
 * whitelisting is already known to be recent is alerted on arrival, and carries the alert id.
 * Otherwise the whitelisting may still be on its way (account changes come from another topic),
 * so the request waits until the watermark passes its time, when every earlier account change has
 * arrived (late ones excepted); it is alerted sooner if its whitelisting arrives meanwhile. Such
 * an alert comes after the request left, so only the alert's {@code evidence.event_ids} names it.
 * An alert once raised is final: a hold must not wait for more certainty than the rule needs.
 *
 * <p>An address never seen whitelisted does not alert (nothing says it is new), nor does one
 * whitelisted at least the minimum age before the request (a popular deposit address), nor one
 * removed from the whitelist before the request and not added again.
 *
 * <p>State per user: the whitelisted addresses, each forgotten by an event-time timer once it can
 * no longer make a request new, and the requests the watermark has not passed yet. Timers are
 * never deleted: one that finds nothing due does nothing.
 */
public final class NewAddressWithdrawalDetector
        extends RuleDetector<EnrichedEvent, EnrichedEvent, NewAddressSettings> {
    private static final long serialVersionUID = 1L;

    public static final String RULE = NewAddressWithdrawalRule.ID;
    public static final String SEVERITY = NewAddressWithdrawalRule.DEFINITION.severity();

    public static final String WHITELIST_ADDED = "whitelist_address_added";
    public static final String WHITELIST_REMOVED = "whitelist_address_removed";

    public static final MapStateDescriptor<String, WhitelistEntry> WHITELIST =
            new MapStateDescriptor<>("whitelisted-addresses", String.class, WhitelistEntry.class);
    public static final MapStateDescriptor<String, NewAddressRequest> REQUESTS =
            new MapStateDescriptor<>("new-address-requests", String.class, NewAddressRequest.class);

    private static final Comparator<NewAddressRequest> OLDEST_FIRST = Comparator
            .comparingLong((NewAddressRequest r) -> r.eventTime)
            .thenComparing(r -> r.eventId);


    private transient MapState<String, WhitelistEntry> whitelist;
    private transient MapState<String, NewAddressRequest> requests;
    private transient Counter alertsRaised;
    private transient Counter alertsAfterWaiting;
    private transient Counter duplicateRequests;
    private transient Counter addressesForgotten;

    public NewAddressWithdrawalDetector(RuleVersion initial, SerializableClock clock) {
        this(initial, clock, false);
    }

    /** @param shadow evaluates the rule's shadow version, with state of its own (see {@link RuleDetector}) */
    public NewAddressWithdrawalDetector(RuleVersion initial, SerializableClock clock, boolean shadow) {
        super(initial, NewAddressSettings::from, clock, shadow);
    }


    @Override
    public void open(OpenContext openContext) {
        whitelist = mapState(WHITELIST, String.class, WhitelistEntry.class);
        requests = mapState(REQUESTS, String.class, NewAddressRequest.class);
        var metrics = metrics();
        alertsRaised = metrics.counter("newAddressAlerts");
        alertsAfterWaiting = metrics.counter("newAddressAlertsAfterWaiting");
        duplicateRequests = metrics.counter("newAddressDuplicateRequests");
        addressesForgotten = metrics.counter("whitelistedAddressesForgotten");
    }

    @Override
    public void processElement(EnrichedEvent in, ReadOnlyContext ctx, Collector<EnrichedEvent> out) throws Exception {
        useRule(ctx);
        Event ev = in.event;
        if (isWhitelistChange(ev)) {
            out.collect(in);
            onWhitelistChange(ev, ctx);
        } else if (isRequest(ev)) {
            onRequest(in, ctx);
            out.collect(in); // after the check, so that it carries the alert id when alerted now
        } else {
            out.collect(in);
        }
    }

    private static boolean isWhitelistChange(Event ev) {
        return ev.kind == Event.Kind.ACCOUNT_CHANGE && ev.address != null
                && (WHITELIST_ADDED.equals(ev.action) || WHITELIST_REMOVED.equals(ev.action));
    }

    private static boolean isRequest(Event ev) {
        return ev.kind == Event.Kind.WITHDRAWAL && "requested".equals(ev.status)
                && ev.withdrawalId != null && ev.destinationAddress != null;
    }

    private void onRequest(EnrichedEvent in, ReadOnlyContext ctx) throws Exception {
        Event ev = in.event;
        if (requests.contains(ev.withdrawalId)) {
            duplicateRequests.inc(); // the same withdrawal requested again: one decision per withdrawal
            return;
        }
        NewAddressRequest r = NewAddressRequest.of(ev);
        WhitelistEntry entry = whitelist.get(r.destinationAddress);
        if (isNew(entry, r.eventTime)) {
            in.alertIds.add(raise(r, entry, ctx).alertId);
            r.alerted = true;
        }
        // Kept until the watermark passes the request: undecided ones wait for their whitelisting,
        // alerted ones guard against a duplicate request of the same withdrawal.
        requests.put(r.withdrawalId, r);
        ctx.timerService().registerEventTimeTimer(r.eventTime);
    }

    private void onWhitelistChange(Event ev, ReadOnlyContext ctx) throws Exception {
        WhitelistEntry e = whitelist.get(ev.address);
        if (e == null) {
            e = new WhitelistEntry();
            e.address = ev.address;
        }
        if (WHITELIST_ADDED.equals(ev.action)) {
            if (ev.eventTime <= e.addedAt) return; // an older add: the latest one decides
            e.addedAt = ev.eventTime;
            e.addedEventId = ev.eventId;
            if (e.removedAt != WhitelistEntry.NONE && e.removedAt < ev.eventTime) e.removedAt = WhitelistEntry.NONE;
        } else {
            if (ev.eventTime < e.addedAt) return; // removed before the latest add: added again since
            e.removedAt = Math.max(e.removedAt, ev.eventTime);
        }
        whitelist.put(e.address, e);
        ctx.timerService().registerEventTimeTimer(forgetAt(e));
        if (WHITELIST_ADDED.equals(ev.action)) alertWaitingRequestsTo(e, ctx);
    }

    /** A whitelisting arrived after requests to its address: those it makes new are alerted now. */
    private void alertWaitingRequestsTo(WhitelistEntry entry, ReadOnlyContext ctx) throws Exception {
        List<NewAddressRequest> matched = new ArrayList<>();
        for (NewAddressRequest r : requests.values()) {
            if (!r.alerted && entry.address.equals(r.destinationAddress) && isNew(entry, r.eventTime)) matched.add(r);
        }
        matched.sort(OLDEST_FIRST);
        for (NewAddressRequest r : matched) {
            raise(r, entry, ctx);
            alertsAfterWaiting.inc();
            r.alerted = true;
            requests.put(r.withdrawalId, r);
        }
    }

    @Override
    public void onTimer(long timestamp, OnTimerContext ctx, Collector<EnrichedEvent> out) throws Exception {
        useRule(ctx);
        // Every account change up to the request time has arrived: decide the requests, oldest first.
        List<NewAddressRequest> due = new ArrayList<>();
        for (NewAddressRequest r : requests.values()) {
            if (r.eventTime <= timestamp) due.add(r);
        }
        due.sort(OLDEST_FIRST);
        for (NewAddressRequest r : due) {
            requests.remove(r.withdrawalId);
            if (r.alerted) continue;
            WhitelistEntry entry = whitelist.get(r.destinationAddress);
            if (isNew(entry, r.eventTime)) {
                raise(r, entry, ctx);
                alertsAfterWaiting.inc();
            }
        }
        forgetOldAddresses(timestamp, ctx);
    }

    /**
     * An entry can make a request new only while the request is less than the minimum age after
     * its latest change; requests not yet seen are later than the watermark (late ones excepted).
     */
    private long forgetAt(WhitelistEntry e) {
        return e.lastChange() + settings.minAgeMillis() + 1;
    }

    private void forgetOldAddresses(long watermark, OnTimerContext ctx) throws Exception {
        List<String> old = new ArrayList<>();
        for (Map.Entry<String, WhitelistEntry> e : whitelist.entries()) {
            long at = forgetAt(e.getValue());
            if (at <= watermark) {
                old.add(e.getKey());
            } else {
                // Normally already registered (a no-op); a new timer only if the minimum age grew.
                ctx.timerService().registerEventTimeTimer(at);
            }
        }
        for (String address : old) whitelist.remove(address);
        addressesForgotten.inc(old.size());
    }

    /** The rule: whitelisted at the request time, and less than the minimum age before it. */
    private boolean isNew(WhitelistEntry entry, long requestTime) {
        return entry != null && entry.whitelistedAt(requestTime)
                && requestTime - entry.addedAt < settings.minAgeMillis();
    }

    private Alert raise(NewAddressRequest r, WhitelistEntry entry, ReadOnlyContext ctx) {
        Alert alert = alertFor(r, entry, settings.minAgeMillis(), clock.getAsLong());
        alert.ruleVersion = ruleVersion;
        alertsRaised.inc();
        ctx.output(Tags.ALERTS, alert);
        return alert;
    }

    static Alert alertFor(NewAddressRequest r, WhitelistEntry entry, long minAgeMillis, long now) {
        long holdUntil = entry.addedAt + minAgeMillis;
        Alert alert = new Alert();
        alert.alertId = Ids.of("alert", RULE, r.withdrawalId);
        alert.rule = RULE;
        alert.severity = SEVERITY;
        alert.eventTime = r.eventTime;
        alert.detectedAt = now;
        alert.userId = r.userId;
        alert.withdrawalId = r.withdrawalId;
        alert.summary = "Withdrawal " + r.withdrawalId + " of " + r.amount + " " + r.asset + usd(r.usdValue)
                + " by user " + r.userId + " goes to " + r.destinationAddress + ", whitelisted only "
                + Durations.describe(r.eventTime - entry.addedAt) + " before the request (less than "
                + Durations.describe(minAgeMillis) + "), so it is held until " + Times.format(holdUntil) + ".";
        AlertEvidence e = alert.evidence;
        e.eventIds.add(r.eventId);
        if (entry.addedEventId != null) e.eventIds.add(entry.addedEventId);
        e.asset = r.asset;
        e.network = r.network;
        e.amount = r.amount;
        e.usdValue = r.usdValue;
        e.destinationAddress = r.destinationAddress;
        e.whitelistedAt = Times.format(entry.addedAt);
        e.holdUntil = Times.format(holdUntil);
        e.sessionId = r.sessionId;
        e.ip = r.ip;
        e.deviceId = r.deviceId;
        return alert;
    }

    private static String usd(Double value) {
        return value == null ? "" : " (US$" + String.format(Locale.ROOT, "%,.2f", value) + ")";
    }
}
