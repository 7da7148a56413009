package io.tourniquet.detect;

import com.google.common.math.LongMath;
import io.tourniquet.model.Event;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.state.MapState;
import org.apache.flink.api.common.state.MapStateDescriptor;
import org.apache.flink.metrics.Counter;
import org.apache.flink.streaming.api.functions.KeyedProcessFunction;
import org.apache.flink.util.Collector;

/**
 * Keyed by user: passes the first copy of each event, drops redelivered duplicates, and marks
 * events that arrive behind the watermark as late (they still go on, and are counted). An event is
 * known by its kind (so its topic) and {@code event_id}: a record on one topic cannot pre-empt
 * another topic's event of the same id. An id is remembered for a retention of event time after the
 * later of its event time and the watermark at arrival, then forgotten by a timer, so state stays
 * bounded.
 *
 * <p>Why by user and not by event id: keyed by event id, one user's events went through different
 * subtasks and reached the per-user detectors in another order than their partition held them,
 * and an account drain's window then depended on which approval won the race. Keyed by user, the
 * per-user detectors see each partition's events of a user in their order.
 */
public final class DeduplicateFunction extends KeyedProcessFunction<String, Event, Event> {
    private static final long serialVersionUID = 1L;

    /** Kind/event id → event time until which it is remembered. */
    static final MapStateDescriptor<String, Long> SEEN = new MapStateDescriptor<>("seen-events", String.class,
            Long.class);

    private final long retentionMillis;
    private transient MapState<String, Long> seen;
    private transient Counter duplicates;
    private transient Counter late;

    public DeduplicateFunction(long retentionMillis) {
        this.retentionMillis = retentionMillis;
    }

    @Override
    public void open(OpenContext openContext) {
        seen = getRuntimeContext().getMapState(SEEN);
        duplicates = getRuntimeContext().getMetricGroup().counter("duplicatesDropped");
        late = io.tourniquet.util.PipelineMetrics.of(getRuntimeContext().getMetricGroup()).counter("late_events");
    }

    @Override
    public void processElement(Event ev, Context ctx, Collector<Event> out) throws Exception {
        String id = ev.kind + "/" + ev.eventId;
        if (seen.contains(id)) {
            duplicates.inc();
            return;
        }
        long watermark = ctx.timerService().currentWatermark();
        boolean isLate = ev.eventTime < watermark;
        if (isLate) late.inc();
        // A late event's own time may already be behind the watermark: anchor its retention at
        // the watermark, or the timer would fire at once and forget it immediately.
        long forgetAt = LongMath.saturatedAdd(Math.max(ev.eventTime, watermark), retentionMillis);
        seen.put(id, forgetAt);
        ctx.timerService().registerEventTimeTimer(forgetAt);
        out.collect(isLate ? markLate(ev) : ev);
    }

    @Override
    public void onTimer(long timestamp, OnTimerContext ctx, Collector<Event> out) throws Exception {
        java.util.List<String> due = new java.util.ArrayList<>();
        for (var e : seen.entries()) {
            if (e.getValue() <= timestamp) due.add(e.getKey());
        }
        for (String id : due) seen.remove(id);
    }

    private static Event markLate(Event ev) {
        ev.late = true;
        return ev;
    }
}
