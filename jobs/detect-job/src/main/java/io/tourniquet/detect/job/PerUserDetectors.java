package io.tourniquet.detect.job;

import io.tourniquet.detect.DeduplicateFunction;
import io.tourniquet.rules.anomaly.AnomalyScoringDetector;
import io.tourniquet.rules.newaddress.NewAddressWithdrawalDetector;
import io.tourniquet.rules.drain.AccountDrainDetector;
import io.tourniquet.rules.unauthorized.UnauthorizedApprovalDetector;
import io.tourniquet.streams.Tags;
import io.tourniquet.util.SerializableClock;
import io.tourniquet.config.Settings;
import io.tourniquet.config.TourniquetConfig;
import io.tourniquet.model.EnrichedEvent;
import io.tourniquet.rules.catalog.RuleCatalog;
import io.tourniquet.rules.RuleVersion;
import java.util.List;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.state.MapState;
import org.apache.flink.api.common.state.MapStateDescriptor;
import org.apache.flink.api.common.state.ReadOnlyBroadcastState;
import org.apache.flink.streaming.api.TimeDomain;
import org.apache.flink.streaming.api.TimerService;
import org.apache.flink.util.OutputTag;
import org.apache.flink.streaming.api.functions.co.KeyedBroadcastProcessFunction;
import org.apache.flink.util.Collector;
import org.apache.flink.util.ExceptionUtils;
import org.apache.flink.util.function.ThrowingConsumer;

/**
 * Every per-user step of the containment path in one keyed operator, so one task per subtask:
 * de-duplication, then the new-address, account-drain and unauthorized-approval rules in a chain
 * (each adds its alert ids to the event and passes it on), with the anomaly scorer beside the
 * last. Each step is still its own function with its own state, settings and harness tests; this
 * class only runs them in order on the same record, key, timers and broadcast rules.
 *
 * <p>Why one operator: each rule needs the rule versions broadcast to it, and an operator with a
 * broadcast input cannot chain to the one before it. As four operators they were four tasks in a
 * row, each serializing and deserializing the whole event (37.5 % of the job's CPU in a profile).
 *
 * <p>What it emits: on the main output, events as the chain decided them (an approval once its 2FA
 * verdict is known; an unauthorized one leaves inside its alert instead, see
 * {@link UnauthorizedApprovalDetector}); on {@link Tags#ALERTS} every step's alerts; on
 * {@link Tags#UNIQUE_WITHDRAWALS}, {@link Tags#UNIQUE_LOGINS} and {@link Tags#UNIQUE_ACCOUNT_CHANGES}
 * each such event once, after de-duplication, for the operators that follow
 * users' withdrawals, claims and notifications; on {@link Tags#FEATURED_APPROVALS} approvals as
 * the anomaly scorer featured them, for {@link FeatureJoin}.
 *
 * <p>Timers: the steps share the key's timer service, which cannot tell whose a timer is. So each
 * step sets its event-time timers through a context of its own ({@link StepContext}) that notes
 * the step in {@link #TIMER_OWNERS} (one bit per step, by the timer's time), and a firing timer
 * reaches only the steps that set it, as when they were separate operators. Before that, every
 * timer reached every step, and each step's clean-up scanned its state for nothing: most of the
 * operator's time went to other steps' timers (RocksDB iterators, in a profile of the bench). A
 * timer with no owners noted (set by a build before this one, restored from a savepoint) reaches
 * every step, as it did then; so each step's {@code onTimer} still acts only on what is due by the
 * timer's time. Processing-time timers (set by the unauthorized-approval rule and the anomaly
 * scorer only) reach both. No step deletes a timer (another step may have set the same one).
 *
 * <p>Shadow steps: the new-address and account-drain rules each have a second instance that
 * evaluates the rule's shadow version (an analyst's candidate, {@code update_rule} with
 * {@code mode: shadow}) while one is under evaluation, on a copy of each unique event, with state
 * of its own (names prefixed {@code shadow-}) and timer bits of its own. It starts without the
 * rule's history when the shadow version arrives (a warm-up of the rule's window), or with what an
 * earlier shadow of the rule left and has not drained yet: facts (whitelistings, approvals), which
 * the new thresholds read as the active step reads its own. Its main output is dropped (the
 * active step decides what the event carries); its alerts leave marked shadow, with ids of their
 * own, on {@link Tags#SHADOW_ALERTS}, which go to the alert sink and nowhere else. Once the shadow
 * is promoted or dropped, the step reads no more events and its timers drain its state.
 */
