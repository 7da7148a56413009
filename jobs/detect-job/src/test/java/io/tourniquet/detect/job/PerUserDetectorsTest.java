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
import io.tourniquet.config.Settings;
import io.tourniquet.model.Alert;
import io.tourniquet.model.EnrichedEvent;
import io.tourniquet.model.Event;
import io.tourniquet.rules.catalog.RuleCatalog;
import io.tourniquet.rules.RuleVersion;
import io.tourniquet.testing.BroadcastHarnesses;
import java.util.List;
import java.util.Map;
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
        // Each kind once, on its consumers' own output (the 2FA events have none).
        assertThat(BroadcastHarnesses.side(harness, Tags.UNIQUE_LOGINS)).extracting(e -> e.eventId).containsExactly("l1");
        assertThat(BroadcastHarnesses.side(harness, Tags.UNIQUE_ACCOUNT_CHANGES)).extracting(e -> e.eventId)
                .containsExactly("a1");
        assertThat(BroadcastHarnesses.side(harness, Tags.UNIQUE_WITHDRAWALS)).extracting(e -> e.eventId)
                .containsExactly("r1", "p1");
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

    // ---------------------------------------------------------------- shadow steps
    // A shadow rule version: the shadow step evaluates the candidate on the same events with state
    // of its own, its alerts leave marked on their own output and nothing it decides reaches the
    // events; a promotion switches the active step at its position in the rules broadcast, and the
    // shadow's state then drains.

    private static final long HOUR = 60 * MINUTE;

    private void broadcast(RuleVersion v) throws Exception {
        harness.processBroadcastElement(new StreamRecord<>(v, 0L));
    }

    /** new_address_withdrawal v{@code version} with a minimum age of 48 h (the default is 24 h). */
    private static RuleVersion fortyEightHours(int version, String mode) {
        RuleVersion v = RuleCatalog.next(RuleCatalog.initial(RuleCatalog.NEW_ADDRESS_WITHDRAWAL, TourniquetConfig.defaults()),
                Map.of(Settings.NEW_ADDRESS_AGE.key(), "48 h"), TourniquetConfig.defaults(), "alice", "s1", T0);
        v.version = version;
        v.mode = mode;
        return v;
    }

    private List<Alert> active() {
        return BroadcastHarnesses.side(harness, Tags.ALERTS);
    }

    private List<Alert> shadow() {
        return BroadcastHarnesses.side(harness, Tags.SHADOW_ALERTS);
    }

    @Test
    void aShadowVersionAlertsBesideTheActiveOneAndActsOnNothingUntilPromoted() throws Exception {
        push(whitelistAdded("a0", "u1", "bc1qold", T0 - DAY)); // before the shadow: it never sees it
        broadcast(fortyEightHours(2, RuleVersion.SHADOW));
        push(whitelistAdded("a1", "u1", "bc1qa", T0));
        push(whitelistAdded("a2", "u2", "bc1qb", T0));
        // 30 h after whitelisting: new to the shadow (48 h), not to the version in force (24 h).
        push(requested("r1", "u1", "w1", "bc1qa", 100.0, 100_000.0, T0 + 30 * HOUR));
        // 1 h after: new to both.
        push(requested("r2", "u2", "w2", "bc1qb", 100.0, 100_000.0, T0 + HOUR));
        // Whitelisted 25 h before the shadow began: old to the version in force; the shadow never
        // saw it whitelisted, so, as for any address it never saw, it says nothing (its warm-up).
        push(requested("r3", "u1", "w3", "bc1qold", 100.0, 100_000.0, T0 + 30 * HOUR));

        assertThat(active()).extracting(a -> a.withdrawalId + " v" + a.ruleVersion + " " + a.shadow)
                .containsExactly("w2 v1 null");
        assertThat(shadow()).extracting(a -> a.withdrawalId + " v" + a.ruleVersion + " " + a.shadow)
                .containsExactly("w1 v2 true", "w2 v2 true");
        Alert both = active().get(0);
        Alert itsShadow = shadow().get(1);
        assertThat(itsShadow.alertId).as("an id of its own").isNotEqualTo(both.alertId);
        assertThat(itsShadow.rule).isEqualTo(RuleCatalog.NEW_ADDRESS_WITHDRAWAL);
        assertThat(itsShadow.traceparent).isNotNull().isNotEqualTo(both.traceparent);
        assertThat(itsShadow.trigger).isNull();
        assertThat(itsShadow.shadowSince).as("when the shadow version was accepted").isEqualTo(T0);
        assertThat(both.summary).contains("(less than 24 h)");
        assertThat(itsShadow.summary).as("by the shadow's thresholds").contains("(less than 48 h)");
        // The events carry only what the version in force decided.
        assertThat(harness.extractOutputValues()).filteredOn(e -> e.event.eventId.equals("r1"))
                .singleElement().satisfies(e -> assertThat(e.alertIds).isEmpty());
        assertThat(harness.extractOutputValues()).filteredOn(e -> e.event.eventId.equals("r2"))
                .singleElement().satisfies(e -> assertThat(e.alertIds).containsExactly(both.alertId));

        // Promoted, in one record: the active step takes v2 from here on; the shadow ends and reads
        // no more events.
        RuleVersion promoted = fortyEightHours(2, null);
        promoted.promotedFrom = 2;
        broadcast(promoted);
        push(whitelistAdded("a3", "u1", "bc1qc", T0 + 30 * HOUR));
        push(requested("r4", "u1", "w4", "bc1qc", 100.0, 100_000.0, T0 + 60 * HOUR));
        assertThat(active()).extracting(a -> a.withdrawalId + " v" + a.ruleVersion + " " + a.shadow)
                .containsExactly("w2 v1 null", "w4 v2 null");
        assertThat(shadow()).hasSize(2);

        harness.processWatermark(T0 + 90 * DAY); // past every retention: the shadow's state drains too
        harness.setProcessingTime(100 * DAY);
        assertThat(BroadcastHarnesses.numKeyedStateEntries(harness)).as("only the users' anomaly profiles")
                .isEqualTo(2);
        BroadcastHarnesses.assertNoTimers(harness);
    }

    @Test
    void aShadowKeepsStateOfItsOwnAndADroppedOneStopsReading() throws Exception {
        RuleVersion candidate = fortyEightHours(2, RuleVersion.SHADOW);
        broadcast(candidate);
        // A change of the version in force meanwhile (not a promotion) leaves the shadow be.
        RuleVersion changed = RuleCatalog.next(RuleCatalog.initial(RuleCatalog.NEW_ADDRESS_WITHDRAWAL, TourniquetConfig.defaults()),
                Map.of(Settings.NEW_ADDRESS_AGE.key(), "25 h"), TourniquetConfig.defaults(), "bob", "r1", T0);
        changed.version = 3;
        broadcast(changed);
        push(whitelistAdded("a0", "u3", "bc1qz", T0));
        push(requested("r0", "u3", "w0", "bc1qz", 100.0, 100_000.0, T0 + 30 * HOUR));
        assertThat(shadow()).extracting(a -> a.withdrawalId + " v" + a.ruleVersion).containsExactly("w0 v2");
        push(whitelistAdded("a1", "u1", "bc1qa", T0));
        var backend = harness.getOperator().getKeyedStateBackend();
        assertThat(backend.getKeys("shadow-whitelisted-addresses", org.apache.flink.runtime.state.VoidNamespace.INSTANCE))
                .as("the shadow's own whitelist").containsExactlyInAnyOrder("u3", "u1");
        broadcast(candidate.ended()); // dropped
        push(requested("r1", "u1", "w1", "bc1qa", 100.0, 100_000.0, T0 + 30 * HOUR));
        push(whitelistAdded("a2", "u2", "bc1qb", T0 + HOUR));
        assertThat(shadow()).as("only u3's, from before the drop").hasSize(1);
        assertThat(backend.getKeys("shadow-whitelisted-addresses", org.apache.flink.runtime.state.VoidNamespace.INSTANCE))
                .as("no new shadow state once dropped").containsExactlyInAnyOrder("u3", "u1");
        // An older shadow version, or the active view's versions, never revive it.
        broadcast(fortyEightHours(1, RuleVersion.SHADOW));
        push(requested("r2", "u2", "w2", "bc1qb", 100.0, 100_000.0, T0 + 2 * HOUR));
        assertThat(shadow()).hasSize(1);
        assertThat(active()).extracting(a -> a.withdrawalId + " v" + a.ruleVersion).containsExactly("w2 v3");
    }
}
