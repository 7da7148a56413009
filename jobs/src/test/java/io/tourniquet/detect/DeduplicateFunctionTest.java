package io.tourniquet.detect;

import static io.tourniquet.testing.TestEvents.T0;
import static io.tourniquet.testing.TestEvents.login;
import static org.assertj.core.api.Assertions.assertThat;

import io.tourniquet.model.Event;
import java.util.List;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.streaming.api.operators.KeyedProcessOperator;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.util.KeyedOneInputStreamOperatorTestHarness;
import org.junit.jupiter.api.Test;

class DeduplicateFunctionTest {
    private static final long HOUR = 3_600_000L;

    @Test
    void dropsRedeliveriesMarksLateAndForgetsAfterTheRetention() throws Exception {
        try (var h = new KeyedOneInputStreamOperatorTestHarness<>(
                new KeyedProcessOperator<>(new DeduplicateFunction(HOUR)), EventKeys.USER_ID, Types.STRING)) {
            h.open();
            push(h, login("e1", "u1", T0));
            push(h, login("e2", "u2", T0 + 1_000));
            push(h, login("e1", "u1", T0)); // redelivered
            h.processWatermark(T0 + 60_000);
            push(h, login("e3", "u3", T0 + 30_000)); // behind the watermark: late
            push(h, login("e2", "u2", T0 + 1_000)); // redelivered, late
            List<Event> out = h.extractOutputValues();
            assertThat(out).extracting(e -> e.eventId).containsExactly("e1", "e2", "e3");
            assertThat(out).extracting(e -> e.late).containsExactly(false, false, true);

            h.processWatermark(T0 + 60_000 + HOUR);
            assertThat(h.numKeyedStateEntries()).isZero();
            assertThat(h.numEventTimeTimers()).isZero();
            // Once forgotten, an id is new again: the retention is the de-duplication horizon.
            push(h, login("e1", "u1", T0 + 2 * HOUR));
            assertThat(h.extractOutputValues()).hasSize(4);
        }
    }

    @Test
    void anEventIdOnOneTopicDoesNotPreemptTheSameIdOnAnother() throws Exception {
        try (var h = new KeyedOneInputStreamOperatorTestHarness<>(
                new KeyedProcessOperator<>(new DeduplicateFunction(HOUR)), EventKeys.USER_ID, Types.STRING)) {
            h.open();
            push(h, login("same-id", "u1", T0));
            push(h, io.tourniquet.testing.TestEvents.approval("same-id", "u1", "w1", "c1", T0)); // another topic
            push(h, login("same-id", "u1", T0)); // the login redelivered
            assertThat(h.extractOutputValues()).extracting(e -> e.kind)
                    .containsExactly(Event.Kind.LOGIN, Event.Kind.WITHDRAWAL);
        }
    }

    private static void push(KeyedOneInputStreamOperatorTestHarness<String, Event, Event> h, Event e) throws Exception {
        h.processElement(new StreamRecord<>(e, e.eventTime));
    }
}
