package io.tourniquet.claims;

import static io.tourniquet.testing.TestEvents.T0;
import static org.assertj.core.api.Assertions.assertThat;
import io.tourniquet.config.TourniquetConfig;
import io.tourniquet.detect.EventKeys;
import io.tourniquet.util.SerializableClock;
import io.tourniquet.streams.Tags;
import io.tourniquet.model.AssetImpact;
import io.tourniquet.model.Claim;
import io.tourniquet.model.ClaimSignal;
import io.tourniquet.model.ControlRequest;
import io.tourniquet.model.DeadLetter;
import io.tourniquet.model.Event;
import io.tourniquet.model.NotificationRequest;
import io.tourniquet.testing.TestEvents;
import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.streaming.api.operators.co.KeyedCoProcessOperator;
import org.apache.flink.streaming.api.watermark.Watermark;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.util.KeyedTwoInputStreamOperatorTestHarness;
import org.apache.flink.util.OutputTag;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class ClaimFunctionTest {
    private static final long MIN = 60_000L;
    private static final long HOUR = 60 * MIN;
    private static final long DAY = 24 * HOUR;
    private static final long NOW = 1_700_000_000_000L;

    private KeyedTwoInputStreamOperatorTestHarness<String, Event, ClaimSignal, Claim> harness;

    @BeforeEach
    void open() throws Exception {
        harness = new KeyedTwoInputStreamOperatorTestHarness<>(new KeyedCoProcessOperator<>(
                ClaimFunction.from(TourniquetConfig.defaults(), SerializableClock.fixed(NOW))),
                EventKeys.USER_ID, EventKeys.CLAIM_USER, Types.STRING);
        harness.setProcessingTime(0);
        harness.open();
    }

    @AfterEach
    void close() throws Exception {
        harness.close();
    }

    // ---- inputs --------------------------------------------------------------------------------------

    private static Event codeSet(String user, long t) {
        Event e = TestEvents.accountChange("code-" + user + "-" + t, user, "anti_phishing_code_set", t);
        e.antiPhishingCode = "Heron";
        return e;
    }

    private static Event policy(String user, boolean all, long t) {
        Event e = TestEvents.accountChange("policy-" + user + "-" + t, user, "mfa_policy_changed", t);
        e.mfaPolicyLogin = true;
        e.mfaPolicyWithdrawal = true;
        e.mfaPolicyWhitelistAddress = true;
        e.mfaPolicySettings = all;
        return e;
    }

    private static Event jailbrokenLogin(String user, long t) {
        Event e = TestEvents.login("login-" + user + "-" + t, user, t);
        e.deviceJailbroken = true;
        e.deviceId = "dev-rooted";
        return e;
    }

    private static Claim.ClaimWithdrawal withdrawal(String id, String asset, String amount, String usd, long t) {
        Claim.ClaimWithdrawal w = new Claim.ClaimWithdrawal();
        w.withdrawalId = id;
        w.alertId = "alert-" + id;
        w.asset = asset;
        w.amount = amount;
        w.usdValue = new BigDecimal(usd);
        w.eventTime = t;
        return w;
    }

    private static ClaimSignal open(String user, long at, Claim.ClaimWithdrawal... withdrawals) {
        ClaimSignal s = new ClaimSignal();
        s.type = ClaimSignal.OPEN;
        s.userId = user;
        s.incidentId = "inc-1";
        s.by = ClaimSignal.BY_TOURNIQUET;
        s.at = NOW - HOUR;
        s.requestId = "resolve-1";
        s.reason = "incident resolved by alice@sec";
        s.withdrawals = new ArrayList<>(List.of(withdrawals));
        s.windowStart = at - DAY;
        s.windowEnd = at + DAY;
        s.eventTime = at + HOUR;
        return s;
    }

    private static ClaimSignal request(String type, String user, String requestId, String by) {
        ClaimSignal s = new ClaimSignal();
        s.type = type;
        s.userId = user;
        s.incidentId = "inc-1";
        s.by = by;
        s.at = NOW - MIN;
        s.requestId = requestId;
        s.eventTime = T0 + HOUR;
        return s;
    }

    private static ClaimSignal document(String user, String document, String requestId) {
        ClaimSignal s = request(ClaimSignal.DOCUMENT, user, requestId, "bob@sec");
        s.document = document;
        return s;
    }

    private static ClaimSignal decision(String user, String decision, String reason, String requestId) {
        ClaimSignal s = request(ClaimSignal.DECISION, user, requestId, "carol@sec");
        s.decision = decision;
        s.reason = reason;
        s.approvedBy = ControlRequest.APPROVE_CLAIM.equals(decision) ? "dave@sec" : null;
        return s;
    }

    private void push(Event e) throws Exception {
        harness.processElement1(new StreamRecord<>(e, e.eventTime));
    }

    private void push(ClaimSignal s) throws Exception {
        harness.processElement2(new StreamRecord<>(s, s.eventTime));
    }

    private void watermark(long t) throws Exception {
        harness.processBothWatermarks(new Watermark(t));
    }

    private List<Claim> claims() {
        return harness.extractOutputValues();
    }

    private Claim latest(String user) {
        return claims().stream().filter(c -> c.userId.equals(user)).reduce((a, b) -> b).orElseThrow();
    }

    private <T> List<T> side(OutputTag<T> tag) {
        List<T> out = new ArrayList<>();
        var q = harness.getSideOutput(tag);
        if (q != null) q.forEach(r -> out.add(r.getValue()));
        return out;
    }

    private static Map<String, String> outcomes(Claim c) {
        Map<String, String> m = new java.util.LinkedHashMap<>();
        for (Claim.Condition k : c.conditions) m.put(k.name, k.outcome);
        return m;
    }

    /** A well-kept account: policy for every type 30 days before, code set {@code codeDaysBefore}. */
    private void wellKept(String user, long codeDaysBefore) throws Exception {
        push(policy(user, true, T0 - 30 * DAY));
        push(codeSet(user, T0 - codeDaysBefore * DAY));
    }

    // ---- conditions ----------------------------------------------------------------------------------

    @Test
    void anAntiPhishingCodeSet22DaysBeforeIsEligibleAnd20DaysBeforeIsNot() throws Exception {
        wellKept("u22", 22);
        wellKept("u20", 20);
        push(open("u22", T0, withdrawal("w1", "ETH", "1.5", "4500", T0)));
        push(open("u20", T0, withdrawal("w2", "ETH", "2", "6000", T0)));
        assertThat(claims()).as("an opening waits for event time").isEmpty();
        watermark(T0 + HOUR);

        Claim eligible = latest("u22");
        assertThat(eligible.eligibility).isEqualTo("eligible");
        assertThat(outcomes(eligible)).containsExactly(Map.entry("mfa_all_types", "pass"),
                Map.entry("anti_phishing_code", "pass"), Map.entry("no_jailbroken_device", "pass"));
        Claim not = latest("u20");
        assertThat(not.eligibility).isEqualTo("not_eligible");
        assertThat(outcomes(not)).containsEntry("anti_phishing_code", "fail");
        assertThat(not.conditions.get(1).detail).contains("20 days before", "needed by 2021-12-27T10:00:00");
        assertThat(not.status).isEqualTo(Claim.AWAITING_DOCUMENTS);
        assertThat(not.outstanding).containsExactly("police_report", "questionnaire");
        assertThat(not.claimId).isNotEqualTo(eligible.claimId);
    }

    @Test
    void aMissingPolicyTypeFailsAJailbrokenLoginInTheWindowFailsAndNoRecordIsForReview() throws Exception {
        push(policy("weak", false, T0 - 30 * DAY)); // 2FA not required for settings
        push(codeSet("weak", T0 - 40 * DAY));
        wellKept("rooted", 40);
        push(jailbrokenLogin("rooted", T0 - 2 * HOUR));
        push(jailbrokenLogin("old-root", T0 - 10 * DAY)); // outside its window
        wellKept("old-root", 40);
        push(TestEvents.login("l-new", "newcomer", T0 - 5 * DAY)); // record starts after the code's cut-off
        for (String u : List.of("weak", "rooted", "old-root", "newcomer")) {
            push(open(u, T0, withdrawal("w-" + u, "BTC", "0.1", "4000", T0)));
        }
        watermark(T0 + HOUR);

        assertThat(outcomes(latest("weak"))).containsEntry("mfa_all_types", "fail");
        assertThat(latest("weak").conditions.get(0).detail).startsWith("2FA off for settings");
        assertThat(outcomes(latest("rooted"))).containsEntry("no_jailbroken_device", "fail");
        assertThat(latest("rooted").conditions.get(2).detail).contains("dev-rooted");
        assertThat(latest("old-root").eligibility).isEqualTo("eligible");
        assertThat(outcomes(latest("newcomer"))).containsExactly(Map.entry("mfa_all_types", "review"),
                Map.entry("anti_phishing_code", "review"), Map.entry("no_jailbroken_device", "pass"));
        assertThat(latest("newcomer").eligibility).isEqualTo("needs_manual_review");
    }

    @Test
    void whatArrivesBeforeEventTimeReachesTheOpeningCountsWhateverTheReadingOrder() throws Exception {
        push(open("late", T0, withdrawal("w1", "ETH", "1", "3000", T0)));
        // The account's record arrives after the opening signal, but before event time reaches it.
        wellKept("late", 25);
        watermark(T0 + HOUR);
        assertThat(latest("late").eligibility).isEqualTo("eligible");
    }

    @Test
    void aLateRecordNeverMakesAClaimMoreEligibleButStillCountsAgainstIt() throws Exception {
        push(policy("u1", true, T0 - 30 * DAY));
        push(codeSet("u1", T0 - 5 * DAY)); // too recent: fails
        Event backdated = codeSet("u1", T0 - 300 * DAY); // written now, dated long ago: behind the watermark
        backdated.late = true;
        push(backdated);
        Event lateLogin = jailbrokenLogin("u1", T0 - HOUR);
        lateLogin.late = true;
        push(lateLogin);
        push(open("u1", T0, withdrawal("w1", "ETH", "1", "3000", T0)));
        watermark(T0 + HOUR);

        assertThat(outcomes(latest("u1"))).containsEntry("anti_phishing_code", "fail")
                .containsEntry("no_jailbroken_device", "fail");
        assertThat(latest("u1").conditions.get(1).detail).contains("5 days before");
    }

    // ---- lifecycle -----------------------------------------------------------------------------------

    @Test
    void aLossOf300kPays250kExactlyInProportionPerAsset() throws Exception {
        wellKept("big", 30);
        push(open("big", T0, withdrawal("w1", "BTC", "4.000000000000000001", "200000", T0),
                withdrawal("w2", "ETH", "30", "100000", T0 + MIN)));
        watermark(T0 + HOUR);
        push(document("big", Claim.POLICE_REPORT, "d1"));
        push(document("big", Claim.QUESTIONNAIRE, "d2"));
        push(decision("big", ControlRequest.APPROVE_CLAIM, "documents consistent with the incident", "x1"));

        Claim c = latest("big");
        assertThat(c.lossUsd).isEqualByComparingTo("300000");
        assertThat(c.status).isEqualTo(Claim.APPROVED);
        assertThat(c.payoutUsd).isEqualByComparingTo("250000");
        assertThat(c.limitUsd).isEqualByComparingTo("250000");
        BigDecimal sum = c.payout.stream().map(a -> a.usdValue).reduce(BigDecimal.ZERO, BigDecimal::add);
        assertThat(sum).isEqualByComparingTo("250000");
        assertThat(c.payout).extracting(a -> a.asset).containsExactly("BTC", "ETH");
        AssetImpact btc = c.payout.get(0);
        AssetImpact eth = c.payout.get(1);
        assertThat(btc.usdValue).isEqualByComparingTo("166666.66");
        assertThat(eth.usdValue).isEqualByComparingTo("83333.34");
        // Amounts in the same proportion as their asset's US$, rounded down: never more than owed.
        assertThat(new BigDecimal(btc.amount)).isLessThanOrEqualTo(new BigDecimal("4.000000000000000001")
                .multiply(new BigDecimal("166666.66")).divide(new BigDecimal("200000"), 18, java.math.RoundingMode.UP));
        assertThat(new BigDecimal(btc.amount)).isEqualByComparingTo("3.333333200000000000");
        assertThat(new BigDecimal(eth.amount)).isEqualByComparingTo("25.000002");
        assertThat(c.decidedBy).isEqualTo("carol@sec");
        assertThat(c.decisionApprovedBy).isEqualTo("dave@sec");
        assertThat(c.history).extracting(h -> h.version + ":" + h.change + ":" + h.by).containsExactly(
                "1:opened:tourniquet", "2:document_received:bob@sec", "3:document_received:bob@sec",
                "4:approved:carol@sec");
        assertThat(claims()).extracting(x -> x.version + "/" + x.status).containsExactly("1/awaiting_documents",
                "2/awaiting_documents", "3/under_review", "4/approved");
        assertThat(side(Tags.NOTIFY)).extracting(r -> r.kind + "/" + r.subject).containsExactly("claim_opened/null",
                "claim_document_received/police_report", "claim_document_received/questionnaire",
                "claim_approved/null");
        assertThat(side(Tags.NOTIFY)).allSatisfy(r -> assertThat(r.claim.claimId).isEqualTo(c.claimId));
    }

    @Test
    void aLossWithinTheLimitIsPaidInFull() throws Exception {
        wellKept("small", 30);
        push(open("small", T0, withdrawal("w1", "USDC", "1234.56", "1234.56", T0)));
        watermark(T0 + HOUR);
        push(document("small", Claim.QUESTIONNAIRE, "d1"));
        push(document("small", Claim.POLICE_REPORT, "d2"));
        push(decision("small", ControlRequest.APPROVE_CLAIM, "ok", "x1"));
        assertThat(latest("small").payoutUsd).isEqualByComparingTo("1234.56");
        assertThat(latest("small").payout).singleElement().satisfies(a -> assertThat(a.amount).isEqualTo("1234.56"));
    }

    @Test
    void requestsThatDoNotFitTheClaimAreRefusedWithAReasonAndChangeNothing() throws Exception {
        wellKept("u1", 10); // code too recent: not eligible
        push(document("u1", Claim.POLICE_REPORT, "early")); // no claim yet
        push(open("u1", T0, withdrawal("w1", "ETH", "1", "3000", T0)));
        watermark(T0 + HOUR);
        push(document("u1", Claim.POLICE_REPORT, "d1"));
        push(document("u1", Claim.POLICE_REPORT, "d1-again"));
        push(decision("u1", ControlRequest.APPROVE_CLAIM, "looks fine", "x1")); // questionnaire outstanding
        push(document("u1", Claim.QUESTIONNAIRE, "d2"));
        push(decision("u1", ControlRequest.APPROVE_CLAIM, "looks fine", "x2")); // a condition fails
        push(decision("u1", ControlRequest.DENY_CLAIM, "anti-phishing code set 10 days before the theft", "x3"));
        push(decision("u1", ControlRequest.APPROVE_CLAIM, "changed my mind", "x4"));
        push(document("nobody", Claim.QUESTIONNAIRE, "d3"));

        assertThat(side(Tags.DEAD_LETTERS)).extracting(d -> d.reasonCode).containsExactly("unknown_claim",
                "document_already_received", "documents_outstanding", "not_eligible", "already_decided",
                "unknown_claim");
        assertThat(side(Tags.DEAD_LETTERS)).extracting(d -> d.reason).element(3).asString()
                .contains("anti_phishing_code");
        Claim c = latest("u1");
        assertThat(c.status).isEqualTo(Claim.DENIED);
        assertThat(c.payoutUsd).isEqualByComparingTo("0");
        assertThat(c.history).extracting(h -> h.change).containsExactly("opened", "document_received",
                "document_received", "denied");
        assertThat(side(Tags.NOTIFY)).filteredOn(r -> r.kind.equals("claim_denied")).singleElement()
                .satisfies(r -> assertThat(r.note).isEqualTo("anti-phishing code set 10 days before the theft"));
    }

    @Test
    void anAnalystsOpeningAndTheResolutionsOpenOneClaim() throws Exception {
        wellKept("u1", 30);
        ClaimSignal byAnalyst = open("u1", T0, withdrawal("w1", "ETH", "1", "3000", T0));
        byAnalyst.by = "alice@sec";
        push(byAnalyst);
        watermark(T0 + HOUR);
        push(open("u1", T0, withdrawal("w1", "ETH", "1", "3000", T0))); // at resolution: already open
        watermark(T0 + 2 * HOUR);
        assertThat(claims()).singleElement().satisfies(c -> assertThat(c.openedBy).isEqualTo("alice@sec"));
        assertThat(side(Tags.DEAD_LETTERS)).isEmpty();
    }

    @Test
    void decidedClaimsAndOldJailbrokenLoginsDrainTheProfileStays() throws Exception {
        wellKept("u1", 30);
        push(jailbrokenLogin("u1", T0 - 3 * DAY));
        push(open("u1", T0, withdrawal("w1", "ETH", "1", "3000", T0)));
        watermark(T0 + HOUR);
        push(decision("u1", ControlRequest.DENY_CLAIM, "no documents after 90 days", "x1"));
        // Past the jailbroken login's retention (90 d) and the decided claim's (7 d after the
        // decision's signing time, which its notice is about).
        watermark(NOW + 8 * DAY);
        assertThat(harness.numEventTimeTimers()).isZero();
        assertThat(harness.numKeyedStateEntries()).as("the profile only").isEqualTo(1);
        push(document("u1", Claim.POLICE_REPORT, "late")); // forgotten: refused, not reopened
        assertThat(side(Tags.DEAD_LETTERS)).extracting(d -> d.reasonCode).containsExactly("unknown_claim");
    }

    @Test
    void whatCrossesTaskBoundariesOrSitsInStateIsAPojoWithoutKryo() {
        for (Class<?> c : List.of(Claim.class, ClaimSignal.class, ClaimProfile.class,
                io.tourniquet.model.PlatformNotice.class, NotificationRequest.class,
                io.tourniquet.notify.UpdateCount.class)) {
            org.apache.flink.types.PojoTestUtils.assertSerializedAsPojoWithoutKryo(c);
        }
    }
}
