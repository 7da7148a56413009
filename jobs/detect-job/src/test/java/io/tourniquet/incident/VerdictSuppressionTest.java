package io.tourniquet.incident;

import static io.tourniquet.testing.TestEvents.T0;
import static org.assertj.core.api.Assertions.assertThat;
import io.tourniquet.config.Settings;
import io.tourniquet.config.TourniquetConfig;
import io.tourniquet.control.ControlSignal;
import io.tourniquet.detect.EventKeys;
import io.tourniquet.detect.job.ActionPlanner;
import io.tourniquet.model.Alert;
import io.tourniquet.model.ControlRequest;
import io.tourniquet.model.EnrichedEvent;
import io.tourniquet.model.NotificationRequest;
import io.tourniquet.model.Verdict;
import io.tourniquet.rules.catalog.RuleCatalog;
import io.tourniquet.signing.CommandSigner;
import io.tourniquet.signing.SignedAction;
import io.tourniquet.streams.Tags;
import io.tourniquet.testing.TestEvents;
import io.tourniquet.util.SerializableClock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.streaming.api.operators.StreamFlatMap;
import org.apache.flink.streaming.api.operators.co.KeyedCoProcessOperator;
import org.apache.flink.streaming.api.watermark.Watermark;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.util.KeyedTwoInputStreamOperatorTestHarness;
import org.apache.flink.streaming.util.OneInputStreamOperatorTestHarness;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Analysts' verdicts in the incident tracker: every verdict is published, and a false positive
 * suppresses the same user's alerts of the same rule for {@code verdict.suppress-for} (event
 * time, from the judged alert's): raised and published, marked, but never notified or acted on;
 * never for unauthorized approvals; gone once event time passes its end.
 */
class VerdictSuppressionTest {
    private static final long NOW = 1_700_000_000_000L;
    private static final long HOUR = 3_600_000L;
    private static final long DAY = 24 * HOUR;

    private KeyedTwoInputStreamOperatorTestHarness<String, Alert, ControlSignal, Alert> harness;
    private int requests;

    private void open(TourniquetConfig cfg) throws Exception {
        harness = new KeyedTwoInputStreamOperatorTestHarness<>(
                new KeyedCoProcessOperator<>(IncidentTracker.from(cfg, SerializableClock.fixed(NOW))),
                EventKeys.platform(), EventKeys.platform(), Types.STRING);
        harness.open();
    }

    @AfterEach
    void close() throws Exception {
        if (harness != null) harness.close();
    }

    private static Alert alert(String id, String rule, String user, long t) {
        Alert a = io.tourniquet.testing.TestAlerts.of(rule, id, user, t, NOW);
        if (RuleCatalog.UNAUTHORIZED_APPROVAL.equals(rule)) {
            a.evidence.asset = "ETH";
            a.evidence.amount = "1.5";
            a.evidence.usdValue = 4_500.0;
            a.trigger = EnrichedEvent.of(TestEvents.approval("e-" + id, user, "w-" + id, null, t));
            a.trigger.mfaAuthorized = false;
        }
        return a;
    }

    private void push(Alert a) throws Exception {
        harness.processElement1(new StreamRecord<>(a, a.eventTime));
    }

    private void verdict(String alertId, String rule, String user, long alertTime, String label) throws Exception {
        verdict(alertId, rule, user, alertTime, label, false);
    }

    private void verdict(String alertId, String rule, String user, long alertTime, String label, boolean shadowAlert)
            throws Exception {
        ControlSignal s = new ControlSignal();
        s.alertShadow = shadowAlert;
        s.type = ControlRequest.VERDICT;
        s.requestId = "r-" + (++requests);
        s.requestedBy = "alice@security";
        s.requestedAt = NOW + requests;
        s.reason = "checked with the user";
        s.alertId = alertId;
        s.rule = rule;
        s.userId = user;
        s.alertTime = alertTime;
        s.label = label;
        harness.processElement2(new StreamRecord<>(s, 0L));
    }

    private Alert published(String alertId) {
        return harness.extractOutputValues().stream().filter(a -> a.alertId.equals(alertId)).findFirst().orElseThrow();
    }

    private List<String> notified() {
        var q = harness.getSideOutput(Tags.NOTIFY);
        return q == null ? List.of() : q.stream().map(StreamRecord::getValue)
                .map(r -> r.userId + "/" + r.kind + "/" + r.alert.alertId).toList();
    }

