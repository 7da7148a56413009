package io.tourniquet.rules.drain;

import io.tourniquet.detect.DrainRequest;
import io.tourniquet.detect.DrainApproval;
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
import java.math.BigDecimal;
import java.math.RoundingMode;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.state.MapState;
import org.apache.flink.api.common.state.MapStateDescriptor;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.metrics.Counter;
import org.apache.flink.streaming.api.functions.co.KeyedBroadcastProcessFunction;
import org.apache.flink.util.Collector;

/**
 * Keyed by user: raises an {@code account_drain} alert (contract section 2) when the user's
 * approved withdrawals within a sliding window (default 1 h) sum, in US$, to at least a share
 * (default 80 %) of the {@code account_balance_usd} seen at the first of them, and to at least a
 * floor (default US$1,000). Every approval counts, authorized or not: a drain through the real
 * 2FA of a stolen session is still a drain.
 *
 * <p>A set of approvals fits in a window exactly when it fits in the window that ends at its last
 * approval, so the windows examined are those ending at a stored approval time and containing the
 * new approval; out-of-order approvals thus still find the window they complete. A window's
 * baseline is the balance reported by the request of its earliest approval whose request has been
 * seen; with none seen it cannot be decided (counted as {@code drainBalanceUnknown}), and it is
 * examined again if a missing request arrives later.
 *
 * <p>Every input event leaves on the main output at once, exactly once; the approval that
 * completes a drain carries the alert id. After an alert, windows overlapping the alerted one do
 * not alert again, so one drain raises one alert, not one per further approval.
 *
 * <p>State per user: request balances until their approval takes them (else forgotten after the
 * retention), the approvals while they can still share a window with a future approval, and the
 * end of the suppression after an alert; each forgotten by an event-time timer. Timers are never
 * deleted: one that finds nothing due does nothing.
 */
