package io.tourniquet.notify;

import static io.tourniquet.testing.TestEvents.T0;
import static org.assertj.core.api.Assertions.assertThat;
import io.tourniquet.json.Json;
import io.tourniquet.model.Alert;
import io.tourniquet.model.Event;
import io.tourniquet.model.Notification;
import io.tourniquet.model.NotificationRequest;
import io.tourniquet.rules.catalog.RuleCatalog;
import io.tourniquet.util.Ids;
import io.tourniquet.util.Times;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

class NotificationComposerTest {
    private static final long HOUR = 3_600_000L;
    private static final long NOW = 1_700_000_000_000L;
    private static final List<String> CHANNELS = List.of("email", "push");
    /** Leading and trailing spaces, mixed case, quotes, markup, accents, an emoji: all kept as set. */
    private static final String ODD_CODE = "  Tiger \"42\" <b>&amp; ÄöÜ 🐯 tIGER  ";
    private static final String CODE = "blue-Heron-7";

    private final NotificationComposer composer = new NotificationComposer();

    static Stream<String> kinds() {
        return Stream.of(RuleCatalog.UNAUTHORIZED_APPROVAL, RuleCatalog.ACCOUNT_DRAIN,
                RuleCatalog.NEW_ADDRESS_WITHDRAWAL, RuleCatalog.DESTINATION_CONCENTRATION, RuleCatalog.BULK_DRAIN,
                NotificationComposer.WHITELIST_ADDRESS_ADDED, "mfa_policy_changed",
                NotificationComposer.ACCOUNT_RELEASED, NotificationComposer.WITHDRAWALS_SUSPENDED,
                NotificationComposer.WITHDRAWALS_RESUMED, NotificationComposer.MFA_TOKENS_REVOKED,
                NotificationComposer.INCIDENT_RESOLVED, NotificationComposer.CLAIM_OPENED,
                NotificationComposer.CLAIM_DOCUMENT_RECEIVED, NotificationComposer.CLAIM_APPROVED,
                NotificationComposer.CLAIM_DENIED);
    }

    /** Every fact an alert of this kind can carry, for user u1. */
    private static Alert fullAlert(String rule) {
        Alert a = new Alert();
        a.alertId = "alert-" + rule;
        a.rule = rule;
        a.severity = "high";
        a.eventTime = T0;
        a.detectedAt = NOW;
        a.userId = "u1";
        a.withdrawalId = "w-17";
        a.incidentId = "inc-9";
        a.summary = "internal summary";
        a.evidence.eventIds.add("e-17");
        a.evidence.asset = "BTC";
        a.evidence.network = "bitcoin";
        a.evidence.amount = "1.25000000";
        a.evidence.usdValue = 52_500.0;
        a.evidence.destinationAddress = "bc1qattacker";
        a.evidence.balanceUsd = 50_000.0;
        a.evidence.windowUsd = 45_000.0;
        a.evidence.windowStart = Times.format(T0 - HOUR);
        a.evidence.windowEnd = Times.format(T0);
        a.evidence.withdrawalIds = List.of("w-16", "w-17");
        a.evidence.whitelistedAt = Times.format(T0 - 2 * HOUR);
        a.evidence.holdUntil = Times.format(T0 + 22 * HOUR);
        a.evidence.distinctUsers = 6;
        return a;
    }

    private Notification compose(Alert a, String code) {
        return composer.compose(new NotificationRequest("u1", a.rule, a), code, CHANNELS, NOW);
    }

    private static Event whitelistAdded(String eventId, String address, long t) {
        Event e = new Event();
        e.kind = Event.Kind.ACCOUNT_CHANGE;
        e.eventId = eventId;
        e.userId = "u1";
        e.eventTime = t;
        e.action = "whitelist_address_added";
        e.address = address;
        e.asset = "ETH";
        e.network = "ethereum";
        return e;
    }

    private static void assertNoNull(Notification n) {
        assertThat(n.title).doesNotContainIgnoringCase("null");
        assertThat(n.body).doesNotContainIgnoringCase("null");
        assertThat(n.title).isNotBlank();
        assertThat(n.body).contains("What happened:", "What this means for you:", "What to do now");
    }

