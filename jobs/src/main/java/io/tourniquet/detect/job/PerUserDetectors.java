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
import org.apache.flink.streaming.api.TimeDomain;
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
 * {@link Tags#UNIQUE_EVENTS} each event once, after de-duplication, for the operators that follow
 * users' withdrawals, claims and notifications; on {@link Tags#FEATURED_APPROVALS} approvals as
 * the anomaly scorer featured them, for {@link FeatureJoin}.
 *
 * <p>Timers: the steps share the key's timer service and cannot tell whose a timer is, so an
 * event-time timer reaches every step and a processing-time one the two steps that set any (the
 * unauthorized-approval rule and the anomaly scorer). Each step's {@code onTimer} therefore acts
 * only on what is due by the timer's time, never on the assumption that the timer is its own, and
 * no step deletes a timer (another step may have set the same one).
 */
public final class PerUserDetectors extends KeyedBroadcastProcessFunction<String, EnrichedEvent, RuleVersion, EnrichedEvent> {
    private static final long serialVersionUID = 1L;

    private final DeduplicateFunction dedup;
    private final NewAddressWithdrawalDetector newAddress;
    private final AccountDrainDetector drain;
    private final UnauthorizedApprovalDetector unauthorized;
    private final AnomalyScoringDetector anomaly;

    /** The context of the element or timer being handled, for the steps further down the chain. */
    private transient ReadOnlyContext current;
    /** The operator's main output, while an element or timer is handled. */
    private transient Collector<EnrichedEvent> decided;
    private transient Collector<EnrichedEvent> afterDedup;
    private transient Collector<EnrichedEvent> afterNewAddress;
    private transient Collector<EnrichedEvent> afterDrain;
    private transient Collector<EnrichedEvent> featured;

    public PerUserDetectors(DeduplicateFunction dedup, NewAddressWithdrawalDetector newAddress, AccountDrainDetector drain,
                            UnauthorizedApprovalDetector unauthorized, AnomalyScoringDetector anomaly) {
        this.dedup = dedup;
        this.newAddress = newAddress;
        this.drain = drain;
        this.unauthorized = unauthorized;
        this.anomaly = anomaly;
    }

    /** The steps as configured (version 1 of each rule; later versions come on the broadcast). */
    public static PerUserDetectors from(TourniquetConfig cfg, SerializableClock clock) {
        return new PerUserDetectors(
                new DeduplicateFunction(cfg.get(Settings.DEDUP_RETENTION).toMillis()),
                new NewAddressWithdrawalDetector(RuleCatalog.initial(RuleCatalog.NEW_ADDRESS_WITHDRAWAL, cfg), clock),
                new AccountDrainDetector(RuleCatalog.initial(RuleCatalog.ACCOUNT_DRAIN, cfg), clock),
                new UnauthorizedApprovalDetector(RuleCatalog.initial(RuleCatalog.UNAUTHORIZED_APPROVAL, cfg), clock),
                AnomalyScoringDetector.from(cfg, clock));
    }

    private List<KeyedBroadcastProcessFunction<String, EnrichedEvent, RuleVersion, EnrichedEvent>> steps() {
        return List.of(dedup, newAddress, drain, unauthorized, anomaly);
    }

    @Override
    public void open(OpenContext openContext) throws Exception {
        for (var step : steps()) {
            step.setRuntimeContext(getRuntimeContext());
            step.open(openContext);
        }
        afterDedup = new Step(e -> {
            current.output(Tags.UNIQUE_EVENTS, e.event);
            newAddress.processElement(e, current, afterNewAddress);
        });
        afterNewAddress = new Step(e -> drain.processElement(e, current, afterDrain));
        afterDrain = new Step(e -> {
            // The scorer keeps approvals until event time reaches them and then sets their features
            // (and its alert id); the 2FA rule sets its verdict on the same approval now. Each gets
            // its own record, as each got its own copy when they were separate tasks.
            anomaly.processElement(AnomalyScoringDetector.isFeaturedApproval(e.event) ? e.copy() : e, current,
                    featured);
            unauthorized.processElement(e, current, decided);
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
        current = ctx;
        decided = out;
        dedup.processElement(in, ctx, afterDedup);
    }

    @Override
    public void onTimer(long timestamp, OnTimerContext ctx, Collector<EnrichedEvent> out) throws Exception {
        current = ctx;
        decided = out;
        // In the order the separate tasks saw event time: each step's timers before the next step's.
        if (ctx.timeDomain() == TimeDomain.EVENT_TIME) {
            dedup.onTimer(timestamp, ctx, afterDedup);
            newAddress.onTimer(timestamp, ctx, afterNewAddress);
            drain.onTimer(timestamp, ctx, afterDrain);
        }
        anomaly.onTimer(timestamp, ctx, featured);
        unauthorized.onTimer(timestamp, ctx, out);
    }

    @Override
    public void processBroadcastElement(RuleVersion update, Context ctx, Collector<EnrichedEvent> out) throws Exception {
        for (var step : steps()) step.processBroadcastElement(update, ctx, out);
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
