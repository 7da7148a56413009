package io.tourniquet.testing;

import org.apache.flink.runtime.state.KeyedStateBackend;
import org.apache.flink.runtime.state.heap.HeapKeyedStateBackend;
import org.apache.flink.streaming.api.operators.AbstractStreamOperator;
import org.apache.flink.streaming.util.AbstractBroadcastStreamOperatorTestHarness;
import org.apache.flink.streaming.util.AbstractStreamOperatorTestHarness;

/**
 * What {@code KeyedOneInputStreamOperatorTestHarness.numKeyedStateEntries()} tells, for the keyed
 * broadcast harness, which lacks it: state must drain to zero in every detector test.
 */
public final class BroadcastHarnesses {
    private BroadcastHarnesses() {}

    public static int numKeyedStateEntries(AbstractStreamOperatorTestHarness<?> harness) {
        KeyedStateBackend<?> backend = ((AbstractStreamOperator<?>) harness.getOperator()).getKeyedStateBackend();
        if (backend instanceof HeapKeyedStateBackend<?> heap) return heap.numKeyValueStateEntries();
        throw new IllegalStateException("expected the heap state backend in harness tests, got " + backend);
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
