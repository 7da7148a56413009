package io.tourniquet.rules.newaddress;

import io.tourniquet.testing.PerUserRuleHarness;
import io.tourniquet.testing.RuleVersions;
import io.tourniquet.util.SerializableClock;
import static io.tourniquet.testing.TestEvents.T0;
import static io.tourniquet.testing.TestEvents.accountChange;
import static io.tourniquet.testing.TestEvents.login;
import static io.tourniquet.testing.TestEvents.requested;
import static io.tourniquet.testing.TestEvents.whitelistAdded;
import static io.tourniquet.testing.TestEvents.whitelistRemoved;
import static io.tourniquet.testing.TestEvents.withdrawal;
import static org.assertj.core.api.Assertions.assertThat;
import io.tourniquet.config.Settings;
import io.tourniquet.config.TourniquetConfig;
import io.tourniquet.model.Alert;
import io.tourniquet.model.EnrichedEvent;
import io.tourniquet.model.Event;
import io.tourniquet.rules.catalog.RuleCatalog;
import io.tourniquet.rules.RuleVersion;
import io.tourniquet.util.Ids;
import io.tourniquet.util.Times;
import java.util.List;
import java.util.Map;
import org.apache.flink.streaming.util.KeyedBroadcastOperatorTestHarness;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class NewAddressWithdrawalDetectorTest {
    private static final long MIN = 60_000L;
    private static final long HOUR = 60 * MIN;
    private static final long DAY = 24 * HOUR;
    private static final long DETECTED_AT = 1_700_000_000_000L;
    /** The contract's default: 24 h. */
    private static final NewAddressSettings DEFAULTS = NewAddressSettings.defaults();

    private PerUserRuleHarness rule;
    private KeyedBroadcastOperatorTestHarness<String, EnrichedEvent, RuleVersion, EnrichedEvent> harness;

    @BeforeEach
    void open() throws Exception {
        assertThat(DEFAULTS.minAgeMillis()).isEqualTo(DAY);
        rule = PerUserRuleHarness.open(new NewAddressWithdrawalDetector(RuleVersions.of(DEFAULTS), SerializableClock.fixed(DETECTED_AT)));
        harness = rule.harness();
    }

    @AfterEach
    void close() throws Exception {
        rule.close();
    }

    private void push(Event e) throws Exception {
        rule.push(e);
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

    private static void assertAlert(Alert a, String requestEventId, String withdrawalId, String user,
                                    long requestTime, String whitelistEventId, long whitelistedAt, long holdUntil) {
        assertThat(a.alertId).isEqualTo(Ids.of("alert", "new_address_withdrawal", withdrawalId));
        assertThat(a.rule).isEqualTo("new_address_withdrawal");
        assertThat(a.severity).isEqualTo("low");
        assertThat(a.userId).isEqualTo(user);
        assertThat(a.withdrawalId).isEqualTo(withdrawalId);
        assertThat(a.eventTime).isEqualTo(requestTime);
        assertThat(a.detectedAt).isEqualTo(DETECTED_AT);
        assertThat(a.evidence.eventIds).containsExactly(requestEventId, whitelistEventId);
        assertThat(a.evidence.whitelistedAt).isEqualTo(Times.format(whitelistedAt));
        assertThat(a.evidence.holdUntil).isEqualTo(Times.format(holdUntil));
        assertThat(a.evidence.destinationAddress).isNotNull();
        assertThat(a.evidence.asset).isEqualTo("BTC");
        assertThat(a.evidence.network).isEqualTo("bitcoin");
        assertThat(a.evidence.amount).isEqualTo("1.25000000");
        assertThat(a.evidence.sessionId).isEqualTo("s-" + user);
        assertThat(a.evidence.deviceId).isEqualTo("d-" + user);
        assertThat(a.evidence.ip).isEqualTo("203.0.113.7");
        assertThat(a.summary).contains(withdrawalId).contains(user).endsWith(".").doesNotContain("\n");
    }

    // ---- the threshold ----

    @Test
    void addressWhitelistedJustUnderTheMinimumAgeBeforeTheRequestIsAlertedOnArrival() throws Exception {
        push(whitelistAdded("c1", "u1", "bc1qnew", T0 - DAY + 1));
        push(requested("r1", "u1", "w1", "bc1qnew", 52_500, 60_000, T0));

        assertThat(alerts()).as("no need to wait for the watermark").hasSize(1);
        Alert a = alerts().get(0);
        assertAlert(a, "r1", "w1", "u1", T0, "c1", T0 - DAY + 1, T0 + 1);
        assertThat(a.ruleVersion).isEqualTo(1);
        assertThat(a.evidence.usdValue).isEqualTo(52_500.0);
        assertThat(a.evidence.destinationAddress).isEqualTo("bc1qnew");
        assertThat(forwarded("r1").alertIds).containsExactly(a.alertId);
        assertThat(forwarded("c1").alertIds).isEmpty();
        assertForwardedOnceAndDrained();
        assertThat(alerts()).as("decided once").hasSize(1);
    }

    @Test
    void addressWhitelistedExactlyTheMinimumAgeBeforeTheRequestIsNotNew() throws Exception {
        push(whitelistAdded("c1", "u1", "bc1qday", T0 - DAY));
        push(requested("r1", "u1", "w1", "bc1qday", 52_500, 60_000, T0));
        harness.processWatermark(T0);
        assertThat(alerts()).isEmpty();
        assertThat(forwarded("r1").alertIds).isEmpty();
        assertForwardedOnceAndDrained();
        assertThat(alerts()).isEmpty();
    }

    @Test
    void addressWhitelistedMinutesBeforeIsHeldUntilItIsOldEnough() throws Exception {
        push(whitelistAdded("c1", "u1", "bc1qfresh", T0 - 3 * MIN));
        push(requested("r1", "u1", "w1", "bc1qfresh", 52_500, 60_000, T0));
        Alert a = alerts().get(0);
        assertAlert(a, "r1", "w1", "u1", T0, "c1", T0 - 3 * MIN, T0 - 3 * MIN + DAY);
        assertThat(a.summary).contains("3 min before the request").contains("24 h");
        assertForwardedOnceAndDrained();
    }

    // ---- out of order ----

    @Test
    void whitelistingArrivingAfterTheRequestAlertsWhenItArrives() throws Exception {
        push(requested("r1", "u1", "w1", "bc1qlate", 52_500, 60_000, T0));
        assertThat(alerts()).as("nothing known yet").isEmpty();
        assertThat(forwarded("r1").alertIds).as("left at once, undecided").isEmpty();

        push(whitelistAdded("c1", "u1", "bc1qlate", T0 - 2 * MIN)); // from the other topic, behind
        assertThat(alerts()).hasSize(1);
        assertAlert(alerts().get(0), "r1", "w1", "u1", T0, "c1", T0 - 2 * MIN, T0 - 2 * MIN + DAY);
        assertThat(forwarded("r1").alertIds).as("already gone; the alert's evidence names it").isEmpty();
        assertForwardedOnceAndDrained();
        assertThat(alerts()).as("not again at the watermark").hasSize(1);
    }

    @Test
    void whitelistingArrivingAfterTheWatermarkPassedTheRequestIsTooLate() throws Exception {
        push(requested("r1", "u1", "w1", "bc1qlate", 52_500, 60_000, T0));
        harness.processWatermark(T0);
        push(whitelistAdded("c1", "u1", "bc1qlate", T0 - 2 * MIN)); // late
        assertThat(alerts()).isEmpty();
        assertForwardedOnceAndDrained();
        assertThat(alerts()).isEmpty();
    }

    @Test
    void whitelistingAfterTheRequestDoesNotMakeItNew() throws Exception {
        push(requested("r1", "u1", "w1", "bc1qafter", 52_500, 60_000, T0));
        push(whitelistAdded("c1", "u1", "bc1qafter", T0 + 1));
        harness.processWatermark(T0 + HOUR);
        assertThat(alerts()).isEmpty();
        assertForwardedOnceAndDrained();
    }

    @Test
    void olderAddArrivingAfterANewerOneDoesNotMakeTheAddressOlder() throws Exception {
        push(whitelistAdded("c2", "u1", "bc1qre", T0 - HOUR));
        push(whitelistAdded("c1", "u1", "bc1qre", T0 - 3 * DAY));
        push(requested("r1", "u1", "w1", "bc1qre", 52_500, 60_000, T0));
        assertThat(alerts()).hasSize(1);
        assertAlert(alerts().get(0), "r1", "w1", "u1", T0, "c2", T0 - HOUR, T0 - HOUR + DAY);
        assertForwardedOnceAndDrained();
    }

    // ---- what must not alert ----

    @Test
    void popularAddressWhitelistedLongAgoNeverAlerts() throws Exception {
        for (int u = 1; u <= 5; u++) {
            push(whitelistAdded("c-u" + u, "u" + u, "bc1qexchangedeposit", T0 - 40 * DAY - u * HOUR));
        }
        harness.processWatermark(T0 - 30 * DAY); // long known: its entries can no longer make anything new
        for (int i = 0; i < 20; i++) {
            String user = "u" + (1 + i % 5);
            push(requested("r" + i, user, "w" + i, "bc1qexchangedeposit", 1_000, 50_000, T0 + i * MIN));
        }
        harness.processWatermark(T0 + HOUR);
        assertThat(alerts()).isEmpty();
        assertForwardedOnceAndDrained();
        assertThat(alerts()).isEmpty();
    }

    @Test
    void popularAddressWhitelistedLongAgoDoesNotAlertWhileItsWhitelistingIsStillRemembered() throws Exception {
        push(whitelistAdded("c1", "u1", "bc1qexchangedeposit", T0 - DAY - MIN));
        push(requested("r1", "u1", "w1", "bc1qexchangedeposit", 1_000, 50_000, T0));
        push(requested("r2", "u1", "w2", "bc1qexchangedeposit", 1_000, 49_000, T0 + MIN));
        harness.processWatermark(T0 + HOUR);
        assertThat(alerts()).isEmpty();
        assertForwardedOnceAndDrained();
    }

    @Test
    void addressNeverSeenWhitelistedDoesNotAlert() throws Exception {
        push(requested("r1", "u1", "w1", "bc1qunknown", 52_500, 60_000, T0));
        harness.processWatermark(T0 + HOUR);
        assertThat(alerts()).isEmpty();
        assertForwardedOnceAndDrained();
    }

    @Test
    void anotherUsersWhitelistingDoesNotCount() throws Exception {
        push(whitelistAdded("c1", "u2", "bc1qshared", T0 - HOUR));
        push(requested("r1", "u1", "w1", "bc1qshared", 52_500, 60_000, T0));
        harness.processWatermark(T0 + HOUR);
        assertThat(alerts()).isEmpty();
        assertForwardedOnceAndDrained();
    }

    @Test
    void addressRemovedFromTheWhitelistBeforeTheRequestIsNotNew() throws Exception {
        push(whitelistAdded("c1", "u1", "bc1qgone", T0 - 2 * HOUR));
        push(whitelistRemoved("c2", "u1", "bc1qgone", T0 - HOUR));
        push(requested("r1", "u1", "w1", "bc1qgone", 52_500, 60_000, T0));
        harness.processWatermark(T0 + HOUR);
        assertThat(alerts()).isEmpty();
        assertForwardedOnceAndDrained();
    }

    @Test
    void removalArrivingBeforeItsAddDoesNotLeaveTheAddressWhitelisted() throws Exception {
        push(whitelistRemoved("c2", "u1", "bc1qgone", T0 - HOUR));
        push(whitelistAdded("c1", "u1", "bc1qgone", T0 - 2 * HOUR));
        push(requested("r1", "u1", "w1", "bc1qgone", 52_500, 60_000, T0));
        harness.processWatermark(T0 + HOUR);
        assertThat(alerts()).isEmpty();
        assertForwardedOnceAndDrained();
    }

    @Test
    void addressRemovedAndAddedAgainIsNewFromTheNewAdd() throws Exception {
        push(whitelistAdded("c1", "u1", "bc1qback", T0 - 30 * DAY));
        push(whitelistRemoved("c2", "u1", "bc1qback", T0 - 2 * HOUR));
        push(whitelistAdded("c3", "u1", "bc1qback", T0 - HOUR));
        push(requested("r1", "u1", "w1", "bc1qback", 52_500, 60_000, T0));
        assertThat(alerts()).hasSize(1);
        assertAlert(alerts().get(0), "r1", "w1", "u1", T0, "c3", T0 - HOUR, T0 - HOUR + DAY);
        assertForwardedOnceAndDrained();
    }

    // ---- once per withdrawal ----

    @Test
    void aRepeatedRequestOfTheSameWithdrawalIsAlertedOnce() throws Exception {
        push(whitelistAdded("c1", "u1", "bc1qnew", T0 - HOUR));
        push(requested("r1", "u1", "w1", "bc1qnew", 52_500, 60_000, T0));
        push(requested("r1-again", "u1", "w1", "bc1qnew", 52_500, 60_000, T0));
        assertThat(alerts()).hasSize(1);
        assertThat(forwarded("r1").alertIds).hasSize(1);
        assertThat(forwarded("r1-again").alertIds).isEmpty();
        assertForwardedOnceAndDrained();
        assertThat(alerts()).hasSize(1);
    }

    @Test
    void waitingRequestsToOneAddressAreAllAlertedWhenItsWhitelistingArrives() throws Exception {
        push(requested("r1", "u1", "w1", "bc1qnew", 10_000, 60_000, T0));
        push(requested("r2", "u1", "w2", "bc1qnew", 10_000, 50_000, T0 + MIN));
        push(requested("r3", "u1", "w3", "bc1qother", 10_000, 40_000, T0 + MIN));
        push(whitelistAdded("c1", "u1", "bc1qnew", T0 - MIN));
        assertThat(alerts()).extracting(a -> a.withdrawalId).containsExactly("w1", "w2");
        assertForwardedOnceAndDrained();
        assertThat(alerts()).hasSize(2);
    }

    @Test
    void otherEventsPassThroughUnchanged() throws Exception {
        push(login("l1", "u1", T0));
        push(accountChange("p1", "u1", "password_changed", T0 + 1));
        push(withdrawal("b1", "u1", "w9", "broadcast", T0 + 2));
        push(withdrawal("a1", "u1", "w9", "approved", T0 + 3));
        assertThat(harness.extractOutputValues()).allSatisfy(e -> assertThat(e.alertIds).isEmpty());
        assertThat(alerts()).isEmpty();
        assertForwardedOnceAndDrained();
    }

    // ---- rule changes ----

    @Test
    void ruleChangeAppliesToLaterRequestsAndTheAlertNamesTheVersion() throws Exception {
        push(whitelistAdded("c1", "u1", "bc1qday", T0 - DAY));
        push(requested("r1", "u1", "w1", "bc1qday", 52_500, 60_000, T0));
        harness.processWatermark(T0);
        assertThat(alerts()).as("exactly 24 h old under version 1").isEmpty();

        RuleVersion v2 = RuleCatalog.next(RuleVersions.of(DEFAULTS), Map.of(Settings.NEW_ADDRESS_AGE.key(), "48 h"),
                TourniquetConfig.defaults(), "analyst-1", "req-1", DETECTED_AT);
        harness.processBroadcastElement(v2, T0);
        push(requested("r2", "u1", "w2", "bc1qday", 52_500, 60_000, T0 + MIN));

        assertThat(alerts()).hasSize(1);
        Alert a = alerts().get(0);
        assertThat(a.ruleVersion).isEqualTo(2);
        assertAlert(a, "r2", "w2", "u1", T0 + MIN, "c1", T0 - DAY, T0 + DAY);
        assertThat(forwarded("r2").alertIds).containsExactly(a.alertId);
        assertForwardedOnceAndDrained();
    }

    @Test
    void aStaleOrForeignRuleVersionIsIgnored() throws Exception {
        RuleVersion v2 = RuleCatalog.next(RuleVersions.of(DEFAULTS), Map.of(Settings.NEW_ADDRESS_AGE.key(), "1 min"),
                TourniquetConfig.defaults(), "analyst-1", "req-1", DETECTED_AT);
        harness.processBroadcastElement(v2, T0);
        harness.processBroadcastElement(RuleVersions.of(DEFAULTS), T0); // version 1 again: older, ignored
        harness.processBroadcastElement(RuleCatalog.initial(RuleCatalog.ACCOUNT_DRAIN, TourniquetConfig.defaults()), T0);
        push(whitelistAdded("c1", "u1", "bc1qnew", T0 - 2 * MIN));
        push(requested("r1", "u1", "w1", "bc1qnew", 52_500, 60_000, T0));
        assertThat(alerts()).as("2 min is old enough under version 2").isEmpty();
        assertForwardedOnceAndDrained();
    }
}