    private List<Verdict> verdicts() {
        var q = harness.getSideOutput(Tags.VERDICTS);
        return q == null ? List.of() : q.stream().map(StreamRecord::getValue).toList();
    }

    private static List<SignedAction> plan(Alert a) throws Exception {
        var h = new OneInputStreamOperatorTestHarness<>(new StreamFlatMap<>(new ActionPlanner(
                new CommandSigner("k".repeat(32)), io.tourniquet.signing.ActionExpiry.defaults(), SerializableClock.fixed(NOW))));
        h.open();
        h.processElement(new StreamRecord<>(a, a.eventTime));
        List<SignedAction> out = h.extractOutputValues();
        h.close();
        return out;
    }

    @Test
    void aFalsePositiveOnAShadowVersionsAlertIsRecordedAndSuppressesNothing() throws Exception {
        open(TourniquetConfig.defaults());
        String rule = RuleCatalog.NEW_ADDRESS_WITHDRAWAL;
        verdict("shadow-n1", rule, "u1", T0, ControlRequest.FALSE_POSITIVE, true);
        assertThat(verdicts()).singleElement().satisfies(v -> {
            assertThat(v.alertShadow).isTrue();
            assertThat(v.suppressesUntil).isNull();
        });
        push(alert("n2", rule, "u1", T0 + HOUR));
        assertThat(published("n2").suppressedBy).as("the version in force is not silenced").isNull();
        assertThat(notified()).contains("u1/" + rule + "/n2");
        assertThat(plan(published("n2"))).isNotEmpty();
        assertThat(harness.numKeyedStateEntries()).as("no suppression kept").isZero();
    }

    @Test
    void aFalsePositiveSuppressesOnlyThatUsersAlertsOfThatRuleAndOnlyForThePeriod() throws Exception {
        open(TourniquetConfig.defaults());
        String rule = RuleCatalog.NEW_ADDRESS_WITHDRAWAL;
        push(alert("n1", rule, "u1", T0));
        verdict("n1", rule, "u1", T0, ControlRequest.FALSE_POSITIVE);

        long until = T0 + 30 * DAY;
        assertThat(verdicts()).singleElement().satisfies(v -> {
            assertThat(v.alertId).isEqualTo("n1");
            assertThat(v.label).isEqualTo(ControlRequest.FALSE_POSITIVE);
            assertThat(v.by).isEqualTo("alice@security");
            assertThat(v.note).isEqualTo("checked with the user");
            assertThat(v.suppressesUntil).isEqualTo(until);
            assertThat(v.verdictId).isNotBlank();
        });

        push(alert("n2", rule, "u1", T0 + HOUR));                                       // suppressed
        push(alert("n3", rule, "u2", T0 + HOUR));                                       // another user
        push(alert("d1", RuleCatalog.ACCOUNT_DRAIN, "u1", T0 + HOUR));                  // another rule
        push(alert("n4", rule, "u1", until));                                           // the last suppressed instant
        push(alert("n5", rule, "u1", until + 1));                                       // after the period
        push(alert("n0", rule, "u1", T0 - HOUR));                                       // before the judged alert

        Alert n2 = published("n2");
        assertThat(n2.suppressedBy).isNotNull();
        assertThat(n2.suppressedBy.verdictId).isEqualTo(verdicts().get(0).verdictId);
        assertThat(n2.suppressedBy.judgedAlertId).isEqualTo("n1");
        assertThat(n2.suppressedBy.until).isEqualTo(until);
        assertThat(published("n4").suppressedBy).isNotNull();
        for (String free : List.of("n1", "n3", "d1", "n5", "n0")) {
            assertThat(published(free).suppressedBy).as(free).isNull();
        }
        assertThat(notified()).containsExactly(
                "u1/new_address_withdrawal/n1", "u2/new_address_withdrawal/n3", "u1/account_drain/d1",
                "u1/new_address_withdrawal/n5", "u1/new_address_withdrawal/n0");

        // The hold a new-address withdrawal calls for is not issued for a suppressed alert.
        assertThat(plan(published("n2"))).isEmpty();
        assertThat(plan(published("n3"))).extracting(a -> a.action.action).containsExactly("hold_withdrawal");
    }