    @Test
    void unauthorizedApprovalSaysWhatHappenedWhatWeDidAndWhatToDo() {
        Notification n = compose(fullAlert(RuleCatalog.UNAUTHORIZED_APPROVAL), CODE);

        assertThat(n.kind).isEqualTo("unauthorized_approval");
        assertThat(n.title).contains("without your 2FA confirmation");
        assertThat(n.body).contains("1.25000000 BTC", "bc1qattacker", "w-17", "17 January 2022 at 10:00 UTC",
                "without the two-factor (2FA) confirmation",
                "froze your account", "on hold", "revoked your 2FA tokens",
                "security team is investigating",
                "Change your password", "Reset your 2FA", "whitelist", "incident inc-9");
        assertNoNull(n);
    }

    @Test
    void accountDrainGivesTheAmountsAndTheShareInExactArithmetic() {
        Notification n = compose(fullAlert(RuleCatalog.ACCOUNT_DRAIN), CODE);

        assertThat(n.body).contains("US$45,000.00", "about 90 %", "US$50,000.00",
                "between 17 January 2022 at 09:00 UTC and 17 January 2022 at 10:00 UTC", "w-16, w-17",
                "if you made these withdrawals", "if it wasn't you", "freeze your account");
        assertNoNull(n);
    }

    @Test
    void newAddressWithdrawalTellsWhenTheAddressWasAddedAndUntilWhenItIsHeld() {
        Notification n = compose(fullAlert(RuleCatalog.NEW_ADDRESS_WITHDRAWAL), CODE);

        assertThat(n.body).contains("bc1qattacker", "1.25000000 BTC", "w-17",
                "added to your whitelist on 17 January 2022 at 08:00 UTC",
                "until 18 January 2022 at 08:00 UTC",
                "This notice is also how you learn that a new address was added to your whitelist",
                "if you did not add this address");
        assertNoNull(n);
    }

    @Test
    void destinationConcentrationNamesTheBlockedAddress() {
        Notification n = compose(fullAlert(RuleCatalog.DESTINATION_CONCENTRATION), CODE);

        assertThat(n.title).contains("blocked");
        assertThat(n.body).contains("bc1qattacker", "6 accounts", "blocked this address", "will not be sent",
                "scam");
        assertNoNull(n);
    }

    @Test
    void bulkDrainSaysWithdrawalsAreSuspendedPlatformWide() {
        Notification n = compose(fullAlert(RuleCatalog.BULK_DRAIN), CODE);

        assertThat(n.title).contains("suspended");
        assertThat(n.body).contains("unauthorized withdrawals affecting several accounts",
                "suspended all withdrawals on the platform", "security team investigates",
                "tell you when withdrawals resume", "incident inc-9");
        assertNoNull(n);
    }

    @Test
    void whitelistNoticeNamesTheAddressAssetNetworkAndTime() {
        Event e = whitelistAdded("acct-5", "0xNEWADDR", T0 + 90_000);
        NotificationRequest req = NotificationComposer.whitelistAddedRequest(e);
        Notification n = composer.compose(req, CODE, CHANNELS, NOW);

        assertThat(n.kind).isEqualTo("whitelist_address_added");
        assertThat(n.body).contains("A new withdrawal address 0xNEWADDR (ETH/ethereum) was added to your"
                + " whitelist on 17 January 2022 at 10:01 UTC", "If this was not you", "Remove the address");
        assertThat(n.alertId).as("a notice about an event, not an alert").isNull();
        assertThat(n.eventTime).isEqualTo(T0 + 90_000);
        assertThat(n.notificationId).isEqualTo(Ids.of("notification", "u1", "acct-5", "whitelist_address_added"));
        assertThat(NotificationComposer.dedupKey(req)).contains("acct-5");
        assertNoNull(n);
    }

    @Test
    void unknownKindGetsTheGenericNotice() {
        Alert a = fullAlert("mfa_policy_changed");
        Notification n = compose(a, CODE);

        assertThat(n.kind).isEqualTo("mfa_policy_changed");
        assertThat(n.title).isEqualTo("Security notice about your account");
        assertThat(n.body).doesNotContain("internal summary");
        assertNoNull(n);
    }

    @ParameterizedTest
    @MethodSource("kinds")
    void theAntiPhishingCodeIsCarriedVerbatimInTheFieldAndTheBody(String kind) {
        Notification n = compose(fullAlert(kind), ODD_CODE);

        assertThat(n.antiPhishingCode).isEqualTo(ODD_CODE);
        assertThat(n.body).contains("Your code is: " + ODD_CODE + "\n", "every genuine message from us shows");
        assertThat(Json.tree(n).get("anti_phishing_code").asText()).isEqualTo(ODD_CODE);
        assertThat(n.body).doesNotContain(ODD_CODE.trim() + "\n"); // not trimmed
    }

