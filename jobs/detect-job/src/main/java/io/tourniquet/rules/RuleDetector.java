package io.tourniquet.rules;

import io.tourniquet.util.SerializableClock;
import org.apache.flink.streaming.api.functions.co.KeyedBroadcastProcessFunction;
import org.apache.flink.util.Collector;
import org.apache.flink.util.function.SerializableFunction;

/**
 * What every detector shares: its rule's thresholds come from the rule's current version (the
 * broadcast of analysts' accepted changes, else version 1 from configuration), read once per
 * element or timer, so a change applies to what follows it without a restart, and every alert can
 * name the version that produced it.
 *
 * @param <IN>  what the detector reads
 * @param <OUT> what it writes on its main output
 * @param <P>   its rule's typed thresholds
 */
public abstract class RuleDetector<IN, OUT, P> extends KeyedBroadcastProcessFunction<String, IN, RuleVersion, OUT> {
    private static final long serialVersionUID = 1L;

    private final RuleView<P> rule;
    protected final SerializableClock clock;
    /**
     * Whether this instance evaluates its rule's shadow version: its state has names of its own
     * ({@link #mapState}), its metrics sit in a {@code shadow} group, and its alerts are marked
     * shadow by the operator that runs it.
     */
    protected final boolean shadow;
    /** The thresholds in force for the element or timer being handled (see {@link #useRule}). */
    protected transient P settings;
    /** Their version, for the alerts raised while handling it. */
    protected transient int ruleVersion;
    /** When that version was accepted (wall clock, ms; 0 for version 1). */
    private transient long ruleChangedAt;

    protected RuleDetector(RuleVersion initial, SerializableFunction<RuleVersion, P> parser, SerializableClock clock) {
        this(initial, parser, clock, false);
    }

    protected RuleDetector(RuleVersion initial, SerializableFunction<RuleVersion, P> parser, SerializableClock clock,
                           boolean shadow) {
        this.rule = shadow ? RuleView.shadow(initial, parser) : new RuleView<>(initial, parser);
        this.clock = clock;
        this.shadow = shadow;
    }

    /** When the version of the element or timer being handled was accepted (wall clock, ms). */
    public final long ruleChangedAt() {
        return ruleChangedAt;
    }

    /** The prefix of a shadow instance's state names. */
    public static final String SHADOW_STATE_PREFIX = "shadow-";

    /**
     * This instance's map state of {@code active}: the descriptor itself, or for a shadow instance
     * one of the same types under a name of its own ({@link #SHADOW_STATE_PREFIX}), beside it.
     */
    protected final <K, V> org.apache.flink.api.common.state.MapState<K, V> mapState(
            org.apache.flink.api.common.state.MapStateDescriptor<K, V> active, Class<K> key, Class<V> value) {
        return getRuntimeContext().getMapState(!shadow ? active
                : new org.apache.flink.api.common.state.MapStateDescriptor<>(SHADOW_STATE_PREFIX + active.getName(),
                        key, value));
    }

    /** This instance's value state of {@code active} (see {@link #mapState}). */
    protected final <V> org.apache.flink.api.common.state.ValueState<V> valueState(
            org.apache.flink.api.common.state.ValueStateDescriptor<V> active, Class<V> value) {
        return getRuntimeContext().getState(!shadow ? active
                : new org.apache.flink.api.common.state.ValueStateDescriptor<>(SHADOW_STATE_PREFIX + active.getName(),
                        value));
    }

    /** Where this instance's metrics go: a shadow's in a {@code shadow} group of their own. */
    protected final org.apache.flink.metrics.MetricGroup metrics() {
        var group = getRuntimeContext().getMetricGroup();
        return shadow ? group.addGroup("shadow") : group;
    }

    /** Whether this is a shadow instance and its rule has a shadow version under evaluation now. */
    public final boolean shadowInForce(ReadOnlyContext ctx) throws Exception {
        return shadow && rule.inForce(ctx.getBroadcastState(RuleView.BROADCAST));
    }

    @Override
    public final void processBroadcastElement(RuleVersion update, Context ctx, Collector<OUT> out) throws Exception {
        rule.accept(ctx.getBroadcastState(RuleView.BROADCAST), update);
    }

    /** Wall-clock time this subtask last received an event (not checkpointed: after a restart, quiet). */
    private transient long lastInputAt = Long.MIN_VALUE;

    /** Call in {@code processElement} of detectors that use {@link #inputQuietFor}. */
    protected final void inputArrived(ReadOnlyContext ctx) {
        lastInputAt = ctx.currentProcessingTime();
    }

    /**
     * Whether no event reached this subtask for {@code millis} of wall clock. Event time that does not
     * move while events still arrive means a partition is behind, not that the input is idle: a
     * wall-clock bound must then keep waiting (deciding would be deciding on a partial read).
     */
    protected final boolean inputQuietFor(long millis, long now) {
        return lastInputAt == Long.MIN_VALUE || now - lastInputAt >= millis;
    }

    /** Call first in {@code processElement} and {@code onTimer}. */
    protected final void useRule(ReadOnlyContext ctx) throws Exception {
        var state = ctx.getBroadcastState(RuleView.BROADCAST);
        RuleVersion v = rule.version(state); // one broadcast-state lookup per element or timer
        settings = rule.params(v);
        ruleVersion = v.version;
        ruleChangedAt = v.changedAt;
    }
}