public final class PerUserDetectors extends KeyedBroadcastProcessFunction<String, EnrichedEvent, RuleVersion, EnrichedEvent> {
    private static final long serialVersionUID = 1L;

    /** Which steps set the event-time timer of a time: bits {@link #DEDUP} … {@link #ANOMALY}. */
    public static final MapStateDescriptor<Long, Integer> TIMER_OWNERS =
            new MapStateDescriptor<>("detect-timer-owners", Long.class, Integer.class);
    static final int DEDUP = 1;
    static final int NEW_ADDRESS = 1 << 1;
    static final int DRAIN = 1 << 2;
    static final int UNAUTHORIZED = 1 << 3;
    static final int ANOMALY = 1 << 4;
    static final int SHADOW_NEW_ADDRESS = 1 << 5;
    static final int SHADOW_DRAIN = 1 << 6;
    /** What a timer of a build before owners were noted may belong to (shadow steps came later). */
    private static final int EVERY_STEP = DEDUP | NEW_ADDRESS | DRAIN | UNAUTHORIZED | ANOMALY;

    private final DeduplicateFunction dedup;
    private final NewAddressWithdrawalDetector newAddress;
    private final AccountDrainDetector drain;
    private final UnauthorizedApprovalDetector unauthorized;
    private final AnomalyScoringDetector anomaly;
    /** Shadow instances: the two rules' candidates ({@code RuleCatalog.SHADOWABLE}). */
    private final NewAddressWithdrawalDetector shadowNewAddress;
    private final AccountDrainDetector shadowDrain;

    /** The context of the element or timer being handled, for the steps further down the chain. */
    private transient ReadOnlyContext current;
    /** The operator's main output, while an element or timer is handled. */
    private transient Collector<EnrichedEvent> decided;
    private transient Collector<EnrichedEvent> afterDedup;
    private transient Collector<EnrichedEvent> afterNewAddress;
    private transient Collector<EnrichedEvent> afterDrain;
    private transient Collector<EnrichedEvent> featured;
    private transient MapState<Long, Integer> timerOwners;
    private transient StepContext dedupCtx;
    private transient StepContext newAddressCtx;
    private transient StepContext drainCtx;
    private transient StepContext unauthorizedCtx;
    private transient StepContext anomalyCtx;
    private transient StepContext shadowNewAddressCtx;
    private transient StepContext shadowDrainCtx;

    public PerUserDetectors(DeduplicateFunction dedup, NewAddressWithdrawalDetector newAddress, AccountDrainDetector drain,
                            UnauthorizedApprovalDetector unauthorized, AnomalyScoringDetector anomaly,
                            NewAddressWithdrawalDetector shadowNewAddress, AccountDrainDetector shadowDrain) {
        this.dedup = dedup;
        this.newAddress = newAddress;
        this.drain = drain;
        this.unauthorized = unauthorized;
        this.anomaly = anomaly;
        this.shadowNewAddress = shadowNewAddress;
        this.shadowDrain = shadowDrain;
    }

    /** The steps as configured (version 1 of each rule; later versions come on the broadcast), with shadow steps. */
    public static PerUserDetectors from(TourniquetConfig cfg, SerializableClock clock) {
        RuleVersion newAddress = RuleCatalog.initial(RuleCatalog.NEW_ADDRESS_WITHDRAWAL, cfg);
        RuleVersion drain = RuleCatalog.initial(RuleCatalog.ACCOUNT_DRAIN, cfg);
        return new PerUserDetectors(
                new DeduplicateFunction(cfg.get(Settings.DEDUP_RETENTION).toMillis()),
                new NewAddressWithdrawalDetector(newAddress, clock),
                new AccountDrainDetector(drain, clock),
                new UnauthorizedApprovalDetector(RuleCatalog.initial(RuleCatalog.UNAUTHORIZED_APPROVAL, cfg), clock),
                AnomalyScoringDetector.from(cfg, clock),
                new NewAddressWithdrawalDetector(newAddress, clock, true),
                new AccountDrainDetector(drain, clock, true));
    }

    private List<KeyedBroadcastProcessFunction<String, EnrichedEvent, RuleVersion, EnrichedEvent>> steps() {
        return List.of(dedup, newAddress, drain, unauthorized, anomaly, shadowNewAddress, shadowDrain);
    }

