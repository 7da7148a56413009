package io.tourniquet.detect.job;

import io.tourniquet.detect.EventKeys;
import io.tourniquet.streams.Tags;
import io.tourniquet.util.SerializableClock;
import static io.tourniquet.testing.TestEvents.T0;
import static io.tourniquet.testing.TestEvents.approval;
import static io.tourniquet.testing.TestEvents.login;
import static io.tourniquet.testing.TestEvents.requested;
import static io.tourniquet.testing.TestEvents.whitelistAdded;
import static org.assertj.core.api.Assertions.assertThat;

import io.tourniquet.config.TourniquetConfig;
import io.tourniquet.model.Alert;
import io.tourniquet.model.EnrichedEvent;
import io.tourniquet.model.Event;
import io.tourniquet.rules.catalog.RuleCatalog;
import io.tourniquet.rules.RuleVersion;
import io.tourniquet.testing.BroadcastHarnesses;
import java.util.List;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.util.KeyedBroadcastOperatorTestHarness;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The per-user steps run as one operator: the same record passes de-duplication and the rules in
 * their order, each step's timers reach it only in the time domains it uses, and nothing is left
 * behind. Each rule's own behaviour is tested in its own harness test.
 */
class PerUserDetectorsTest {
    private static final long MINUTE = 60_000L;
    private static final long DAY = 24 * 60 * MINUTE;
    private static final long DETECTED_AT = T0 + 5 * MINUTE;

    private KeyedBroadcastOperatorTestHarness<String, EnrichedEvent, RuleVersion, EnrichedEvent> harness;

    @BeforeEach
    void open() throws Exception {
        harness = BroadcastHarnesses.open(
                PerUserDetectors.from(TourniquetConfig.defaults(), SerializableClock.fixed(DETECTED_AT)),
                EventKeys.ENRICHED_USER_ID);
    }

    @AfterEach
    void close() throws Exception {
        harness.close();
    }

    private void push(Event e) throws Exception {
        harness.processElement(new StreamRecord<>(EnrichedEvent.of(e), e.eventTime));
    }

    private List<Alert> alerts() {
        return BroadcastHarnesses.side(harness, Tags.ALERTS);
    }

    @Test
    void oneRecordPassesEveryStepInOrderAndNothingIsLeftBehind() throws Exception {
        push(login("l1", "u1", T0));
        push(whitelistAdded("a1", "u1", "bc1qnew", T0 + MINUTE));
        // Whitelisted a minute before: a new address; and 52,500 of a 5,000 balance: a drain.
        push(requested("r1", "u1", "w1", "bc1qnew", 52_500.0, 5_000.0, T0 + 2 * MINUTE));
        push(approval("p1", "u1", "w1", null, T0 + 3 * MINUTE)); // no 2FA at all
        push(login("l1", "u1", T0)); // redelivered

        assertThat(alerts()).extracting(a -> a.rule).containsExactly(RuleCatalog.NEW_ADDRESS_WITHDRAWAL,
                RuleCatalog.ACCOUNT_DRAIN, RuleCatalog.UNAUTHORIZED_APPROVAL);
        Alert unauthorized = alerts().get(2);
        // The approval went through the drain rule before the 2FA rule, on the same record.
        assertThat(unauthorized.trigger.alertIds).containsExactly(alerts().get(1).alertId, unauthorized.alertId);
        assertThat(BroadcastHarnesses.side(harness, Tags.UNIQUE_EVENTS)).extracting(e -> e.eventId)
                .containsExactly("l1", "a1", "r1", "p1");
        // The unauthorized approval leaves inside its alert; the request carries its alert id.
        assertThat(harness.extractOutputValues()).extracting(e -> e.event.eventId).containsExactly("l1", "a1", "r1");
        assertThat(harness.extractOutputValues().get(2).alertIds).containsExactly(alerts().get(0).alertId);
        assertThat(BroadcastHarnesses.side(harness, Tags.FEATURED_APPROVALS)).as("features wait for event time")
                .isEmpty();

        harness.processWatermark(T0 + 60 * DAY); // past every retention
        List<EnrichedEvent> featured = BroadcastHarnesses.side(harness, Tags.FEATURED_APPROVALS);
        assertThat(featured).extracting(e -> e.event.eventId).containsExactly("p1");
        assertThat(featured.get(0).anomaly).isNotNull();
        // The scorer had its own record: the 2FA verdict set on the decided one is not on it.
        assertThat(featured.get(0).mfaDecisionReason).isNull();
        assertThat(unauthorized.trigger.mfaDecisionReason).isEqualTo("no_challenge");
        assertThat(unauthorized.trigger.anomaly).isNull();

        assertThat(harness.extractOutputValues()).as("nothing more on the main output").hasSize(3);
        harness.setProcessingTime(10 * DAY); // the scorer's wall-clock check, disarmed: it finds nothing
        assertThat(BroadcastHarnesses.numKeyedStateEntries(harness)).as("only the user's anomaly profile")
                .isEqualTo(1);
        BroadcastHarnesses.assertNoTimers(harness);
    }

