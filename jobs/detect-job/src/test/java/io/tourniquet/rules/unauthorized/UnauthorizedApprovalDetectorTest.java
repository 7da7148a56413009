package io.tourniquet.rules.unauthorized;

import io.tourniquet.testing.RuleVersions;
import io.tourniquet.detect.EventKeys;
import io.tourniquet.streams.Tags;
import io.tourniquet.util.SerializableClock;
import static io.tourniquet.testing.TestEvents.T0;
import static io.tourniquet.testing.TestEvents.approval;
import static io.tourniquet.testing.TestEvents.failed;
import static io.tourniquet.testing.TestEvents.login;
import static io.tourniquet.testing.TestEvents.mfa;
import static io.tourniquet.testing.TestEvents.verified;
import static org.assertj.core.api.Assertions.assertThat;
import io.tourniquet.model.Alert;
import io.tourniquet.model.EnrichedEvent;
import io.tourniquet.model.Event;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Collectors;
import io.tourniquet.rules.catalog.RuleCatalog;
import io.tourniquet.testing.BroadcastHarnesses;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.util.KeyedBroadcastOperatorTestHarness;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class UnauthorizedApprovalDetectorTest {
    private static final long SEC = 1_000L;
    private static final long MIN = 60 * SEC;
    private static final long DETECTED_AT = 1_700_000_000_000L;
    /** Defaults of the contract: grace 5 s, skew 5 s, validity 10 min; wall-clock bound 15 s. */
    private static final UnauthorizedApprovalSettings DEFAULTS = UnauthorizedApprovalSettings.defaults();

    private KeyedBroadcastOperatorTestHarness<String, EnrichedEvent, io.tourniquet.rules.RuleVersion, EnrichedEvent> harness;

    @BeforeEach
    void open() throws Exception {
        harness = harness(DEFAULTS);
    }

    @AfterEach
    void close() throws Exception {
        harness.close();
    }

    private static KeyedBroadcastOperatorTestHarness<String, EnrichedEvent, io.tourniquet.rules.RuleVersion,
            EnrichedEvent> harness(UnauthorizedApprovalSettings settings) throws Exception {
        return BroadcastHarnesses.open(new UnauthorizedApprovalDetector(RuleVersions.of(settings), SerializableClock.fixed(DETECTED_AT)),
                EventKeys.ENRICHED_USER_ID);
    }

    private void push(Event e) throws Exception {
        harness.processElement(new StreamRecord<>(EnrichedEvent.of(e), e.eventTime));
    }

    private List<Alert> alerts() {
        return BroadcastHarnesses.side(harness, Tags.ALERTS);
    }

    private Map<String, EnrichedEvent> approvalsById() {
        // Unauthorized approvals leave inside their alert, to be published with the incident id.
        return java.util.stream.Stream.concat(harness.extractOutputValues().stream(),
                        alerts().stream().map(a -> a.trigger))
                .filter(e -> e.event.isApproval())
                .collect(Collectors.toMap(e -> e.event.eventId, Function.identity()));
    }

    /** Event time far past every timer and wall clock past every bound: all state must be gone. */
    private void assertDrained() throws Exception {
        harness.processWatermark(T0 + 24 * 60 * MIN);
        harness.setProcessingTime(24 * 60 * MIN);
        BroadcastHarnesses.assertDrained(harness);
    }

    private void assertUnauthorized(String approvalEventId, String reason) {
        EnrichedEvent e = approvalsById().get(approvalEventId);
        assertThat(e).as("decision for " + approvalEventId).isNotNull();
        assertThat(e.mfaAuthorized).isFalse();
        assertThat(e.mfaDecisionReason).isEqualTo(reason);
        Alert alert = alerts().stream().filter(a -> a.evidence.eventIds.get(0).equals(approvalEventId))
                .findFirst().orElseThrow();
        assertThat(alert.rule).isEqualTo("unauthorized_approval");
        assertThat(alert.severity).isEqualTo("high");
        assertThat(alert.evidence.reason).isEqualTo(reason);
        assertThat(alert.userId).isEqualTo(e.event.userId);
        assertThat(alert.withdrawalId).isEqualTo(e.event.withdrawalId);
        assertThat(alert.eventTime).isEqualTo(e.event.eventTime);
        assertThat(alert.detectedAt).isEqualTo(DETECTED_AT);
        assertThat(e.alertIds).containsExactly(alert.alertId);
    }

    private void assertAuthorized(String approvalEventId) {
        EnrichedEvent e = approvalsById().get(approvalEventId);
        assertThat(e).as("decision for " + approvalEventId).isNotNull();
        assertThat(e.mfaAuthorized).isTrue();
        assertThat(e.alertIds).isEmpty();
        assertThat(alerts()).noneMatch(a -> a.evidence.eventIds.contains(approvalEventId));
    }

    // ---- unauthorized kinds ----

    @Test
    void approvalWithoutChallengeIsFlaggedOnArrivalWithoutWaitingForTheWatermark() throws Exception {
        push(approval("a1", "u1", "w1", null, T0));
        assertUnauthorized("a1", "no_challenge");
        assertThat(harness.numEventTimeTimers()).isZero();
        assertDrained();
    }

    @Test
    void unknownChallengeIsFlaggedOnceTheGraceHasPassed() throws Exception {
        push(approval("a1", "u1", "w1", "c-never-issued", T0));
        harness.processWatermark(T0 + 5 * SEC - 1);
        assertThat(alerts()).as("still within the grace").isEmpty();
        harness.processWatermark(T0 + 5 * SEC);
        assertUnauthorized("a1", "unknown_challenge");
        assertDrained();
    }

    @Test
    void failedChallengeIsFlagged() throws Exception {
        push(failed("m1", "u1", "c1", "w1", T0 - 20 * SEC));
        push(approval("a1", "u1", "w1", "c1", T0));
        harness.processWatermark(T0 + 5 * SEC);
        assertUnauthorized("a1", "challenge_failed");
        assertDrained();
    }

    @Test
    void anotherUsersChallengeIsFlagged() throws Exception {
        push(verified("m1", "victim", "c1", "w-victim", T0 - 10 * SEC));
        push(approval("a-victim", "victim", "w-victim", "c1", T0));
        push(approval("a1", "attacker", "w1", "c1", T0 + SEC));
        harness.processWatermark(T0 + 6 * SEC);
        assertAuthorized("a-victim");
        assertUnauthorized("a1", "unknown_challenge");
        assertThat(alerts()).hasSize(1);
        assertDrained();
    }

    @Test
    void reusedChallengeIsFlaggedOnArrival() throws Exception {
        push(verified("m1", "u1", "c1", "w1", T0 - 10 * SEC));
        push(approval("a1", "u1", "w1", "c1", T0));
        push(approval("a2", "u1", "w2", "c1", T0 + 30 * SEC));
        assertAuthorized("a1");
        assertUnauthorized("a2", "challenge_reused");
        assertDrained();
    }

    @Test
    void sameWithdrawalApprovedTwiceWithOneChallengeIsFlaggedOnce() throws Exception {
        push(verified("m1", "u1", "c1", "w1", T0 - 10 * SEC));
        push(approval("a1", "u1", "w1", "c1", T0));
        push(approval("a1-again", "u1", "w1", "c1", T0 + SEC));
        assertAuthorized("a1");
        assertUnauthorized("a1-again", "challenge_reused");
        assertDrained();
    }

    @Test
    void anotherWithdrawalsChallengeIsFlagged() throws Exception {
        push(verified("m1", "u1", "c1", "w-other", T0 - 10 * SEC));
        push(approval("a1", "u1", "w1", "c1", T0));
        harness.processWatermark(T0 + 5 * SEC);
        assertUnauthorized("a1", "other_withdrawal_challenge");
        assertDrained();
    }

    @Test
    void verificationOlderThanTheValidityIsFlagged() throws Exception {
        push(verified("m1", "u1", "c1", "w1", T0 - 10 * MIN - 1));
        push(approval("a1", "u1", "w1", "c1", T0));
        harness.processWatermark(T0 + 5 * SEC);
        assertUnauthorized("a1", "verification_too_old");
        assertDrained();
    }

    @Test
    void verificationLongExpiredIsStillNamedTooOldWhenItsApprovalArrivesLate() throws Exception {
        push(verified("m1", "u1", "c1", "w1", T0 - 11 * MIN));
        harness.processWatermark(T0 - 30 * SEC); // past validity + grace of the verification
        push(approval("a1", "u1", "w1", "c1", T0));
        harness.processWatermark(T0 + 5 * SEC);
        assertUnauthorized("a1", "verification_too_old");
        assertDrained();
    }

    @Test
    void verificationAfterTheApprovalBeyondTheSkewIsFlagged() throws Exception {
        push(approval("a1", "u1", "w1", "c1", T0));
        push(mfa("i1", "u1", "challenge_issued", "c1", "withdrawal", "w1", T0 - 10 * SEC));
        push(verified("m1", "u1", "c1", "w1", T0 + 5 * SEC + 1));
        harness.processWatermark(T0 + 5 * SEC);
        // Judged on the 2FA facts up to the decision point (approval + grace): the verification
        // stamped after it is not one of them, whether or not it was read already.
        assertUnauthorized("a1", "challenge_not_verified");
        assertDrained();
    }

    @Test
    void theVerdictIsTheSameWhetherALateStampedVerificationWasReadBeforeTheDecisionOrNot() throws Exception {
        push(mfa("i1", "u1", "challenge_issued", "c1", "withdrawal", "w1", T0 - 10 * SEC));
        push(approval("a1", "u1", "w1", "c1", T0));
        harness.processWatermark(T0 + 5 * SEC); // decided before the verification is read
        push(mfa("i2", "u2", "challenge_issued", "c2", "withdrawal", "w2", T0 - 10 * SEC));
        push(verified("m2", "u2", "c2", "w2", T0 + 8 * SEC)); // read before the decision
        push(approval("a2", "u2", "w2", "c2", T0));
        harness.processWatermark(T0 + 9 * SEC);
        assertUnauthorized("a1", "challenge_not_verified");
        assertUnauthorized("a2", "challenge_not_verified");
    }

    @Test
    void challengeVerifiedForLoginDoesNotAuthorizeAWithdrawal() throws Exception {
        push(mfa("m1", "u1", "challenge_verified", "c1", "login", null, T0 - 10 * SEC));
        push(approval("a1", "u1", "w1", "c1", T0));
        harness.processWatermark(T0 + 5 * SEC);
        assertUnauthorized("a1", "challenge_wrong_purpose");
        assertDrained();
    }

    @Test
    void wallClockBoundDecidesWhenEventTimeStalls() throws Exception {
        push(approval("a1", "u1", "w1", "c-unknown", T0));
        harness.setProcessingTime(DEFAULTS.maxWaitMillis() - 1);
        assertThat(alerts()).isEmpty();
        harness.setProcessingTime(DEFAULTS.maxWaitMillis());
        assertUnauthorized("a1", "unknown_challenge");
        assertDrained();
    }

    @Test
    void wallClockBoundWaitsWhileEventTimeIsStillMoving() throws Exception {
        harness.processWatermark(T0 - MIN);
        push(approval("a1", "u1", "w1", "c1", T0));
        harness.processWatermark(T0 - 30 * SEC); // a replay catching up: event time moves, slowly
        harness.setProcessingTime(DEFAULTS.maxWaitMillis());
        assertThat(approvalsById()).as("not decided while event time moves").isEmpty();
        push(verified("m1", "u1", "c1", "w1", T0 - 2 * SEC)); // its verification, read late from its topic
        assertAuthorized("a1");
        assertDrained();
    }

    @Test
    void wallClockBoundWaitsWhileEventsStillArriveThoughEventTimeIsStuck() throws Exception {
        harness.processWatermark(T0 - MIN);
        harness.setProcessingTime(0);
        push(approval("a1", "u1", "w1", "c1", T0));
        // A partition behind the others pins event time while the rest of the backlog is read.
        for (long t = SEC; t <= 3 * DEFAULTS.maxWaitMillis(); t += SEC) {
            harness.setProcessingTime(t);
            push(login("l-" + t, "u2", T0 + t));
        }
        assertThat(approvalsById()).as("not decided while the input still flows").isEmpty();
        assertThat(alerts()).isEmpty();
        push(verified("m1", "u1", "c1", "w1", T0 - 2 * SEC)); // the partition behind delivers it
        assertAuthorized("a1");

        // Truly idle: nothing arrives and event time does not move for the whole bound.
        push(approval("a2", "u1", "w2", "c-unknown", T0 + 10 * SEC));
        long last = 3 * DEFAULTS.maxWaitMillis();
        harness.setProcessingTime(last + DEFAULTS.maxWaitMillis() - 1);
        assertThat(alerts()).isEmpty();
        harness.setProcessingTime(last + 2 * DEFAULTS.maxWaitMillis());
        assertUnauthorized("a2", "unknown_challenge");
    }

    @Test
    void anAnalystsShorterValidityAppliesToLaterApprovalsWhichNameVersionTwo() throws Exception {
        push(verified("m1", "u1", "c1", "w1", T0 - 2 * MIN));
        push(approval("a1", "u1", "w1", "c1", T0));
        assertAuthorized("a1"); // 2 min old: valid under version 1 (10 min)

        var v2 = RuleCatalog.next(RuleCatalog.initial(RuleCatalog.UNAUTHORIZED_APPROVAL,
                        io.tourniquet.config.TourniquetConfig.defaults()),
                Map.of("rule.unauthorized-approval.validity", "1 min"),
                io.tourniquet.config.TourniquetConfig.defaults(), "alice@sec", "r-1", DETECTED_AT);
        harness.processBroadcastElement(v2, T0);
        push(verified("m2", "u2", "c2", "w2", T0 - 2 * MIN));
        push(approval("a2", "u2", "w2", "c2", T0));
        harness.processWatermark(T0 + 5 * SEC);

        assertUnauthorized("a2", "verification_too_old");
        assertThat(alerts()).singleElement().satisfies(a -> assertThat(a.ruleVersion).isEqualTo(2));
        // An older version arriving late (e.g. a replayed broadcast) does not undo the newer one.
        harness.processBroadcastElement(RuleCatalog.initial(RuleCatalog.UNAUTHORIZED_APPROVAL,
                io.tourniquet.config.TourniquetConfig.defaults()), T0);
        push(verified("m3", "u3", "c3", "w3", T0 - MIN));
        push(approval("a3", "u3", "w3", "c3", T0 + MIN));
        harness.processWatermark(T0 + MIN + 5 * SEC);
        assertUnauthorized("a3", "verification_too_old");
        assertDrained();
    }

    @Test
    void aFailedChallengeStaysFailedWhenItsIssueEventIsReadAfterIt() throws Exception {
        push(failed("m2", "u1", "c1", "w1", T0 - 20 * SEC));
        push(mfa("m1", "u1", "challenge_issued", "c1", "withdrawal", "w1", T0 - 30 * SEC)); // read late
        push(approval("a1", "u1", "w1", "c1", T0));
        harness.processWatermark(T0 + 5 * SEC);
        assertUnauthorized("a1", "challenge_failed");
        assertDrained();
    }

    // ---- legitimate cases that must not be flagged ----

    @Test
    void verificationArrivingAfterTheApprovalAuthorizesItAtOnce() throws Exception {
        push(approval("a1", "u1", "w1", "c1", T0));
        assertThat(approvalsById()).as("undecided until the verification or the grace").isEmpty();
        push(verified("m1", "u1", "c1", "w1", T0 - 2 * SEC));
        assertAuthorized("a1");
        assertDrained();
        assertThat(alerts()).isEmpty();
    }

    @Test
    void verificationStampedWithinTheSkewAfterTheApprovalCounts() throws Exception {
        push(approval("a1", "u1", "w1", "c1", T0));
        push(verified("m1", "u1", "c1", "w1", T0 + 5 * SEC));
        harness.processWatermark(T0 + 5 * SEC);
        assertAuthorized("a1");
        assertDrained();
    }

    @Test
    void verificationExactlyAtTheValidityLimitCounts() throws Exception {
        push(verified("m1", "u1", "c1", "w1", T0 - 10 * MIN));
        push(approval("a1", "u1", "w1", "c1", T0));
        assertAuthorized("a1");
        assertDrained();
    }

    @Test
    void failedAttemptFollowedByVerifiedRetryIsAuthorized() throws Exception {
        push(failed("m1", "u1", "c1", "w1", T0 - 40 * SEC));
        push(mfa("m2", "u1", "challenge_issued", "c2", "withdrawal", "w1", T0 - 30 * SEC));
        push(verified("m3", "u1", "c2", "w1", T0 - 20 * SEC));
        push(approval("a1", "u1", "w1", "c2", T0));
        assertAuthorized("a1");
        assertDrained();
        assertThat(alerts()).isEmpty();
    }

    @Test
    void sameChallengeIdFailedThenVerifiedIsAuthorized() throws Exception {
        push(failed("m1", "u1", "c1", "w1", T0 - 40 * SEC));
        push(verified("m2", "u1", "c1", "w1", T0 - 20 * SEC));
        push(failed("m3", "u1", "c1", "w1", T0 - 10 * SEC));
        push(approval("a1", "u1", "w1", "c1", T0));
        assertAuthorized("a1");
        assertDrained();
    }

    @Test
    void otherEventsPassThroughEnrichedAndUnchanged() throws Exception {
        push(login("l1", "u1", T0));
        push(verified("m1", "u1", "c1", "w1", T0));
        List<EnrichedEvent> out = harness.extractOutputValues();
        assertThat(out).extracting(e -> e.event.eventId).containsExactly("l1", "m1");
        assertThat(out).allSatisfy(e -> {
            assertThat(e.mfaAuthorized).isNull();
            assertThat(e.alertIds).isEmpty();
        });
        assertDrained();
    }

    @Test
    void manyUsersInterleavedAreDecidedIndependently() throws Exception {
        push(approval("a-u2", "u2", "w2", null, T0));
        push(verified("m-u1", "u1", "c1", "w1", T0 - SEC));
        push(approval("a-u3", "u3", "w3", "c3", T0 + SEC));
        push(approval("a-u1", "u1", "w1", "c1", T0));
        push(verified("m-u3", "u3", "c3", "w3", T0));
        harness.processWatermark(T0 + MIN);
        assertUnauthorized("a-u2", "no_challenge");
        assertAuthorized("a-u1");
        assertAuthorized("a-u3");
        assertThat(alerts()).hasSize(1);
        assertDrained();
    }

    @Test
    void challengesPerUserAreCappedOldestFirst() throws Exception {
        harness.close();
        harness = harness(new UnauthorizedApprovalSettings(5_000, 5_000, 600_000, 15_000, 2));
        push(verified("m1", "u1", "c1", "w1", T0 - 30 * SEC));
        push(verified("m2", "u1", "c2", "w2", T0 - 20 * SEC));
        push(verified("m3", "u1", "c3", "w3", T0 - 10 * SEC));
        push(approval("a1", "u1", "w1", "c1", T0));
        push(approval("a3", "u1", "w3", "c3", T0));
        harness.processWatermark(T0 + 5 * SEC);
        assertUnauthorized("a1", "unknown_challenge");
        assertAuthorized("a3");
        assertDrained();
    }

    @Test
    void alertIdsAreDeterministic() throws Exception {
        push(approval("a1", "u1", "w1", null, T0));
        String first = alerts().get(0).alertId;
        harness.close();
        harness = harness(DEFAULTS);
        push(approval("a1", "u1", "w1", null, T0));
        assertThat(alerts().get(0).alertId).isEqualTo(first).hasSize(32);
    }
}