    @Override
    public void open(OpenContext openContext) throws Exception {
        for (var step : steps()) {
            step.setRuntimeContext(getRuntimeContext());
            step.open(openContext);
        }
        timerOwners = getRuntimeContext().getMapState(TIMER_OWNERS);
        dedupCtx = new StepContext(DEDUP);
        newAddressCtx = new StepContext(NEW_ADDRESS);
        drainCtx = new StepContext(DRAIN);
        unauthorizedCtx = new StepContext(UNAUTHORIZED);
        anomalyCtx = new StepContext(ANOMALY);
        shadowNewAddressCtx = new StepContext(SHADOW_NEW_ADDRESS);
        shadowDrainCtx = new StepContext(SHADOW_DRAIN);
        afterDedup = new Step(e -> {
            switch (e.event.kind) {
                case WITHDRAWAL -> current.output(Tags.UNIQUE_WITHDRAWALS, e.event);
                case LOGIN -> current.output(Tags.UNIQUE_LOGINS, e.event);
                case ACCOUNT_CHANGE -> current.output(Tags.UNIQUE_ACCOUNT_CHANGES, e.event);
                default -> { } // 2FA events: no operator after this one reads them
            }
            // Before the active steps, which change the record: each shadow gets the event as it came.
            if (shadowNewAddress.shadowInForce(current)) {
                shadowNewAddress.processElement(e.copy(), shadowNewAddressCtx, DROPPED);
            }
            if (shadowDrain.shadowInForce(current)) {
                shadowDrain.processElement(e.copy(), shadowDrainCtx, DROPPED);
            }
            newAddress.processElement(e, newAddressCtx, afterNewAddress);
        });
        afterNewAddress = new Step(e -> drain.processElement(e, drainCtx, afterDrain));
        afterDrain = new Step(e -> {
            // The scorer keeps approvals until event time reaches them and then sets their features
            // (and its alert id); the 2FA rule sets its verdict on the same approval now. Each gets
            // its own record, as each got its own copy when they were separate tasks.
            anomaly.processElement(AnomalyScoringDetector.isFeaturedApproval(e.event) ? e.copy() : e, anomalyCtx,
                    featured);
            unauthorized.processElement(e, unauthorizedCtx, decided);
        });
        featured = new Step(e -> current.output(Tags.FEATURED_APPROVALS, e));
    }

    @Override
    public void close() throws Exception {
        Exception first = null;
        for (var step : steps()) {
            try {
                step.close();
            } catch (Exception e) {
                first = ExceptionUtils.firstOrSuppressed(e, first);
            }
        }
        if (first != null) throw first;
    }

    @Override
    public void processElement(EnrichedEvent in, ReadOnlyContext ctx, Collector<EnrichedEvent> out) throws Exception {
        handling(ctx);
        decided = out;
        dedup.processElement(in, dedupCtx, afterDedup);
    }

    @Override
    public void onTimer(long timestamp, OnTimerContext ctx, Collector<EnrichedEvent> out) throws Exception {
        handling(ctx);
        decided = out;
        int owners = UNAUTHORIZED | ANOMALY;
        if (ctx.timeDomain() == TimeDomain.EVENT_TIME) {
            Integer noted = timerOwners.get(timestamp);
            if (noted == null) {
                owners = EVERY_STEP;
            } else {
                owners = noted;
                // Before the steps run: one that sets a timer of this same time again gets it anew.
                timerOwners.remove(timestamp);
            }
            // In the order the separate tasks saw event time: each step's timers before the next step's.
            if ((owners & DEDUP) != 0) dedup.onTimer(timestamp, dedupCtx, afterDedup);
            if ((owners & NEW_ADDRESS) != 0) newAddress.onTimer(timestamp, newAddressCtx, afterNewAddress);
            if ((owners & DRAIN) != 0) drain.onTimer(timestamp, drainCtx, afterDrain);
            if ((owners & SHADOW_NEW_ADDRESS) != 0) {
                shadowNewAddress.onTimer(timestamp, shadowNewAddressCtx, DROPPED);
            }
            if ((owners & SHADOW_DRAIN) != 0) {
                shadowDrain.onTimer(timestamp, shadowDrainCtx, DROPPED);
            }
        }
        if ((owners & ANOMALY) != 0) anomaly.onTimer(timestamp, anomalyCtx, featured);
        if ((owners & UNAUTHORIZED) != 0) unauthorized.onTimer(timestamp, unauthorizedCtx, out);
    }

    private void handling(ReadOnlyContext ctx) {
        current = ctx;
        dedupCtx.delegate = ctx;
        newAddressCtx.delegate = ctx;
        drainCtx.delegate = ctx;
        unauthorizedCtx.delegate = ctx;
        anomalyCtx.delegate = ctx;
        shadowNewAddressCtx.delegate = ctx;
        shadowDrainCtx.delegate = ctx;
    }

    @Override
    public void processBroadcastElement(RuleVersion update, Context ctx, Collector<EnrichedEvent> out) throws Exception {
        for (var step : steps()) step.processBroadcastElement(update, ctx, out);
    }

