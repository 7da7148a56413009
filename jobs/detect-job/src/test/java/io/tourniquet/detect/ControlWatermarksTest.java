package io.tourniquet.detect;

import static org.assertj.core.api.Assertions.assertThat;
import io.tourniquet.model.RawRecord;
import java.util.ArrayList;
import java.util.List;
import org.apache.flink.api.common.eventtime.Watermark;
import org.apache.flink.api.common.eventtime.WatermarkOutput;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.streaming.api.functions.co.KeyedCoProcessFunction;
import org.apache.flink.streaming.api.operators.co.KeyedCoProcessOperator;
import org.apache.flink.streaming.runtime.watermarkstatus.WatermarkStatus;
import org.apache.flink.streaming.util.KeyedTwoInputStreamOperatorTestHarness;
import org.apache.flink.util.Collector;
import org.junit.jupiter.api.Test;

class ControlWatermarksTest {
    /** What a watermark generator told its output. */
    static final class Recorded implements WatermarkOutput {
        final List<String> calls = new ArrayList<>();

        @Override
        public void emitWatermark(Watermark watermark) {
            calls.add("watermark " + watermark.getTimestamp());
        }

        @Override
        public void markIdle() {
            calls.add("idle");
        }

        @Override
        public void markActive() {
            calls.add("active");
        }
    }

    @Test
    void theControlInputIsIdleAndNeverEmitsAWatermarkNotEvenWhenARequestArrives() {
        ControlWatermarks g = new ControlWatermarks();
        Recorded out = new Recorded();
        g.onPeriodicEmit(out);
        g.onEvent(new RawRecord("tourniquet.control", 0, 0, null, new byte[0], 1_700_000_000_000L), 1_700_000_000_000L, out);
        g.onPeriodicEmit(out);
        assertThat(out.calls).containsOnly("idle");
    }

    /**
     * Why idle and not the end of time: a detector joined to the control input keeps the event time
     * its event input left it at when that input goes quiet, and goes on from there.
     */
    @Test
    void aQuietEventInputLeavesADetectorsEventTimeWhereItWas() throws Exception {
        List<Long> fired = new ArrayList<>();
        var fn = new KeyedCoProcessFunction<String, String, String, String>() {
            @Override
            public void processElement1(String v, Context ctx, Collector<String> out) {
                ctx.timerService().registerEventTimeTimer(5_000L); // e.g. when a verified 2FA challenge expires
            }

            @Override
            public void processElement2(String v, Context ctx, Collector<String> out) {}

            @Override
            public void onTimer(long t, OnTimerContext ctx, Collector<String> out) {
                fired.add(t);
            }
        };
        var h = new KeyedTwoInputStreamOperatorTestHarness<>(new KeyedCoProcessOperator<>(fn), (String s) -> s,
                (String s) -> s, Types.STRING);
        h.open();
        h.processWatermarkStatus2(WatermarkStatus.IDLE); // what ControlWatermarks makes of the control input
        h.processElement1("u1", 1_000L);
        h.processWatermark1(new org.apache.flink.streaming.api.watermark.Watermark(1_000L));
        h.processWatermarkStatus1(WatermarkStatus.IDLE); // every partition caught up and quiet
        assertThat(fired).as("nothing expires while the input is quiet").isEmpty();
        h.processWatermarkStatus1(WatermarkStatus.ACTIVE);
        h.processWatermark1(new org.apache.flink.streaming.api.watermark.Watermark(5_000L));
        assertThat(fired).containsExactly(5_000L);
        h.close();
    }
}