    @ParameterizedTest
    @MethodSource("kinds")
    void withoutACodeTheFieldIsAbsentAndTheBodyAdvisesSettingOne(String kind) {
        Notification n = compose(fullAlert(kind), null);

        assertThat(n.antiPhishingCode).isNull();
        assertThat(Json.tree(n).has("anti_phishing_code")).isFalse();
        assertThat(n.body).contains("you have not set an anti-phishing code", "We recommend setting one",
                "every genuine message from us will then show it");
        assertNoNull(n);
    }

    @ParameterizedTest
    @MethodSource("kinds")
    void aSparseAlertNeverPrintsNull(String kind) {
        Alert a = new Alert();
        a.rule = kind;
        a.alertId = "a-sparse";
        a.userId = "u1";
        a.evidence.windowUsd = 10_000.0; // a drain without a known balance: no share printed
        Notification n = compose(a, null);

        assertNoNull(n);
        assertThat(n.body).doesNotContain("Reference for our support team");
        assertThat(n.notificationId).isEqualTo(Ids.of("notification", "u1", "a-sparse", kind));
    }

    @ParameterizedTest
    @MethodSource("kinds")
    void fullAlertsNeverPrintNullEither(String kind) {
        Notification n = compose(fullAlert(kind), CODE);

        assertNoNull(n);
        assertThat(n.channels).containsExactly("email", "push");
        assertThat(n.userId).isEqualTo("u1");
        assertThat(n.createdAt).isEqualTo(NOW);
        assertThat(n.incidentId).isEqualTo("inc-9");
    }

    @Test
    void platformAlertsNeverShowAnotherUsersWithdrawal() {
        for (String rule : List.of(RuleCatalog.BULK_DRAIN, RuleCatalog.DESTINATION_CONCENTRATION)) {
            Alert a = fullAlert(rule);
            a.userId = null; // a platform alert: the facts are the triggering user's, not the recipient's
            Notification n = composer.compose(new NotificationRequest("u2", rule, a), CODE, CHANNELS, NOW);

            assertThat(n.userId).isEqualTo("u2");
            assertThat(n.body).doesNotContain("w-17", "w-16", "1.25000000");
            assertNoNull(n);
        }
    }

    @Test
    void oneIdPerUserIncidentAndKind() {
        Alert first = fullAlert(RuleCatalog.UNAUTHORIZED_APPROVAL);
        Alert second = fullAlert(RuleCatalog.UNAUTHORIZED_APPROVAL);
        second.alertId = "another-alert";
        second.withdrawalId = "w-18";
        Alert otherIncident = fullAlert(RuleCatalog.UNAUTHORIZED_APPROVAL);
        otherIncident.incidentId = "inc-10";
        Alert noIncident = fullAlert(RuleCatalog.UNAUTHORIZED_APPROVAL);
        noIncident.incidentId = null;

        String id = compose(first, CODE).notificationId;
        assertThat(id).isEqualTo(Ids.of("notification", "u1", "inc-9", "unauthorized_approval"));
        assertThat(compose(second, null).notificationId).as("same incident and kind").isEqualTo(id);
        assertThat(compose(otherIncident, CODE).notificationId).isNotEqualTo(id);
        assertThat(compose(noIncident, CODE).notificationId)
                .isEqualTo(Ids.of("notification", "u1", "alert-unauthorized_approval", "unauthorized_approval"));
        assertThat(composer.compose(new NotificationRequest("u2", first.rule, first), CODE, CHANNELS, NOW)
                .notificationId).as("another user").isNotEqualTo(id);
        assertThat(composer.compose(new NotificationRequest("u1", RuleCatalog.BULK_DRAIN, first), CODE, CHANNELS, NOW)
                .notificationId).as("another kind").isNotEqualTo(id);
    }

    @Test
    void composingIsPure() {
        Alert a = fullAlert(RuleCatalog.NEW_ADDRESS_WITHDRAWAL);
        assertThat(Json.toString(compose(a, ODD_CODE))).isEqualTo(Json.toString(compose(a, ODD_CODE)));
    }

    // ---- updates through the incident's life, and the claim ------------------------------------

