package io.tourniquet.index;

import static org.assertj.core.api.Assertions.assertThat;
import com.fasterxml.jackson.databind.JsonNode;
import io.tourniquet.json.Json;
import io.tourniquet.model.Action;
import io.tourniquet.model.ActionScope;
import io.tourniquet.model.Alert;
import io.tourniquet.model.EnrichedEvent;
import io.tourniquet.model.Event;
import io.tourniquet.util.Times;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class EcsDocumentsTest {
    private static final String EVENTS = "tourniquet-events";

    private static Event approval() {
        Event e = new Event();
        e.kind = Event.Kind.WITHDRAWAL;
        e.eventId = "evt-appr-1";
        e.eventTimeRaw = "2026-05-03T10:15:30.250+02:00";
        e.eventTime = Times.parse(e.eventTimeRaw).toEpochMilli();
        e.userId = "u-1";
        e.sessionId = "s-1";
        e.ip = "203.0.113.7";
        e.deviceId = "d-1";
        e.sourceTopic = "exchange.wallet.withdrawals";
        e.sourcePartition = 1;
        e.sourceOffset = 42;
        e.withdrawalId = "w-1";
        e.status = "approved";
        e.asset = "BTC";
        e.network = "bitcoin";
        e.amount = "0.5";
        e.usdValue = 31_250.0;
        e.destinationAddress = "bc1qdest";
        e.mfaChallengeId = "ch-1";
        e.approvalChannel = "app";
        e.approvalService = "withdrawal-approver";
        e.approvalServiceVersion = "2.3.1";
        return e;
    }

    @Test
    void scoredApprovalCarriesItsFeaturesScoreAndModelVersion() throws Exception {
        EnrichedEvent enriched = EnrichedEvent.of(approval());
        io.tourniquet.model.Anomaly an = new io.tourniquet.model.Anomaly();
        an.schemaVersion = io.tourniquet.models.WithdrawalFeatures.SCHEMA_VERSION;
        an.schemaHash = io.tourniquet.models.WithdrawalFeatures.SCHEMA_HASH;
        double[] x = new double[io.tourniquet.models.WithdrawalFeatures.COUNT];
        x[io.tourniquet.models.WithdrawalFeatures.NEW_DEVICE] = 1.0;
        an.features = new java.util.HashMap<>(io.tourniquet.models.WithdrawalFeatures.toMap(x)); // any order in
        an.modelVersion = "m1";
        an.score = 0.71;
        an.threshold = 0.62;
        an.topContributions = List.of(new io.tourniquet.model.AnomalyContribution("new_device", 1.0, 0.0, 0.05));
        enriched.anomaly = an;

        JsonNode anomaly = tree(EcsDocuments.event(enriched, EVENTS)).path("exchange").path("anomaly");
        assertThat(anomaly.path("model_version").asText()).isEqualTo("m1");
        assertThat(anomaly.path("score").asDouble()).isEqualTo(0.71);
        assertThat(anomaly.path("threshold").asDouble()).isEqualTo(0.62);
        assertThat(anomaly.path("schema_hash").asText()).isEqualTo(an.schemaHash);
        java.util.List<String> names = new java.util.ArrayList<>();
        anomaly.path("features").fieldNames().forEachRemaining(names::add);
        assertThat(names).as("schema order out").containsExactlyElementsOf(
                io.tourniquet.models.WithdrawalFeatures.names());
        assertThat(anomaly.path("features").path("new_device").asDouble()).isEqualTo(1.0);
        assertThat(anomaly.path("top_contributions").get(0).path("score_change").asDouble()).isEqualTo(0.05);

        // Every feature is mapped as a double in the events template (the export reads them back).
        JsonNode template = Json.MAPPER.readTree(getClass().getResourceAsStream("/index-templates/events.json"));
        JsonNode mapped = template.path("mappings").path("properties").path("exchange").path("properties")
                .path("anomaly").path("properties").path("features").path("properties");
        for (String name : io.tourniquet.models.WithdrawalFeatures.names()) {
            assertThat(mapped.path(name).path("type").asText()).as(name).isEqualTo("double");
        }
    }

    @Test
    void unscoredApprovalCarriesItsFeaturesOnly() {
        EnrichedEvent enriched = EnrichedEvent.of(approval());
        enriched.anomaly = new io.tourniquet.model.Anomaly();
        enriched.anomaly.features = io.tourniquet.models.WithdrawalFeatures.toMap(
                new double[io.tourniquet.models.WithdrawalFeatures.COUNT]);
        JsonNode anomaly = tree(EcsDocuments.event(enriched, EVENTS)).path("exchange").path("anomaly");
        assertThat(anomaly.path("features").size()).isEqualTo(io.tourniquet.models.WithdrawalFeatures.COUNT);
        assertThat(anomaly.has("score")).isFalse();
        assertThat(anomaly.has("model_version")).isFalse();
    }

    @Test
    void authorizedApproval() {
        EnrichedEvent enriched = EnrichedEvent.of(approval());
        enriched.mfaAuthorized = true;

        IndexDoc doc = EcsDocuments.event(enriched, EVENTS);

        assertThat(doc.index).isEqualTo("tourniquet-events-2026.05");
        assertThat(doc.id).isEqualTo("evt-appr-1");
        assertJson(doc, """
                {
                  "@timestamp": "2026-05-03T08:15:30.250Z",
                  "event": {"id": "evt-appr-1", "kind": "event", "dataset": "exchange.wallet.withdrawals",
                            "action": "withdrawal_approved", "outcome": "success"},
                  "user": {"id": "u-1"},
                  "source": {"ip": "203.0.113.7"},
                  "device": {"id": "d-1"},
                  "exchange": {
                    "session_id": "s-1",
                    "withdrawal": {"id": "w-1", "status": "approved", "asset": "BTC", "network": "bitcoin",
                                   "amount": "0.5", "amount_value": 0.5, "usd_value": 31250.0,
                                   "destination_address": "bc1qdest", "mfa_challenge_id": "ch-1",
                                   "approval_channel": "app", "approval_service": "withdrawal-approver",
                                   "approval_service_version": "2.3.1"},
                    "mfa": {"authorized": true},
                    "late": false,
                    "kafka": {"topic": "exchange.wallet.withdrawals", "partition": 1, "offset": 42}
                  }
                }""");
    }

    @Test
    void unauthorizedApprovalCarriesAlertsAndIncident() {
        Event e = approval();
        e.mfaChallengeId = null;
        EnrichedEvent enriched = EnrichedEvent.of(e);
        enriched.mfaAuthorized = false;
        enriched.mfaDecisionReason = "no_challenge";
        enriched.alertIds = List.of("al-1", "al-2");
        enriched.incidentId = "inc-7";
        enriched.late = true;

        IndexDoc doc = EcsDocuments.event(enriched, EVENTS);

        assertJson(doc, """
                {
                  "@timestamp": "2026-05-03T08:15:30.250Z",
                  "event": {"id": "evt-appr-1", "kind": "event", "dataset": "exchange.wallet.withdrawals",
                            "action": "withdrawal_approved", "outcome": "success"},
                  "user": {"id": "u-1"},
                  "source": {"ip": "203.0.113.7"},
                  "device": {"id": "d-1"},
                  "exchange": {
                    "session_id": "s-1",
                    "withdrawal": {"id": "w-1", "status": "approved", "asset": "BTC", "network": "bitcoin",
                                   "amount": "0.5", "amount_value": 0.5, "usd_value": 31250.0,
                                   "destination_address": "bc1qdest",
                                   "approval_channel": "app", "approval_service": "withdrawal-approver",
                                   "approval_service_version": "2.3.1"},
                    "mfa": {"authorized": false, "decision_reason": "no_challenge"},
                    "alert_ids": ["al-1", "al-2"],
                    "incident_id": "inc-7",
                    "late": true,
                    "kafka": {"topic": "exchange.wallet.withdrawals", "partition": 1, "offset": 42}
                  }
                }""");
    }

    @Test
    void loginWithGeo() {
        Event e = new Event();
        e.kind = Event.Kind.LOGIN;
        e.eventId = "evt-login-1";
        e.eventTime = Times.parse("2026-05-03T23:59:59.999Z").toEpochMilli();
        e.userId = "u-2";
        e.sessionId = "s-2";
        e.ip = "2001:db8::1";
        e.deviceId = "d-2";
        e.sourceTopic = "exchange.auth.logins";
        e.sourcePartition = 0;
        e.sourceOffset = 7;
        e.outcome = "failure";
        e.authMethod = "password";
        e.deviceJailbroken = false;
        e.userAgent = "Mozilla/5.0 (X11; Linux x86_64)";
        e.geoCountry = "DE";
        e.geoLat = 52.52;
        e.geoLon = 13.405;

        IndexDoc doc = EcsDocuments.event(EnrichedEvent.of(e), EVENTS);

        assertThat(doc.index).isEqualTo("tourniquet-events-2026.05");
        assertJson(doc, """
                {
                  "@timestamp": "2026-05-03T23:59:59.999Z",
                  "event": {"id": "evt-login-1", "kind": "event", "category": ["authentication"],
                            "dataset": "exchange.auth.logins", "action": "login", "outcome": "failure"},
                  "user": {"id": "u-2"},
                  "source": {"ip": "2001:db8::1",
                             "geo": {"country_iso_code": "DE", "location": {"lat": 52.52, "lon": 13.405}}},
                  "device": {"id": "d-2"},
                  "user_agent": {"original": "Mozilla/5.0 (X11; Linux x86_64)"},
                  "exchange": {
                    "session_id": "s-2",
                    "login": {"auth_method": "password", "device_jailbroken": false},
                    "late": false,
                    "kafka": {"topic": "exchange.auth.logins", "partition": 0, "offset": 7}
                  }
                }""");
    }

    @Test
    void antiPhishingCodeIsNeverIndexed() {
        Event e = new Event();
        e.kind = Event.Kind.ACCOUNT_CHANGE;
        e.eventId = "evt-acct-1";
        e.eventTime = Times.parse("2026-05-04T00:00:00+02:00").toEpochMilli();
        e.userId = "u-3";
        e.sourceTopic = "exchange.account.changes";
        e.sourcePartition = 1;
        e.sourceOffset = 3;
        e.action = "anti_phishing_code_set";
        e.antiPhishingCode = "blue-falcon-42";

        IndexDoc doc = EcsDocuments.event(EnrichedEvent.of(e), EVENTS);

        assertThat(doc.source).doesNotContain("blue-falcon-42").doesNotContain("\"anti_phishing_code\"");
        // Midnight in +02:00 is still the 3rd in UTC.
        assertThat(doc.index).isEqualTo("tourniquet-events-2026.05");
        assertJson(doc, """
                {
                  "@timestamp": "2026-05-03T22:00:00.000Z",
                  "event": {"id": "evt-acct-1", "kind": "event", "category": ["iam"],
                            "dataset": "exchange.account.changes", "action": "anti_phishing_code_set",
                            "outcome": "unknown"},
                  "user": {"id": "u-3"},
                  "exchange": {
                    "account": {"action": "anti_phishing_code_set", "anti_phishing_code_set": true},
                    "late": false,
                    "kafka": {"topic": "exchange.account.changes", "partition": 1, "offset": 3}
                  }
                }""");
    }

    @Test
    void whitelistAndPolicyChanges() {
        Event e = new Event();
        e.kind = Event.Kind.ACCOUNT_CHANGE;
        e.eventId = "evt-acct-2";
        e.eventTime = 0L;
        e.userId = "u-3";
        e.action = "whitelist_address_added";
        e.address = "0xabc";
        e.asset = "ETH";
        e.network = "ethereum";

        JsonNode whitelist = tree(EcsDocuments.event(EnrichedEvent.of(e), EVENTS));
        assertThat(whitelist.at("/exchange/account/address").asText()).isEqualTo("0xabc");
        assertThat(whitelist.at("/exchange/account/asset").asText()).isEqualTo("ETH");
        assertThat(whitelist.at("/exchange/account/network").asText()).isEqualTo("ethereum");
        assertThat(whitelist.at("/exchange/withdrawal").isMissingNode()).isTrue();
        assertThat(whitelist.at("/exchange/account/anti_phishing_code_set").isMissingNode()).isTrue();
        assertThat(whitelist.at("/exchange/kafka").isMissingNode()).isTrue();

        e.action = "mfa_policy_changed";
        e.address = null;
        e.asset = null;
        e.network = null;
        e.mfaPolicyLogin = true;
        e.mfaPolicyWithdrawal = false;
        e.mfaPolicyWhitelistAddress = true;
        e.mfaPolicySettings = false;
        JsonNode policy = tree(EcsDocuments.event(EnrichedEvent.of(e), EVENTS));
        assertThat(policy.at("/exchange/account/mfa_policy")).isEqualTo(Json.MAPPER.createObjectNode()
                .put("login", true).put("withdrawal", false).put("whitelist_address", true).put("settings", false));
    }

    @Test
    void exactAmountStaysAStringBesideItsDoubleValue() {
        Event e = approval();
        e.amount = "1234.123456789012345678";
        JsonNode doc = tree(EcsDocuments.event(EnrichedEvent.of(e), EVENTS));
        assertThat(doc.at("/exchange/withdrawal/amount").isTextual()).isTrue();
        assertThat(doc.at("/exchange/withdrawal/amount").asText()).isEqualTo("1234.123456789012345678");
        assertThat(doc.at("/exchange/withdrawal/amount_value").asDouble()).isEqualTo(1234.123456789012345678);
    }

    @ParameterizedTest
    @CsvSource({
            "LOGIN, , success, , success, login",
            "LOGIN, , failure, , failure, login",
            "MFA, challenge_verified, , , success, challenge_verified",
            "MFA, challenge_failed, , , failure, challenge_failed",
            "MFA, challenge_issued, , , unknown, challenge_issued",
            "MFA, token_reset, , , unknown, token_reset",
            "WITHDRAWAL, , , requested, success, withdrawal_requested",
            "WITHDRAWAL, , , completed, success, withdrawal_completed",
            "WITHDRAWAL, , , rejected, failure, withdrawal_rejected",
            "WITHDRAWAL, , , cancelled, failure, withdrawal_cancelled",
            "ACCOUNT_CHANGE, password_changed, , , unknown, password_changed",
    })
    void actionAndOutcome(Event.Kind kind, String action, String outcome, String status,
                          String expectedOutcome, String expectedAction) {
        Event e = new Event();
        e.kind = kind;
        e.eventId = "x";
        e.action = action;
        e.outcome = outcome;
        e.status = status;
        JsonNode doc = tree(EcsDocuments.event(EnrichedEvent.of(e), EVENTS));
        assertThat(doc.at("/event/outcome").asText()).isEqualTo(expectedOutcome);
        assertThat(doc.at("/event/action").asText()).isEqualTo(expectedAction);
    }

    @Test
    void alert() {
        Alert a = new Alert();
        a.alertId = "al-1";
        a.rule = "unauthorized_approval";
        a.ruleVersion = 2;
        a.severity = "high";
        a.eventTime = Times.parse("2026-05-03T08:15:30.250Z").toEpochMilli();
        a.detectedAt = Times.parse("2026-05-03T08:15:36.000Z").toEpochMilli();
        a.userId = "u-1";
        a.withdrawalId = "w-1";
        a.incidentId = "inc-7";
        a.summary = "Withdrawal w-1 was approved without a valid 2FA verification.";
        a.evidence.eventIds = List.of("evt-appr-1");
        a.evidence.reason = "no_challenge";
        a.evidence.approvalServiceVersion = "2.3.1";
        a.evidence.usdValue = 31_250.0;

        IndexDoc doc = EcsDocuments.alert(a, "tourniquet-alerts");

        assertThat(doc.index).isEqualTo("tourniquet-alerts-2026.05");
        assertThat(doc.id).isEqualTo("al-1");
        assertJson(doc, """
                {
                  "alert_id": "al-1",
                  "rule": "unauthorized_approval",
                  "rule_version": 2,
                  "severity": "high",
                  "event_time": "2026-05-03T08:15:30.250Z",
                  "detected_at": "2026-05-03T08:15:36.000Z",
                  "user_id": "u-1",
                  "withdrawal_id": "w-1",
                  "incident_id": "inc-7",
                  "summary": "Withdrawal w-1 was approved without a valid 2FA verification.",
                  "evidence": {"event_ids": ["evt-appr-1"], "reason": "no_challenge",
                               "approval_service_version": "2.3.1", "usd_value": 31250.0},
                  "@timestamp": "2026-05-03T08:15:30.250Z",
                  "event": {"kind": "alert"},
                  "user": {"id": "u-1"}
                }""");
    }

    @Test
    void platformAlertHasNoUser() {
        Alert a = new Alert();
        a.alertId = "al-2";
        a.rule = "bulk_drain";
        a.severity = "critical";
        a.eventTime = 0L;
        a.detectedAt = 1L;
        JsonNode doc = tree(EcsDocuments.alert(a, "tourniquet-alerts"));
        assertThat(doc.has("user_id")).isFalse();
        assertThat(doc.has("user")).isFalse();
        assertThat(doc.has("withdrawal_id")).isFalse();
        assertThat(doc.at("/evidence/event_ids").isArray()).isTrue();
    }

    @Test
    void action() {
        Action a = new Action();
        a.actionId = "act-1";
        a.action = "hold_withdrawal";
        a.scope = ActionScope.withdrawal("w-1", "u-1");
        a.reason = "unauthorized_approval";
        a.alertIds = List.of("al-1");
        a.incidentId = "inc-7";
        a.eventTime = Times.parse("2026-05-03T08:15:30.250Z").toEpochMilli();
        a.issuedAt = Times.parse("2026-05-03T08:15:36.100Z").toEpochMilli();
        a.signature = "hmac-sha256:00ff";

        IndexDoc doc = EcsDocuments.action(a, "tourniquet-actions");

        assertThat(doc.index).isEqualTo("tourniquet-actions-2026.05");
        assertThat(doc.id).isEqualTo("act-1");
        assertJson(doc, """
                {
                  "action_id": "act-1",
                  "action": "hold_withdrawal",
                  "scope": {"user_id": "u-1", "withdrawal_id": "w-1"},
                  "reason": "unauthorized_approval",
                  "alert_ids": ["al-1"],
                  "incident_id": "inc-7",
                  "event_time": "2026-05-03T08:15:30.250Z",
                  "issued_at": "2026-05-03T08:15:36.100Z",
                  "signature": "hmac-sha256:00ff",
                  "@timestamp": "2026-05-03T08:15:30.250Z",
                  "event": {"action": "hold_withdrawal"}
                }""");
    }

    @Test
    void sameInputSameDocument() {
        EnrichedEvent enriched = EnrichedEvent.of(approval());
        enriched.mfaAuthorized = false;
        enriched.alertIds = List.of("al-1");
        assertThat(EcsDocuments.event(enriched, EVENTS)).isEqualTo(EcsDocuments.event(enriched, EVENTS));

        Alert a = new Alert();
        a.alertId = "al-1";
        a.rule = "account_drain";
        a.eventTime = 5L;
        assertThat(EcsDocuments.alert(a, "x")).isEqualTo(EcsDocuments.alert(a, "x"));
    }

    @Test
    void monthlyIndexIsTheUtcMonth() {
        assertThat(EcsDocuments.monthlyIndex("a", Times.parse("2026-12-31T23:59:59.999Z").toEpochMilli()))
                .isEqualTo("a-2026.12");
        assertThat(EcsDocuments.monthlyIndex("a", Times.parse("2027-01-01T00:00:00Z").toEpochMilli()))
                .isEqualTo("a-2027.01");
        assertThat(EcsDocuments.monthlyIndex("a", Times.parse("2027-01-01T01:00:00+02:00").toEpochMilli()))
                .isEqualTo("a-2026.12");
    }

    @Test
    void anEventGoesToTheMonthItWasIngestedInWhateverDayItNames() {
        long ingested = Times.parse("2026-12-06T03:00:00Z").toEpochMilli();
        java.util.Set<String> indices = new java.util.TreeSet<>();
        // Years of history, and dates an attacker might write: one index, this month's.
        for (String t : java.util.List.of("2019-08-01T10:29:17Z", "2022-01-17T02:00:00Z", "2026-12-05T23:59:59Z",
                "9999-12-31T23:59:59Z", "0001-01-01T00:00:00Z")) {
            Event e = approval();
            e.eventTime = Times.parse(t).toEpochMilli();
            e.sourceTimestamp = ingested;
            IndexDoc doc = EcsDocuments.event(EnrichedEvent.of(e), EVENTS);
            indices.add(doc.index);
            assertThat(tree(doc).path("@timestamp").asText()).as("queries still see event time")
                    .isEqualTo(Times.format(e.eventTime));
            assertThat(tree(doc).at("/exchange/kafka/timestamp").asText()).isEqualTo("2026-12-06T03:00:00.000Z");
        }
        assertThat(indices).containsExactly(EVENTS + "-2026.12");
        // Without a Kafka timestamp (never from the job's source), the month of the event time.
        Event e = approval();
        e.sourceTimestamp = 0;
        assertThat(EcsDocuments.event(EnrichedEvent.of(e), EVENTS).index)
                .isEqualTo(EcsDocuments.monthlyIndex(EVENTS, e.eventTime));
    }

    private static JsonNode tree(IndexDoc doc) {
        try {
            return Json.MAPPER.readTree(doc.source);
        } catch (Exception e) {
            throw new AssertionError("not JSON: " + doc.source, e);
        }
    }

    /** Compares as JSON (key order ignored), showing both sides in canonical form on a mismatch. */
    private static void assertJson(IndexDoc doc, String expected) {
        JsonNode expectedTree;
        try {
            expectedTree = Json.MAPPER.readTree(expected);
        } catch (Exception e) {
            throw new AssertionError("bad expected JSON", e);
        }
        assertThat(canonical(tree(doc))).isEqualTo(canonical(expectedTree));
    }

    private static String canonical(JsonNode node) {
        return new String(Json.canonicalBytes(node), StandardCharsets.UTF_8);
    }
}
