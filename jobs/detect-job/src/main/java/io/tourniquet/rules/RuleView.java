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
 * <p>A shadow view ({@link #shadow}) sees the rule's shadow version instead: the candidate an
 * analyst asked to evaluate beside the version in force ({@link RuleVersion#SHADOW}), kept under
 * its own broadcast key ({@link #shadowKey}); the active view never takes a shadow version.
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
    private final boolean shadow;
    private transient RuleVersion cachedFor;
    private transient P cached;

    public RuleView(RuleVersion initial, SerializableFunction<RuleVersion, P> parser) {
        this(initial, parser, false);
    }

    private RuleView(RuleVersion initial, SerializableFunction<RuleVersion, P> parser, boolean shadow) {
        this.initial = initial;
        this.parser = parser;
        this.shadow = shadow;
    }

    /** The view of the same rule's shadow version. */
    public static <P> RuleView<P> shadow(RuleVersion initial, SerializableFunction<RuleVersion, P> parser) {
        return new RuleView<>(initial, parser, true);
    }

    /** The broadcast key of {@code rule}'s shadow version (a rule id has no colon). */
    public static String shadowKey(String rule) {
        return "shadow:" + rule;
    }

    public String rule() {
        return initial.rule;
    }

    private String key() {
        return shadow ? shadowKey(initial.rule) : initial.rule;
    }

    /**
     * The version this view applies. A shadow view without any shadow version yet gives version 1:
     * only a timer can ask then (a restored timer of a step that never ran), and it finds no state.
     */
    public RuleVersion version(ReadOnlyBroadcastState<String, RuleVersion> state) throws Exception {
        RuleVersion v = state == null ? null : state.get(key());
        return v == null ? initial : v;
    }

    /** For a shadow view: whether a shadow version is being evaluated now (not ended, not none). */
    public boolean inForce(ReadOnlyBroadcastState<String, RuleVersion> state) throws Exception {
        RuleVersion v = state == null ? null : state.get(key());
        return v != null && v.isShadow();
    }

    /** The typed thresholds of {@code v} (a version this view gave): parsed once per version. */
    public P params(RuleVersion v) {
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

    /**
     * Takes an update for this rule if it is newer than what is in force; true if taken. The
     * active view takes only active versions; a shadow view takes shadow versions, and the end of
     * the one it has ({@link RuleVersion#SHADOW_ENDED}, same version number), or its promotion (a
     * version in force {@link RuleVersion#promotedFrom} it).
     */
    public boolean accept(BroadcastState<String, RuleVersion> state, RuleVersion update) throws Exception {
        if (update == null || !initial.rule.equals(update.rule)) return false;
        if (!shadow) {
            if (update.mode != null) return false;
            RuleVersion current = version(state);
            if (update.version <= current.version) return false;
            state.put(update.rule, update);
            return true;
        }
        RuleVersion current = state.get(key());
        if (update.mode == null) {
            // A promotion of the shadow this view has: it ends here, at the same record.
            if (current == null || !current.isShadow() || !Integer.valueOf(current.version).equals(update.promotedFrom)) {
                return false;
            }
            state.put(key(), current.ended());
            return true;
        }
        boolean newer = current == null || update.version > current.version;
        boolean endsIt = current != null && update.version == current.version && current.isShadow()
                && RuleVersion.SHADOW_ENDED.equals(update.mode);
        if (!newer && !endsIt) return false;
        state.put(key(), update);
        return true;
    }
}