    @Test
    void anUnauthorizedApprovalIsNeverSuppressed() throws Exception {
        open(TourniquetConfig.defaults());
        push(alert("a1", RuleCatalog.UNAUTHORIZED_APPROVAL, "u1", T0));
        verdict("a1", RuleCatalog.UNAUTHORIZED_APPROVAL, "u1", T0, ControlRequest.FALSE_POSITIVE);
        push(alert("a2", RuleCatalog.UNAUTHORIZED_APPROVAL, "u1", T0 + HOUR));

        assertThat(verdicts()).singleElement().satisfies(v -> assertThat(v.suppressesUntil).isNull());
        Alert a2 = published("a2");
        assertThat(a2.suppressedBy).isNull();
        assertThat(a2.incidentId).isNotNull();
        assertThat(notified()).contains("u1/unauthorized_approval/a2");
        assertThat(plan(a2)).extracting(a -> a.action.action).contains("freeze_account");
        // Nothing kept for it.
        assertThat(harness.numEventTimeTimers()).isZero();
    }

    @Test
    void aPlatformAlertsVerdictIsPublishedAndSuppressesNothing() throws Exception {
        open(TourniquetConfig.defaults());
        verdict("b1", RuleCatalog.BULK_DRAIN, null, T0, ControlRequest.BENIGN_TRUE_POSITIVE);
        verdict("b1", RuleCatalog.BULK_DRAIN, null, T0, ControlRequest.FALSE_POSITIVE);
        assertThat(verdicts()).extracting(v -> v.label + "/" + v.suppressesUntil)
                .containsExactly("benign_true_positive/null", "false_positive/null");
        assertThat(verdicts().get(0).verdictId).isNotEqualTo(verdicts().get(1).verdictId);
        assertThat(harness.numKeyedStateEntries()).isZero();
    }

    @Test
    void aLaterTruePositiveEndsTheSuppression() throws Exception {
        open(TourniquetConfig.defaults());
        String rule = RuleCatalog.ACCOUNT_DRAIN;
        verdict("d1", rule, "u1", T0, ControlRequest.FALSE_POSITIVE);
        push(alert("d2", rule, "u1", T0 + HOUR));
        verdict("d2", rule, "u1", T0 + HOUR, ControlRequest.TRUE_POSITIVE);
        push(alert("d3", rule, "u1", T0 + 2 * HOUR));

        assertThat(published("d2").suppressedBy).isNotNull();
        assertThat(published("d3").suppressedBy).isNull();
        assertThat(notified()).containsExactly("u1/account_drain/d3");
    }

    @Test
    void theSuppressionIsForgottenOnceEventTimePassesItsEnd() throws Exception {
        open(TourniquetConfig.defaults().with(Map.of(Settings.VERDICT_SUPPRESS_FOR.key(), "2 h")));
        String rule = RuleCatalog.ACCOUNT_DRAIN;
        verdict("d1", rule, "u1", T0, ControlRequest.FALSE_POSITIVE);
        assertThat(verdicts().get(0).suppressesUntil).isEqualTo(T0 + 2 * HOUR);
        assertThat(harness.numEventTimeTimers()).isEqualTo(1);
        assertThat(harness.numKeyedStateEntries()).isEqualTo(1);

        harness.processBothWatermarks(new Watermark(T0 + 2 * HOUR));
        assertThat(harness.numKeyedStateEntries()).as("still in force at its last instant").isEqualTo(1);
        harness.processBothWatermarks(new Watermark(T0 + 2 * HOUR + 1));
        assertThat(harness.numKeyedStateEntries()).isZero();
        assertThat(harness.numEventTimeTimers()).isZero();

        // Forgotten: a (late) alert that would have fallen inside is no longer suppressed.
        push(alert("d2", rule, "u1", T0 + HOUR));
        assertThat(published("d2").suppressedBy).isNull();
    }

    @Test
    void zeroTurnsSuppressionOff() throws Exception {
        open(TourniquetConfig.defaults().with(Map.of(Settings.VERDICT_SUPPRESS_FOR.key(), "0 s")));
        verdict("d1", RuleCatalog.ACCOUNT_DRAIN, "u1", T0, ControlRequest.FALSE_POSITIVE);
        push(alert("d2", RuleCatalog.ACCOUNT_DRAIN, "u1", T0 + HOUR));
        assertThat(verdicts()).singleElement().satisfies(v -> assertThat(v.suppressesUntil).isNull());
        assertThat(published("d2").suppressedBy).isNull();
        assertThat(harness.numKeyedStateEntries()).isZero();
    }

    @Test
    void theDefaultPeriodIsThirtyDays() {
        assertThat(TourniquetConfig.defaults().get(Settings.VERDICT_SUPPRESS_FOR)).isEqualTo(Duration.ofDays(30));
    }
}
