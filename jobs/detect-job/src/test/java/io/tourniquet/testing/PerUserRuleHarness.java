package io.tourniquet.testing;

import static org.assertj.core.api.Assertions.assertThat;
import io.tourniquet.detect.EventKeys;
import io.tourniquet.model.Alert;
import io.tourniquet.model.EnrichedEvent;
import io.tourniquet.model.Event;
import io.tourniquet.rules.RuleVersion;
import io.tourniquet.streams.Tags;
import java.util.ArrayList;
import java.util.List;
import org.apache.flink.streaming.api.functions.co.KeyedBroadcastProcessFunction;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.util.KeyedBroadcastOperatorTestHarness;

/**
 * A per-user rule's detector under test, keyed by user as {@code PerUserDetectors} runs it: events
 * pushed at their event time, the alerts it raised, the events it forwarded, and the check every
 * such detector owes (each event forwarded once, at once, and nothing left once event time is past
 * every timer). The detector tests share it instead of each keeping a copy.
 */
public final class PerUserRuleHarness implements AutoCloseable {
    private final KeyedBroadcastOperatorTestHarness<String, EnrichedEvent, RuleVersion, EnrichedEvent> harness;
    private final List<String> pushed = new ArrayList<>();

    private PerUserRuleHarness(KeyedBroadcastOperatorTestHarness<String, EnrichedEvent, RuleVersion, EnrichedEvent> h) {
        this.harness = h;
    }

    public static PerUserRuleHarness open(
            KeyedBroadcastProcessFunction<String, EnrichedEvent, RuleVersion, EnrichedEvent> detector) throws Exception {
        return new PerUserRuleHarness(BroadcastHarnesses.open(detector, EventKeys.ENRICHED_USER_ID));
    }

    /** The Flink harness itself, for watermarks, rule versions and what this class does not cover. */
    public KeyedBroadcastOperatorTestHarness<String, EnrichedEvent, RuleVersion, EnrichedEvent> harness() {
        return harness;
    }

    /** The event, at its event time. */
    public void push(Event e) throws Exception {
        pushed.add(e.eventId);
        harness.processElement(new StreamRecord<>(EnrichedEvent.of(e), e.eventTime));
    }

    public List<Alert> alerts() {
        return BroadcastHarnesses.side(harness, Tags.ALERTS);
    }

    /** The forwarded event of that id (the first, if forwarded more than once). */
    public EnrichedEvent forwarded(String eventId) {
        return harness.extractOutputValues().stream().filter(e -> e.event.eventId.equals(eventId))
                .findFirst().orElseThrow();
    }

    /**
     * Every event left once, at once (in arrival order); then, with event time at {@code farPast}
     * (past every timer), nothing more leaves and all state and timers are gone.
     */
    public void assertForwardedOnceAndDrained(long farPast) throws Exception {
        assertThat(harness.extractOutputValues()).extracting(e -> e.event.eventId).containsExactlyElementsOf(pushed);
        harness.processWatermark(farPast);
        assertThat(harness.extractOutputValues()).as("nothing more on the main output").hasSize(pushed.size());
        BroadcastHarnesses.assertDrained(harness);
    }

    @Override
    public void close() throws Exception {
        harness.close();
    }
}
