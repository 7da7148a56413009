package io.tourniquet.rules;

import java.io.Serializable;
import org.apache.flink.api.common.state.BroadcastState;
import org.apache.flink.api.common.state.MapStateDescriptor;
import org.apache.flink.api.common.state.ReadOnlyBroadcastState;
import org.apache.flink.util.function.SerializableFunction;

/**
 * A detector's view of its own rule: the version in broadcast state if an analyst changed it,
 * else version 1 from configuration. Parsed thresholds are cached per version, so reading them
 * on every event costs one map lookup.
 *
 * @param <P> the rule's typed thresholds
 */
public final class RuleView<P> implements Serializable {
    private static final long serialVersionUID = 1L;

    /** Broadcast state of every rule-carrying operator: rule id → its current version. */
    public static final MapStateDescriptor<String, RuleVersion> BROADCAST =
            new MapStateDescriptor<>("rule-versions", String.class, RuleVersion.class);

    private final RuleVersion initial;
    private final SerializableFunction<RuleVersion, P> parser;
    private transient RuleVersion cachedFor;
    private transient P cached;

    public RuleView(RuleVersion initial, SerializableFunction<RuleVersion, P> parser) {
        this.initial = initial;
        this.parser = parser;
    }

    public String rule() {
        return initial.rule;
    }

    public RuleVersion version(ReadOnlyBroadcastState<String, RuleVersion> state) throws Exception {
        RuleVersion v = state == null ? null : state.get(initial.rule);
        return v == null ? initial : v;
    }

    public P params(ReadOnlyBroadcastState<String, RuleVersion> state) throws Exception {
        RuleVersion v = version(state);
        if (cachedFor != v || cached == null) {
            try {
                cached = parser.apply(v);
            } catch (Exception e) {
                throw new IllegalStateException("cannot read " + v, e);
            }
            cachedFor = v;
        }
        return cached;
    }

    /** Takes an update for this rule if it is newer than what is in force; true if taken. */
    public boolean accept(BroadcastState<String, RuleVersion> state, RuleVersion update) throws Exception {
        if (update == null || !initial.rule.equals(update.rule)) return false;
        RuleVersion current = version(state);
        if (update.version <= current.version) return false;
        state.put(update.rule, update);
        return true;
    }
}
