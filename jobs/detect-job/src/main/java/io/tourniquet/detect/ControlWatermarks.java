package io.tourniquet.detect;

import io.tourniquet.model.RawRecord;
import org.apache.flink.api.common.eventtime.WatermarkGenerator;
import org.apache.flink.api.common.eventtime.WatermarkOutput;
import org.apache.flink.api.common.eventtime.WatermarkStrategy;

/**
 * Analysts' requests are not part of event time: their input is joined (broadcast) to every
 * detector, and an operator's event time is the minimum over its active inputs, so this input is
 * idle from the start and never holds back an alert.
 *
 * <p>Idle, not "the end of time": with a watermark of {@code Long.MAX_VALUE} here, an operator
 * whose event input went idle (a quiet minute, every partition caught up) took this input's
 * watermark, jumped to the end of time and stayed there (watermarks never go back): every
 * event-time timer fired at once (verified 2FA challenges forgotten, so the next approval froze an
 * innocent user; notifications' memory flushed) and none registered after it ever fired. An idle
 * input leaves the operator's event time where its event input left it.
 */
public final class ControlWatermarks implements WatermarkGenerator<RawRecord> {
    public static WatermarkStrategy<RawRecord> strategy() {
        return WatermarkStrategy.<RawRecord>forGenerator(ctx -> new ControlWatermarks())
                .withTimestampAssigner((r, previous) -> r.timestamp);
    }

    @Override
    public void onEvent(RawRecord event, long eventTimestamp, WatermarkOutput output) {
        output.markIdle(); // a request must not make this input active (it would hold event time at MIN)
    }

    @Override
    public void onPeriodicEmit(WatermarkOutput output) {
        output.markIdle();
    }
}
