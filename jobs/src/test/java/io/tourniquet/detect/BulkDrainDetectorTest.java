package io.tourniquet.detect;

import static io.tourniquet.testing.TestAlerts.accountDrain;
import static io.tourniquet.testing.TestAlerts.newAddress;
import static io.tourniquet.testing.TestAlerts.unauthorized;
import static io.tourniquet.testing.TestEvents.T0;
import static org.assertj.core.api.Assertions.assertThat;

import io.tourniquet.config.TourniquetConfig;
import io.tourniquet.model.Alert;
import io.tourniquet.rules.RuleCatalog;
import io.tourniquet.rules.RuleVersion;
import io.tourniquet.testing.BroadcastHarnesses;
import io.tourniquet.util.Ids;
import io.tourniquet.util.Times;
import java.util.List;
import java.util.Map;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.util.KeyedBroadcastOperatorTestHarness;
import org.apache.flink.streaming.util.ProcessFunctionTestHarnesses;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class BulkDrainDetectorTest {
    private static final long MIN = 60_000L;
    private static final long DETECTED_AT = 1_700_000_000_000L;

    private KeyedBroadcastOperatorTestHarness<String, Alert, RuleVersion, Alert> harness;

    @BeforeEach
    void open() throws Exception {
        harness = harness();
    }

    @AfterEach
    void close() throws Exception {
        harness.close();
    }

    private static KeyedBroadcastOperatorTestHarness<String, Alert, RuleVersion, Alert> harness() throws Exception {
        var h = ProcessFunctionTestHarnesses.forKeyedBroadcastProcessFunction(
                new BulkDrainDetector(BulkDrainSettings.defaults(), SerializableClock.fixed(DETECTED_AT)),
                EventKeys.<Alert>platform(), Types.STRING, RuleCatalog.BROADCAST);
        h.setProcessingTime(0);
        BroadcastHarnesses.rulesNeverHoldBackEventTime(h);
        return h;
    }

    private void push(Alert a) throws Exception {
        harness.processElement(new StreamRecord<>(a, a.eventTime));
    }

    /** Unauthorized approvals of users u1…un, one a minute from {@code T0 + fromMinute}. */
    private void usersOneAMinute(String prefix, int n, long fromMinute) throws Exception {
        for (int i = 1; i <= n; i++) {
            push(unauthorized(prefix + i, "u" + prefix + i, T0 + (fromMinute + i - 1) * MIN));
        }
    }

    private List<Alert> alerts() {
        return harness.extractOutputValues();
    }

    private void assertDrained() throws Exception {
        harness.processWatermark(T0 + 24 * 60 * MIN);
        assertThat(BroadcastHarnesses.numKeyedStateEntries(harness)).as("keyed state entries").isZero();
        assertThat(harness.numEventTimeTimers()).as("event-time timers").isZero();
        assertThat(harness.numProcessingTimeTimers()).as("processing-time timers").isZero();
    }

    @Test
    void fourUsersJustBelowTheThresholdRaiseNothing() throws Exception {
        usersOneAMinute("a", 4, 0);
        harness.processWatermark(T0 + 30 * MIN);
        assertThat(alerts()).isEmpty();
        assertDrained();
    }

    @Test
    void fiveUsersRaiseOneCriticalPlatformAlertWithTheirEvidence() throws Exception {
        push(unauthorized("a1", "u1", T0));
        push(accountDrain("d2", "u2", T0 + MIN));
        push(unauthorized("a3", "u3", T0 + 2 * MIN));
        push(unauthorized("a4", "u4", T0 + 3 * MIN));
        assertThat(alerts()).isEmpty();
        push(accountDrain("d5", "u5", T0 + 4 * MIN));

        assertThat(alerts()).hasSize(1);
        Alert a = alerts().get(0);
        assertThat(a.rule).isEqualTo("bulk_drain");
        assertThat(a.severity).isEqualTo("critical").isEqualTo(Playbook.severityOf(RuleCatalog.BULK_DRAIN));
        assertThat(a.ruleVersion).isEqualTo(1);
        assertThat(a.userId).isNull();
        assertThat(a.withdrawalId).isNull();
        assertThat(a.eventTime).as("the alert that made the count reach 5").isEqualTo(T0 + 4 * MIN);
        assertThat(a.detectedAt).isEqualTo(DETECTED_AT);
        assertThat(a.alertId).isEqualTo(Ids.of("alert", "bulk_drain", Long.toString(T0), "d5"));
        assertThat(a.evidence.userIds).containsExactly("u1", "u2", "u3", "u4", "u5");
        assertThat(a.evidence.distinctUsers).isEqualTo(5);
        assertThat(a.evidence.alertIds).containsExactly("a1", "d2", "a3", "a4", "d5");
        assertThat(a.evidence.eventIds).containsExactly("ev-a1", "ev-d2", "ev2-d2", "ev-a3", "ev-a4", "ev-d5",
                "ev2-d5");
        assertThat(a.evidence.withdrawalIds).containsExactly("w-a1", "wa-d2", "wb-d2", "w-a3", "w-a4", "wa-d5",
                "wb-d5");
        assertThat(a.evidence.windowStart).isEqualTo(Times.format(T0)).isEqualTo("2022-01-17T10:00:00.000Z");
        assertThat(a.evidence.windowEnd).isEqualTo(Times.format(T0 + 4 * MIN));
        assertThat(a.summary).startsWith("5 distinct users had an unauthorized approval or an account drain")
                .endsWith(".").doesNotContain(". ").doesNotContain("\n");
        assertThat(harness.getOutput()).filteredOn(r -> r instanceof StreamRecord<?>)
                .extracting(r -> ((StreamRecord<?>) r).getTimestamp())
                .as("leaves at the trigger's time").containsExactly(T0 + 4 * MIN);
        assertDrained();
    }

    @Test
    void aSixthUserJoinsTheEpisodeWithoutASecondAlert() throws Exception {
        usersOneAMinute("a", 6, 0);
        harness.processWatermark(T0 + 60 * MIN);
        assertThat(alerts()).hasSize(1);
        assertThat(alerts().get(0).evidence.userIds).containsExactly("ua1", "ua2", "ua3", "ua4", "ua5");
        assertDrained();
    }

    @Test
    void theSameUserRepeatedCountsOnceAndARedeliveredAlertNotAtAll() throws Exception {
        push(unauthorized("a1", "u1", T0));
        push(unauthorized("a1b", "u1", T0 + MIN));
        push(accountDrain("d1", "u1", T0 + 2 * MIN));
        push(unauthorized("a2", "u2", T0 + 3 * MIN));
        push(unauthorized("a3", "u3", T0 + 4 * MIN));
        push(unauthorized("a3", "u3", T0 + 4 * MIN)); // redelivered
        push(unauthorized("a4", "u4", T0 + 5 * MIN));
        assertThat(alerts()).as("4 distinct users in 6 alerts").isEmpty();
        push(unauthorized("a5", "u5", T0 + 6 * MIN));
        assertThat(alerts()).hasSize(1);
        Alert a = alerts().get(0);
        assertThat(a.evidence.userIds).containsExactly("u1", "u2", "u3", "u4", "u5");
        assertThat(a.evidence.alertIds).containsExactly("a1", "a1b", "d1", "a2", "a3", "a4", "a5");
        assertDrained();
    }

    @Test
    void usersSpreadWiderThanTheWindowDoNotFire() throws Exception {
        for (int i = 0; i < 8; i++) push(unauthorized("a" + i, "u" + i, T0 + i * 3 * MIN)); // 4 per 10 min at most
        // Five users with the first and last exactly 10 min apart: not within the window either.
        for (int i = 0; i < 5; i++) push(unauthorized("b" + i, "v" + i, T0 + 60 * MIN + i * 150_000L));
        harness.processWatermark(T0 + 120 * MIN);
        assertThat(alerts()).isEmpty();
        assertDrained();
    }

    @Test
    void outOfOrderAndLateArrivalsAreCountedInTheirOwnWindows() throws Exception {
        // Alerts come from several subtasks, some decided a grace after their event: behind the watermark.
        harness.processWatermark(T0 + 5 * MIN);
        push(unauthorized("a5", "u5", T0 + 4 * MIN));
        push(unauthorized("a1", "u1", T0));
        push(accountDrain("d4", "u4", T0 + 3 * MIN));
        harness.processWatermark(T0 + 9 * MIN);
        push(unauthorized("a2", "u2", T0 + MIN));
        assertThat(alerts()).isEmpty();
        push(unauthorized("a3", "u3", T0 + 2 * MIN));

        assertThat(alerts()).hasSize(1);
        Alert a = alerts().get(0);
        assertThat(a.eventTime).as("when the 5th user entered the window, whichever alert arrived last")
                .isEqualTo(T0 + 4 * MIN);
        assertThat(a.evidence.userIds).containsExactly("u1", "u2", "u3", "u4", "u5");
        assertThat(a.evidence.windowStart).isEqualTo(Times.format(T0));
        assertThat(a.evidence.windowEnd).isEqualTo(Times.format(T0 + 4 * MIN));
        assertDrained();
    }

    @Test
    void oneAlertPerEpisodeAndANewEpisodeAfterTheWindowHasPassedFiresAgain() throws Exception {
        usersOneAMinute("a", 5, 0);   // fires; the episode runs to 14 min
        usersOneAMinute("b", 5, 10);  // 10…14 min: each joins and extends it, to 24 min
        harness.processWatermark(T0 + 40 * MIN);
        assertThat(alerts()).hasSize(1);
        usersOneAMinute("c", 5, 60);
        harness.processWatermark(T0 + 90 * MIN);
        assertThat(alerts()).hasSize(2);
        assertThat(alerts().get(1).evidence.userIds).containsExactly("uc1", "uc2", "uc3", "uc4", "uc5");
        assertThat(alerts().get(1).alertId).isNotEqualTo(alerts().get(0).alertId);
        assertDrained();
    }

    @Test
    void aRuleChangeAppliesToLaterInputAndTheAlertNamesItsVersion() throws Exception {
        usersOneAMinute("a", 3, 0);
        assertThat(alerts()).as("3 users under version 1 (min 5)").isEmpty();
        RuleVersion v1 = RuleCatalog.initial(RuleCatalog.BULK_DRAIN, TourniquetConfig.defaults());
        RuleVersion v2 = RuleCatalog.next(v1, Map.of("rule.bulk-drain.min-users", "3"), TourniquetConfig.defaults(),
                "analyst-7", "req-1", DETECTED_AT);
        harness.processBroadcastElement(v2, T0 + 3 * MIN);
        push(unauthorized("a4", "ua4", T0 + 3 * MIN));

        assertThat(alerts()).hasSize(1);
        Alert a = alerts().get(0);
        assertThat(a.ruleVersion).isEqualTo(2);
        assertThat(a.evidence.userIds).as("every user counted so far").containsExactly("ua1", "ua2", "ua3", "ua4");
        assertThat(a.summary).contains("threshold 3");
        assertDrained();
    }

    @Test
    void ignoresAlertsOfOtherRules() throws Exception {
        for (int i = 0; i < 6; i++) push(newAddress("n" + i, "u" + i, "bc1qattacker", T0 + i * MIN));
        Alert platform = unauthorized("x", null, T0);
        platform.rule = "destination_concentration";
        push(platform);
        assertThat(alerts()).isEmpty();
        assertThat(BroadcastHarnesses.numKeyedStateEntries(harness)).isZero();
        assertThat(harness.numEventTimeTimers()).isZero();
    }

    @Test
    void theSameInputGivesTheSameAlert() throws Exception {
        usersOneAMinute("a", 5, 0);
        Alert first = alerts().get(0);
        try (var again = harness()) {
            for (int i = 1; i <= 5; i++) {
                Alert in = unauthorized("a" + i, "ua" + i, T0 + (i - 1) * MIN);
                again.processElement(new StreamRecord<>(in, in.eventTime));
            }
            Alert second = again.extractOutputValues().get(0);
            assertThat(second.alertId).isEqualTo(first.alertId);
            assertThat(second.summary).isEqualTo(first.summary);
        }
        assertDrained();
    }

    @Test
    void travelsToTheClusterAsFlinkShipsIt() throws Exception {
        // The job graph carries the detector, its rule view and version 1 of its rule.
        assertThat(org.apache.flink.util.InstantiationUtil.clone(new BulkDrainDetector(BulkDrainSettings.defaults(), SerializableClock.fixed(DETECTED_AT)))).isNotNull();
    }
}
