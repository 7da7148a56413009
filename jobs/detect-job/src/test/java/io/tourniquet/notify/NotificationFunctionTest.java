package io.tourniquet.notify;

import static io.tourniquet.testing.TestEvents.T0;
import static org.assertj.core.api.Assertions.assertThat;
import io.tourniquet.config.TourniquetConfig;
import io.tourniquet.detect.EventKeys;
import io.tourniquet.util.SerializableClock;
import io.tourniquet.model.Alert;
import io.tourniquet.model.Event;
import io.tourniquet.model.Notification;
import io.tourniquet.model.NotificationRequest;
import io.tourniquet.rules.catalog.RuleCatalog;
import io.tourniquet.testing.TestEvents;
import io.tourniquet.util.Times;
import java.util.List;
import java.util.Map;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.streaming.api.operators.co.KeyedCoProcessOperator;
import org.apache.flink.streaming.api.watermark.Watermark;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.util.KeyedTwoInputStreamOperatorTestHarness;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class NotificationFunctionTest {
    private static final long MIN = 60_000L;
    private static final long HOUR = 60 * MIN;
    private static final long DAY = 24 * HOUR;
    private static final long NOW = 1_700_000_000_000L;
    private static final long RETENTION = 7 * DAY;
    private static final long UPDATE_RETENTION = 180 * DAY;

    private KeyedTwoInputStreamOperatorTestHarness<String, Event, NotificationRequest, Notification> harness;

    @BeforeEach
    void open() throws Exception {
        harness = harness(NotificationFunction.from(TourniquetConfig.defaults(), SerializableClock.fixed(NOW)));
    }

    @AfterEach
    void close() throws Exception {
        harness.close();
    }

    private static KeyedTwoInputStreamOperatorTestHarness<String, Event, NotificationRequest, Notification> harness(
            NotificationFunction fn) throws Exception {
        var h = new KeyedTwoInputStreamOperatorTestHarness<>(new KeyedCoProcessOperator<>(fn),
                EventKeys.USER_ID, EventKeys.NOTIFY_USER, Types.STRING);
        h.setProcessingTime(0);
        h.open();
        return h;
    }

    // ---- inputs --------------------------------------------------------------------------------

    private static Event accountChange(String eventId, String user, String action, long t) {
        Event e = TestEvents.login(eventId, user, t); // common fields, then made an account change
        e.kind = Event.Kind.ACCOUNT_CHANGE;
        e.outcome = null;
        e.authMethod = null;
        e.deviceJailbroken = null;
        e.action = action;
        return e;
    }

    private static Event codeSet(String eventId, String user, String code, long t) {
        Event e = accountChange(eventId, user, "anti_phishing_code_set", t);
        e.antiPhishingCode = code;
        return e;
    }

    private static Event whitelistAdded(String eventId, String user, String address, long t) {
        Event e = accountChange(eventId, user, "whitelist_address_added", t);
        e.address = address;
        e.asset = "USDT";
        e.network = "tron";
        return e;
    }

    private static NotificationRequest request(String user, String kind, String incidentId, String alertId, long t) {
        Alert a = new Alert();
        a.alertId = alertId;
        a.rule = kind;
        a.userId = user;
        a.incidentId = incidentId;
        a.eventTime = t;
        a.withdrawalId = "w-" + alertId;
        a.evidence.asset = "BTC";
        a.evidence.amount = "0.5";
        a.evidence.destinationAddress = "bc1qattacker";
        a.evidence.holdUntil = Times.format(t + DAY);
        return new NotificationRequest(user, kind, a);
    }

    /** Pushes in order: event time follows each element, as in a live stream. */
    private void push(Event e) throws Exception {
        harness.processElement1(new StreamRecord<>(e, e.eventTime));
        watermark(e.eventTime);
    }

    private void push(NotificationRequest r) throws Exception {
        harness.processElement2(new StreamRecord<>(r, r.alert.eventTime));
        watermark(r.alert.eventTime);
    }

    private void watermark(long t) throws Exception {
        harness.processBothWatermarks(new Watermark(t));
    }

    private List<Notification> sent() {
        return harness.extractOutputValues();
    }

    /** Past every retention: the notifications sent are forgotten, the codes set are not. */
    private void assertOnlyCodesLeft(int usersWithACode) throws Exception {
        watermark(T0 + 200 * DAY); // past notify.dedup-retention (7 d) and notify.update-count-retention (180 d)
        assertThat(harness.numEventTimeTimers()).as("event-time timers").isZero();
        assertThat(harness.numProcessingTimeTimers()).as("processing-time timers").isZero();
        assertThat(harness.numKeyedStateEntries()).as("keyed state: one anti-phishing code per user who set one")
                .isEqualTo(usersWithACode);
    }

    // ---- anti-phishing code ----------------------------------------------------------------------

    @Test
    void theCodeSetLastIsTheOneCarried() throws Exception {
        push(codeSet("c1", "u1", "first code", T0));
        push(codeSet("c2", "u1", "Second Code ✓", T0 + MIN));
        push(request("u1", RuleCatalog.UNAUTHORIZED_APPROVAL, "inc-1", "a1", T0 + 2 * MIN));

        assertThat(sent()).singleElement().satisfies(n -> {
            assertThat(n.antiPhishingCode).isEqualTo("Second Code ✓");
            assertThat(n.body).contains("Second Code ✓").doesNotContain("first code");
            assertThat(n.userId).isEqualTo("u1");
            assertThat(n.kind).isEqualTo("unauthorized_approval");
            assertThat(n.channels).containsExactly("email", "push");
            assertThat(n.createdAt).isEqualTo(NOW);
        });
        assertOnlyCodesLeft(1);
    }

    @Test
    void outOfOrderChangesLeaveTheLaterEventTime() throws Exception {
        push(codeSet("c2", "u1", "newer", T0 + 5 * MIN));
        push(codeSet("c1", "u1", "older", T0)); // arrives last, happened first
        push(request("u1", RuleCatalog.ACCOUNT_DRAIN, null, "a1", T0 + 6 * MIN));

        assertThat(sent()).singleElement().satisfies(n -> assertThat(n.antiPhishingCode).isEqualTo("newer"));
        assertOnlyCodesLeft(1);
    }

    @Test
    void aNotificationWaitsForEventTimeSoACodeSetBeforeTheAlertButReadLaterIsCarried() throws Exception {
        // A replay reads the withdrawals topic ahead of the account changes: the request arrives
        // first, the code set before its alert arrives after it.
        harness.processElement2(new StreamRecord<>(request("u1", RuleCatalog.UNAUTHORIZED_APPROVAL, "i1", "a1",
                T0 + 10 * MIN), T0 + 10 * MIN));
        harness.processElement1(new StreamRecord<>(codeSet("c1", "u1", "set before", T0), T0));
        // And a change made after the alert, read before the notification is composed.
        harness.processElement1(new StreamRecord<>(codeSet("c2", "u1", "set after", T0 + 20 * MIN), T0 + 20 * MIN));
        watermark(T0 + 10 * MIN - 1);
        assertThat(sent()).as("not before event time reaches the alert").isEmpty();
        watermark(T0 + 10 * MIN);

        assertThat(sent()).as("the code in force at the alert's time").extracting(n -> n.antiPhishingCode)
                .containsExactly("set before");
        assertOnlyCodesLeft(1);
    }

    @Test
    void aCodeChangedAfterANotificationIsCarriedByTheNextOne() throws Exception {
        push(codeSet("c1", "u1", "old code", T0));
        push(request("u1", RuleCatalog.NEW_ADDRESS_WITHDRAWAL, null, "a1", T0 + MIN));
        push(codeSet("c2", "u1", "new code", T0 + 2 * MIN));
        push(request("u1", RuleCatalog.NEW_ADDRESS_WITHDRAWAL, null, "a2", T0 + 3 * MIN));

        assertThat(sent()).extracting(n -> n.antiPhishingCode).containsExactly("old code", "new code");
        assertOnlyCodesLeft(1);
    }

    @Test
    void withoutACodeTheNotificationHasNoneAndEachUserHasTheirOwn() throws Exception {
        push(codeSet("c1", "u1", "u1 code", T0));
        push(request("u2", RuleCatalog.BULK_DRAIN, "inc-1", "a1", T0 + MIN));
        push(request("u1", RuleCatalog.BULK_DRAIN, "inc-1", "a1", T0 + MIN));

        assertThat(sent()).extracting(n -> n.userId, n -> n.antiPhishingCode)
                .containsExactly(org.assertj.core.groups.Tuple.tuple("u2", null),
                        org.assertj.core.groups.Tuple.tuple("u1", "u1 code"));
        assertThat(sent().get(0).body).contains("you have not set an anti-phishing code");
        assertOnlyCodesLeft(1);
    }

    // ---- no notification storm -------------------------------------------------------------------

    @Test
    void oneNotificationPerUserIncidentAndKind() throws Exception {
        push(request("u1", RuleCatalog.UNAUTHORIZED_APPROVAL, "inc-1", "a1", T0));
        push(request("u1", RuleCatalog.UNAUTHORIZED_APPROVAL, "inc-1", "a2", T0 + MIN)); // same incident and kind
        push(request("u1", RuleCatalog.UNAUTHORIZED_APPROVAL, "inc-1", "a1", T0)); // a redelivered request

        assertThat(sent()).singleElement().satisfies(n -> {
            assertThat(n.alertId).isEqualTo("a1");
            assertThat(n.incidentId).isEqualTo("inc-1");
        });
        assertOnlyCodesLeft(0);
    }

    @Test
    void differentKindsOfOneIncidentAreTwoNotifications() throws Exception {
        push(request("u1", RuleCatalog.UNAUTHORIZED_APPROVAL, "inc-1", "a1", T0));
        push(request("u1", RuleCatalog.BULK_DRAIN, "inc-1", "a2", T0 + MIN));

        assertThat(sent()).extracting(n -> n.kind).containsExactly("unauthorized_approval", "bulk_drain");
        assertThat(sent().get(0).notificationId).isNotEqualTo(sent().get(1).notificationId);
        assertOnlyCodesLeft(0);
    }

    @Test
    void differentIncidentsAreTwoNotifications() throws Exception {
        push(request("u1", RuleCatalog.UNAUTHORIZED_APPROVAL, "inc-1", "a1", T0));
        push(request("u1", RuleCatalog.UNAUTHORIZED_APPROVAL, "inc-2", "a2", T0 + 3 * HOUR));

        assertThat(sent()).extracting(n -> n.incidentId).containsExactly("inc-1", "inc-2");
        assertOnlyCodesLeft(0);
    }

    @Test
    void outsideIncidentsEachAlertIsItsOwnNotification() throws Exception {
        push(request("u1", RuleCatalog.NEW_ADDRESS_WITHDRAWAL, null, "a1", T0));
        push(request("u1", RuleCatalog.NEW_ADDRESS_WITHDRAWAL, null, "a2", T0 + MIN));
        push(request("u1", RuleCatalog.NEW_ADDRESS_WITHDRAWAL, null, "a1", T0)); // a redelivered request

        assertThat(sent()).extracting(n -> n.alertId).containsExactly("a1", "a2");
        assertOnlyCodesLeft(0);
    }

    // ---- whitelist notice --------------------------------------------------------------------------

    @Test
    void everyWhitelistAdditionGetsASecurityNoticeOnce() throws Exception {
        push(codeSet("c1", "u1", "Heron", T0));
        Event added = whitelistAdded("acct-7", "u1", "TXyzNewAddress", T0 + MIN);
        push(added);
        push(added); // redelivered
        push(whitelistAdded("acct-8", "u1", "TXyzOther", T0 + 2 * MIN));
        push(accountChange("acct-9", "u1", "password_changed", T0 + 3 * MIN)); // nothing to say

        assertThat(sent()).hasSize(2);
        Notification n = sent().get(0);
        assertThat(n.kind).isEqualTo("whitelist_address_added");
        assertThat(n.antiPhishingCode).isEqualTo("Heron");
        assertThat(n.eventTime).isEqualTo(T0 + MIN);
        assertThat(n.body).contains("A new withdrawal address TXyzNewAddress (USDT/tron) was added to your whitelist"
                + " on 17 January 2022 at 10:01 UTC", "If this was not you");
        assertThat(sent().get(1).body).contains("TXyzOther");
        assertOnlyCodesLeft(1);
    }

    // ---- retention -------------------------------------------------------------------------------

    @Test
    void whatWasSentIsForgottenAfterTheRetentionAndOnlyTheCodeStays() throws Exception {
        push(codeSet("c1", "u1", "Heron", T0));
        push(codeSet("c2", "u2", "Owl", T0));
        push(request("u1", RuleCatalog.UNAUTHORIZED_APPROVAL, "inc-1", "a1", T0));
        push(request("u2", RuleCatalog.UNAUTHORIZED_APPROVAL, "inc-1", "a2", T0));
        push(whitelistAdded("acct-7", "u1", "TXyzNewAddress", T0));
        push(request("u3", RuleCatalog.ACCOUNT_DRAIN, null, "a3", T0)); // u3 never set a code
        assertThat(sent()).hasSize(4);
        // Codes of u1 and u2; what was sent to u1 (one map), u2 and u3; u1's and u2's update counts of inc-1.
        assertThat(harness.numKeyedStateEntries()).isEqualTo(7);
        assertThat(harness.numEventTimeTimers()).as("one per user (u1's two are at the same time), and the update"
                + " counts' of u1 and u2").isEqualTo(5);

        watermark(T0 + RETENTION - 1); // still remembered: a repeat is suppressed
        push(request("u1", RuleCatalog.UNAUTHORIZED_APPROVAL, "inc-1", "a1", T0));
        assertThat(sent()).hasSize(4);

        watermark(T0 + RETENTION);
        assertThat(harness.numKeyedStateEntries()).as("the codes of u1 and u2, and their update counts").isEqualTo(4);
        watermark(T0 + UPDATE_RETENTION);
        assertThat(harness.numEventTimeTimers()).isZero();
        assertThat(harness.numKeyedStateEntries()).as("only the anti-phishing codes of u1 and u2").isEqualTo(2);
        assertOnlyCodesLeft(2);
    }

    @Test
    void aRepeatExtendsTheMemorySoALongIncidentStaysOneNotification() throws Exception {
        push(request("u1", RuleCatalog.UNAUTHORIZED_APPROVAL, "inc-1", "a1", T0));
        push(request("u1", RuleCatalog.UNAUTHORIZED_APPROVAL, "inc-1", "a2", T0 + 5 * DAY));
        watermark(T0 + RETENTION); // past the first request's retention, not the second's
        push(request("u1", RuleCatalog.UNAUTHORIZED_APPROVAL, "inc-1", "a3", T0 + 6 * DAY));

        assertThat(sent()).hasSize(1);
        watermark(T0 + 6 * DAY + RETENTION);
        assertThat(harness.numKeyedStateEntries()).as("the update count only").isEqualTo(1);
        watermark(T0 + UPDATE_RETENTION);
        assertThat(harness.numKeyedStateEntries()).isZero();
        assertThat(harness.numEventTimeTimers()).isZero();
    }

    @Test
    void channelsComeFromTheConfiguration() throws Exception {
        harness.close();
        harness = harness(NotificationFunction.from(
                TourniquetConfig.defaults().with(Map.of("notify.channels", " sms, email ,,sms")),
                SerializableClock.fixed(NOW)));
        push(request("u1", RuleCatalog.ACCOUNT_DRAIN, null, "a1", T0));

        assertThat(sent()).singleElement().satisfies(n -> assertThat(n.channels).containsExactly("sms", "email"));
        assertOnlyCodesLeft(0);
    }

    // ---- updates through an incident's life -----------------------------------------------------

    @Test
    void everyUpdateAboutAnIncidentIsNumberedPerUserAndEachSubjectIsSentOnce() throws Exception {
        push(codeSet("c1", "u1", "Heron", T0 - DAY));
        push(request("u1", RuleCatalog.UNAUTHORIZED_APPROVAL, "inc-1", "a1", T0));
        push(request("u1", NotificationComposer.MFA_TOKENS_REVOKED, "inc-1", "a1", T0));
        push(request("u2", RuleCatalog.UNAUTHORIZED_APPROVAL, "inc-1", "a2", T0)); // another user: own count
        push(request("u1", RuleCatalog.ACCOUNT_DRAIN, null, "a3", T0)); // no incident: no number
        NotificationRequest doc1 = request("u1", NotificationComposer.CLAIM_DOCUMENT_RECEIVED, "inc-1", null, T0 + MIN);
        doc1.subject = "police_report";
        NotificationRequest doc2 = request("u1", NotificationComposer.CLAIM_DOCUMENT_RECEIVED, "inc-1", null, T0 + MIN);
        doc2.subject = "questionnaire";
        push(doc1);
        push(doc2);
        push(doc1); // a repeat of one subject is not news
        push(request("u1", NotificationComposer.INCIDENT_RESOLVED, "inc-2", null, T0 + MIN)); // another incident

        assertThat(sent()).extracting(n -> n.userId + "/" + n.kind + "/" + n.incidentId + "#" + n.updateSequence)
                .containsExactly(
                        "u1/unauthorized_approval/inc-1#1",
                        "u1/mfa_tokens_revoked/inc-1#2",
                        "u2/unauthorized_approval/inc-1#1",
                        "u1/account_drain/null#null",
                        "u1/claim_document_received/inc-1#3",
                        "u1/claim_document_received/inc-1#4",
                        "u1/incident_resolved/inc-2#1");
        assertThat(sent()).extracting(n -> n.notificationId).doesNotHaveDuplicates();
        assertThat(sent()).allSatisfy(n -> {
            if (n.userId.equals("u1")) assertThat(n.antiPhishingCode).isEqualTo("Heron");
        });
        assertOnlyCodesLeft(1);
    }

    @Test
    void theUpdateCountSurvivesARestoreSoNoNumberRepeats() throws Exception {
        push(request("u1", RuleCatalog.UNAUTHORIZED_APPROVAL, "inc-1", "a1", T0));
        var snapshot = harness.snapshot(1L, 1L);
        harness.close();
        harness = new KeyedTwoInputStreamOperatorTestHarness<>(new KeyedCoProcessOperator<>(
                NotificationFunction.from(TourniquetConfig.defaults(), SerializableClock.fixed(NOW))),
                EventKeys.USER_ID, EventKeys.NOTIFY_USER, Types.STRING);
        harness.setProcessingTime(0);
        harness.initializeState(snapshot);
        harness.open();
        push(request("u1", RuleCatalog.UNAUTHORIZED_APPROVAL, "inc-1", "a1", T0)); // the same update again: not sent
        push(request("u1", NotificationComposer.INCIDENT_RESOLVED, "inc-1", null, T0 + MIN));
        assertThat(sent()).extracting(n -> n.kind + "#" + n.updateSequence).containsExactly("incident_resolved#2");
    }
}
