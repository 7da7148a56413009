package io.tourniquet.control;

import static org.assertj.core.api.Assertions.assertThat;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.tourniquet.config.Settings;
import io.tourniquet.config.TourniquetConfig;
import io.tourniquet.signing.CommandSigner;
import io.tourniquet.detect.EventKeys;
import io.tourniquet.signing.SignedAction;
import io.tourniquet.streams.Tags;
import io.tourniquet.json.Json;
import io.tourniquet.model.Action;
import io.tourniquet.model.ActionScope;
import io.tourniquet.model.ControlRequest;
import io.tourniquet.model.DeadLetter;
import io.tourniquet.model.RawRecord;
import io.tourniquet.rules.catalog.RuleCatalog;
import io.tourniquet.rules.RuleVersion;
import io.tourniquet.util.Ids;
import io.tourniquet.util.Times;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.streaming.api.operators.KeyedProcessOperator;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.util.KeyedOneInputStreamOperatorTestHarness;
import org.apache.flink.util.Collector;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class ControlProcessorTest {
    private static final String CONTROL_KEY = "control-key-0123456789-0123456789-0123456789";
    private static final String COMMAND_KEY = "command-key-0123456789-0123456789-0123456789";
    private static final CommandSigner CONTROL = new CommandSigner(CONTROL_KEY);
    private static final CommandSigner COMMANDS = new CommandSigner(COMMAND_KEY);
    private static final long SEC = 1_000L;
    private static final long MIN = 60 * SEC;
    /** Wall clock and processing time of the test: they are the same clock in the job. */
    private static final long NOW = 1_700_000_000_000L;
    /** Defaults: control.max-age 15 min, control.max-future 1 min. */
    private static final long MAX_AGE = 15 * MIN;
    private static final long MAX_FUTURE = MIN;
    private static final String ANALYST = "alice@exchange.example";
    private static final String SECOND_ANALYST = "bob@exchange.example";
    private static final String TOPIC = "tourniquet.control";

    /** The wall clock, moved together with the harness's processing time (one clock in the job). */
    private final io.tourniquet.testing.ManualClock clock = new io.tourniquet.testing.ManualClock(NOW);
    private KeyedOneInputStreamOperatorTestHarness<String, RawRecord, ControlSignal> harness;
    private long offset;

    @BeforeEach
    void open() throws Exception {
        TourniquetConfig cfg = TourniquetConfig.defaults();
        assertThat(cfg.get(Settings.CONTROL_MAX_AGE).toMillis()).isEqualTo(MAX_AGE);
        assertThat(cfg.get(Settings.CONTROL_MAX_FUTURE).toMillis()).isEqualTo(MAX_FUTURE);
        harness = new KeyedOneInputStreamOperatorTestHarness<>(
                new KeyedProcessOperator<>(new ControlProcessor(CONTROL, COMMANDS, cfg, clock)),
                EventKeys.platform(), Types.STRING);
        harness.setProcessingTime(NOW);
        harness.open();
    }

    @AfterEach
    void close() throws Exception {
        harness.close();
    }

    // ---------------------------------------------------------------- helpers

    private static ControlRequest request(String type, String requestId) {
        ControlRequest r = new ControlRequest();
        r.type = type;
        r.requestId = requestId;
        r.requestedBy = ANALYST;
        r.requestedAt = Times.format(NOW - 30 * SEC);
        r.reason = "confirmed with the customer by phone";
        return r;
    }

    private static ControlRequest release(String requestId, String user) {
        ControlRequest r = request(ControlRequest.RELEASE_ACCOUNT, requestId);
        r.userId = user;
        return r;
    }

    private static ControlRequest ruleChange(String requestId, String rule, Map<String, String> params) {
        ControlRequest r = request(ControlRequest.UPDATE_RULE, requestId);
        r.rule = rule;
        r.params = new LinkedHashMap<>(params);
        return r;
    }

    private static ControlRequest verdict(String requestId, String alertId, String label) {
        ControlRequest r = request(ControlRequest.VERDICT, requestId);
        r.alertId = alertId;
        r.label = label;
        r.rule = RuleCatalog.ACCOUNT_DRAIN;
        r.userId = "u1";
        r.alertTime = "2023-11-14T20:00:00.250Z";
        return r;
    }

    /** Bob's approval of the held request {@code approves} (control.two-person is on by default). */
    private static ControlRequest approval(String requestId, String approves) {
        ControlRequest r = request(ControlRequest.APPROVE, requestId);
        r.requestedBy = SECOND_ANALYST;
        r.approves = approves;
        return r;
    }

    private void send(ControlRequest r) throws Exception {
        sendBytes(ControlRequests.sign(r, CONTROL));
    }

    private void sendBytes(byte[] value) throws Exception {
        RawRecord raw = new RawRecord(TOPIC, 0, offset++, null, value, clock.now);
        harness.processElement(new StreamRecord<>(raw, clock.now));
    }

    private void sendText(String json) throws Exception {
        sendBytes(json.getBytes(StandardCharsets.UTF_8));
    }

    private List<ControlSignal> signals() {
        return new ArrayList<>(harness.extractOutputValues());
    }

    private List<SignedAction> actions() {
        return io.tourniquet.testing.BroadcastHarnesses.side(harness, Tags.ANALYST_ACTIONS);
    }

    private List<DeadLetter> deadLetters() {
        return io.tourniquet.testing.BroadcastHarnesses.side(harness, Tags.DEAD_LETTERS);
    }

    private void advanceTo(long wallClock) throws Exception {
        clock.now = wallClock;
        harness.setProcessingTime(wallClock);
    }

    /** One rejection with this code, nothing accepted, no state, no timer. */
    private void assertOnlyRejected(String code, String reasonContains) {
        assertThat(deadLetters()).singleElement().satisfies(d -> {
            assertThat(d.reasonCode).isEqualTo(code);
            assertThat(d.reason).contains(reasonContains);
            assertThat(d.topic).isEqualTo(TOPIC);
            assertThat(d.rejectedAt).isEqualTo(clock.now);
        });
        assertNothingChanged();
    }

    private void assertNothingChanged() {
        assertThat(signals()).isEmpty();
        assertThat(actions()).isEmpty();
        assertThat(harness.numKeyedStateEntries()).isZero();
        assertThat(harness.numProcessingTimeTimers()).isZero();
        assertThat(harness.numEventTimeTimers()).isZero();
    }

    // ---------------------------------------------------------------- accepted requests

    @Test
    void releaseAccountIssuesASignedReleaseCommandForThatAccount() throws Exception {
        ControlRequest r = release("req-1", "u1");
        r.incidentId = "inc-7";
        send(r);

        assertThat(signals()).singleElement().satisfies(s -> {
            assertThat(s.type).isEqualTo(ControlRequest.RELEASE_ACCOUNT);
            assertThat(s.requestId).isEqualTo("req-1");
            assertThat(s.requestedBy).isEqualTo(ANALYST);
            assertThat(s.requestedAt).isEqualTo(NOW - 30 * SEC);
            assertThat(s.reason).isEqualTo("confirmed with the customer by phone");
            assertThat(s.userId).isEqualTo("u1");
            assertThat(s.incidentId).isEqualTo("inc-7");
            assertThat(s.ruleVersion).isNull();
        });
        SignedAction signed = actions().get(0);
        assertThat(actions()).hasSize(1);
        Action a = signed.action;
        assertThat(a.action).isEqualTo("release_account");
        assertThat(a.scope).isEqualTo(ActionScope.user("u1"));
        assertThat(a.reason).isEqualTo("analyst");
        assertThat(a.requestedBy).isEqualTo(ANALYST);
        assertThat(a.requestId).isEqualTo("req-1");
        assertThat(a.incidentId).isEqualTo("inc-7");
        assertThat(a.alertIds).isEmpty();
        assertThat(a.ruleVersion).isNull();
        assertThat(a.eventTime).isEqualTo(NOW - 30 * SEC);
        assertThat(a.issuedAt).isEqualTo(NOW);
        // An analyst's release is short-lived: replayed an hour later it must not undo a new freeze.
        assertThat(a.expiresAt).isEqualTo(NOW + 15 * 60 * SEC);
        assertThat(a.actionId).isEqualTo(Ids.of("action", "req-1", "release_account", "u1"));

        // What enforcers receive: signed under the command key, not the control key.
        JsonNode published = Json.MAPPER.readTree(signed.json);
        assertThat(COMMANDS.verify(published)).isTrue();
        assertThat(CONTROL.verify(published)).isFalse();
        assertThat(published.get("signature").asText()).isEqualTo(a.signature);
        assertThat(published.get("scope").toString()).isEqualTo("{\"user_id\":\"u1\"}");
        assertThat(published.get("reason").asText()).isEqualTo("analyst");
        assertThat(published.get("requested_by").asText()).isEqualTo(ANALYST);
        assertThat(published.get("request_id").asText()).isEqualTo("req-1");
        assertThat(published.get("event_time").asText()).isEqualTo(Times.format(NOW - 30 * SEC));
        assertThat(published.has("rule_version")).isFalse();
        assertThat(deadLetters()).isEmpty();
    }

    @Test
    void resumeWithdrawalsIssuesAPlatformWideResume() throws Exception {
        send(request(ControlRequest.RESUME_WITHDRAWALS, "req-2"));
        send(approval("req-2-ok", "req-2")); // a resume needs a second analyst (TwoPersonApprovalTest)

        assertThat(signals()).singleElement().extracting(s -> s.type).isEqualTo(ControlRequest.RESUME_WITHDRAWALS);
        assertThat(actions()).singleElement().satisfies(signed -> {
            assertThat(signed.action.action).isEqualTo("resume_withdrawals");
            assertThat(signed.action.scope).isEqualTo(ActionScope.platform());
            assertThat(signed.action.reason).isEqualTo("analyst");
            assertThat(signed.action.incidentId).isNull();
            JsonNode published = Json.MAPPER.readTree(signed.json);
            assertThat(COMMANDS.verify(published)).isTrue();
            assertThat(published.get("scope").toString()).isEqualTo("{\"platform\":true}");
            assertThat(published.get("requested_by").asText()).isEqualTo(ANALYST);
            assertThat(published.get("approved_by").asText()).isEqualTo(SECOND_ANALYST);
        });
        assertThat(deadLetters()).isEmpty();
    }

    @Test
    void resolveIncidentIsASignalOnly() throws Exception {
        ControlRequest r = request(ControlRequest.RESOLVE_INCIDENT, "req-3");
        r.incidentId = "inc-7";
        send(r);

        assertThat(signals()).singleElement().satisfies(s -> {
            assertThat(s.type).isEqualTo(ControlRequest.RESOLVE_INCIDENT);
            assertThat(s.incidentId).isEqualTo("inc-7");
        });
        assertThat(actions()).isEmpty();
        assertThat(deadLetters()).isEmpty();
    }

    @Test
    void aVerdictIsASignalWithTheJudgedAlertAndNeverWaitsForASecondAnalyst() throws Exception {
        ControlRequest r = verdict("req-v", "alert-9", ControlRequest.FALSE_POSITIVE);
        r.reason = "the user moved savings to their own cold wallet";
        send(r);

        assertThat(signals()).singleElement().satisfies(s -> {
            assertThat(s.type).isEqualTo(ControlRequest.VERDICT);
            assertThat(s.alertId).isEqualTo("alert-9");
            assertThat(s.label).isEqualTo(ControlRequest.FALSE_POSITIVE);
            assertThat(s.rule).isEqualTo(RuleCatalog.ACCOUNT_DRAIN);
            assertThat(s.userId).isEqualTo("u1");
            assertThat(s.alertTime).isEqualTo(Times.parse("2023-11-14T20:00:00.250Z").toEpochMilli());
            assertThat(s.reason).isEqualTo("the user moved savings to their own cold wallet");
            assertThat(s.requestedBy).isEqualTo(ANALYST);
        });
        assertThat(actions()).isEmpty();
        assertThat(deadLetters()).isEmpty();
    }

    @Test
    void freshnessBoundsAreInclusive() throws Exception {
        ControlRequest oldest = release("req-old", "u1");
        oldest.requestedAt = Times.format(NOW - MAX_AGE);
        ControlRequest newest = release("req-new", "u2");
        newest.requestedAt = Times.format(NOW + MAX_FUTURE);
        send(oldest);
        send(newest);
        assertThat(signals()).extracting(s -> s.requestId).containsExactly("req-old", "req-new");
        assertThat(deadLetters()).isEmpty();
    }

    // ---------------------------------------------------------------- rejected requests

    @Test
    void notJsonIsRejected() throws Exception {
        sendText("release u1 please");
        sendText("[1,2,3]");
        sendText("\"a string\"");
        sendBytes(new byte[0]);
        sendBytes(new byte[] {(byte) 0xff, (byte) 0xfe});
        // Signed, then something appended: what was signed is not all that was sent.
        sendText(new String(ControlRequests.sign(release("req-t", "u1"), CONTROL), StandardCharsets.UTF_8) + " {}");
        // Duplicate keys: other readers might take the other value.
        String signed = new String(ControlRequests.sign(release("req-d", "u1"), CONTROL), StandardCharsets.UTF_8);
        sendText(signed.replace("{\"reason\"", "{\"user_id\":\"u2\",\"reason\""));

        assertThat(deadLetters()).hasSize(7).allSatisfy(d -> assertThat(d.reasonCode).isEqualTo("not_json"));
        assertThat(deadLetters().get(4).originalEncoding).isEqualTo("base64");
        assertNothingChanged();
    }

    @Test
    void unsignedIsRejected() throws Exception {
        sendText(Json.toString(release("req-1", "u1")));
        ObjectNode blank = (ObjectNode) Json.tree(release("req-2", "u1"));
        blank.put("signature", " ");
        sendText(blank.toString());
        ObjectNode nul = (ObjectNode) Json.tree(release("req-3", "u1"));
        nul.putNull("signature");
        sendText(nul.toString());

        assertThat(deadLetters()).hasSize(3).allSatisfy(d -> {
            assertThat(d.reasonCode).isEqualTo("unsigned");
            assertThat(d.reason).contains("signature");
        });
        assertNothingChanged();
    }

    @Test
    void signedWithAnotherKeyIsRejected() throws Exception {
        send(release("req-1", "u1")); // the honest request passes
        assertThat(signals()).hasSize(1);
        assertThat(deadLetters()).isEmpty();
        harness.getOutput().clear();
        harness.getSideOutput(Tags.ANALYST_ACTIONS).clear();

        sendBytes(ControlRequests.sign(release("req-2", "u1"), new CommandSigner(CONTROL_KEY + "x")));
        // The command key is not the control key: an enforcer-side leak cannot release accounts.
        sendBytes(ControlRequests.sign(release("req-3", "u1"), COMMANDS));
        assertThat(deadLetters()).hasSize(2).allSatisfy(d -> assertThat(d.reasonCode).isEqualTo("bad_signature"));
        assertThat(signals()).isEmpty();
        assertThat(actions()).isEmpty();
    }

    @Test
    void alteredAfterSigningIsRejected() throws Exception {
        ObjectNode tampered = (ObjectNode) Json.MAPPER.readTree(ControlRequests.sign(release("req-1", "u1"), CONTROL));
        tampered.put("user_id", "attacker");
        sendText(tampered.toString());
        ObjectNode retyped = (ObjectNode) Json.MAPPER.readTree(ControlRequests.sign(release("req-2", "u1"), CONTROL));
        retyped.put("type", ControlRequest.RESUME_WITHDRAWALS);
        sendText(retyped.toString());
        ObjectNode redated = (ObjectNode) Json.MAPPER.readTree(ControlRequests.sign(release("req-3", "u1"), CONTROL));
        redated.put("requested_at", Times.format(NOW));
        sendText(redated.toString());
        ObjectNode extended = (ObjectNode) Json.MAPPER.readTree(ControlRequests.sign(release("req-4", "u1"), CONTROL));
        extended.put("incident_id", "inc-9");
        sendText(extended.toString());
        // Would be malformed if fields were read before the signature: they are not.
        ObjectNode stripped = (ObjectNode) Json.MAPPER.readTree(ControlRequests.sign(release("req-5", "u1"), CONTROL));
        stripped.remove("request_id");
        stripped.put("type", "delete_everything");
        sendText(stripped.toString());

        assertThat(deadLetters()).hasSize(5).allSatisfy(d -> {
            assertThat(d.reasonCode).isEqualTo("bad_signature");
            assertThat(d.reason).contains("does not verify");
        });
        assertNothingChanged();
    }

    @Test
    void malformedRequestsAreRejectedWithTheFieldNamed() throws Exception {
        Map<String, ControlRequest> cases = new LinkedHashMap<>();
        ControlRequest r;
        r = release("m1", "u1"); r.type = "delete_everything"; cases.put("type", r);
        r = release("m2", "u1"); r.type = null; cases.put("type:", r);
        r = release(null, "u1"); cases.put("request_id", r);
        r = release("m4", "u1"); r.requestedBy = " "; cases.put("requested_by", r);
        r = release("m5", "u1"); r.requestedAt = null; cases.put("requested_at: missing", r);
        r = release("m6", "u1"); r.requestedAt = "yesterday"; cases.put("requested_at: not an RFC 3339", r);
        r = release("m7", "u1"); r.requestedAt = "2023-11-14 22:13:20"; cases.put("requested_at: not an RFC", r);
        r = release("m8", null); cases.put("user_id", r);
        r = request(ControlRequest.RESOLVE_INCIDENT, "m9"); cases.put("incident_id", r);
        r = ruleChange("m10", null, Map.of(Settings.DRAIN_SHARE.key(), "0.7")); cases.put("rule:", r);
        r = ruleChange("m11", RuleCatalog.ACCOUNT_DRAIN, Map.of()); r.params = null; cases.put("params: missing", r);
        r = ruleChange("m12", RuleCatalog.ACCOUNT_DRAIN, Map.of()); cases.put("params: missing (", r);
        Map<String, String> nullValue = new LinkedHashMap<>();
        nullValue.put(Settings.DRAIN_SHARE.key(), null);
        r = ruleChange("m13", RuleCatalog.ACCOUNT_DRAIN, nullValue); cases.put("params.rule.account-drain.share", r);
        r = approval("m15", " "); cases.put("approves: missing", r);
        r = verdict("m16", null, ControlRequest.TRUE_POSITIVE); cases.put("alert_id: missing", r);
        r = verdict("m17", "a1", "maybe"); cases.put("label: expected one of", r);
        r = verdict("m18", "a1", ControlRequest.FALSE_POSITIVE); r.rule = null; cases.put("rule: missing (verdict", r);
        r = verdict("m19", "a1", ControlRequest.FALSE_POSITIVE); r.rule = "no_such_rule"; cases.put("rule: expected one of", r);
        r = verdict("m20", "a1", ControlRequest.FALSE_POSITIVE); r.alertTime = null; cases.put("alert_time: missing", r);
        r = verdict("m21", "a1", ControlRequest.FALSE_POSITIVE); r.alertTime = "last week"; cases.put("alert_time: not an RFC", r);
        for (ControlRequest c : cases.values()) send(c);
        // Signed, but params is not an object of strings.
        ObjectNode wrongShape = (ObjectNode) Json.tree(request(ControlRequest.UPDATE_RULE, "m14"));
        wrongShape.put("rule", RuleCatalog.ACCOUNT_DRAIN);
        wrongShape.put("params", "share=0.7");
        sendBytes(CONTROL.sign(wrongShape));

        List<DeadLetter> dlq = deadLetters();
        assertThat(dlq).hasSize(cases.size() + 1).allSatisfy(d -> assertThat(d.reasonCode).isEqualTo("malformed"));
        List<String> expected = new ArrayList<>(cases.keySet());
        for (int i = 0; i < expected.size(); i++) {
            assertThat(dlq.get(i).reason).as("case %s", expected.get(i)).contains(expected.get(i));
        }
        assertThat(dlq.get(cases.size()).reason).contains("params");
        assertNothingChanged();
    }

    @Test
    void replayedRequestIsRejected() throws Exception {
        send(release("req-1", "u1"));
        send(release("req-1", "u1"));
        // Same id, different content, honestly signed: still the same request id, refused.
        send(release("req-1", "u2"));

        assertThat(signals()).hasSize(1);
        assertThat(actions()).hasSize(1);
        assertThat(deadLetters()).hasSize(2).allSatisfy(d -> {
            assertThat(d.reasonCode).isEqualTo("replayed");
            assertThat(d.reason).contains("req-1");
        });
    }

    @Test
    void expiredRequestIsRejected() throws Exception {
        ControlRequest r = release("req-1", "u1");
        r.requestedAt = Times.format(NOW - MAX_AGE - 1);
        send(r);
        assertOnlyRejected("expired", "control.max-age");
    }

    @Test
    void requestFromTheFutureIsRejected() throws Exception {
        ControlRequest r = release("req-1", "u1");
        r.requestedAt = Times.format(NOW + MAX_FUTURE + 1);
        send(r);
        assertOnlyRejected("from_future", "control.max-future");
    }

    // ---------------------------------------------------------------- rule changes

    @Test
    void ruleChangesMakeConsecutiveVersions() throws Exception {
        send(ruleChange("r1", RuleCatalog.ACCOUNT_DRAIN, Map.of(Settings.DRAIN_SHARE.key(), "0.7")));
        // All three tighten (a lower share and floor, fewer users): none waits for a second analyst.
        send(ruleChange("r2", RuleCatalog.ACCOUNT_DRAIN, Map.of(Settings.DRAIN_FLOOR.key(), "500")));
        send(ruleChange("r3", RuleCatalog.BULK_DRAIN, Map.of(Settings.BULK_MIN_USERS.key(), "3")));

        assertThat(deadLetters()).isEmpty();
        assertThat(actions()).isEmpty();
        List<ControlSignal> s = signals();
        assertThat(s).hasSize(3).allSatisfy(x -> assertThat(x.type).isEqualTo(ControlRequest.UPDATE_RULE));
        RuleVersion v2 = s.get(0).ruleVersion;
        assertThat(v2.rule).isEqualTo(RuleCatalog.ACCOUNT_DRAIN);
        assertThat(v2.version).isEqualTo(2);
        assertThat(v2.get(Settings.DRAIN_SHARE)).isEqualByComparingTo("0.7");
        assertThat(v2.changedBy).isEqualTo(ANALYST);
        assertThat(v2.requestId).isEqualTo("r1");
        assertThat(v2.changedAt).isEqualTo(NOW);
        assertThat(v2.params).containsOnlyKeys(RuleCatalog.initial(RuleCatalog.ACCOUNT_DRAIN,
                TourniquetConfig.defaults()).params.keySet());

        RuleVersion v3 = s.get(1).ruleVersion;
        assertThat(v3.version).isEqualTo(3);
        assertThat(v3.get(Settings.DRAIN_FLOOR)).isEqualByComparingTo("500");
        assertThat(v3.get(Settings.DRAIN_SHARE)).as("the earlier change stays").isEqualByComparingTo("0.7");

        // Every rule counts its own versions.
        assertThat(s.get(2).ruleVersion.rule).isEqualTo(RuleCatalog.BULK_DRAIN);
        assertThat(s.get(2).ruleVersion.version).isEqualTo(2);

        assertThat(updates(s)).extracting(v -> v.rule + " v" + v.version)
                .containsExactly("account_drain v2", "account_drain v3", "bulk_drain v2");
    }

    @Test
    void invalidRuleChangesAreRejectedAndTheVersionDoesNotMove() throws Exception {
        send(ruleChange("r1", RuleCatalog.ACCOUNT_DRAIN, Map.of(Settings.DRAIN_SHARE.key(), "0.7")));
        assertThat(signals()).singleElement().extracting(x -> x.ruleVersion.version).isEqualTo(2);
        harness.getOutput().clear();
        int entries = harness.numKeyedStateEntries();

        send(ruleChange("bad1", RuleCatalog.ACCOUNT_DRAIN, Map.of(Settings.BULK_MIN_USERS.key(), "3")));
        send(ruleChange("bad2", RuleCatalog.ACCOUNT_DRAIN, Map.of(Settings.DRAIN_SHARE.key(), "-1")));
        send(ruleChange("bad3", "no_such_rule", Map.of(Settings.DRAIN_SHARE.key(), "0.5")));
        send(ruleChange("bad4", RuleCatalog.ACCOUNT_DRAIN, Map.of(Settings.DRAIN_WINDOW.key(), "an hour")));
        // Valid alone, invalid with the rest of the rule: the grace may not exceed the validity.
        send(ruleChange("bad5", RuleCatalog.UNAUTHORIZED_APPROVAL, Map.of(Settings.UA_GRACE.key(), "11 min")));

        List<DeadLetter> dlq = deadLetters();
        assertThat(dlq).hasSize(5).allSatisfy(d -> assertThat(d.reasonCode).isEqualTo("invalid_rule_change"));
        assertThat(dlq.get(0).reason).contains("rule.bulk-drain.min-users", "not a setting of rule account_drain");
        assertThat(dlq.get(1).reason).contains("rule.account-drain.share", "-1");
        assertThat(dlq.get(2).reason).contains("unknown rule 'no_such_rule'");
        assertThat(dlq.get(3).reason).contains("rule.account-drain.window");
        assertThat(dlq.get(4).reason).contains(Settings.UA_GRACE.key(), "must not exceed");
        assertThat(signals()).isEmpty();
        assertThat(harness.numKeyedStateEntries()).isEqualTo(entries);

        // Nothing moved: the next valid change is v3, and a rejected id was not remembered.
        send(ruleChange("bad2", RuleCatalog.ACCOUNT_DRAIN, Map.of(Settings.DRAIN_SHARE.key(), "0.6")));
        send(ruleChange("r4", RuleCatalog.UNAUTHORIZED_APPROVAL, Map.of(Settings.UA_VALIDITY.key(), "20 min",
                Settings.UA_GRACE.key(), "11 min")));
        send(approval("r4-ok", "r4")); // longer validity and grace weaken the rule: a second analyst approves
        assertThat(signals()).extracting(x -> x.ruleVersion.rule + " v" + x.ruleVersion.version)
                .containsExactly("account_drain v3", "unauthorized_approval v2");
        assertThat(signals().get(0).ruleVersion.get(Settings.DRAIN_SHARE)).isEqualByComparingTo("0.6");
    }

    private static ControlRequest shadow(String requestId, String rule, Map<String, String> params) {
        ControlRequest r = ruleChange(requestId, rule, params);
        r.mode = ControlRequest.MODE_SHADOW;
        return r;
    }

    private static ControlRequest endShadow(String type, String requestId, String rule) {
        ControlRequest r = request(type, requestId);
        r.rule = rule;
        return r;
    }

    private static String described(RuleVersion v) {
        return v == null ? null : v.rule + " v" + v.version + (v.mode == null ? "" : " " + v.mode);
    }

    @Test
    void aShadowVersionIsNumberedAfterEveryVersionNeverHeldAndPromotedUnderItsNumber() throws Exception {
        // A weaker share as a shadow: it acts on nothing, so it does not wait for a second analyst.
        send(shadow("s1", RuleCatalog.ACCOUNT_DRAIN, Map.of(Settings.DRAIN_SHARE.key(), "0.9")));
        assertThat(deadLetters()).isEmpty();
        assertThat(signals()).singleElement().satisfies(x -> {
            assertThat(described(x.ruleVersion)).isEqualTo("account_drain v2 shadow");
            assertThat(x.ruleVersion.get(Settings.DRAIN_SHARE)).isEqualByComparingTo("0.9");
            assertThat(x.endedShadow).isNull();
        });
        // The version in force moves on meanwhile: after the shadow's number.
        send(ruleChange("r1", RuleCatalog.ACCOUNT_DRAIN, Map.of(Settings.DRAIN_FLOOR.key(), "500")));
        assertThat(described(signals().get(1).ruleVersion)).isEqualTo("account_drain v3");
        // A new shadow replaces the one under evaluation, which ends.
        send(shadow("s2", RuleCatalog.ACCOUNT_DRAIN, Map.of(Settings.DRAIN_SHARE.key(), "0.85")));
        assertThat(signals().get(2)).satisfies(x -> {
            assertThat(described(x.ruleVersion)).isEqualTo("account_drain v4 shadow");
            assertThat(described(x.endedShadow)).isEqualTo("account_drain v2 shadow_ended");
            assertThat(x.ruleVersion.get(Settings.DRAIN_FLOOR)).as("made from the version in force")
                    .isEqualByComparingTo("500");
        });
        // Promoting it weakens the version in force (share 0.8 -> 0.85): held until Bob approves.
        send(endShadow(ControlRequest.PROMOTE_RULE, "p1", RuleCatalog.ACCOUNT_DRAIN));
        assertThat(signals()).hasSize(3);
        send(approval("p1-ok", "p1"));
        ControlSignal promoted = signals().get(3);
        assertThat(promoted.type).isEqualTo(ControlRequest.PROMOTE_RULE);
        assertThat(promoted.approvedBy).isEqualTo(SECOND_ANALYST);
        assertThat(described(promoted.ruleVersion)).as("nothing changed since: its own number").isEqualTo("account_drain v4");
        assertThat(promoted.ruleVersion.get(Settings.DRAIN_SHARE)).isEqualByComparingTo("0.85");
        assertThat(described(promoted.endedShadow)).isEqualTo("account_drain v4 shadow_ended");
        assertThat(promoted.ruleVersion.promotedFrom).as("ends its shadow at the same record").isEqualTo(4);
        // The broadcast gets the promoted version first, then the shadow's end.
        assertThat(updates(List.of(promoted))).extracting(ControlProcessorTest::described)
                .containsExactly("account_drain v4", "account_drain v4 shadow_ended");

        // Nothing left to promote or drop; the next change is v5.
        send(endShadow(ControlRequest.PROMOTE_RULE, "p2", RuleCatalog.ACCOUNT_DRAIN));
        send(endShadow(ControlRequest.DROP_SHADOW, "d1", RuleCatalog.ACCOUNT_DRAIN));
        assertThat(deadLetters()).extracting(d -> d.reasonCode + ": " + d.reason).containsExactly(
                "invalid_rule_change: no shadow version of rule account_drain is under evaluation, nothing to promote"
                        + " (start one with update_rule, mode shadow)",
                "invalid_rule_change: no shadow version of rule account_drain is under evaluation, nothing to drop"
                        + " (start one with update_rule, mode shadow)");
        send(ruleChange("r2", RuleCatalog.ACCOUNT_DRAIN, Map.of(Settings.DRAIN_SHARE.key(), "0.7")));
        assertThat(described(signals().get(4).ruleVersion)).isEqualTo("account_drain v5");
    }

    @Test
    void aDroppedShadowChangesNothingInForceAndOtherRulesHaveNoShadows() throws Exception {
        send(shadow("s1", RuleCatalog.NEW_ADDRESS_WITHDRAWAL, Map.of(Settings.NEW_ADDRESS_AGE.key(), "2 h")));
        send(endShadow(ControlRequest.DROP_SHADOW, "d1", RuleCatalog.NEW_ADDRESS_WITHDRAWAL));
        assertThat(signals()).extracting(x -> described(x.ruleVersion) + " / " + described(x.endedShadow))
                .containsExactly("new_address_withdrawal v2 shadow / null",
                        "null / new_address_withdrawal v2 shadow_ended");
        send(shadow("s2", RuleCatalog.BULK_DRAIN, Map.of(Settings.BULK_MIN_USERS.key(), "3")));
        send(shadow("s3", RuleCatalog.UNAUTHORIZED_APPROVAL, Map.of(Settings.UA_GRACE.key(), "1 min")));
        ControlRequest badMode = ruleChange("s4", RuleCatalog.ACCOUNT_DRAIN, Map.of(Settings.DRAIN_SHARE.key(), "0.7"));
        badMode.mode = "canary";
        send(badMode);
        assertThat(deadLetters()).extracting(d -> d.reasonCode + ": " + d.reason).containsExactly(
                "invalid_rule_change: rule bulk_drain has no shadow versions: they are evaluated for"
                        + " [account_drain, new_address_withdrawal] only",
                "invalid_rule_change: rule unauthorized_approval has no shadow versions: they are evaluated for"
                        + " [account_drain, new_address_withdrawal] only",
                "malformed: mode: expected active or shadow, got canary");
        // The version in force never moved: the next change of the rule is v3 (after the dropped v2).
        send(ruleChange("r1", RuleCatalog.NEW_ADDRESS_WITHDRAWAL, Map.of(Settings.NEW_ADDRESS_AGE.key(), "48 h")));
        assertThat(signals().get(2).ruleVersion).satisfies(v -> {
            assertThat(described(v)).isEqualTo("new_address_withdrawal v3");
            assertThat(v.get(Settings.NEW_ADDRESS_AGE)).isEqualTo(java.time.Duration.ofHours(48));
        });
    }

    // ---------------------------------------------------------------- state

    @Test
    void replayMemoryDrainsAfterMaxAgeAndRuleVersionsStay() throws Exception {
        // Dated as far ahead as is accepted: it stays fresh the longest, up to the last millisecond
        // the replay memory keeps it.
        ControlRequest first = release("req-1", "u1");
        first.requestedAt = Times.format(NOW + MAX_FUTURE);
        send(first);
        send(release("req-2", "u2"));
        send(ruleChange("req-3", RuleCatalog.ACCOUNT_DRAIN, Map.of(Settings.DRAIN_SHARE.key(), "0.7")));
        assertThat(signals()).hasSize(3);
        // One platform key: the replay memory (one map) and the rule versions (one map).
        assertThat(harness.numKeyedStateEntries()).isEqualTo(2);
        assertThat(harness.numProcessingTimeTimers()).isEqualTo(1);

        long forgetAt = NOW + MAX_FUTURE + MAX_AGE + 1;
        advanceTo(forgetAt - 1);
        assertThat(harness.numKeyedStateEntries()).isEqualTo(2);
        send(first); // still remembered
        assertThat(deadLetters()).singleElement().extracting(d -> d.reasonCode).isEqualTo("replayed");

        advanceTo(forgetAt);
        assertThat(harness.numKeyedStateEntries()).as("only the rule versions remain").isEqualTo(1);
        assertThat(harness.numProcessingTimeTimers()).isZero();
        assertThat(harness.numEventTimeTimers()).isZero();

        // Forgotten, but no longer fresh either: refused as expired, and nothing comes back.
        send(first);
        assertThat(deadLetters()).extracting(d -> d.reasonCode).containsExactly("replayed", "expired");
        assertThat(signals()).hasSize(3);
        assertThat(actions()).hasSize(2);
        assertThat(harness.numKeyedStateEntries()).isEqualTo(1);
        assertThat(harness.numProcessingTimeTimers()).isZero();

        // The rule's version survived the drain: the next change is v3.
        ControlRequest later = ruleChange("req-4", RuleCatalog.ACCOUNT_DRAIN, Map.of(Settings.DRAIN_FLOOR.key(), "500"));
        later.requestedAt = Times.format(forgetAt);
        send(later);
        assertThat(signals().get(3).ruleVersion.version).isEqualTo(3);
        assertThat(signals().get(3).ruleVersion.get(Settings.DRAIN_SHARE)).isEqualByComparingTo("0.7");
    }

    @Test
    void withoutRuleChangesAllStateDrains() throws Exception {
        send(release("req-1", "u1"));
        advanceTo(NOW + 5 * MIN);
        ControlRequest second = release("req-2", "u2");
        second.requestedAt = Times.format(NOW + 5 * MIN);
        send(second);
        assertThat(harness.numKeyedStateEntries()).isEqualTo(1);
        assertThat(harness.numProcessingTimeTimers()).isEqualTo(2);

        advanceTo(NOW + MAX_AGE + MAX_FUTURE + 1);
        assertThat(harness.numKeyedStateEntries()).as("req-2 is still remembered").isEqualTo(1);
        assertThat(harness.numProcessingTimeTimers()).isEqualTo(1);
        advanceTo(NOW + 5 * MIN + MAX_AGE + MAX_FUTURE + 1);
        assertThat(harness.numKeyedStateEntries()).isZero();
        assertThat(harness.numProcessingTimeTimers()).isZero();
        assertThat(harness.numEventTimeTimers()).isZero();
    }

    private static List<RuleVersion> updates(List<ControlSignal> signals) {
        List<RuleVersion> out = new ArrayList<>();
        RuleUpdates fn = new RuleUpdates();
        Collector<RuleVersion> collector = new Collector<>() {
            @Override
            public void collect(RuleVersion v) {
                out.add(v);
            }

            @Override
            public void close() {}
        };
        for (ControlSignal s : signals) fn.flatMap(s, collector);
        ControlSignal release = new ControlSignal();
        release.type = ControlRequest.RELEASE_ACCOUNT;
        fn.flatMap(release, collector);
        return out;
    }
}