public final class AccountDrainDetector
        extends RuleDetector<EnrichedEvent, EnrichedEvent, AccountDrainSettings> {
    private static final long serialVersionUID = 1L;

    public static final String RULE = AccountDrainRule.ID;
    public static final String SEVERITY = AccountDrainRule.DEFINITION.severity();

    public static final MapStateDescriptor<String, DrainRequest> REQUESTS =
            new MapStateDescriptor<>("drain-request-balances", String.class, DrainRequest.class);
    public static final MapStateDescriptor<String, DrainApproval> APPROVALS =
            new MapStateDescriptor<>("drain-approvals", String.class, DrainApproval.class);
    /** Windows ending at or before this (event time) overlap the last alerted window. */
    public static final ValueStateDescriptor<Long> ALERTED_UNTIL =
            new ValueStateDescriptor<>("drain-alerted-until", Long.class);

    private static final Comparator<DrainApproval> OLDEST_FIRST = Comparator
            .comparingLong((DrainApproval a) -> a.eventTime)
            .thenComparing(a -> a.eventId);


    private transient MapState<String, DrainRequest> requests;
    private transient MapState<String, DrainApproval> approvals;
    private transient ValueState<Long> alertedUntil;
    private transient Counter alertsRaised;
    private transient Counter alertsSuppressed;
    private transient Counter balanceUnknown;
    private transient Counter duplicateApprovals;

    public AccountDrainDetector(RuleVersion initial, SerializableClock clock) {
        this(initial, clock, false);
    }

    /** @param shadow evaluates the rule's shadow version, with state of its own (see {@link RuleDetector}) */
    public AccountDrainDetector(RuleVersion initial, SerializableClock clock, boolean shadow) {
        super(initial, AccountDrainSettings::from, clock, shadow);
    }

    @Override
    public void open(OpenContext openContext) {
        requests = mapState(REQUESTS, String.class, DrainRequest.class);
        approvals = mapState(APPROVALS, String.class, DrainApproval.class);
        alertedUntil = valueState(ALERTED_UNTIL, Long.class);
        var metrics = metrics();
        alertsRaised = metrics.counter("drainAlerts");
        alertsSuppressed = metrics.counter("drainSuppressed");
        balanceUnknown = metrics.counter("drainBalanceUnknown");
        duplicateApprovals = metrics.counter("drainDuplicateApprovals");
    }

    @Override
    public void processElement(EnrichedEvent in, ReadOnlyContext ctx, Collector<EnrichedEvent> out) throws Exception {
        useRule(ctx);
        Event ev = in.event;
        if (isRequest(ev)) {
            out.collect(in);
            onRequest(ev, ctx);
        } else if (ev.isApproval() && ev.withdrawalId != null && ev.usdValue != null) {
            Alert alert = onApproval(ev, ctx);
            if (alert != null) in.alertIds.add(alert.alertId);
            out.collect(in);
        } else {
            out.collect(in);
        }
    }

    private static boolean isRequest(Event ev) {
        return ev.kind == Event.Kind.WITHDRAWAL && "requested".equals(ev.status)
                && ev.withdrawalId != null && ev.accountBalanceUsd != null;
    }

    private void onRequest(Event ev, ReadOnlyContext ctx) throws Exception {
        DrainApproval approved = approvals.get(ev.withdrawalId);
        if (approved != null) {
            // The approval came first (disorder within the topic): its windows can be decided now.
            if (approved.balanceUsd == null) {
                approved.balanceUsd = ev.accountBalanceUsd;
                approvals.put(approved.withdrawalId, approved);
                evaluate(approved, ctx);
            }
            return;
        }
        if (requests.contains(ev.withdrawalId)) return; // a repeated request: the first balance stands
        requests.put(ev.withdrawalId, new DrainRequest(ev.withdrawalId, ev.accountBalanceUsd, ev.eventTime));
        ctx.timerService().registerEventTimeTimer(ev.eventTime + settings.requestRetentionMillis());
    }

    private Alert onApproval(Event ev, ReadOnlyContext ctx) throws Exception {
        if (approvals.contains(ev.withdrawalId)) {
            duplicateApprovals.inc(); // one withdrawal counts once, however often it is approved
            return null;
        }
        DrainApproval a = DrainApproval.of(ev);
        DrainRequest request = requests.get(ev.withdrawalId);
        if (request != null) {
            a.balanceUsd = request.balanceUsd;
            requests.remove(ev.withdrawalId); // taken: the approval carries it from now on
        }
        approvals.put(a.withdrawalId, a);
        ctx.timerService().registerEventTimeTimer(evictAt(a));
        return evaluate(a, ctx);
    }

    /**
     * Examines every window that ends at a stored approval and contains {@code trigger}, earliest
     * first, and raises at most one alert: any later window would overlap the alerted one.
     */
    private Alert evaluate(DrainApproval trigger, ReadOnlyContext ctx) throws Exception {
        List<DrainApproval> all = new ArrayList<>();
        for (DrainApproval a : approvals.values()) all.add(a);
        all.sort(OLDEST_FIRST);
        long window = settings.windowMillis();
        Long suppressedUntil = alertedUntil.value();
        boolean undecided = false;
        for (DrainApproval anchor : all) {
            long end = anchor.eventTime;
            long start = end - window;
            if (end < trigger.eventTime || start > trigger.eventTime) continue;
            List<DrainApproval> inWindow = new ArrayList<>();
            for (DrainApproval a : all) {
                if (a.eventTime >= start && a.eventTime <= end) inWindow.add(a);
            }
            Double baseline = null;
            for (DrainApproval a : inWindow) {
                if (a.balanceUsd != null) {
                    baseline = a.balanceUsd;
                    break;
                }
            }
            if (baseline == null) {
                undecided = true;
                continue;
            }
            BigDecimal sum = BigDecimal.ZERO;
            for (DrainApproval a : inWindow) sum = sum.add(BigDecimal.valueOf(a.usdValue));
            BigDecimal balance = BigDecimal.valueOf(baseline);
            if (sum.compareTo(settings.share().multiply(balance)) < 0 || sum.compareTo(settings.floorUsd()) < 0) {
                continue;
            }
            if (suppressedUntil != null && end <= suppressedUntil) {
                alertsSuppressed.inc(); // the same drain, already alerted
                continue;
            }
            // Dated at the approval where the window crossed the threshold in event time, not at the
            // one that happened to arrive last: platform rules count drains by that time.
            Alert alert = alertFor(ctx.getCurrentKey(), anchor, inWindow, baseline, sum, start, end, window,
                    clock.getAsLong());
            alert.ruleVersion = ruleVersion;
            long until = end + window;
            alertedUntil.update(until);
            ctx.timerService().registerEventTimeTimer(until);
            alertsRaised.inc();
            ctx.output(Tags.ALERTS, alert);
            return alert;
        }
        if (undecided) balanceUnknown.inc();
        return null;
    }

    /** No approval later than the watermark (late ones excepted) can share a window with it then. */
    private long evictAt(DrainApproval a) {
        return a.eventTime + settings.windowMillis() + 1;
    }

    @Override
    public void onTimer(long timestamp, OnTimerContext ctx, Collector<EnrichedEvent> out) throws Exception {
        useRule(ctx);
        // The computed times use the thresholds in force now; if a change pushed one later, it
        // gets a timer of its own (registering an existing timer again is a no-op).
        List<String> expired = new ArrayList<>();
        for (Map.Entry<String, DrainRequest> e : requests.entries()) {
            long at = e.getValue().requestedAt + settings.requestRetentionMillis();
            if (at <= timestamp) expired.add(e.getKey());
            else ctx.timerService().registerEventTimeTimer(at);
        }
        for (String id : expired) requests.remove(id);
        expired.clear();
        for (Map.Entry<String, DrainApproval> e : approvals.entries()) {
            long at = evictAt(e.getValue());
            if (at <= timestamp) expired.add(e.getKey());
            else ctx.timerService().registerEventTimeTimer(at);
        }
        for (String id : expired) approvals.remove(id);
        Long until = alertedUntil.value();
        if (until != null && until <= timestamp) alertedUntil.clear();
    }

    static Alert alertFor(String userId, DrainApproval trigger, List<DrainApproval> inWindow, double baseline,
                          BigDecimal sum, long start, long end, long window, long now) {
        Alert alert = new Alert();
        alert.alertId = Ids.of("alert", RULE, userId, trigger.eventId);
        alert.rule = RULE;
        alert.severity = SEVERITY;
        alert.eventTime = trigger.eventTime;
        alert.detectedAt = now;
        alert.userId = userId;
        alert.withdrawalId = trigger.withdrawalId;
        BigDecimal balance = BigDecimal.valueOf(baseline);
        String share = balance.signum() == 0 ? "exceeded"
                : "reached " + sum.multiply(BigDecimal.valueOf(100)).divide(balance, 1, RoundingMode.DOWN)
                        .toPlainString() + " % of";
        alert.summary = "Approved withdrawals of user " + userId + " totalling " + usd(sum) + " within "
                + Durations.describe(window) + " (" + inWindow.size() + " withdrawal"
                + (inWindow.size() == 1 ? "" : "s") + ", completed by " + trigger.withdrawalId + ") " + share
                + " the " + usd(balance) + " balance seen at the first of them.";
        AlertEvidence e = alert.evidence;
        e.withdrawalIds = new ArrayList<>();
        for (DrainApproval a : inWindow) {
            e.eventIds.add(a.eventId);
            e.withdrawalIds.add(a.withdrawalId);
        }
        e.balanceUsd = baseline;
        e.windowUsd = sum.doubleValue();
        e.windowStart = Times.format(start);
        e.windowEnd = Times.format(end);
        e.asset = trigger.asset;
        e.amount = trigger.amount;
        e.usdValue = trigger.usdValue;
        return alert;
    }

    private static String usd(BigDecimal value) {
        return "US$" + String.format(Locale.ROOT, "%,.2f", value);
    }
}
