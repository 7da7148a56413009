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
import java.util.List;
import java.util.Map;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.util.KeyedBroadcastOperatorTestHarness;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class DestinationConcentrationDetectorTest {
    private static final long MIN = 60_000L;
    private static final long DETECTED_AT = 1_700_000_000_000L;
    /** How far the live watermark trails the newest alert ({@code input.max-out-of-orderness}). */
    private static final long LIVE_LAG = 30_000L;
    private static final String THIEF = "0xthief";
    private static final String OTHER = "0xother";

    private KeyedBroadcastOperatorTestHarness<String, Alert, RuleVersion, Alert> harness;

    @BeforeEach
    void open() throws Exception {
        // The live mode these tests exercise: fire on arrival within a minute of event time.
        harness = BroadcastHarnesses.open(new DestinationConcentrationDetector(
                RuleVersions.of(DestinationConcentrationSettings.defaults()), SerializableClock.fixed(DETECTED_AT),
                60_000L), EventKeys.ALERT_DESTINATION);
    }

    @AfterEach
    void close() throws Exception {
        harness.close();
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

    /** New-address withdrawals of users u{prefix}1…n to {@code address}, one a minute from {@code fromMinute}. */
    private void usersOneAMinute(String prefix, int n, String address, long fromMinute) throws Exception {
        for (int i = 1; i <= n; i++) {
            push(newAddress(prefix + i, "u" + prefix + i, address, T0 + (fromMinute + i - 1) * MIN));
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
    void fourUsersToOneNewAddressRaiseNothing() throws Exception {
        usersOneAMinute("a", 4, THIEF, 0);
        watermark(T0 + 30 * MIN);
        assertThat(alerts()).isEmpty();
        assertDrained();
    }

    @Test
    void fiveUsersToOneNewAddressRaiseOneCriticalAlertNamingTheAddress() throws Exception {
        usersOneAMinute("a", 4, THIEF, 0);
        assertThat(alerts()).isEmpty();
        push(newAddress("a5", "ua5", THIEF, T0 + 4 * MIN));

        assertThat(alerts()).hasSize(1);
        Alert a = alerts().get(0);
        assertThat(a.rule).isEqualTo("destination_concentration");
        assertThat(a.severity).isEqualTo("critical");
        assertThat(a.ruleVersion).isEqualTo(1);
        assertThat(a.userId).isNull();
        assertThat(a.withdrawalId).isNull();
        assertThat(a.eventTime).isEqualTo(T0 + 4 * MIN);
        assertThat(a.detectedAt).isEqualTo(DETECTED_AT);
        assertThat(a.alertId).isEqualTo(Ids.of("alert", "destination_concentration", THIEF, Long.toString(T0), "a5"));
        assertThat(a.evidence.destinationAddress).isEqualTo(THIEF);
        assertThat(a.evidence.asset).isEqualTo("ETH");
        assertThat(a.evidence.network).isEqualTo("ethereum");
        assertThat(a.evidence.userIds).containsExactly("ua1", "ua2", "ua3", "ua4", "ua5");
        assertThat(a.evidence.distinctUsers).isEqualTo(5);
        assertThat(a.evidence.alertIds).containsExactly("a1", "a2", "a3", "a4", "a5");
        assertThat(a.evidence.eventIds).containsExactly("ev-a1", "ev-a2", "ev-a3", "ev-a4", "ev-a5");
        assertThat(a.evidence.withdrawalIds).containsExactly("w-a1", "w-a2", "w-a3", "w-a4", "w-a5");
        assertThat(a.evidence.windowStart).isEqualTo(Times.format(T0));
        assertThat(a.evidence.windowEnd).isEqualTo(Times.format(T0 + 4 * MIN));
        assertThat(a.summary).contains(THIEF).startsWith("5 distinct users").endsWith(".")
                .doesNotContain(". ");
        // The playbook blocks exactly this address.
        assertThat(RuleCatalog.stepsFor(a.rule)).extracting(s -> s.action() + ":" + s.scope().of(a).keyValue())
                .containsExactly("block_address:" + THIEF);
        assertDrained();
    }

    @Test
    void aSixthUserJoinsTheEpisodeWithoutASecondAlert() throws Exception {
        usersOneAMinute("a", 6, THIEF, 0);
        watermark(T0 + 60 * MIN);
        assertThat(alerts()).hasSize(1);
        assertThat(alerts().get(0).evidence.userIds).containsExactly("ua1", "ua2", "ua3", "ua4", "ua5");
        assertDrained();
    }

    @Test
    void addressesAreCountedApart() throws Exception {
        usersOneAMinute("a", 4, THIEF, 0);
        usersOneAMinute("b", 4, OTHER, 0);
        push(newAddress("b5", "ua1", OTHER, T0 + 5 * MIN)); // a user of the first address, to the second
        watermark(T0 + 60 * MIN);
        assertThat(alerts()).hasSize(1);
        assertThat(alerts().get(0).evidence.destinationAddress).isEqualTo(OTHER);
        assertThat(alerts().get(0).evidence.userIds).containsExactly("ub1", "ub2", "ub3", "ub4", "ua1");
        assertDrained();
    }

    @Test
    void onlyNewAddressWithdrawalsCount() throws Exception {
        // A popular deposit address users whitelisted long ago: their withdrawals to it raise no
        // new-address alert; even their other alerts naming it must not add up here.
        for (int i = 1; i <= 6; i++) {
            Alert ua = unauthorized("x" + i, "u" + i, T0 + i * MIN);
            ua.evidence.destinationAddress = THIEF;
            push(ua);
            Alert drain = accountDrain("d" + i, "u" + i, T0 + i * MIN);
            drain.evidence.destinationAddress = THIEF;
            push(drain);
        }
        assertThat(alerts()).isEmpty();
        assertThat(BroadcastHarnesses.numKeyedStateEntries(harness)).isZero();
        // Four new-address withdrawals to it plus those six users' other alerts: still four.
        usersOneAMinute("a", 4, THIEF, 0);
        watermark(T0 + 60 * MIN);
        assertThat(alerts()).isEmpty();
        assertDrained();
    }

    @Test
    void theSameUserRepeatedCountsOnce() throws Exception {
        for (int i = 0; i < 4; i++) push(newAddress("r" + i, "u1", THIEF, T0 + i * MIN));
        usersOneAMinute("a", 3, THIEF, 4);
        assertThat(alerts()).as("4 distinct users in 7 alerts").isEmpty();
        push(newAddress("z", "uz", THIEF, T0 + 8 * MIN));
        assertThat(alerts()).hasSize(1);
        assertThat(alerts().get(0).evidence.userIds).containsExactly("u1", "ua1", "ua2", "ua3", "uz");
        assertThat(alerts().get(0).evidence.withdrawalIds).hasSize(8);
        assertDrained();
    }

    @Test
    void usersSpreadWiderThanTheWindowDoNotFire() throws Exception {
        for (int i = 0; i < 8; i++) push(newAddress("a" + i, "u" + i, THIEF, T0 + i * 3 * MIN));
        watermark(T0 + 60 * MIN);
        assertThat(alerts()).isEmpty();
        assertDrained();
    }

    @Test
    void outOfOrderArrivalFiresOnTheArrivalThatCompletesTheWindowAtTheTimeTheFifthUserEnteredIt() throws Exception {
        watermark(T0 + 6 * MIN);
        push(newAddress("a4", "u4", THIEF, T0 + 4 * MIN));
        push(newAddress("a2", "u2", THIEF, T0 + 2 * MIN));
        push(newAddress("a5", "u5", THIEF, T0 + 5 * MIN));
        push(newAddress("a3", "u3", THIEF, T0 + 3 * MIN));
        assertThat(alerts()).isEmpty();
        push(newAddress("a1", "u1", THIEF, T0 + MIN));
        assertThat(alerts()).hasSize(1);
        // Fired on u1's arrival, but the threshold was crossed when u5 withdrew.
        assertThat(alerts().get(0).eventTime).isEqualTo(T0 + 5 * MIN);
        assertThat(alerts().get(0).evidence.userIds).containsExactly("u1", "u2", "u3", "u4", "u5");
        assertDrained();
    }

    @Test
    void oneAlertPerEpisodeAndANewEpisodeAfterTheWindowHasPassedFiresAgain() throws Exception {
        usersOneAMinute("a", 5, THIEF, 0);
        usersOneAMinute("b", 3, THIEF, 12); // within 10 min of the last: the same episode
        watermark(T0 + 40 * MIN);
        assertThat(alerts()).hasSize(1);
        usersOneAMinute("c", 5, THIEF, 45);
        watermark(T0 + 80 * MIN);
        assertThat(alerts()).hasSize(2);
        assertThat(alerts().get(1).evidence.userIds).containsExactly("uc1", "uc2", "uc3", "uc4", "uc5");
        assertDrained();
    }

    @Test
    void aRuleChangeAppliesToLaterInputAndTheAlertListsEveryUserCountedSoFar() throws Exception {
        usersOneAMinute("a", 4, THIEF, 0);
        usersOneAMinute("b", 2, OTHER, 0);
        assertThat(alerts()).isEmpty();
        RuleVersion v1 = RuleCatalog.initial(RuleCatalog.DESTINATION_CONCENTRATION, TourniquetConfig.defaults());
        RuleVersion v2 = RuleCatalog.next(v1, Map.of("rule.destination-concentration.min-users", "3"),
                TourniquetConfig.defaults(), "analyst-7", "req-2", DETECTED_AT);
        harness.processBroadcastElement(v2, T0 + 4 * MIN);
        push(newAddress("a5", "ua5", THIEF, T0 + 4 * MIN));
        push(newAddress("b3", "ub3", OTHER, T0 + 4 * MIN));

        assertThat(alerts()).hasSize(2).allSatisfy(a -> assertThat(a.ruleVersion).isEqualTo(2));
        assertThat(alerts().get(0).evidence.userIds).containsExactly("ua1", "ua2", "ua3", "ua4", "ua5");
        assertThat(alerts().get(1).evidence.userIds).containsExactly("ub1", "ub2", "ub3");
        assertDrained();
    }

    // ---- reading a backlog: far ahead of event time, withdrawals are judged in the order they were made ----

    @Test
    void readingABacklogJudgesWithdrawalsInTheOrderTheyWereMadePerAddress() throws Exception {
        // A replay before the first watermark: partition A's users (3…8 min) are read before
        // partition B's (0…4 min); another address's five users (1…5 min) in between.
        for (int m = 3; m <= 8; m++) arrive(newAddress("a" + m, "ua" + m, THIEF, T0 + m * MIN));
        for (int m = 1; m <= 5; m++) arrive(newAddress("o" + m, "uo" + m, OTHER, T0 + m * MIN));
        for (int m = 0; m <= 4; m++) arrive(newAddress("b" + m, "ub" + m, THIEF, T0 + m * MIN));
        assertThat(alerts()).as("nothing while reading ahead of event time").isEmpty();

        watermark(T0 + 3 * MIN);
        assertThat(alerts()).hasSize(1);
        Alert a = alerts().get(0);
        assertThat(a.eventTime).as("when the 5th user withdrew to the address").isEqualTo(T0 + 3 * MIN);
        assertThat(a.evidence.destinationAddress).isEqualTo(THIEF);
        assertThat(a.evidence.asset).isEqualTo("ETH");
        assertThat(a.evidence.network).isEqualTo("ethereum");
        assertThat(a.evidence.userIds).containsExactly("ub0", "ub1", "ub2", "ua3", "ub3");
        assertThat(a.evidence.alertIds).containsExactly("b0", "b1", "b2", "a3", "b3");
        assertThat(a.evidence.withdrawalIds).containsExactly("w-b0", "w-b1", "w-b2", "w-a3", "w-b3");
        assertThat(a.evidence.windowStart).isEqualTo(Times.format(T0));
        assertThat(a.evidence.windowEnd).isEqualTo(Times.format(T0 + 3 * MIN));
        assertThat(a.alertId).isEqualTo(Ids.of("alert", "destination_concentration", THIEF, Long.toString(T0), "b3"));
        assertThat(a.summary).contains(THIEF).startsWith("5 distinct users");
        assertThat(RuleCatalog.stepsFor(a.rule)).extracting(s -> s.action() + ":" + s.scope().of(a).keyValue())
                .containsExactly("block_address:" + THIEF);

        watermark(T0 + 5 * MIN);
        assertThat(alerts()).hasSize(2);
        assertThat(alerts().get(1).evidence.destinationAddress).isEqualTo(OTHER);
        assertThat(alerts().get(1).eventTime).isEqualTo(T0 + 5 * MIN);
        assertThat(alerts().get(1).evidence.userIds).containsExactly("uo1", "uo2", "uo3", "uo4", "uo5");

        // Later withdrawals to the blocked address join its episode: no second alert.
        push(newAddress("c1", "uc1", THIEF, T0 + 15 * MIN));
        watermark(T0 + 60 * MIN);
        assertThat(alerts()).hasSize(2);
        assertDrained();
    }

    @Test
    void aCrossingWithinTheLeadFiresOnArrivalFurtherAheadItWaits() throws Exception {
        watermark(T0 + 3 * MIN); // exactly the lead (1 min) behind the 5th user to THIEF
        for (int i = 0; i <= 4; i++) arrive(newAddress("a" + i, "ua" + i, THIEF, T0 + i * MIN));
        assertThat(alerts()).hasSize(1);
        for (int i = 0; i <= 4; i++) arrive(newAddress("b" + i, "ub" + i, OTHER, T0 + MIN + i * MIN));
        assertThat(alerts()).as("OTHER's 5th user at 5 min: 2 min ahead").hasSize(1);
        watermark(T0 + 5 * MIN);
        assertThat(alerts()).hasSize(2);
        assertThat(alerts().get(1).evidence.destinationAddress).isEqualTo(OTHER);
        assertThat(alerts().get(1).eventTime).isEqualTo(T0 + 5 * MIN);
        assertDrained();
    }

    @Test
    void travelsToTheClusterAsFlinkShipsIt() throws Exception {
        // The job graph carries the detector, its rule view and version 1 of its rule.
        assertThat(org.apache.flink.util.InstantiationUtil.clone(new DestinationConcentrationDetector(
                RuleVersions.of(DestinationConcentrationSettings.defaults()), SerializableClock.fixed(DETECTED_AT)))).isNotNull();
    }
}
