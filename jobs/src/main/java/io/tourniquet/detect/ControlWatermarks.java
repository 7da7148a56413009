package io.tourniquet.detect;

import io.tourniquet.model.RawRecord;
import org.apache.flink.api.common.eventtime.Watermark;
import org.apache.flink.api.common.eventtime.WatermarkGenerator;
import org.apache.flink.api.common.eventtime.WatermarkOutput;
import org.apache.flink.api.common.eventtime.WatermarkStrategy;

/**
 * Analysts' requests are not part of event time: their input is joined (broadcast) to every
 * detector, and an operator's event time is the minimum over its inputs, so this input declares
 * the end of time from the start and never holds back an alert.
 */
public final class ControlWatermarks implements WatermarkGenerator<RawRecord> {
    public static WatermarkStrategy<RawRecord> strategy() {
        return WatermarkStrategy.<RawRecord>forGenerator(ctx -> new ControlWatermarks())
                .withTimestampAssigner((r, previous) -> r.timestamp);
    }

    @Override
    public void onEvent(RawRecord event, long eventTimestamp, WatermarkOutput output) {}

    @Override
    public void onPeriodicEmit(WatermarkOutput output) {
        output.emitWatermark(new Watermark(Long.MAX_VALUE));
    }
}
