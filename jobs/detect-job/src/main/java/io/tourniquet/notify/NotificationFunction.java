package io.tourniquet.notify;

import com.google.common.math.LongMath;
import io.tourniquet.config.Settings;
import io.tourniquet.config.TourniquetConfig;
import io.tourniquet.util.SerializableClock;
import io.tourniquet.model.Event;
import io.tourniquet.model.Notification;
import io.tourniquet.model.NotificationRequest;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.state.MapState;
import org.apache.flink.api.common.state.MapStateDescriptor;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.metrics.Counter;
import org.apache.flink.streaming.api.functions.co.KeyedCoProcessFunction;
import org.apache.flink.util.Collector;

/**
 * Keyed by user: turns requests to tell a user about an alert into notifications
 * ({@code tourniquet.notifications}, contract section 3), each carrying the user's anti-phishing
 * code exactly as they last set it.
 *
 * <p>Input 1 is the account changes (keyed by {@code user_id}): {@code anti_phishing_code_set}
 * updates the code, and every {@code whitelist_address_added} also gets its own security notice,
 * since a new withdrawal address is how account takeovers usually begin. Input 2 is the
 * notification requests (keyed by the user to notify).
 *
 * <p>No notification storm: one notification per user, incident (or alert outside incidents) and
 * kind. What was sent is remembered (key: kind and reference, value: the latest event time asked
 * about) until {@code notify.dedup-retention} of event time past that event time, then forgotten
 * by an event-time timer. A request for something already sent only extends the memory, so an
 * incident that keeps raising alerts keeps being remembered. Timers are never deleted: one that
 * finds nothing due does nothing.
 *
 * <p>A notification is composed once event time has reached what it is about: every account change
 * from before then has arrived (late ones excepted), and it carries the code in force at that
 * time (the last set at or before it), so its content does not depend on how far each input topic
 * happened to be read (a replay reads a whole topic ahead of another). Until then it waits in
 * state, at most the watermark's lag.
 *
 * <p>Updates an analyst's request caused (release, resumption, resolution, claims) are about the
 * request's signing time: in a live job they wait until event time passes it (the watermark's lag
 * behind the wall clock, about {@code input.max-out-of-orderness}); in a replay of history, until
 * the end of input, so they carry the code as last set.
 *
 * <p>Every notification about an incident carries {@code update_sequence}: 1 for the user's first
 * message about it, then 2, 3, ... (alerts, suspension, release, resolution, claim), counted in
 * state so that a restart continues the count; it is forgotten {@code notify.update-count-retention}
 * (180 d) of event time after the user's last update about the incident.
 *
 * <p>State per user: the remembered and the waiting notifications and the update counts, which drain; and the anti-phishing code with
 * the event time that set it. The code is profile state kept for the account's life (the contract
 * requires the code as last set, however long ago), so it never drains: one small entry per user
 * who ever set a code. Only a later (or equal) event time replaces it, so changes arriving out of
 * order still leave the last one set.
 */
public final class NotificationFunction extends KeyedCoProcessFunction<String, Event, NotificationRequest, Notification> {
    private static final long serialVersionUID = 1L;

    public static final String ANTI_PHISHING_CODE_SET = "anti_phishing_code_set";

    static final ValueStateDescriptor<CodeHistory> CODE =
            new ValueStateDescriptor<>("anti-phishing-codes", CodeHistory.class);
    static final MapStateDescriptor<String, Long> SENT =
            new MapStateDescriptor<>("notifications-sent", String.class, Long.class);
    static final MapStateDescriptor<String, PendingNotice> WAITING =
            new MapStateDescriptor<>("notifications-waiting", String.class, PendingNotice.class);
    /** Incident id → updates sent about it: the sequence numbers (forgotten with the last of them). */
    static final MapStateDescriptor<String, UpdateCount> UPDATES =
            new MapStateDescriptor<>("notifications-per-incident", String.class, UpdateCount.class);

    private final ArrayList<String> channels;
    private final long retentionMillis;
    private final long updateRetentionMillis;
    private final SerializableClock clock;
    private final NotificationComposer composer = new NotificationComposer();

    private transient ValueState<CodeHistory> code;
    private transient MapState<String, Long> sent;
    private transient MapState<String, PendingNotice> waiting;
    private transient MapState<String, UpdateCount> updates;
    private transient Counter notificationsSent;
    private transient Counter notificationsSuppressed;

    public NotificationFunction(List<String> channels, long retentionMillis, long updateRetentionMillis,
                                SerializableClock clock) {
        if (channels == null || channels.isEmpty()) throw new IllegalArgumentException("at least one channel is required");
        if (retentionMillis <= 0) throw new IllegalArgumentException("retention must be positive: " + retentionMillis);
        if (updateRetentionMillis <= 0) throw new IllegalArgumentException("retention must be positive: " + updateRetentionMillis);
        this.channels = new ArrayList<>(channels);
        this.retentionMillis = retentionMillis;
        this.updateRetentionMillis = updateRetentionMillis;
        this.clock = clock;
    }

    /** With {@code notify.channels}, {@code notify.dedup-retention} and {@code notify.update-count-retention}. */
    public static NotificationFunction from(TourniquetConfig cfg, SerializableClock clock) {
        return new NotificationFunction(channelsOf(cfg.get(Settings.NOTIFY_CHANNELS)),
                cfg.get(Settings.NOTIFY_RETENTION).toMillis(), cfg.get(Settings.NOTIFY_UPDATE_RETENTION).toMillis(), clock);
    }

