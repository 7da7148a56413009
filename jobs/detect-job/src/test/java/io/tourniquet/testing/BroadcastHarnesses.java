package io.tourniquet.testing;

import static org.assertj.core.api.Assertions.assertThat;
import io.tourniquet.rules.catalog.RuleCatalog;
import io.tourniquet.rules.RuleVersion;
import java.util.List;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.api.java.functions.KeySelector;
import org.apache.flink.runtime.state.KeyedStateBackend;
import org.apache.flink.runtime.state.heap.HeapKeyedStateBackend;
import org.apache.flink.streaming.api.functions.co.KeyedBroadcastProcessFunction;
import org.apache.flink.streaming.api.operators.AbstractStreamOperator;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.util.AbstractBroadcastStreamOperatorTestHarness;
import org.apache.flink.streaming.util.AbstractStreamOperatorTestHarness;
import org.apache.flink.streaming.util.KeyedBroadcastOperatorTestHarness;
import org.apache.flink.streaming.util.ProcessFunctionTestHarnesses;
import org.apache.flink.util.OutputTag;

/**
 * The detectors' harness, set up and checked one way: opened as the job runs them (rules on
 * broadcast state, processing time 0, a rule input that never holds back event time), and at the
 * end keyed state and both kinds of timers back to zero. Also what
 * {@code KeyedOneInputStreamOperatorTestHarness.numKeyedStateEntries()} tells, which the keyed
 * broadcast harness lacks.
 */
public final class BroadcastHarnesses {
    private BroadcastHarnesses() {}

    /** A detector keyed by {@code key}, ready for elements and watermarks. */
    public static <IN, OUT> KeyedBroadcastOperatorTestHarness<String, IN, RuleVersion, OUT> open(
            KeyedBroadcastProcessFunction<String, IN, RuleVersion, OUT> detector, KeySelector<IN, String> key)
            throws Exception {
        var h = ProcessFunctionTestHarnesses.forKeyedBroadcastProcessFunction(detector, key, Types.STRING,
                RuleCatalog.BROADCAST);
        h.setProcessingTime(0);
        rulesNeverHoldBackEventTime(h);
        return h;
    }

    /** What left on a side output so far, in order. */
    public static <T> List<T> side(AbstractStreamOperatorTestHarness<?> harness, OutputTag<T> tag) {
        var queue = harness.getSideOutput(tag);
        return queue == null ? List.of() : queue.stream().map(StreamRecord::getValue).toList();
    }

    public static int numKeyedStateEntries(AbstractStreamOperatorTestHarness<?> harness) {
        KeyedStateBackend<?> backend = ((AbstractStreamOperator<?>) harness.getOperator()).getKeyedStateBackend();
        if (backend instanceof HeapKeyedStateBackend<?> heap) return heap.numKeyValueStateEntries();
        throw new IllegalStateException("expected the heap state backend in harness tests, got " + backend);
    }

    /** No event-time and no processing-time timer left. */
    public static void assertNoTimers(AbstractStreamOperatorTestHarness<?> harness) {
        assertThat(harness.numEventTimeTimers()).as("event-time timers").isZero();
        assertThat(harness.numProcessingTimeTimers()).as("processing-time timers").isZero();
    }

    /** No keyed state and no timer left: state must not leak. */
    public static void assertDrained(AbstractStreamOperatorTestHarness<?> harness) {
        assertThat(numKeyedStateEntries(harness)).as("keyed state entries").isZero();
        assertNoTimers(harness);
    }

    /**
     * As in the job, where the rule (control) input's watermark is the end of time: only the
     * event input moves event time, so {@code processWatermark} alone fires timers.
     */
    public static void rulesNeverHoldBackEventTime(AbstractBroadcastStreamOperatorTestHarness<?, ?, ?> harness)
            throws Exception {
        harness.processBroadcastWatermark(Long.MAX_VALUE);
    }
}
