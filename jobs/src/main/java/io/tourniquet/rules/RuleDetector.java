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
    /** The thresholds in force for the element or timer being handled (see {@link #useRule}). */
    protected transient P settings;
    /** Their version, for the alerts raised while handling it. */
    protected transient int ruleVersion;

    protected RuleDetector(RuleVersion initial, SerializableFunction<RuleVersion, P> parser, SerializableClock clock) {
        this.rule = new RuleView<>(initial, parser);
        this.clock = clock;
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
        settings = rule.params(state);
        ruleVersion = rule.version(state).version;
    }
}
