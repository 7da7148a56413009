package io.tourniquet.detect.job;

import io.tourniquet.rules.anomaly.AnomalyScoringDetector;
import io.tourniquet.model.EnrichedEvent;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.state.MapState;
import org.apache.flink.api.common.state.MapStateDescriptor;
import org.apache.flink.metrics.Counter;
import org.apache.flink.streaming.api.functions.co.KeyedCoProcessFunction;
import org.apache.flink.util.Collector;

/**
 * Keyed by user, on the forensic path only: puts an approval's anomaly features (computed beside
 * the containment chain, once event time has reached the approval) onto the approval as the
 * containment chain decided it (its 2FA verdict, alert ids, incident id), so the enriched-event
 * record carries both. Every other event passes straight through.
 *
 * <p>Why a join and not a chain: features must wait for event time (their facts come on other
 * topics), and a freeze must not. With the anomaly detector in the chain, every approval, and so
 * every unauthorized-approval decision, would wait for the watermark.
 *
 * <p>Nothing is dropped: a side still alone after {@link #TIMEOUT_MS} of wall clock (which only a
 * lost partner can cause) leaves as it is, counted.
 */
public final class FeatureJoin extends KeyedCoProcessFunction<String, EnrichedEvent, EnrichedEvent, EnrichedEvent> {
    private static final long serialVersionUID = 1L;

    /** Far beyond any wait for event time (the out-of-orderness and the wall-clock bounds). */
    static final long TIMEOUT_MS = 10 * 60_000L;

    static final MapStateDescriptor<String, EnrichedEvent> DECIDED =
            new MapStateDescriptor<>("join-decided-approvals", String.class, EnrichedEvent.class);
    static final MapStateDescriptor<String, EnrichedEvent> FEATURED =
            new MapStateDescriptor<>("join-featured-approvals", String.class, EnrichedEvent.class);

    /** When (wall clock) each waiting approval's first side arrived. */
    static final MapStateDescriptor<String, Long> SINCE =
            new MapStateDescriptor<>("join-waiting-since", String.class, Long.class);

    private transient MapState<String, EnrichedEvent> decided;
    private transient MapState<String, Long> since;
    private transient MapState<String, EnrichedEvent> featured;
    private transient Counter timedOut;

    @Override
    public void open(OpenContext openContext) {
        decided = getRuntimeContext().getMapState(DECIDED);
        featured = getRuntimeContext().getMapState(FEATURED);
        since = getRuntimeContext().getMapState(SINCE);
        timedOut = getRuntimeContext().getMetricGroup().counter("featureJoinTimeouts");
    }

    /** An event as the containment chain (or the incident tracker, for flagged approvals) sends it on. */
    @Override
    public void processElement1(EnrichedEvent in, Context ctx, Collector<EnrichedEvent> out) throws Exception {
        if (!AnomalyScoringDetector.isFeaturedApproval(in.event)) {
            out.collect(in);
            return;
        }
        String id = in.event.eventId;
        EnrichedEvent f = featured.get(id);
        if (f == null) {
            decided.put(id, in);
            startWaiting(id, ctx);
            return;
        }
        featured.remove(id);
        since.remove(id);
        out.collect(merge(in, f));
    }

    /** An approval as the anomaly detector featured (and scored) it. */
    @Override
    public void processElement2(EnrichedEvent in, Context ctx, Collector<EnrichedEvent> out) throws Exception {
        String id = in.event.eventId;
        EnrichedEvent d = decided.get(id);
        if (d == null) {
            featured.put(id, in);
            startWaiting(id, ctx);
            return;
        }
        decided.remove(id);
        since.remove(id);
        out.collect(merge(d, in));
    }

    private void startWaiting(String id, Context ctx) throws Exception {
        long now = ctx.timerService().currentProcessingTime();
        since.put(id, now);
        ctx.timerService().registerProcessingTimeTimer(now + TIMEOUT_MS);
    }

    static EnrichedEvent merge(EnrichedEvent decided, EnrichedEvent featured) {
        decided.anomaly = featured.anomaly;
        for (String alertId : featured.alertIds) {
            if (!decided.alertIds.contains(alertId)) decided.alertIds.add(alertId);
        }
        return decided;
    }

    @Override
    public void onTimer(long timestamp, OnTimerContext ctx, Collector<EnrichedEvent> out) throws Exception {
        // Timers are never deleted; one finds only what has waited its full time.
        java.util.List<String> due = new java.util.ArrayList<>();
        for (var e : since.entries()) {
            if (e.getValue() + TIMEOUT_MS <= timestamp) due.add(e.getKey());
        }
        for (String id : due) {
            EnrichedEvent alone = decided.contains(id) ? decided.get(id) : featured.get(id);
            decided.remove(id);
            featured.remove(id);
            since.remove(id);
            if (alone != null) out.collect(alone);
            timedOut.inc();
        }
    }
}