    /**
     * The context one step gets, for an element or a timer: the operator's, except that the
     * event-time timers the step sets are noted as its own in {@link #TIMER_OWNERS}.
     */
    private final class StepContext extends OnTimerContext implements TimerService {
        private final int step;
        private ReadOnlyContext delegate;

        StepContext(int step) {
            this.step = step;
        }

        @Override
        public void registerEventTimeTimer(long time) {
            try {
                Integer noted = timerOwners.get(time);
                if (noted == null) {
                    timerOwners.put(time, step);
                    delegate.timerService().registerEventTimeTimer(time);
                } else if ((noted & step) == 0) {
                    timerOwners.put(time, noted | step);
                }
                // A note means the key's timer of that time is set and has not fired (notes are
                // written only with a registration and removed when it fires; steps never delete
                // timers), so it is not set again: on RocksDB each registration is a write to
                // the timer queue, and most are repeats (a user's events share their
                // de-duplication bucket's timer), 9.5 % of the per-user task in a profile.
            } catch (Exception e) {
                ExceptionUtils.rethrow(e);
            }
        }

        @Override
        public void registerProcessingTimeTimer(long time) {
            delegate.timerService().registerProcessingTimeTimer(time);
        }

        @Override
        public void deleteEventTimeTimer(long time) {
            // Another step may have set the same timer; steps never delete one (see the class).
            throw new UnsupportedOperationException("steps of PerUserDetectors do not delete timers");
        }

        @Override
        public void deleteProcessingTimeTimer(long time) {
            throw new UnsupportedOperationException("steps of PerUserDetectors do not delete timers");
        }

        @Override
        public TimerService timerService() {
            return this;
        }

        @Override
        public TimeDomain timeDomain() {
            if (delegate instanceof OnTimerContext t) return t.timeDomain();
            throw new IllegalStateException("not handling a timer");
        }

        @Override
        public String getCurrentKey() {
            return delegate.getCurrentKey();
        }

        @Override
        public <K, V> ReadOnlyBroadcastState<K, V> getBroadcastState(MapStateDescriptor<K, V> descriptor) {
            return delegate.getBroadcastState(descriptor);
        }

        @Override
        public Long timestamp() {
            return delegate.timestamp();
        }

        @Override
        public <X> void output(OutputTag<X> tag, X value) {
            if ((step & (SHADOW_NEW_ADDRESS | SHADOW_DRAIN)) != 0) {
                // A shadow step's only output is its alerts, marked; nothing else it says goes on.
                if (Tags.ALERTS.equals(tag)) {
                    long since = (step == SHADOW_DRAIN ? shadowDrain : shadowNewAddress).ruleChangedAt();
                    delegate.output(Tags.SHADOW_ALERTS, asShadow((io.tourniquet.model.Alert) value, since));
                }
                return;
            }
            delegate.output(tag, value);
        }

        @Override
        public long currentProcessingTime() {
            return delegate.currentProcessingTime();
        }

        @Override
        public long currentWatermark() {
            return delegate.currentWatermark();
        }
    }

    /** Where a shadow step's main output goes: nowhere (the active step decides the event). */
    private static final Collector<EnrichedEvent> DROPPED = new Collector<>() {
        @Override
        public void collect(EnrichedEvent record) {}

        @Override
        public void close() {}
    };

    /**
     * Marks a shadow step's alert: an id of its own (the active version may raise the same alert
     * on the same event), and nothing that would let it reach the incident tracker's work.
     */
    static io.tourniquet.model.Alert asShadow(io.tourniquet.model.Alert a, long since) {
        a.shadow = Boolean.TRUE;
        a.shadowSince = since;
        a.alertId = io.tourniquet.util.Ids.of("alert", "shadow", a.rule, Integer.toString(a.ruleVersion), a.alertId);
        a.traceparent = io.tourniquet.util.TraceParents.forAlert(a.alertId);
        a.trigger = null;
        a.triggerAppendedAt = 0;
        return a;
    }

    /** One link of the chain: what a step collects goes straight into the next step. */
    private static final class Step implements Collector<EnrichedEvent> {
        private final ThrowingConsumer<EnrichedEvent, Exception> next;

        Step(ThrowingConsumer<EnrichedEvent, Exception> next) {
            this.next = next;
        }

        @Override
        public void collect(EnrichedEvent record) {
            try {
                next.accept(record);
            } catch (Exception e) {
                ExceptionUtils.rethrow(e);
            }
        }

        @Override
        public void close() {}
    }
}
