package io.tourniquet.rules.drain;

import io.tourniquet.testing.PerUserRuleHarness;
import io.tourniquet.testing.RuleVersions;
import io.tourniquet.util.SerializableClock;
import static io.tourniquet.testing.TestEvents.T0;
import static io.tourniquet.testing.TestEvents.approved;
import static io.tourniquet.testing.TestEvents.login;
import static io.tourniquet.testing.TestEvents.requested;
import static io.tourniquet.testing.TestEvents.withdrawal;
import static org.assertj.core.api.Assertions.assertThat;
import io.tourniquet.config.Settings;
import io.tourniquet.config.TourniquetConfig;
import io.tourniquet.model.Alert;
import io.tourniquet.model.EnrichedEvent;
import io.tourniquet.model.Event;
import io.tourniquet.rules.catalog.RuleCatalog;
import io.tourniquet.rules.RuleVersion;
import io.tourniquet.testing.BroadcastHarnesses;
import io.tourniquet.util.Ids;
import io.tourniquet.util.Times;
import java.math.BigDecimal;
import java.util.List;
import java.util.Map;
import org.apache.flink.streaming.util.KeyedBroadcastOperatorTestHarness;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class AccountDrainDetectorTest {
    private static final long MIN = 60_000L;
    private static final long HOUR = 60 * MIN;
    private static final long DAY = 24 * HOUR;
    private static final long DETECTED_AT = 1_700_000_000_000L;
    /** The contract's defaults: 1 h window, 80 % of the balance, at least US$1,000. */
    private static final AccountDrainSettings DEFAULTS = AccountDrainSettings.defaults();

    private PerUserRuleHarness rule;
    private KeyedBroadcastOperatorTestHarness<String, EnrichedEvent, RuleVersion, EnrichedEvent> harness;

    @BeforeEach
    void open() throws Exception {
        assertThat(DEFAULTS).isEqualTo(new AccountDrainSettings(HOUR, new BigDecimal("0.8"), new BigDecimal("1000"), DAY));
        rule = PerUserRuleHarness.open(new AccountDrainDetector(RuleVersions.of(DEFAULTS), SerializableClock.fixed(DETECTED_AT)));
        harness = rule.harness();
    }

    @AfterEach
    void close() throws Exception {
        rule.close();
    }

    private void push(Event e) throws Exception {
        rule.push(e);
    }

    /** A request (balance {@code balance} just before it) a minute before its approval at {@code t}. */
    private void withdraw(String user, String withdrawalId, double usd, double balance, long t) throws Exception {
        push(requested("r-" + withdrawalId, user, withdrawalId, "bc1qdest", usd, balance, t - MIN));
        push(approved("a-" + withdrawalId, user, withdrawalId, usd, t));
    }

    private List<Alert> alerts() {
        return rule.alerts();
    }

    private EnrichedEvent forwarded(String eventId) {
        return rule.forwarded(eventId);
    }

    /** Every event left once, at once; with event time far past every timer, all state is gone. */
    private void assertForwardedOnceAndDrained() throws Exception {
        rule.assertForwardedOnceAndDrained(T0 + 30 * DAY);
    }

    private static void assertDrain(Alert a, String user, String triggerWithdrawal, long triggerTime,
                                    List<String> withdrawals, double balance, double windowUsd, long windowEnd) {
        assertThat(a.alertId).isEqualTo(Ids.of("alert", "account_drain", user, "a-" + triggerWithdrawal));
        assertThat(a.rule).isEqualTo("account_drain");
        assertThat(a.severity).isEqualTo("medium");
        assertThat(a.userId).isEqualTo(user);
        assertThat(a.withdrawalId).isEqualTo(triggerWithdrawal);
        assertThat(a.eventTime).isEqualTo(triggerTime);
        assertThat(a.detectedAt).isEqualTo(DETECTED_AT);
        assertThat(a.evidence.withdrawalIds).containsExactlyElementsOf(withdrawals);
        assertThat(a.evidence.eventIds).containsExactlyElementsOf(withdrawals.stream().map(w -> "a-" + w).toList());
        assertThat(a.evidence.balanceUsd).isEqualTo(balance);
        assertThat(a.evidence.windowUsd).isEqualTo(windowUsd);
        assertThat(a.evidence.windowEnd).isEqualTo(Times.format(windowEnd));
        assertThat(a.evidence.windowStart).isEqualTo(Times.format(windowEnd - HOUR));
        assertThat(a.evidence.asset).isEqualTo("BTC");
        assertThat(a.evidence.amount).isEqualTo("1.25000000");
        assertThat(a.summary).contains(user).endsWith(".").doesNotContain("\n");
        assertThat(RuleCatalog.stepsFor(a.rule)).as("no actions for a drain").isEmpty();
    }

    // ---- the share of the balance ----

    @Test
    void windowJustBelowTheShareDoesNotAlert() throws Exception {
        withdraw("u1", "w1", 4_000, 10_000, T0);
        withdraw("u1", "w2", 3_999, 6_000, T0 + 10 * MIN); // 79.99 % of 10,000
        harness.processWatermark(T0 + 2 * HOUR);
        assertThat(alerts()).isEmpty();
        assertForwardedOnceAndDrained();
    }

    @Test
    void windowReachingExactlyTheShareAlertsOnTheApprovalThatCompletesIt() throws Exception {
        withdraw("u1", "w1", 4_000, 10_000, T0);
        assertThat(alerts()).isEmpty();
        withdraw("u1", "w2", 4_000, 6_000, T0 + 10 * MIN); // 80 % of the balance seen at the first

        assertThat(alerts()).hasSize(1);
        Alert a = alerts().get(0);
        assertDrain(a, "u1", "w2", T0 + 10 * MIN, List.of("w1", "w2"), 10_000, 8_000, T0 + 10 * MIN);
        assertThat(a.ruleVersion).isEqualTo(1);
        assertThat(a.evidence.usdValue).isEqualTo(4_000.0);
        assertThat(a.summary).contains("US$8,000.00").contains("80.0 %").contains("US$10,000.00");
        assertThat(forwarded("a-w2").alertIds).containsExactly(a.alertId);
        assertThat(forwarded("a-w1").alertIds).isEmpty();
        assertThat(forwarded("r-w2").alertIds).isEmpty();
        assertForwardedOnceAndDrained();
        assertThat(alerts()).hasSize(1);
    }

    @Test
    void windowAboveTheShareAlerts() throws Exception {
        withdraw("u1", "w1", 4_000, 10_000, T0);
        withdraw("u1", "w2", 4_100, 6_000, T0 + 10 * MIN); // 81 %
        assertThat(alerts()).hasSize(1);
        assertDrain(alerts().get(0), "u1", "w2", T0 + 10 * MIN, List.of("w1", "w2"), 10_000, 8_100, T0 + 10 * MIN);
        assertForwardedOnceAndDrained();
    }

    @Test
    void oneApprovalOfTheWholeBalanceIsADrain() throws Exception {
        withdraw("u1", "w1", 52_500, 52_500, T0);
        assertThat(alerts()).hasSize(1);
        assertDrain(alerts().get(0), "u1", "w1", T0, List.of("w1"), 52_500, 52_500, T0);
        assertForwardedOnceAndDrained();
    }

    // ---- the floor ----

    @Test
    void drainBelowTheFloorDoesNotAlert() throws Exception {
        withdraw("u1", "w1", 999, 1_000, T0); // 99.9 %, but under US$1,000
        harness.processWatermark(T0 + 2 * HOUR);
        assertThat(alerts()).isEmpty();
        assertForwardedOnceAndDrained();
    }

    @Test
    void drainAtTheFloorAlerts() throws Exception {
        withdraw("u1", "w1", 1_000, 1_000, T0);
        assertThat(alerts()).hasSize(1);
        assertDrain(alerts().get(0), "u1", "w1", T0, List.of("w1"), 1_000, 1_000, T0);
        assertForwardedOnceAndDrained();
    }

    // ---- out of order ----

    @Test
    void approvalsArrivingOutOfOrderStillFindTheWindowTheyComplete() throws Exception {
        push(requested("r-w1", "u1", "w1", "bc1qdest", 4_000, 10_000, T0 - MIN));
        push(requested("r-w2", "u1", "w2", "bc1qdest", 4_000, 6_000, T0 + 9 * MIN));
        push(approved("a-w2", "u1", "w2", 4_000, T0 + 10 * MIN));
        assertThat(alerts()).as("alone, 4,000 of 6,000 is 66.7 %").isEmpty();
        push(approved("a-w1", "u1", "w1", 4_000, T0)); // the earlier approval, behind

        assertThat(alerts()).hasSize(1);
        Alert a = alerts().get(0);
        // Completed by w1's arrival, but crossed in event time at w2, whatever the reading order.
        assertDrain(a, "u1", "w2", T0 + 10 * MIN, List.of("w1", "w2"), 10_000, 8_000, T0 + 10 * MIN);
        assertThat(forwarded("a-w1").alertIds).containsExactly(a.alertId);
        assertThat(forwarded("a-w2").alertIds).isEmpty();
        assertForwardedOnceAndDrained();
    }

    @Test
    void approvalArrivingBeforeItsRequestIsDecidedWhenTheRequestArrives() throws Exception {
        push(approved("a-w1", "u1", "w1", 9_000, T0));
        assertThat(alerts()).as("no balance known yet").isEmpty();
        push(requested("r-w1", "u1", "w1", "bc1qdest", 9_000, 10_000, T0 - MIN));
        assertThat(alerts()).hasSize(1);
        assertDrain(alerts().get(0), "u1", "w1", T0, List.of("w1"), 10_000, 9_000, T0);
        assertThat(forwarded("a-w1").alertIds).as("already gone; the alert's evidence names it").isEmpty();
        assertForwardedOnceAndDrained();
    }

    @Test
    void baselineIsTheEarliestKnownBalanceInTheWindow() throws Exception {
        push(approved("a-w1", "u1", "w1", 3_000, T0)); // its request never seen
        withdraw("u1", "w2", 3_000, 7_000, T0 + 5 * MIN);
        // Window: 6,000 of the 7,000 seen at w2 (the earliest known): 85.7 %.
        assertThat(alerts()).hasSize(1);
        assertDrain(alerts().get(0), "u1", "w2", T0 + 5 * MIN, List.of("w1", "w2"), 7_000, 6_000, T0 + 5 * MIN);
        assertForwardedOnceAndDrained();
    }

    @Test
    void withNoBalanceKnownNothingIsDecided() throws Exception {
        push(approved("a-w1", "u1", "w1", 50_000, T0));
        push(approved("a-w2", "u1", "w2", 50_000, T0 + MIN));
        harness.processWatermark(T0 + 2 * HOUR);
        assertThat(alerts()).isEmpty();
        assertForwardedOnceAndDrained();
    }

    // ---- the sliding window ----

    @Test
    void approvalsOlderThanTheWindowLeaveIt() throws Exception {
        withdraw("u1", "w1", 5_000, 10_000, T0);
        harness.processWatermark(T0 + HOUR + 1); // w1 can share no window with anything later
        withdraw("u1", "w2", 3_500, 5_000, T0 + HOUR + 2 * MIN); // 70 % of 5,000 alone
        harness.processWatermark(T0 + 3 * HOUR);
        assertThat(alerts()).isEmpty();
        assertForwardedOnceAndDrained();
    }

    @Test
    void approvalJustOutsideTheWindowDoesNotCountButOneAtItsEdgeDoes() throws Exception {
        // u1: w2 one hour and 1 ms after w1: separate windows (70 % of 5,000 alone).
        withdraw("u1", "w1", 5_000, 10_000, T0);
        withdraw("u1", "w2", 3_500, 5_000, T0 + HOUR + 1);
        assertThat(alerts()).isEmpty();
        // u2: exactly one hour apart: one window, 8,500 of 10,000.
        withdraw("u2", "w3", 5_000, 10_000, T0);
        withdraw("u2", "w4", 3_500, 5_000, T0 + HOUR);
        assertThat(alerts()).hasSize(1);
        assertDrain(alerts().get(0), "u2", "w4", T0 + HOUR, List.of("w3", "w4"), 10_000, 8_500, T0 + HOUR);
        assertForwardedOnceAndDrained();
    }

    // ---- no alert storm ----

    @Test
    void furtherApprovalsOfTheSameDrainDoNotAlertAgainUntilANewWindow() throws Exception {
        withdraw("u1", "w1", 5_000, 10_000, T0);
        withdraw("u1", "w2", 4_000, 5_000, T0 + 5 * MIN); // 90 %: alert, window ends at T0 + 5 min
        assertThat(alerts()).hasSize(1);
        withdraw("u1", "w3", 500, 1_000, T0 + 10 * MIN);
        withdraw("u1", "w4", 600, 500, T0 + 20 * MIN);
        withdraw("u1", "w5", 100, 100, T0 + 65 * MIN); // its window starts exactly at T0 + 5 min: overlaps
        assertThat(alerts()).as("the same drain, still overlapping the alerted window").hasSize(1);

        // Starts after the alerted window's end: w3..w6 are 1,300 of the 1,000 seen at w3.
        withdraw("u1", "w6", 100, 100, T0 + 65 * MIN + 1);
        assertThat(alerts()).hasSize(2);
        assertDrain(alerts().get(1), "u1", "w6", T0 + 65 * MIN + 1, List.of("w3", "w4", "w5", "w6"), 1_000, 1_300,
                T0 + 65 * MIN + 1);
        assertThat(alerts()).extracting(a -> a.alertId).doesNotHaveDuplicates();
        assertForwardedOnceAndDrained();
    }

    // ---- what counts ----

    @Test
    void aWithdrawalApprovedTwiceCountsOnce() throws Exception {
        withdraw("u1", "w1", 4_500, 10_000, T0);
        push(approved("a-w1-again", "u1", "w1", 4_500, T0 + MIN));
        harness.processWatermark(T0 + 2 * HOUR);
        assertThat(alerts()).isEmpty();
        assertForwardedOnceAndDrained();
    }

    @Test
    void usersAreIndependent() throws Exception {
        withdraw("u1", "w1", 4_000, 10_000, T0);
        withdraw("u2", "w2", 4_000, 10_000, T0 + MIN);
        harness.processWatermark(T0 + 2 * HOUR);
        assertThat(alerts()).isEmpty();
        assertForwardedOnceAndDrained();
    }

    @Test
    void otherEventsPassThroughUnchanged() throws Exception {
        push(login("l1", "u1", T0));
        push(withdrawal("b1", "u1", "w9", "broadcast", T0 + 1));
        push(withdrawal("x1", "u1", "w9", "rejected", T0 + 2));
        assertThat(harness.extractOutputValues()).allSatisfy(e -> assertThat(e.alertIds).isEmpty());
        assertThat(alerts()).isEmpty();
        assertForwardedOnceAndDrained();
    }

    @Test
    void requestWhoseApprovalNeverComesIsForgottenAfterTheRetention() throws Exception {
        push(requested("r-w1", "u1", "w1", "bc1qdest", 9_000, 10_000, T0));
        harness.processWatermark(T0 + DAY - 1);
        assertThat(BroadcastHarnesses.numKeyedStateEntries(harness)).isEqualTo(1);
        harness.processWatermark(T0 + DAY);
        assertThat(BroadcastHarnesses.numKeyedStateEntries(harness)).isZero();
        assertForwardedOnceAndDrained();
    }

    // ---- rule changes ----

    @Test
    void ruleChangeAppliesToLaterApprovalsAndTheAlertNamesTheVersion() throws Exception {
        withdraw("u1", "w1", 5_000, 10_000, T0); // 50 %: not a drain under version 1
        assertThat(alerts()).isEmpty();

        RuleVersion v2 = RuleCatalog.next(RuleVersions.of(DEFAULTS), Map.of(Settings.DRAIN_SHARE.key(), "0.5"),
                TourniquetConfig.defaults(), "analyst-1", "req-1", DETECTED_AT);
        harness.processBroadcastElement(v2, T0);
        withdraw("u1", "w2", 3_000, 5_000, T0 + 2 * HOUR); // 60 %

        assertThat(alerts()).hasSize(1);
        Alert a = alerts().get(0);
        assertThat(a.ruleVersion).isEqualTo(2);
        assertDrain(a, "u1", "w2", T0 + 2 * HOUR, List.of("w2"), 5_000, 3_000, T0 + 2 * HOUR);
        assertForwardedOnceAndDrained();
    }

    @Test
    void widerWindowFromARuleChangeKeepsApprovalsLonger() throws Exception {
        withdraw("u1", "w1", 5_000, 10_000, T0);
        RuleVersion v2 = RuleCatalog.next(RuleVersions.of(DEFAULTS), Map.of(Settings.DRAIN_WINDOW.key(), "3 h"),
                TourniquetConfig.defaults(), "analyst-1", "req-1", DETECTED_AT);
        harness.processBroadcastElement(v2, T0);
        harness.processWatermark(T0 + HOUR + 1); // w1's eviction under version 1: kept under version 2
        withdraw("u1", "w2", 3_500, 5_000, T0 + 2 * HOUR);
        assertThat(alerts()).hasSize(1);
        assertThat(alerts().get(0).ruleVersion).isEqualTo(2);
        assertThat(alerts().get(0).evidence.withdrawalIds).containsExactly("w1", "w2");
        assertForwardedOnceAndDrained();
    }
}
