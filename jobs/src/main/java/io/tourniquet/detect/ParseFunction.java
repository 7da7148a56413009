package io.tourniquet.detect;

import io.tourniquet.model.DeadLetter;
import io.tourniquet.model.Event;
import io.tourniquet.model.RawRecord;
import java.util.HashMap;
import java.util.Map;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.metrics.Counter;
import org.apache.flink.metrics.MetricGroup;
import org.apache.flink.streaming.api.functions.ProcessFunction;
import org.apache.flink.util.Collector;

/**
 * First operator after the sources: valid records become {@link Event}s, everything else becomes
 * a {@link DeadLetter} on {@link Tags#DEAD_LETTERS}, counted per reason. Never throws on input.
 */
public final class ParseFunction extends ProcessFunction<RawRecord, Event> {
    private static final long serialVersionUID = 1L;

    private final EventParser parser;
    private final SerializableClock clock;
    private transient Counter valid;
    private transient Map<String, Counter> rejectedByReason;
    private transient MetricGroup rejectedGroup;

    public ParseFunction(EventParser parser, SerializableClock clock) {
        this.parser = parser;
        this.clock = clock;
    }

    @Override
    public void open(OpenContext openContext) {
        valid = getRuntimeContext().getMetricGroup().counter("eventsValid");
        rejectedGroup = getRuntimeContext().getMetricGroup().addGroup("deadLetters");
        rejectedByReason = new HashMap<>();
    }

    @Override
    public void processElement(RawRecord raw, Context ctx, Collector<Event> out) {
        try {
            Event ev = parser.parse(raw.topic, raw.partition, raw.offset, raw.value);
            ev.sourceTimestamp = Math.max(0L, raw.timestamp);
            valid.inc();
            out.collect(ev);
        } catch (InvalidEventException e) {
            rejectedByReason.computeIfAbsent(e.code(), code -> rejectedGroup.counter(code)).inc();
            ctx.output(Tags.DEAD_LETTERS, DeadLetter.of(raw, e.code(), e.getMessage(), clock.getAsLong()));
        }
    }
}
