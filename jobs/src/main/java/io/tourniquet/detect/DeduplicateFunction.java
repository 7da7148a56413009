package io.tourniquet.detect;

import io.tourniquet.model.Event;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.metrics.Counter;
import org.apache.flink.streaming.api.functions.KeyedProcessFunction;
import org.apache.flink.util.Collector;

/**
 * Keyed by {@code event_id}: passes the first copy of each event, drops redelivered duplicates,
 * and marks events that arrive behind the watermark as late (they still go on, and are counted).
 * An id is remembered for a retention of event time after the later of its event time and the
 * watermark at arrival, then forgotten by a timer, so state stays bounded.
 */
public final class DeduplicateFunction extends KeyedProcessFunction<String, Event, Event> {
    private static final long serialVersionUID = 1L;

    static final ValueStateDescriptor<Long> SEEN = new ValueStateDescriptor<>("seen-until", Long.class);

    private final long retentionMillis;
    private transient ValueState<Long> seen;
    private transient Counter duplicates;
    private transient Counter late;

    public DeduplicateFunction(long retentionMillis) {
        this.retentionMillis = retentionMillis;
    }

    @Override
    public void open(OpenContext openContext) {
        seen = getRuntimeContext().getState(SEEN);
        duplicates = getRuntimeContext().getMetricGroup().counter("duplicatesDropped");
        late = getRuntimeContext().getMetricGroup().counter("lateEvents");
    }

    @Override
    public void processElement(Event ev, Context ctx, Collector<Event> out) throws Exception {
        if (seen.value() != null) {
            duplicates.inc();
            return;
        }
        long watermark = ctx.timerService().currentWatermark();
        boolean isLate = ev.eventTime < watermark;
        if (isLate) late.inc();
        // A late event's own time may already be behind the watermark: anchor its retention at
        // the watermark, or the timer would fire at once and forget it immediately.
        long forgetAt = saturatedAdd(Math.max(ev.eventTime, watermark), retentionMillis);
        seen.update(forgetAt);
        ctx.timerService().registerEventTimeTimer(forgetAt);
        out.collect(isLate ? markLate(ev) : ev);
    }

    @Override
    public void onTimer(long timestamp, OnTimerContext ctx, Collector<Event> out) throws Exception {
        Long until = seen.value();
        if (until != null && until <= timestamp) seen.clear();
    }

    private static Event markLate(Event ev) {
        ev.late = true;
        return ev;
    }

    private static long saturatedAdd(long a, long b) {
        long r = a + b;
        return ((a ^ r) & (b ^ r)) < 0 ? Long.MAX_VALUE : r;
    }
}