    private static io.tourniquet.model.Claim claim() {
        var c = new io.tourniquet.model.Claim();
        c.claimId = "claim-7";
        c.lossUsd = new java.math.BigDecimal("300000");
        c.limitUsd = new java.math.BigDecimal("250000");
        c.loss = List.of(new io.tourniquet.model.AssetImpact("BTC", "4", new java.math.BigDecimal("200000"), 1),
                new io.tourniquet.model.AssetImpact("ETH", "30", new java.math.BigDecimal("100000"), 1));
        c.payout = List.of(new io.tourniquet.model.AssetImpact("BTC", "3.3333332", new java.math.BigDecimal("166666.66"), 1),
                new io.tourniquet.model.AssetImpact("ETH", "25.000002", new java.math.BigDecimal("83333.34"), 1));
        c.payoutUsd = new java.math.BigDecimal("250000");
        c.outstanding = List.of("police_report", "questionnaire");
        return c;
    }

    private Notification update(String kind, java.util.function.Consumer<NotificationRequest> with) {
        Alert about = new Alert();
        about.incidentId = "inc-9";
        about.eventTime = T0;
        NotificationRequest r = new NotificationRequest("u1", kind, about);
        with.accept(r);
        Notification n = composer.compose(r, CODE, CHANNELS, NOW);
        assertNoNull(n);
        assertThat(n.body).contains("Your code is: " + CODE, "incident inc-9");
        return n;
    }

    @Test
    void aReleaseSaysWhatWasCheckedAndWhatToDoBeforeWithdrawing() {
        Notification n = update(NotificationComposer.ACCOUNT_RELEASED, r -> r.note = "identity verified by video call");
        assertThat(n.title).isEqualTo("Your account has been released");
        assertThat(n.body).contains("What our security team checked: identity verified by video call.",
                "end any session or device you do not recognise", "Reset your 2FA", "whitelist");
    }

    @Test
    void theResolutionListsOnlyTheRecipientsOwnWithdrawalsAndTheirTotal() {
        var w1 = new io.tourniquet.model.Claim.ClaimWithdrawal();
        w1.withdrawalId = "w-1";
        w1.asset = "BTC";
        w1.amount = "1.5";
        w1.usdValue = new java.math.BigDecimal("60000");
        var w2 = new io.tourniquet.model.Claim.ClaimWithdrawal();
        w2.withdrawalId = "w-3";
        w2.asset = "ETH";
        w2.amount = "2";
        w2.usdValue = new java.math.BigDecimal("6000.5");
        Notification n = update(NotificationComposer.INCIDENT_RESOLVED, r -> r.withdrawals = List.of(w1, w2));
        assertThat(n.body).contains("2 withdrawals from your account were approved without your 2FA confirmation",
                "- 1.5 BTC (US$60,000.00 when requested), withdrawal ID w-1",
                "- 2 ETH (US$6,000.50 when requested), withdrawal ID w-3", "Together: US$66,000.50",
                "Account Protection Programme");
    }

    @Test
    void claimMessagesSayWhatToSendWhatWasReceivedAndTheDecision() {
        Notification opened = update(NotificationComposer.CLAIM_OPENED, r -> r.claim = claim());
        assertThat(opened.claimId).isEqualTo("claim-7");
        assertThat(opened.body).contains("(claim claim-7)", "worth US$300,000.00: 4 BTC, 30 ETH",
                "up to US$250,000.00", "A police report", "claim questionnaire");

        var oneLeft = claim();
        oneLeft.outstanding = List.of("questionnaire");
        Notification received = update(NotificationComposer.CLAIM_DOCUMENT_RECEIVED, r -> {
            r.claim = oneLeft;
            r.subject = "police_report";
        });
        assertThat(received.title).isEqualTo("We received your police report for your claim");
        assertThat(received.body).contains("We still need:", "claim questionnaire").doesNotContain("A police report");

        Notification approved = update(NotificationComposer.CLAIM_APPROVED, r -> r.claim = claim());
        assertThat(approved.title).isEqualTo("Your claim is approved: we will reimburse US$250,000.00");
        assertThat(approved.body).contains("3.3333332 BTC, 25.000002 ETH", "your loss was US$300,000.00",
                "the programme pays at most US$250,000.00 per claim");

        Notification denied = update(NotificationComposer.CLAIM_DENIED, r -> {
            r.claim = claim();
            r.note = "anti-phishing code set 10 days before the theft";
        });
        assertThat(denied.body).contains("The reason: anti-phishing code set 10 days before the theft.",
                "appeal within 30 days", "A different member of our team");
    }
}
