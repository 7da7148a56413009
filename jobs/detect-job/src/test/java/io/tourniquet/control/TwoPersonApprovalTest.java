package io.tourniquet.control;

import static org.assertj.core.api.Assertions.assertThat;
import com.fasterxml.jackson.databind.JsonNode;
import io.tourniquet.config.Setting;
import io.tourniquet.config.Settings;
import io.tourniquet.config.TourniquetConfig;
import io.tourniquet.signing.CommandSigner;
import io.tourniquet.detect.EventKeys;
import io.tourniquet.signing.SignedAction;
import io.tourniquet.streams.Tags;
import io.tourniquet.json.Json;
import io.tourniquet.model.ControlRequest;
import io.tourniquet.model.DeadLetter;
import io.tourniquet.model.RawRecord;
import io.tourniquet.rules.catalog.RuleCatalog;
import io.tourniquet.rules.RuleVersion;
import io.tourniquet.util.Ids;
import io.tourniquet.util.Times;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.runtime.checkpoint.OperatorSubtaskState;
import org.apache.flink.streaming.api.operators.KeyedProcessOperator;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.util.KeyedOneInputStreamOperatorTestHarness;
import org.apache.flink.types.PojoTestUtils;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Two-person approval ({@code control.two-person}, on by default): a resume and a rule change that
 * weakens a rule wait, held in the control operator's keyed state, for an {@code approve} from a
 * different analyst within {@code control.approval-window}; everything else takes effect at once.
 * One shared control key here; with analysts' own keys see {@link AnalystKeysTest}.
 */
class TwoPersonApprovalTest {
    private static final String CONTROL_KEY = "control-key-0123456789-0123456789-0123456789";
    private static final String COMMAND_KEY = "command-key-0123456789-0123456789-0123456789";
    private static final CommandSigner CONTROL = new CommandSigner(CONTROL_KEY);
    private static final long SEC = 1_000L;
    private static final long MIN = 60 * SEC;
    private static final long NOW = 1_700_000_000_000L;
    /** Defaults: control.approval-window 15 min, control.max-age 15 min, control.max-future 1 min. */
    private static final long WINDOW = 15 * MIN;
    private static final long MAX_AGE = 15 * MIN;
    private static final long MAX_FUTURE = MIN;
    /** A request held at NOW is approvable up to here, inclusive. */
    private static final long LAST_CHANCE = NOW + WINDOW;
    /** ... and its outcome is forgotten here, when no approval signed in the window can still be fresh. */
    private static final long FORGET_HELD = LAST_CHANCE + MAX_FUTURE + MAX_AGE + 1;
    private static final String ALICE = "alice@exchange.example";
    private static final String BOB = "bob@exchange.example";
    private static final String CAROL = "carol@exchange.example";
    private static final String TOPIC = "tourniquet.control";

    /** The wall clock, moved together with the harness's processing time (one clock in the job). */
    private final io.tourniquet.testing.ManualClock clock = new io.tourniquet.testing.ManualClock(NOW);
    private KeyedOneInputStreamOperatorTestHarness<String, RawRecord, ControlSignal> harness;
    private long offset;

    private void open(TourniquetConfig cfg, OperatorSubtaskState restoreFrom) throws Exception {
        harness = new KeyedOneInputStreamOperatorTestHarness<>(
                new KeyedProcessOperator<>(new ControlProcessor(CONTROL, new CommandSigner(COMMAND_KEY), cfg, clock)),
                EventKeys.platform(), Types.STRING);
        harness.setProcessingTime(clock.now);
        if (restoreFrom != null) harness.initializeState(restoreFrom);
        harness.open();
    }

    private void open() throws Exception {
        TourniquetConfig cfg = TourniquetConfig.defaults();
        assertThat(cfg.get(Settings.CONTROL_TWO_PERSON)).as("on by default").isTrue();
        assertThat(cfg.get(Settings.CONTROL_APPROVAL_WINDOW).toMillis()).isEqualTo(WINDOW);
        assertThat(cfg.get(Settings.CONTROL_MAX_AGE).toMillis()).isEqualTo(MAX_AGE);
        assertThat(cfg.get(Settings.CONTROL_MAX_FUTURE).toMillis()).isEqualTo(MAX_FUTURE);
        open(cfg, null);
    }

