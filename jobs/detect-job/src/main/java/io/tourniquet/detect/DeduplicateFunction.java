package io.tourniquet.detect;

import io.tourniquet.runtime.PipelineMetrics;
import com.google.common.math.LongMath;
import io.tourniquet.model.EnrichedEvent;
import io.tourniquet.model.Event;
import io.tourniquet.rules.RuleVersion;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.state.MapState;
import org.apache.flink.api.common.state.MapStateDescriptor;
import org.apache.flink.metrics.Counter;
import org.apache.flink.streaming.api.TimeDomain;
import org.apache.flink.streaming.api.functions.co.KeyedBroadcastProcessFunction;
import org.apache.flink.util.Collector;

/**
 * Keyed by user, the first step of {@link PerUserDetectors}: passes the first copy of each event,
 * drops redelivered duplicates, and marks events that arrive behind the watermark as late (they
 * still go on, and are counted). An event is known by its kind (so its topic) and
 * {@code event_id}: a record on one topic cannot pre-empt another topic's event of the same id. An
 * id is remembered for a retention of event time after the later of its event time and the
 * watermark at arrival, then forgotten by a timer, so state stays bounded.
 *
 * <p>Forgetting times are rounded up to the next whole {@link #BUCKET_MS}: a user's ids then share
 * one timer per minute of event time instead of one per event (timers were 12 % of the detect
 * job's profile), and an id is remembered at most a minute longer than the retention, never less.
 *
 * <p>Why by user and not by event id: keyed by event id, one user's events went through different
 * subtasks and reached the per-user detectors in another order than their partition held them,
 * and an account drain's window then depended on which approval won the race. Keyed by user, the
 * per-user detectors see each partition's events of a user in their order.
 *
 * <p>A broadcast function only to run inside {@link PerUserDetectors} with the rules; it has no
 * rule of its own.
 */
public final class DeduplicateFunction extends KeyedBroadcastProcessFunction<String, EnrichedEvent, RuleVersion, EnrichedEvent> {
    private static final long serialVersionUID = 1L;

    /** Granularity of forgetting: one timer per user and minute of event time at most. */
    static final long BUCKET_MS = 60_000L;

    /** Kind/event id → event time until which it is remembered. */
    public static final MapStateDescriptor<String, Long> SEEN = new MapStateDescriptor<>("seen-events", String.class,
            Long.class);

    private final long retentionMillis;
    private transient MapState<String, Long> seen;
    private transient Counter duplicates;
    private transient Counter late;

    public DeduplicateFunction(long retentionMillis) {
        if (retentionMillis <= 0) throw new IllegalArgumentException("retention must be positive: " + retentionMillis);
        this.retentionMillis = retentionMillis;
    }

    @Override
    public void open(OpenContext openContext) {
        seen = getRuntimeContext().getMapState(SEEN);
        duplicates = getRuntimeContext().getMetricGroup().counter("duplicatesDropped");
        late = PipelineMetrics.of(getRuntimeContext().getMetricGroup()).counter("late_events");
    }

    @Override
    public void processElement(EnrichedEvent in, ReadOnlyContext ctx, Collector<EnrichedEvent> out) throws Exception {
        Event ev = in.event;
        String id = ev.kind + "/" + ev.eventId;
        if (seen.contains(id)) {
            duplicates.inc();
            return;
        }
        long watermark = ctx.timerService().currentWatermark();
        boolean isLate = ev.eventTime < watermark;
        // A late event's own time may already be behind the watermark: anchor its retention at
        // the watermark, or the timer would fire at once and forget it immediately.
        long forgetAt = bucketEnd(LongMath.saturatedAdd(Math.max(ev.eventTime, watermark), retentionMillis));
        seen.put(id, forgetAt);
        ctx.timerService().registerEventTimeTimer(forgetAt);
        if (isLate) {
            late.inc();
            ev.late = true;
            in.late = true;
        }
        out.collect(in);
    }

    /** The end of the bucket holding {@code t}: {@code t} itself on a boundary, else the next one. */
    public static long bucketEnd(long t) {
        long rem = Math.floorMod(t, BUCKET_MS);
        return rem == 0 ? t : LongMath.saturatedAdd(t - rem, BUCKET_MS);
    }

    @Override
    public void onTimer(long timestamp, OnTimerContext ctx, Collector<EnrichedEvent> out) throws Exception {
        // Inside PerUserDetectors every detector's event-time timer reaches every step. Ours all sit
        // on bucket boundaries, and the one at a boundary finds everything due by then: another
        // step's timer in between has nothing for us, and skipping it spares a pass over the ids.
        if (ctx.timeDomain() != TimeDomain.EVENT_TIME || timestamp != bucketEnd(timestamp)) return;
        java.util.List<String> due = new java.util.ArrayList<>();
        for (var e : seen.entries()) {
            if (e.getValue() <= timestamp) due.add(e.getKey());
        }
        for (String id : due) seen.remove(id);
    }

    @Override
    public void processBroadcastElement(RuleVersion update, Context ctx, Collector<EnrichedEvent> out) {
        // No rule of its own: the detectors beside it take the updates.
    }
}
