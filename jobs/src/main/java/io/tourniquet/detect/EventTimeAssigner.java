package io.tourniquet.detect;

import io.tourniquet.model.Event;
import org.apache.flink.api.common.eventtime.SerializableTimestampAssigner;

/** Event time is the contract's {@code event_time}, never the Kafka record time. */
public final class EventTimeAssigner implements SerializableTimestampAssigner<Event> {
    private static final long serialVersionUID = 1L;

    @Override
    public long extractTimestamp(Event event, long recordTimestamp) {
        return event.eventTime;
    }
}