    @AfterEach
    void close() throws Exception {
        if (harness != null) harness.close();
    }

    // ---------------------------------------------------------------- helpers

    /** Signed by {@code by} a few seconds before the test clock's now. */
    private ControlRequest request(String type, String requestId, String by) {
        ControlRequest r = new ControlRequest();
        r.type = type;
        r.requestId = requestId;
        r.requestedBy = by;
        r.requestedAt = Times.format(clock.now - 5 * SEC);
        r.reason = "checked with the wallet team";
        return r;
    }

    private ControlRequest resume(String requestId) {
        return request(ControlRequest.RESUME_WITHDRAWALS, requestId, ALICE);
    }

    private ControlRequest approval(String requestId, String approves, String by) {
        ControlRequest r = request(ControlRequest.APPROVE, requestId, by);
        r.approves = approves;
        return r;
    }

    private ControlRequest ruleChange(String requestId, String rule, Map<String, String> params) {
        ControlRequest r = request(ControlRequest.UPDATE_RULE, requestId, ALICE);
        r.rule = rule;
        r.params = new LinkedHashMap<>(params);
        return r;
    }

    private void send(ControlRequest r) throws Exception {
        sendBytes(ControlRequests.sign(r, CONTROL));
    }

    private void sendBytes(byte[] value) throws Exception {
        harness.processElement(new StreamRecord<>(new RawRecord(TOPIC, 0, offset++, null, value, clock.now), clock.now));
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

    private List<String> rejections() {
        return deadLetters().stream().map(d -> d.reasonCode + ": " + d.reason).toList();
    }

    private void advanceTo(long wallClock) throws Exception {
        clock.now = wallClock;
        harness.setProcessingTime(wallClock);
    }

    private void assertDrained() {
        assertThat(harness.numKeyedStateEntries()).isZero();
        assertThat(harness.numProcessingTimeTimers()).isZero();
        assertThat(harness.numEventTimeTimers()).isZero();
    }

    // ---------------------------------------------------------------- resume

    @Test
    void aResumeTakesEffectOnlyOnceASecondAnalystApprovesItThenItsStateDrains() throws Exception {
        open();
        send(resume("resume-1"));
        assertThat(signals()).as("held: nothing happens yet").isEmpty();
        assertThat(actions()).isEmpty();
        assertThat(deadLetters()).isEmpty();
        assertThat(harness.numKeyedStateEntries()).as("replay memory and the held request").isEqualTo(2);

        advanceTo(NOW + 5 * MIN);
        send(approval("approve-1", "resume-1", BOB));

        assertThat(deadLetters()).isEmpty();
        assertThat(signals()).singleElement().satisfies(s -> {
            assertThat(s.type).isEqualTo(ControlRequest.RESUME_WITHDRAWALS);
            assertThat(s.requestId).isEqualTo("resume-1");
            assertThat(s.requestedBy).isEqualTo(ALICE);
            assertThat(s.approvedBy).isEqualTo(BOB);
            assertThat(s.requestedAt).isEqualTo(NOW - 5 * SEC);
        });
        assertThat(actions()).singleElement().satisfies(signed -> {
            // The command an unheld resume makes, issued at approval, with the approver named.
            assertThat(signed.action.action).isEqualTo("resume_withdrawals");
            assertThat(signed.action.actionId).isEqualTo(Ids.of("action", "resume-1", "resume_withdrawals", "platform"));
            assertThat(signed.action.requestId).isEqualTo("resume-1");
            assertThat(signed.action.requestedBy).isEqualTo(ALICE);
            assertThat(signed.action.approvedBy).isEqualTo(BOB);
            assertThat(signed.action.eventTime).isEqualTo(NOW - 5 * SEC);
            assertThat(signed.action.issuedAt).isEqualTo(NOW + 5 * MIN);
            JsonNode published = Json.MAPPER.readTree(signed.json);
            assertThat(new CommandSigner(COMMAND_KEY).verify(published)).isTrue();
            assertThat(published.get("approved_by").asText()).isEqualTo(BOB);
        });

        // The outcome is kept while a late approval could still be fresh, then all of it drains.
        advanceTo(FORGET_HELD - 1);
        assertThat(harness.numKeyedStateEntries()).isEqualTo(1);
        advanceTo(FORGET_HELD);
        assertDrained();
    }

    @Test
    void aSelfApprovalIsRefusedAndTheRequestStaysHeldForAnotherAnalyst() throws Exception {
        open();
        send(resume("resume-1"));
        send(approval("approve-1", "resume-1", ALICE));
        // With one shared key names are all there is; a differently written name is no second person.
        send(approval("approve-2", "resume-1", " ALICE@Exchange.example"));

        assertThat(rejections()).containsExactly(
                "self_approval: approves resume-1, which alice@exchange.example requested: a second analyst must approve it",
                "self_approval: approves resume-1, which alice@exchange.example requested: a second analyst must approve it");
        assertThat(signals()).isEmpty();
        assertThat(actions()).isEmpty();

        send(approval("approve-3", "resume-1", BOB));
        assertThat(actions()).singleElement().satisfies(a -> assertThat(a.action.approvedBy).isEqualTo(BOB));
    }

    @Test
    void anApprovalAppliesOnceHoweverOftenItOrAnotherArrives() throws Exception {
        open();
        send(resume("resume-1"));
        byte[] approve = ControlRequests.sign(approval("approve-1", "resume-1", BOB), CONTROL);
        sendBytes(approve);
        sendBytes(approve);
        send(approval("approve-2", "resume-1", CAROL));
        // And the held request itself, sent again, is a replay: it cannot start a new window.
        send(resume("resume-1"));

        assertThat(actions()).hasSize(1);
        assertThat(signals()).hasSize(1);
        assertThat(rejections()).containsExactly(
                "replayed: request_id approve-1: already accepted",
                "already_approved: approves resume-1, already approved by bob@exchange.example and applied once",
                "replayed: request_id resume-1: already accepted");
    }

    @Test
    void withoutApprovalTheResumeExpiresToTheDlqAndALateApprovalIsRefused() throws Exception {
        open();
        send(resume("resume-1"));

        advanceTo(LAST_CHANCE);
        assertThat(deadLetters()).as("approvable to the last millisecond").isEmpty();
        advanceTo(LAST_CHANCE + 1);
        // Nothing disappears unseen: the request itself is dead-lettered when its window ends.
        assertThat(deadLetters()).singleElement().satisfies(d -> {
            assertThat(d.reasonCode).isEqualTo("approval_expired");
            assertThat(d.offset).isZero();
            assertThat(d.original).contains("\"request_id\":\"resume-1\"");
            assertThat(d.reason).contains("resume_withdrawals request resume-1 by alice@exchange.example",
                    "lifts the platform-wide suspension", "control.approval-window (15 min)", "not applied");
            assertThat(d.rejectedAt).isEqualTo(LAST_CHANCE + 1);
        });

        send(approval("approve-1", "resume-1", BOB));
        assertThat(rejections()).hasSize(2).last().isEqualTo("approval_expired: approves resume-1, whose approval"
                + " window (control.approval-window, 15 min) ended at " + Times.format(LAST_CHANCE)
                + "; it was not applied");
        assertThat(signals()).isEmpty();
        assertThat(actions()).isEmpty();

        advanceTo(FORGET_HELD);
        assertDrained();
        // Forgotten now: an approval this late names nothing the job knows.
        send(approval("approve-2", "resume-1", BOB));
        assertThat(rejections()).last().asString().startsWith("unknown_request: approves resume-1");
        assertDrained();
    }

    @Test
    void anApprovalOfNothingHeldIsRefused() throws Exception {
        open();
        ControlRequest release = request(ControlRequest.RELEASE_ACCOUNT, "release-1", ALICE);
        release.userId = "u1";
        send(release); // never held: a release only lifts one account's freeze
        assertThat(actions()).singleElement().satisfies(a -> assertThat(a.action.approvedBy).isNull());

        send(approval("approve-1", "release-1", BOB));
        send(approval("approve-2", "no-such-request", BOB));
        assertThat(rejections()).containsExactly(
                "unknown_request: approves release-1: no request by that id is held for approval (none was, or it was"
                        + " decided long ago)",
                "unknown_request: approves no-such-request: no request by that id is held for approval (none was, or"
                        + " it was decided long ago)");
        assertThat(signals()).hasSize(1);
        assertThat(harness.numKeyedStateEntries()).as("only the release's replay memory").isEqualTo(1);
    }

    // ---------------------------------------------------------------- rule changes

    @Test
    void aRuleChangeThatWeakensWaitsForApprovalOneThatTightensDoesNot() throws Exception {
        open();
        // A higher share makes account_drain fire less: held.
        send(ruleChange("weaker", RuleCatalog.ACCOUNT_DRAIN, Map.of(Settings.DRAIN_SHARE.key(), "0.9")));
        // Tightening one setting does not carry a weakening of another.
        send(ruleChange("mixed", RuleCatalog.ACCOUNT_DRAIN, Map.of(Settings.DRAIN_FLOOR.key(), "500",
                Settings.DRAIN_WINDOW.key(), "30 min")));
        assertThat(signals()).isEmpty();
        // A lower floor makes it fire more: at once.
        send(ruleChange("tighter", RuleCatalog.ACCOUNT_DRAIN, Map.of(Settings.DRAIN_FLOOR.key(), "500")));
        assertThat(signals()).extracting(s -> s.ruleVersion.version + " " + s.ruleVersion.requestId)
                .containsExactly("2 tighter");

        send(approval("ok-weaker", "weaker", BOB));
        List<ControlSignal> s = signals();
        assertThat(s).hasSize(2);
        RuleVersion v3 = s.get(1).ruleVersion;
        // Made from the version in force at approval, not the one the request was checked against.
        assertThat(v3.version).isEqualTo(3);
        assertThat(v3.requestId).isEqualTo("weaker");
        assertThat(v3.changedBy).isEqualTo(ALICE);
        assertThat(s.get(1).approvedBy).isEqualTo(BOB);
        assertThat(v3.get(Settings.DRAIN_SHARE)).isEqualByComparingTo("0.9");
        assertThat(v3.get(Settings.DRAIN_FLOOR)).isEqualByComparingTo("500");
        assertThat(deadLetters()).isEmpty();

        // The mixed one nobody approved: dead-lettered, naming what it would have weakened.
        advanceTo(LAST_CHANCE + 1);
        assertThat(deadLetters()).singleElement().satisfies(d -> {
            assertThat(d.reasonCode).isEqualTo("approval_expired");
            assertThat(d.reason).contains("update_rule request mixed", "weakens rule account_drain",
                    "rule.account-drain.window 1 h -> 30 min").doesNotContain("floor-usd");
        });
        assertThat(signals()).hasSize(2);
    }

    @Test
    void anApprovedChangeThatNoLongerFitsTheThresholdsInForceIsRefusedWithItsApproval() throws Exception {
        open();
        send(ruleChange("longer-grace", RuleCatalog.UNAUTHORIZED_APPROVAL,
                Map.of(Settings.UA_GRACE.key(), "9 min"))); // weakens; valid under the 10 min validity
        // Meanwhile a shorter validity (tightening, at once): the grace may not exceed it.
        send(ruleChange("shorter-validity", RuleCatalog.UNAUTHORIZED_APPROVAL,
                Map.of(Settings.UA_VALIDITY.key(), "8 min")));
        assertThat(signals()).extracting(x -> x.requestId).containsExactly("shorter-validity");

        send(approval("ok", "longer-grace", BOB));
        assertThat(deadLetters()).hasSize(2).allSatisfy(d -> {
            assertThat(d.reasonCode).isEqualTo("invalid_rule_change");
            assertThat(d.reason).contains(Settings.UA_GRACE.key(), "must not exceed");
        });
        assertThat(deadLetters().get(0).original).contains("\"approves\":\"longer-grace\"");
        assertThat(deadLetters().get(1).original).contains("\"request_id\":\"longer-grace\"");
        assertThat(signals()).hasSize(1);

        // No longer held, and the refused approval was not remembered: it names nothing now.
        send(approval("ok", "longer-grace", CAROL));
        assertThat(rejections()).last().asString().startsWith("unknown_request");
    }

    /**
     * The direction that weakens each rule setting, as declared beside it in {@code Settings}: one
     * row per setting, from its default (freeze: from on) to a weaker and to a tighter value.
     */
    @Test
    void everyRuleSettingDeclaresWhichDirectionWeakensIt() {
        record Row(Setting<?> setting, String from, String weaker, String tighter) {}
        List<Row> rows = List.of(
                new Row(Settings.UA_GRACE, "5 s", "10 s", "1 s"),
                new Row(Settings.UA_SKEW, "5 s", "10 s", "1 s"),
                new Row(Settings.UA_VALIDITY, "10 min", "20 min", "5 min"),
                new Row(Settings.UA_MAX_WAIT, "15 s", "1 min", "5 s"),
                new Row(Settings.UA_MAX_CHALLENGES, "1000", "2000", "100"),
                new Row(Settings.DRAIN_WINDOW, "1 h", "30 min", "2 h"),
                new Row(Settings.DRAIN_SHARE, "0.8", "0.9", "0.5"),
                new Row(Settings.DRAIN_FLOOR, "1000", "5000", "500"),
                new Row(Settings.DRAIN_REQUEST_RETENTION, "24 h", "1 h", "48 h"),
                new Row(Settings.NEW_ADDRESS_AGE, "24 h", "1 h", "48 h"),
                new Row(Settings.BULK_WINDOW, "10 min", "5 min", "30 min"),
                new Row(Settings.BULK_MIN_USERS, "5", "10", "3"),
                new Row(Settings.CONCENTRATION_WINDOW, "10 min", "5 min", "30 min"),
                new Row(Settings.CONCENTRATION_MIN_USERS, "5", "10", "3"),
                new Row(Settings.INCIDENT_GAP, "1 h", "3 h", "10 min"),
                new Row(Settings.ANOMALY_SEVERITY, "medium", "low", "critical"),
                new Row(Settings.ANOMALY_FREEZE, "true", "false", "true"));
        for (Row r : rows) {
            String key = r.setting().key();
            assertThat(r.setting().weakens(r.from(), r.weaker())).as(key + " " + r.from() + " -> " + r.weaker()).isTrue();
            assertThat(r.setting().weakens(r.from(), r.tighter())).as(key + " " + r.from() + " -> " + r.tighter())
                    .isFalse();
            assertThat(r.setting().weakens(r.from(), r.from())).as(key + " unchanged").isFalse();
            assertThat(r.setting().description()).as(key).contains("weakens the rule: a second analyst approves");
        }
        // Values compare as values, not as text.
        assertThat(Settings.UA_VALIDITY.weakens("10 min", "600 s")).isFalse();
        assertThat(Settings.DRAIN_SHARE.weakens("0.8", "0.80")).isFalse();
        assertThat(Settings.ANOMALY_SEVERITY.weakens("medium", "LOW")).isTrue();

        // A model: activating one where none was only adds alerts; switching it off or to another may not.
        String none = Settings.NO_MODEL;
        String sha = "a".repeat(64);
        assertThat(Settings.ANOMALY_MODEL_VERSION.weakens(none, "m1")).isFalse();
        assertThat(Settings.ANOMALY_MODEL_SHA256.weakens(none, sha)).isFalse();
        assertThat(Settings.ANOMALY_MODEL_VERSION.weakens("m1", none)).isTrue();
        assertThat(Settings.ANOMALY_MODEL_VERSION.weakens("m1", "m2")).isTrue();
        assertThat(Settings.ANOMALY_MODEL_SHA256.weakens(sha, "b".repeat(64))).isTrue();
        assertThat(Settings.ANOMALY_MODEL_VERSION.weakens("m1", "m1")).isFalse();

        // Every rule setting has a row (or is a model pin above): a new one must be decided here too.
        List<String> covered = new ArrayList<>(rows.stream().map(r -> r.setting().key()).toList());
        covered.add(Settings.ANOMALY_MODEL_VERSION.key());
        covered.add(Settings.ANOMALY_MODEL_SHA256.key());
        List<String> all = RuleCatalog.rules().stream()
                .flatMap(rule -> RuleCatalog.settingsOf(rule).stream()).map(Setting::key).toList();
        assertThat(covered).containsExactlyInAnyOrderElementsOf(all);
    }

    // ---------------------------------------------------------------- the setting, and restarts

    @Test
    void withTwoPersonOffEveryRequestTakesEffectAtOnceAsBefore() throws Exception {
        open(TourniquetConfig.defaults().with(Map.of(Settings.CONTROL_TWO_PERSON.key(), "false")), null);
        send(resume("resume-1"));
        send(ruleChange("weaker", RuleCatalog.BULK_DRAIN, Map.of(Settings.BULK_MIN_USERS.key(), "10")));
        assertThat(signals()).extracting(s -> s.requestId).containsExactly("resume-1", "weaker");
        assertThat(signals()).allSatisfy(s -> assertThat(s.approvedBy).isNull());
        assertThat(actions()).singleElement().satisfies(a -> {
            assertThat(a.action.action).isEqualTo("resume_withdrawals");
            assertThat(Json.MAPPER.readTree(a.json).has("approved_by")).isFalse();
        });

        send(approval("approve-1", "resume-1", BOB));
        assertThat(rejections()).containsExactly("unknown_request: approves resume-1: no request by that id is held"
                + " for approval (control.two-person is off)");
    }

    @Test
    void aHeldRequestSurvivesACheckpointAndRestoreAndItsExpiryTimerToo() throws Exception {
        open();
        send(resume("resume-1"));
        send(resume("resume-2"));
        OperatorSubtaskState snapshot = harness.snapshot(1L, clock.now);
        harness.close();

        // A new operator instance from the checkpoint: one is approved, the other expires on time.
        clock.now = NOW + MIN; // the new harness starts at the clock's time
        harness = null;
        offset = 2;
        open(TourniquetConfig.defaults(), snapshot);
        send(approval("approve-1", "resume-1", BOB));
        assertThat(actions()).singleElement().satisfies(a -> {
            assertThat(a.action.requestId).isEqualTo("resume-1");
            assertThat(a.action.approvedBy).isEqualTo(BOB);
        });
        advanceTo(LAST_CHANCE + 1);
        assertThat(rejections()).singleElement().asString().startsWith("approval_expired: resume_withdrawals request"
                + " resume-2");
        advanceTo(FORGET_HELD);
        assertDrained();
    }

    @Test
    void theHeldStateIsAPojoWithoutKryo() {
        // Checkpoints and savepoints keep it with Flink's POJO serializer, which can evolve it.
        PojoTestUtils.assertSerializedAsPojoWithoutKryo(HeldRequest.class);
    }

    // ---------------------------------------------------------------- claims

    private ControlRequest claimDecision(String requestId, String decision, String by) {
        ControlRequest r = request(ControlRequest.CLAIM_DECISION, requestId, by);
        r.userId = "u1";
        r.incidentId = "inc-1";
        r.decision = decision;
        return r;
    }

    @Test
    void approvingAClaimPaysOutSoItWaitsForASecondAnalystDenyingDoesNot() throws Exception {
        open();
        send(claimDecision("deny-1", ControlRequest.DENY_CLAIM, ALICE));
        send(claimDecision("pay-1", ControlRequest.APPROVE_CLAIM, ALICE));
        assertThat(signals()).extracting(x -> x.requestId + "/" + x.decision).containsExactly("deny-1/deny");

        send(approval("approve-pay-1", "pay-1", ALICE));
        assertThat(rejections()).singleElement().asString().startsWith("self_approval");
        send(approval("approve-pay-2", "pay-1", BOB));
        assertThat(signals()).extracting(x -> x.requestId + "/" + x.decision + "/" + x.approvedBy + "/" + x.userId)
                .containsExactly("deny-1/deny/null/u1", "pay-1/approve/" + BOB + "/u1");
    }

    @Test
    void claimRequestsMustNameTheClaimTheDocumentAndTheDecisionsReason() throws Exception {
        open();
        ControlRequest noUser = claimDecision("c1", ControlRequest.DENY_CLAIM, ALICE);
        noUser.userId = null;
        ControlRequest noReason = claimDecision("c2", ControlRequest.DENY_CLAIM, ALICE);
        noReason.reason = " ";
        ControlRequest badDecision = claimDecision("c3", "pay_double", ALICE);
        ControlRequest badDocument = request(ControlRequest.CLAIM_DOCUMENT, "c4", ALICE);
        badDocument.userId = "u1";
        badDocument.incidentId = "inc-1";
        badDocument.document = "selfie";
        for (ControlRequest r : List.of(noUser, noReason, badDecision, badDocument)) send(r);
        assertThat(signals()).isEmpty();
        assertThat(rejections()).containsExactly(
                "malformed: user_id: missing (claim_decision names the claimant)",
                "malformed: reason: missing (a claim decision says why)",
                "malformed: decision: expected approve or deny, got pay_double",
                "malformed: document: expected one of [police_report, questionnaire], got selfie");
    }
}
