package io.tourniquet.notify;

import com.google.common.math.LongMath;
import io.tourniquet.config.Settings;
import io.tourniquet.config.TourniquetConfig;
import io.tourniquet.model.Alert;
import io.tourniquet.model.Event;
import io.tourniquet.model.NotificationRequest;
import io.tourniquet.model.PlatformNotice;
import java.util.Map;
import java.util.Set;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.state.BroadcastState;
import org.apache.flink.api.common.state.MapState;
import org.apache.flink.api.common.state.MapStateDescriptor;
import org.apache.flink.streaming.api.functions.co.KeyedBroadcastProcessFunction;
import org.apache.flink.util.Collector;

/**
 * Keyed by user: which withdrawals are pending or held (requested, approved or held, and not yet
 * broadcast, completed, rejected or cancelled), so that when withdrawals are suspended on the
 * platform, and when they resume, every user whose withdrawal is affected is told, not only the
 * incident's victims (who hear from the incident tracker).
 *
 * <p>The broadcast input is the tracker's {@link PlatformNotice}s. A suspension is kept in
 * broadcast state while in force: a user whose pending withdrawal is seen while it is in force is
 * told too, so the notice does not depend on whether the withdrawal or the suspension was read
 * first. Whether a withdrawal that finished around the suspension counts as pending does: it is
 * judged by what this step has seen when one meets the other. Victims of the incident, and the
 * users the suspending bulk-drain alert counted, are not told again here: the notice names them,
 * whichever of their alerts the tracker had read by then. A victim whose approval comes after the
 * suspension hears of it from the tracker (with the bulk-drain notice) and may hear it here too.
 *
 * <p>State per user: pending withdrawal id → event time last seen; an entry leaves when its
 * withdrawal finishes, or {@code notify.dedup-retention} of event time after it was last seen
 * (a withdrawal whose end never arrives must not stay forever).
 */
public final class WithdrawalWatch extends KeyedBroadcastProcessFunction<String, Event, PlatformNotice, NotificationRequest> {
    private static final long serialVersionUID = 1L;

    static final Set<String> FINISHED = Set.of("broadcast", "completed", "rejected", "cancelled");

    static final MapStateDescriptor<String, Long> PENDING =
            new MapStateDescriptor<>("pending-withdrawals", String.class, Long.class);
    /** Suspensions in force: incident id → its notice. */
    public static final MapStateDescriptor<String, PlatformNotice> SUSPENSIONS =
            new MapStateDescriptor<>("platform-suspensions", String.class, PlatformNotice.class);

    private final long retentionMillis;
    private transient MapState<String, Long> pending;

    public WithdrawalWatch(long retentionMillis) {
        this.retentionMillis = retentionMillis;
    }

    public static WithdrawalWatch from(TourniquetConfig cfg) {
        return new WithdrawalWatch(cfg.get(Settings.NOTIFY_RETENTION).toMillis());
    }

    @Override
    public void open(OpenContext openContext) {
        pending = getRuntimeContext().getMapState(PENDING);
    }

    @Override
    public void processElement(Event e, ReadOnlyContext ctx, Collector<NotificationRequest> out) throws Exception {
        if (e.kind != Event.Kind.WITHDRAWAL || e.withdrawalId == null || e.status == null) return;
        if (FINISHED.contains(e.status)) {
            pending.remove(e.withdrawalId);
            return;
        }
        Long seen = pending.get(e.withdrawalId);
        long last = seen == null ? e.eventTime : Math.max(seen, e.eventTime);
        pending.put(e.withdrawalId, last);
        ctx.timerService().registerEventTimeTimer(forgetAt(last));
        for (Map.Entry<String, PlatformNotice> s : ctx.getBroadcastState(SUSPENSIONS).immutableEntries()) {
            PlatformNotice n = s.getValue();
            if (!n.victims.contains(e.userId)) out.collect(request(e.userId, NotificationComposer.WITHDRAWALS_SUSPENDED, n));
        }
    }

    @Override
    public void processBroadcastElement(PlatformNotice n, Context ctx, Collector<NotificationRequest> out) throws Exception {
        BroadcastState<String, PlatformNotice> suspensions = ctx.getBroadcastState(SUSPENSIONS);
        String kind;
        if (PlatformNotice.SUSPENDED.equals(n.type)) {
            suspensions.put(n.incidentId, n);
            kind = NotificationComposer.WITHDRAWALS_SUSPENDED;
        } else {
            suspensions.remove(n.incidentId);
            kind = NotificationComposer.WITHDRAWALS_RESUMED;
        }
        ctx.applyToKeyedState(PENDING, (user, withdrawals) -> {
            if (withdrawals.iterator().hasNext() && !n.victims.contains(user)) out.collect(request(user, kind, n));
        });
    }

    @Override
    public void onTimer(long timestamp, OnTimerContext ctx, Collector<NotificationRequest> out) throws Exception {
        java.util.List<String> stale = new java.util.ArrayList<>();
        for (Map.Entry<String, Long> w : pending.entries()) if (forgetAt(w.getValue()) <= timestamp) stale.add(w.getKey());
        for (String id : stale) pending.remove(id);
    }

    private static NotificationRequest request(String user, String kind, PlatformNotice n) {
        Alert about = new Alert();
        about.incidentId = n.incidentId;
        about.eventTime = n.eventTime;
        return new NotificationRequest(user, kind, about);
    }

    private long forgetAt(long eventTime) {
        return LongMath.saturatedAdd(eventTime, retentionMillis);
    }
}
