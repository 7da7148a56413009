package io.tourniquet.detect;

import static io.tourniquet.testing.TestEvents.T0;
import static io.tourniquet.testing.TestEvents.login;
import static org.assertj.core.api.Assertions.assertThat;
import io.tourniquet.model.EnrichedEvent;
import io.tourniquet.model.Event;
import io.tourniquet.rules.RuleVersion;
import io.tourniquet.testing.BroadcastHarnesses;
import java.util.List;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.util.KeyedBroadcastOperatorTestHarness;
import org.junit.jupiter.api.Test;

class DeduplicateFunctionTest {
    private static final long HOUR = 3_600_000L;
    private static final long MINUTE = 60_000L;

    @Test
    void dropsRedeliveriesMarksLateAndForgetsAfterTheRetention() throws Exception {
        try (var h = BroadcastHarnesses.open(new DeduplicateFunction(HOUR), EventKeys.ENRICHED_USER_ID)) {
            push(h, login("e1", "u1", T0));
            push(h, login("e2", "u2", T0 + 1_000));
            push(h, login("e1", "u1", T0)); // redelivered
            h.processWatermark(T0 + 60_000);
            push(h, login("e3", "u3", T0 + 30_000)); // behind the watermark: late
            push(h, login("e2", "u2", T0 + 1_000)); // redelivered, late
            List<EnrichedEvent> out = h.extractOutputValues();
            assertThat(out).extracting(e -> e.event.eventId).containsExactly("e1", "e2", "e3");
            assertThat(out).extracting(e -> e.late).containsExactly(false, false, true);
            assertThat(out).extracting(e -> e.event.late).containsExactly(false, false, true);

            // e2 (T0 + 1 s) is remembered until its minute ends, never less than the retention.
            h.processWatermark(T0 + 1_000 + HOUR);
            push(h, login("e2", "u2", T0 + 1_000 + HOUR));
            assertThat(h.extractOutputValues()).as("e2 still remembered").hasSize(3);

            h.processWatermark(T0 + 60_000 + HOUR);
            BroadcastHarnesses.assertDrained(h);
            // Once forgotten, an id is new again: the retention is the de-duplication horizon.
            push(h, login("e1", "u1", T0 + 2 * HOUR));
            assertThat(h.extractOutputValues()).hasSize(4);
        }
    }

    @Test
    void oneTimerPerUserAndMinuteOfEventTime() throws Exception {
        try (var h = BroadcastHarnesses.open(new DeduplicateFunction(HOUR), EventKeys.ENRICHED_USER_ID)) {
            for (int i = 1; i <= 120; i++) push(h, login("e" + i, "u1", T0 + i * 1_000L)); // two minutes
            assertThat(h.extractOutputValues()).hasSize(120);
            assertThat(h.numEventTimeTimers()).isEqualTo(2);
            h.processWatermark(T0 + HOUR + MINUTE);
            assertThat(h.numEventTimeTimers()).isEqualTo(1);
            push(h, login("e60", "u1", T0 + 60_000L)); // the first minute's ids are forgotten
            push(h, login("e61", "u1", T0 + 61_000L)); // the second minute's are not
            assertThat(h.extractOutputValues()).hasSize(121);
            h.processWatermark(T0 + 3 * HOUR);
            BroadcastHarnesses.assertDrained(h);
        }
    }

    @Test
    void bucketEndsRoundUpAndSaturate() {
        assertThat(DeduplicateFunction.bucketEnd(T0)).isEqualTo(T0);
        assertThat(DeduplicateFunction.bucketEnd(T0 + 1)).isEqualTo(T0 + MINUTE);
        assertThat(DeduplicateFunction.bucketEnd(-1)).isEqualTo(0);
        assertThat(DeduplicateFunction.bucketEnd(Long.MAX_VALUE)).isEqualTo(Long.MAX_VALUE);
    }

    @Test
    void anEventIdOnOneTopicDoesNotPreemptTheSameIdOnAnother() throws Exception {
        try (var h = BroadcastHarnesses.open(new DeduplicateFunction(HOUR), EventKeys.ENRICHED_USER_ID)) {
            push(h, login("same-id", "u1", T0));
            push(h, io.tourniquet.testing.TestEvents.approval("same-id", "u1", "w1", "c1", T0)); // another topic
            push(h, login("same-id", "u1", T0)); // the login redelivered
            assertThat(h.extractOutputValues()).extracting(e -> e.event.kind)
                    .containsExactly(Event.Kind.LOGIN, Event.Kind.WITHDRAWAL);
        }
    }

    private static void push(KeyedBroadcastOperatorTestHarness<String, EnrichedEvent, RuleVersion, EnrichedEvent> h,
                             Event e) throws Exception {
        h.processElement(new StreamRecord<>(EnrichedEvent.of(e), e.eventTime));
    }
}
