package io.tourniquet.detect.job;

import io.tourniquet.detect.EventKeys;
import static org.assertj.core.api.Assertions.assertThat;
import io.tourniquet.model.Anomaly;
import io.tourniquet.model.EnrichedEvent;
import io.tourniquet.testing.BroadcastHarnesses;
import io.tourniquet.testing.TestEvents;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.streaming.api.operators.co.KeyedCoProcessOperator;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.util.KeyedTwoInputStreamOperatorTestHarness;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Both arrival orders of an approval's two sides, pass-through of the rest, and the timeout. */
class FeatureJoinTest {
    static final long T0 = 1_642_377_600_000L;

    KeyedTwoInputStreamOperatorTestHarness<String, EnrichedEvent, EnrichedEvent, EnrichedEvent> harness;

    @BeforeEach
    void open() throws Exception {
        harness = new KeyedTwoInputStreamOperatorTestHarness<>(new KeyedCoProcessOperator<>(new FeatureJoin()),
                EventKeys.ENRICHED_USER_ID, EventKeys.ENRICHED_USER_ID, Types.STRING);
        harness.open();
        harness.setProcessingTime(0);
    }

    @AfterEach
    void close() throws Exception {
        harness.close();
    }

    static EnrichedEvent decided(String id, String user, String... alertIds) {
        EnrichedEvent e = EnrichedEvent.of(TestEvents.approval(id, user, "w-" + id, "c-" + id, T0));
        e.mfaAuthorized = alertIds.length == 0;
        e.alertIds.addAll(java.util.List.of(alertIds));
        return e;
    }

    static EnrichedEvent featured(String id, String user, double score, String... alertIds) {
        EnrichedEvent e = EnrichedEvent.of(TestEvents.approval(id, user, "w-" + id, "c-" + id, T0));
        e.anomaly = new Anomaly();
        e.anomaly.score = score;
        e.alertIds.addAll(java.util.List.of(alertIds));
        return e;
    }

    @Test
    void anApprovalLeavesOnceWithItsVerdictAndItsFeaturesWhicheverSideComesFirst() throws Exception {
        harness.processElement1(new StreamRecord<>(decided("a1", "u1", "alert-ua"), T0));
        harness.processElement2(new StreamRecord<>(featured("a2", "u2", 0.2), T0));
        assertThat(harness.extractOutputValues()).as("each waits for its other side").isEmpty();

        harness.processElement2(new StreamRecord<>(featured("a1", "u1", 0.9, "alert-ua", "alert-anomaly"), T0));
        harness.processElement1(new StreamRecord<>(decided("a2", "u2"), T0));

        assertThat(harness.extractOutputValues()).hasSize(2);
        EnrichedEvent a1 = harness.extractOutputValues().get(0);
        assertThat(a1.event.eventId).isEqualTo("a1");
        assertThat(a1.mfaAuthorized).isFalse();
        assertThat(a1.anomaly.score).isEqualTo(0.9);
        assertThat(a1.alertIds).containsExactly("alert-ua", "alert-anomaly");
        EnrichedEvent a2 = harness.extractOutputValues().get(1);
        assertThat(a2.mfaAuthorized).isTrue();
        assertThat(a2.anomaly.score).isEqualTo(0.2);
        assertThat(BroadcastHarnesses.numKeyedStateEntries(harness)).isZero();
    }

    @Test
    void everythingButApprovalsPassesStraightThrough() throws Exception {
        harness.processElement1(new StreamRecord<>(EnrichedEvent.of(TestEvents.login("l1", "u1", T0)), T0));
        assertThat(harness.extractOutputValues()).hasSize(1);
        assertThat(BroadcastHarnesses.numKeyedStateEntries(harness)).isZero();
        assertThat(harness.numProcessingTimeTimers()).isZero();
    }

    @Test
    void aSideWhosePartnerNeverComesLeavesAloneAfterTheTimeoutNeverDropped() throws Exception {
        harness.processElement1(new StreamRecord<>(decided("a1", "u1"), T0));
        harness.setProcessingTime(FeatureJoin.TIMEOUT_MS / 2);
        harness.processElement2(new StreamRecord<>(featured("a2", "u1", 0.5), T0));
        harness.setProcessingTime(FeatureJoin.TIMEOUT_MS);
        assertThat(harness.extractOutputValues()).extracting(e -> e.event.eventId).containsExactly("a1");
        harness.setProcessingTime(FeatureJoin.TIMEOUT_MS * 3 / 2);
        assertThat(harness.extractOutputValues()).extracting(e -> e.event.eventId).containsExactly("a1", "a2");
        assertThat(harness.extractOutputValues().get(0).anomaly).as("left without features").isNull();
        BroadcastHarnesses.assertDrained(harness);
    }
}