    @Test
    void wallClockTimersReachOnlyTheStepsThatSetThem() throws Exception {
        // An approval waiting for its challenge sets a wall-clock deadline; a request waits for
        // event time to decide whether its address is new.
        push(requested("r1", "u1", "w1", "bc1qlater", 100.0, 100_000.0, T0));
        push(approval("p1", "u1", "w1", "c1", T0 + MINUTE));
        assertThat(harness.numProcessingTimeTimers()).isPositive();
        harness.setProcessingTime(10 * DAY); // far past every wall-clock bound; event time has not moved
        assertThat(alerts()).extracting(a -> a.rule).as("the 2FA rule decided by wall clock")
                .containsExactly(RuleCatalog.UNAUTHORIZED_APPROVAL);
        // The new-address rule still waits for event time: its whitelisting, read late, alerts.
        push(whitelistAdded("a1", "u1", "bc1qlater", T0 - MINUTE));
        assertThat(alerts()).extracting(a -> a.rule).containsExactly(RuleCatalog.UNAUTHORIZED_APPROVAL,
                RuleCatalog.NEW_ADDRESS_WITHDRAWAL);

        harness.processWatermark(T0 + 60 * DAY);
        harness.setProcessingTime(20 * DAY);
        assertThat(BroadcastHarnesses.numKeyedStateEntries(harness)).as("only the user's anomaly profile")
                .isEqualTo(1);
        BroadcastHarnesses.assertNoTimers(harness);
    }

    /** The timers each step sets are noted as that step's, and a note goes when its timer fires. */
    @Test
    void eachEventTimeTimerIsNotedAsTheStepsThatSetItUntilItFires() throws Exception {
        push(login("l1", "u1", T0));
        long dedupForgets = io.tourniquet.detect.DeduplicateFunction.bucketEnd(
                T0 + TourniquetConfig.defaults().get(io.tourniquet.config.Settings.DEDUP_RETENTION).toMillis());
        assertThat(timerOwners()).as("the scorer waits for the login's time; de-duplication forgets it later")
                .containsExactlyInAnyOrderEntriesOf(java.util.Map.of(T0, PerUserDetectors.ANOMALY,
                        dedupForgets, PerUserDetectors.DEDUP));
        push(login("l2", "u1", T0 - 30_000L)); // same de-duplication bucket: noted once
        assertThat(timerOwners()).containsExactlyInAnyOrderEntriesOf(java.util.Map.of(T0, PerUserDetectors.ANOMALY,
                T0 - 30_000L, PerUserDetectors.ANOMALY, dedupForgets, PerUserDetectors.DEDUP));

        harness.processWatermark(T0);
        assertThat(timerOwners()).as("fired: its note is gone").doesNotContainKeys(T0 - 30_000L, T0).containsKey(dedupForgets);
        harness.processWatermark(T0 + 60 * DAY);
        assertThat(timerOwners()).isEmpty();
        BroadcastHarnesses.assertNoTimers(harness);
    }

    private java.util.Map<Long, Integer> timerOwners() throws Exception {
        org.apache.flink.runtime.state.KeyedStateBackend<Object> backend = harness.getOperator().getKeyedStateBackend();
        backend.setCurrentKey("u1");
        var state = backend.getPartitionedState(org.apache.flink.runtime.state.VoidNamespace.INSTANCE,
                org.apache.flink.runtime.state.VoidNamespaceSerializer.INSTANCE, PerUserDetectors.TIMER_OWNERS);
        java.util.Map<Long, Integer> copy = new java.util.HashMap<>();
        for (var e : state.entries()) copy.put(e.getKey(), e.getValue());
        return copy;
    }
}
