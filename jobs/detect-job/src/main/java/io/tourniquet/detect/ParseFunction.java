package io.tourniquet.detect;

import io.tourniquet.model.InvalidEventException;
import io.tourniquet.model.EventParser;
import io.tourniquet.streams.Tags;
import io.tourniquet.util.SerializableClock;
import io.tourniquet.model.DeadLetter;
import io.tourniquet.model.Event;
import io.tourniquet.model.RawRecord;
import io.tourniquet.runtime.PipelineMetrics;
import org.apache.flink.api.common.functions.OpenContext;
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
    private transient PipelineMetrics.Labelled eventsIn;
    private transient PipelineMetrics.Labelled deadLetters;

    public ParseFunction(EventParser parser, SerializableClock clock) {
        this.parser = parser;
        this.clock = clock;
    }

    @Override
    public void open(OpenContext openContext) {
        MetricGroup ours = PipelineMetrics.of(getRuntimeContext().getMetricGroup());
        eventsIn = new PipelineMetrics.Labelled(ours, "topic", "events_in");
        deadLetters = new PipelineMetrics.Labelled(ours, "reason", "dead_letters");
    }

    @Override
    public void processElement(RawRecord raw, Context ctx, Collector<Event> out) {
        try {
            Event ev = parser.parse(raw);
            ev.sourceTimestamp = Math.max(0L, raw.timestamp);
            eventsIn.get(raw.topic).inc();
            out.collect(ev);
        } catch (InvalidEventException e) {
            deadLetters.get(e.code()).inc();
            ctx.output(Tags.DEAD_LETTERS, DeadLetter.of(raw, e.code(), e.getMessage(), clock.getAsLong()));
        }
    }
}