    /** "email, push" → [email, push]: trimmed, empty items and repeats dropped, order kept. */
    public static List<String> channelsOf(String commaList) {
        LinkedHashSet<String> out = new LinkedHashSet<>();
        for (String c : commaList.split(",")) {
            if (!c.isBlank()) out.add(c.trim());
        }
        if (out.isEmpty()) {
            throw new IllegalArgumentException(Settings.NOTIFY_CHANNELS.key() + ": '" + commaList + "' names no channel");
        }
        return List.copyOf(out);
    }

    @Override
    public void open(OpenContext openContext) {
        code = getRuntimeContext().getState(CODE);
        sent = getRuntimeContext().getMapState(SENT);
        waiting = getRuntimeContext().getMapState(WAITING);
        updates = getRuntimeContext().getMapState(UPDATES);
        var metrics = getRuntimeContext().getMetricGroup();
        notificationsSent = metrics.counter("notificationsSent");
        notificationsSuppressed = metrics.counter("notificationsSuppressed");
    }

    @Override
    public void processElement1(Event e, Context ctx, Collector<Notification> out) throws Exception {
        if (e.kind != Event.Kind.ACCOUNT_CHANGE || e.action == null) return;
        switch (e.action) {
            case ANTI_PHISHING_CODE_SET -> rememberCode(e);
            case NotificationComposer.WHITELIST_ADDRESS_ADDED ->
                    notify(NotificationComposer.whitelistAddedRequest(e), e.eventTime, ctx, out);
            default -> { }
        }
    }

    @Override
    public void processElement2(NotificationRequest req, Context ctx, Collector<Notification> out) throws Exception {
        long eventTime = req.alert != null ? req.alert.eventTime
                : ctx.timestamp() != null ? ctx.timestamp() : ctx.timerService().currentWatermark();
        notify(req, eventTime, ctx, out);
    }

    private void rememberCode(Event e) throws Exception {
        if (e.antiPhishingCode == null) return; // the parser requires it; nothing to remember without it
        CodeHistory history = code.value();
        if (history == null) history = new CodeHistory();
        history.add(new AntiPhishingCode(e.antiPhishingCode, e.eventTime, e.eventId));
        code.update(history);
    }

    private void notify(NotificationRequest req, long eventTime, Context ctx, Collector<Notification> out)
            throws Exception {
        String key = NotificationComposer.dedupKey(req);
        Long seen = sent.get(key);
        if (seen != null) {
            notificationsSuppressed.inc();
            if (eventTime > seen) remember(key, eventTime, ctx);
            return;
        }
        if (eventTime > ctx.timerService().currentWatermark()) {
            PendingNotice already = waiting.get(key);
            if (already != null) {
                notificationsSuppressed.inc();
                return;
            }
            waiting.put(key, new PendingNotice(req, eventTime));
            ctx.timerService().registerEventTimeTimer(eventTime);
            return;
        }
        remember(key, eventTime, ctx);
        CodeHistory history = code.value();
        String current = history == null ? null : history.asOf(eventTime);
        Notification n = composer.compose(req, current, channels, clock.getAsLong());
        if (n.incidentId != null) {
            UpdateCount count = updates.get(n.incidentId);
            count = count == null ? new UpdateCount(1, eventTime)
                    : new UpdateCount(count.sent + 1, Math.max(count.lastEventTime, eventTime));
            updates.put(n.incidentId, count);
            ctx.timerService().registerEventTimeTimer(forgetAt(count.lastEventTime, updateRetentionMillis));
            n.updateSequence = count.sent;
        }
        out.collect(n);
        notificationsSent.inc();
    }

    private void remember(String key, long eventTime, Context ctx) throws Exception {
        sent.put(key, eventTime);
        ctx.timerService().registerEventTimeTimer(forgetAt(eventTime));
    }

    private long forgetAt(long eventTime) {
        return forgetAt(eventTime, retentionMillis);
    }

    private static long forgetAt(long eventTime, long retention) {
        return LongMath.saturatedAdd(eventTime, retention);
    }

    @Override
    public void onTimer(long timestamp, OnTimerContext ctx, Collector<Notification> out) throws Exception {
        List<PendingNotice> due = new ArrayList<>();
        for (PendingNotice p : waiting.values()) {
            if (p.eventTime <= timestamp) due.add(p);
        }
        // Same event time: the alert's own message before the updates it brings, those in the order
        // of an incident's life (tokens revoked, ..., resolved, claim opened), then by key, so the
        // order (and the update numbers) never depends on how the state backend iterates.
        due.sort(java.util.Comparator.comparingLong((PendingNotice p) -> p.eventTime)
                .thenComparingInt(p -> NotificationComposer.lifecycleRank(NotificationComposer.kindOf(p.request)))
                .thenComparing(p -> NotificationComposer.dedupKey(p.request)));
        for (PendingNotice p : due) {
            waiting.remove(NotificationComposer.dedupKey(p.request));
            notify(p.request, p.eventTime, ctx, out);
        }
        List<String> expired = new ArrayList<>();
        for (Map.Entry<String, Long> e : sent.entries()) {
            if (forgetAt(e.getValue()) <= timestamp) expired.add(e.getKey());
        }
        for (String key : expired) sent.remove(key);
        // Numbering ends notify.update-count-retention after the user's last update about the incident.
        List<String> done = new ArrayList<>();
        for (Map.Entry<String, UpdateCount> e : updates.entries()) {
            if (forgetAt(e.getValue().lastEventTime, updateRetentionMillis) <= timestamp) done.add(e.getKey());
        }
        for (String incident : done) updates.remove(incident);
    }
}
