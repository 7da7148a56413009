package io.tourniquet.control;

import io.tourniquet.model.ControlRequest;
import io.tourniquet.rules.RuleVersion;
import org.apache.flink.api.common.functions.FlatMapFunction;
import org.apache.flink.util.Collector;

/**
 * The rule changes among accepted control signals, as the {@link RuleVersion}s every detector takes
 * from the rules broadcast ({@code RuleCatalog.BROADCAST}). Already validated and numbered by
 * {@link ControlProcessor}; detectors ignore a version not newer than theirs. Shadow versions, and
 * their end on a promotion or a drop, go the same way: only shadow steps take them.
 */
public final class RuleUpdates implements FlatMapFunction<ControlSignal, RuleVersion> {
    private static final long serialVersionUID = 1L;

    @Override
    public void flatMap(ControlSignal signal, Collector<RuleVersion> out) {
        if (signal.ruleVersion != null && (ControlRequest.UPDATE_RULE.equals(signal.type)
                || ControlRequest.PROMOTE_RULE.equals(signal.type))) {
            out.collect(signal.ruleVersion);
        }
        // A promoted version ends its shadow itself (promotedFrom); this ends a dropped or replaced one.
        if (signal.endedShadow != null) out.collect(signal.endedShadow);
    }
}
