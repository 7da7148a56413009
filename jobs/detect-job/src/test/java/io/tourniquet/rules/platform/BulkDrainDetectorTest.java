package io.tourniquet.rules.platform;

import io.tourniquet.testing.RuleVersions;
import io.tourniquet.rules.Playbook;
import io.tourniquet.detect.EventKeys;
import io.tourniquet.util.SerializableClock;
import static io.tourniquet.testing.TestAlerts.accountDrain;
import static io.tourniquet.testing.TestAlerts.newAddress;
import static io.tourniquet.testing.TestAlerts.unauthorized;
import static io.tourniquet.testing.TestEvents.T0;
import static org.assertj.core.api.Assertions.assertThat;
import io.tourniquet.config.TourniquetConfig;
import io.tourniquet.model.Alert;
import io.tourniquet.rules.catalog.RuleCatalog;
import io.tourniquet.rules.RuleVersion;
import io.tourniquet.testing.BroadcastHarnesses;
import io.tourniquet.util.Ids;
import io.tourniquet.util.Times;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.util.KeyedBroadcastOperatorTestHarness;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class BulkDrainDetectorTest {
    private static final long MIN = 60_000L;
    private static final long DETECTED_AT = 1_700_000_000_000L;
    /** How far the live watermark trails the newest alert ({@code input.max-out-of-orderness}). */
    private static final long LIVE_LAG = 30_000L;

    private KeyedBroadcastOperatorTestHarness<String, Alert, RuleVersion, Alert> harness;

    @BeforeEach
    void open() throws Exception {
        harness = harness();
    }

    @AfterEach
    void close() throws Exception {
        harness.close();
    }

    /** The live mode most tests here exercise: fire on arrival within a minute of event time. */
    static final long ONE_MINUTE_LEAD = 60_000L;

    private static KeyedBroadcastOperatorTestHarness<String, Alert, RuleVersion, Alert> harness() throws Exception {
        return harness(new BulkDrainDetector(RuleVersions.of(BulkDrainSettings.defaults()),
                SerializableClock.fixed(DETECTED_AT), ONE_MINUTE_LEAD));
    }

    private static KeyedBroadcastOperatorTestHarness<String, Alert, RuleVersion, Alert> harness(BulkDrainDetector fn)
            throws Exception {
        return BroadcastHarnesses.open(fn, EventKeys.<Alert>platform());
    }

    /** The watermark given to the harness so far; it starts with none. */
    private long watermark = Long.MIN_VALUE;

    private void watermark(long t) throws Exception {
        watermark = t;
        harness.processWatermark(t);
    }

    /**
     * An arrival live: as the job's input does, the watermark trails the newest alert by
     * {@code input.max-out-of-orderness}, so a window it completes is within the lead and fires on
     * arrival. (The harness starts with no watermark at all, which the detector reads as a
     * backlog.) An alert older than the watermark leaves it where it is.
     */
    private void push(Alert a) throws Exception {
        if (a.eventTime - LIVE_LAG > watermark) watermark(a.eventTime - LIVE_LAG);
        arrive(a);
    }

    /** An arrival without moving the watermark: reading a backlog, event time lags far behind. */
    private void arrive(Alert a) throws Exception {
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
        watermark(T0 + 24 * 60 * MIN);
        BroadcastHarnesses.assertDrained(harness);
    }

    @Test
    void asConfiguredByDefaultTheCrossingIsJudgedOnceEventTimeHasPassedItByTheGrace() throws Exception {
        harness.close();
        var cfg = io.tourniquet.config.TourniquetConfig.defaults();
        long grace = cfg.get(io.tourniquet.config.Settings.UA_GRACE).toMillis();
        harness = harness(new BulkDrainDetector(RuleCatalog.initial(RuleCatalog.BULK_DRAIN, cfg),
                SerializableClock.fixed(DETECTED_AT), cfg.get(io.tourniquet.config.Settings.PLATFORM_MAX_LEAD).toMillis(),
                grace));
        watermark(T0 - MIN);
        // Read live, u5 completes a window of five; u0, a minute earlier than u1, is still on its way
        // (its unauthorized approval leaves its detector only once event time passes it by the grace).
        for (int i = 1; i <= 5; i++) arrive(unauthorized("a" + i, "u" + i, T0 + i * MIN));
        watermark(T0 + 5 * MIN + grace - 1);
        assertThat(alerts()).as("not before event time has passed the crossing by the grace").isEmpty();
        arrive(unauthorized("a0", "u0", T0));
        watermark(T0 + 5 * MIN + grace);
        assertThat(alerts()).hasSize(1);
        assertThat(alerts().get(0).eventTime).as("dated when the fifth user fell, in event time")
                .isEqualTo(T0 + 4 * MIN);
        assertDrained();
    }

    @Test
    void fourUsersJustBelowTheThresholdRaiseNothing() throws Exception {
        usersOneAMinute("a", 4, 0);
        watermark(T0 + 30 * MIN);
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
        assertThat(a.severity).isEqualTo("critical").isEqualTo(RuleCatalog.severityOf(RuleCatalog.BULK_DRAIN));
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
        watermark(T0 + 60 * MIN);
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
        watermark(T0 + 120 * MIN);
        assertThat(alerts()).isEmpty();
        assertDrained();
    }

    @Test
    void outOfOrderAndLateArrivalsAreCountedInTheirOwnWindows() throws Exception {
        // Alerts come from several subtasks, some decided a grace after their event: behind the watermark.
        watermark(T0 + 5 * MIN);
        push(unauthorized("a5", "u5", T0 + 4 * MIN));
        push(unauthorized("a1", "u1", T0));
        push(accountDrain("d4", "u4", T0 + 3 * MIN));
        watermark(T0 + 9 * MIN);
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
        watermark(T0 + 40 * MIN);
        assertThat(alerts()).hasSize(1);
        usersOneAMinute("c", 5, 60);
        watermark(T0 + 90 * MIN);
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
                again.processWatermark(in.eventTime - LIVE_LAG); // live, as push does
                again.processElement(new StreamRecord<>(in, in.eventTime));
            }
            Alert second = again.extractOutputValues().get(0);
            assertThat(second.alertId).isEqualTo(first.alertId);
            assertThat(second.summary).isEqualTo(first.summary);
        }
        assertDrained();
    }

    // ---- reading a backlog: far ahead of event time, victims are judged in the order they fell ----

    /** Partition A's victims at 3…8 min (one a minute). */
    private static List<Alert> partitionA() {
        List<Alert> a = new ArrayList<>();
        for (int m = 3; m <= 8; m++) a.add(unauthorized("a" + m, "ua" + m, T0 + m * MIN));
        return a;
    }

    /** Partition B's victims at 0…4 min (one a minute). */
    private static List<Alert> partitionB() {
        List<Alert> b = new ArrayList<>();
        for (int m = 0; m <= 4; m++) b.add(unauthorized("b" + m, "ub" + m, T0 + m * MIN));
        return b;
    }

    /** A replay: all of partition A is read before partition B, the watermark an hour behind. */
    private void backlogAThenB() throws Exception {
        watermark(T0 - 60 * MIN);
        for (Alert a : partitionA()) arrive(a);
        for (Alert b : partitionB()) arrive(b);
    }

    @Test
    void readingABacklogJudgesVictimsInTheOrderTheyFell() throws Exception {
        backlogAThenB();
        assertThat(alerts()).as("A's 5th user (7 min) completed a window first, but an hour ahead of event time")
                .isEmpty();
        watermark(T0 + 3 * MIN - 1);
        assertThat(alerts()).as("not before event time reaches the crossing").isEmpty();
        watermark(T0 + 3 * MIN);

        assertThat(alerts()).hasSize(1);
        Alert a = alerts().get(0);
        assertThat(a.eventTime).as("when the 5th user fell: ub0, ub1, ub2, then ua3 and ub3 at 3 min")
                .isEqualTo(T0 + 3 * MIN);
        assertThat(a.evidence.userIds).containsExactly("ub0", "ub1", "ub2", "ua3", "ub3");
        assertThat(a.evidence.distinctUsers).isEqualTo(5);
        assertThat(a.evidence.alertIds).containsExactly("b0", "b1", "b2", "a3", "b3");
        assertThat(a.evidence.windowStart).isEqualTo(Times.format(T0));
        assertThat(a.evidence.windowEnd).isEqualTo(Times.format(T0 + 3 * MIN));
        assertThat(a.alertId).as("named after the alert that crossed the threshold")
                .isEqualTo(Ids.of("alert", "bulk_drain", Long.toString(T0), "b3"));
        assertThat(a.ruleVersion).isEqualTo(1);
        assertThat(a.detectedAt).isEqualTo(DETECTED_AT);
        assertThat(a.summary).startsWith("5 distinct users had an unauthorized approval or an account drain");
        assertThat(harness.getOutput()).filteredOn(r -> r instanceof StreamRecord<?>)
                .extracting(r -> ((StreamRecord<?>) r).getTimestamp()).containsExactly(T0 + 3 * MIN);

        // Everything else read, and what comes later, joins the episode: still one alert.
        watermark(T0 + 9 * MIN);
        push(unauthorized("c1", "uc1", T0 + 12 * MIN));
        arrive(unauthorized("late", "ulate", T0 + 10 * MIN)); // behind the watermark
        watermark(T0 + 60 * MIN);
        assertThat(alerts()).hasSize(1);
        assertDrained();
    }

    @Test
    void theSameBacklogReadInAnyOrderGivesTheSameAlert() throws Exception {
        List<Alert> aThenB = new ArrayList<>(partitionA());
        aThenB.addAll(partitionB());
        List<Alert> bThenA = new ArrayList<>(partitionB());
        bThenA.addAll(partitionA());
        List<Alert> shuffled = new ArrayList<>(aThenB);
        java.util.Collections.shuffle(shuffled, new java.util.Random(7)); // fixed seed

        Alert first = replay(aThenB);
        assertThat(first.eventTime).isEqualTo(T0 + 3 * MIN);
        for (List<Alert> order : List.of(bThenA, shuffled)) {
            Alert again = replay(order);
            assertThat(again.alertId).isEqualTo(first.alertId);
            assertThat(again.eventTime).isEqualTo(first.eventTime);
            assertThat(again.evidence.userIds).isEqualTo(first.evidence.userIds);
            assertThat(again.evidence.alertIds).isEqualTo(first.evidence.alertIds);
            assertThat(again.summary).isEqualTo(first.summary);
        }
        assertDrained();
    }

    /** The one alert a fresh detector raises reading {@code order} an hour ahead of event time. */
    private static Alert replay(List<Alert> order) throws Exception {
        try (var h = harness()) {
            h.processWatermark(T0 - 60 * MIN);
            for (Alert a : order) h.processElement(new StreamRecord<>(a, a.eventTime));
            assertThat(h.extractOutputValues()).isEmpty();
            h.processWatermark(T0 + 24 * 60 * MIN);
            assertThat(h.extractOutputValues()).hasSize(1);
            assertThat(BroadcastHarnesses.numKeyedStateEntries(h)).isZero();
            assertThat(h.numEventTimeTimers()).isZero();
            return h.extractOutputValues().get(0);
        }
    }

    @Test
    void aCrossingUpToTheLeadAheadOfTheWatermarkFiresOnArrival() throws Exception {
        watermark(T0 + 3 * MIN); // the 5th user at 4 min: exactly the lead (1 min) ahead
        for (int i = 0; i <= 4; i++) arrive(unauthorized("a" + i, "u" + i, T0 + i * MIN));
        assertThat(alerts()).hasSize(1);
        assertThat(alerts().get(0).eventTime).isEqualTo(T0 + 4 * MIN);
        assertThat(alerts().get(0).alertId).isEqualTo(Ids.of("alert", "bulk_drain", Long.toString(T0), "a4"));
        assertDrained();
    }

    @Test
    void aCrossingFurtherAheadWaitsForEventTime() throws Exception {
        watermark(T0 + 3 * MIN - 1); // a millisecond more than the lead behind the 5th user
        for (int i = 0; i <= 4; i++) arrive(unauthorized("a" + i, "u" + i, T0 + i * MIN));
        assertThat(alerts()).isEmpty();
        watermark(T0 + 4 * MIN);
        assertThat(alerts()).hasSize(1);
        assertThat(alerts().get(0).eventTime).isEqualTo(T0 + 4 * MIN);
        assertThat(alerts().get(0).evidence.userIds).containsExactly("u0", "u1", "u2", "u3", "u4");
        assertThat(alerts().get(0).alertId).as("the same alert as live")
                .isEqualTo(Ids.of("alert", "bulk_drain", Long.toString(T0), "a4"));
        assertDrained();
    }

    @Test
    void beforeTheFirstWatermarkNothingIsKnownOfEventTimeSoItWaits() throws Exception {
        for (int i = 0; i <= 4; i++) arrive(unauthorized("a" + i, "u" + i, T0 + i * MIN));
        assertThat(alerts()).isEmpty();
        watermark(T0 + 4 * MIN);
        assertThat(alerts()).hasSize(1);
        assertThat(alerts().get(0).eventTime).isEqualTo(T0 + 4 * MIN);
        assertDrained();
    }

    @Test
    void aLeadLongerThanTheBacklogFiresOnArrivalInTheOrderItWasRead() throws Exception {
        // What the detectors did before they waited for event time, and still do with a long lead.
        harness.close();
        harness = harness(new BulkDrainDetector(RuleVersions.of(BulkDrainSettings.defaults()),
                SerializableClock.fixed(DETECTED_AT), 2 * 60 * MIN));
        backlogAThenB();
        assertThat(alerts()).hasSize(1);
        assertThat(alerts().get(0).eventTime).as("A's 5th user, minutes after the true crossing")
                .isEqualTo(T0 + 7 * MIN);
        assertThat(alerts().get(0).evidence.userIds).containsExactly("ua3", "ua4", "ua5", "ua6", "ua7");
        assertDrained();
    }

    @Test
    void aBacklogOfTwoEpisodesRaisesOneAlertForEachInTimeOrder() throws Exception {
        watermark(T0 - 60 * MIN);
        for (int m = 60; m <= 64; m++) arrive(unauthorized("c" + m, "uc" + m, T0 + m * MIN)); // read first
        for (int m = 0; m <= 4; m++) arrive(unauthorized("b" + m, "ub" + m, T0 + m * MIN));
        assertThat(alerts()).isEmpty();
        watermark(T0 + 30 * MIN);
        assertThat(alerts()).hasSize(1);
        assertThat(alerts().get(0).eventTime).isEqualTo(T0 + 4 * MIN);
        assertThat(alerts().get(0).evidence.userIds).containsExactly("ub0", "ub1", "ub2", "ub3", "ub4");
        watermark(T0 + 90 * MIN);
        assertThat(alerts()).hasSize(2);
        assertThat(alerts().get(1).eventTime).isEqualTo(T0 + 64 * MIN);
        assertThat(alerts().get(1).evidence.userIds).containsExactly("uc60", "uc61", "uc62", "uc63", "uc64");
        assertDrained();
    }

    @Test
    void aDecisionDueThatTheEpisodeInForceSwallowedRaisesNothing() throws Exception {
        usersOneAMinute("a", 5, 0); // live: fires at 4 min; the episode runs to 14 min
        assertThat(alerts()).hasSize(1);
        // Read far ahead: five users at 15…19 min complete a window; a decision is due at 19 min.
        for (int m = 15; m <= 19; m++) arrive(unauthorized("c" + m, "uc" + m, T0 + m * MIN));
        assertThat(alerts()).hasSize(1);
        // Then an alert at 12 min joins the episode, and less than a window before 15 min it carries
        // the episode over all of them: in time order, they all joined it.
        arrive(unauthorized("j", "uj", T0 + 12 * MIN));
        watermark(T0 + 60 * MIN);
        assertThat(alerts()).hasSize(1);
        assertDrained();
    }

    @Test
    void theLeadMustNotBeNegative() {
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> new BulkDrainDetector(
                RuleVersions.of(BulkDrainSettings.defaults()), SerializableClock.fixed(DETECTED_AT), -1))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void travelsToTheClusterAsFlinkShipsIt() throws Exception {
        // The job graph carries the detector, its rule view and version 1 of its rule.
        assertThat(org.apache.flink.util.InstantiationUtil.clone(new BulkDrainDetector(RuleVersions.of(BulkDrainSettings.defaults()), SerializableClock.fixed(DETECTED_AT)))).isNotNull();
    }
}
