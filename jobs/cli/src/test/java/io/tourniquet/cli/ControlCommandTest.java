package io.tourniquet.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import com.fasterxml.jackson.databind.JsonNode;
import io.tourniquet.config.Settings;
import io.tourniquet.config.TourniquetConfig;
import io.tourniquet.control.ControlProcessor;
import io.tourniquet.control.ControlRequests;
import io.tourniquet.signing.CommandSigner;
import io.tourniquet.detect.EventKeys;
import io.tourniquet.util.SerializableClock;
import io.tourniquet.json.Json;
import io.tourniquet.model.ControlRequest;
import io.tourniquet.control.ControlSignal;
import io.tourniquet.model.RawRecord;
import io.tourniquet.util.Times;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.util.HexFormat;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import java.time.Instant;
import java.util.Map;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.streaming.api.operators.KeyedProcessOperator;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.util.KeyedOneInputStreamOperatorTestHarness;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

class ControlCommandTest {
    private static final String KEY = "control-key-0123456789-0123456789-0123456789";
    private static final Instant NOW = Instant.parse("2022-01-17T10:00:00Z");
    private static final TourniquetConfig CFG =
            TourniquetConfig.load(Map.of(), Map.of(Settings.CONTROL_KEY.key(), KEY));

    private final StringWriter out = new StringWriter();
    private final StringWriter err = new StringWriter();

    /** Through the real entry point, so the subcommand's registration is tested too. */
    private int run(String... args) {
        CommandLine cl = Main.commandLine();
        cl.setOut(new PrintWriter(out, true));
        cl.setErr(new PrintWriter(err, true));
        return cl.execute(args);
    }

    /** Parses {@code control <args>} and signs what they make, dated {@link #NOW}. */
    private static ControlCommand.Signed prepare(TourniquetConfig cfg, String... args) {
        CommandLine cl = new CommandLine(new ControlCommand());
        CommandLine.ParseResult parsed = cl.parseArgs(args);
        ControlCommand.Request sub = (ControlCommand.Request) parsed.subcommand().commandSpec().userObject();
        return sub.prepare(cfg, NOW);
    }

    @Test
    void anAnalystsKeyIdTravelsSignedInTheRequest() throws Exception {
        ControlCommand.Signed s = prepare(CFG.with(java.util.Map.of(Settings.CONTROL_KEY_ID.key(), "alice-2026")),
                "release", "--user", "u1", "--by", "alice@exchange.example", "--reason", "confirmed");
        JsonNode published = Json.MAPPER.readTree(s.json());
        assertThat(published.path("key_id").asText()).isEqualTo("alice-2026");
        assertThat(new CommandSigner(KEY).verify(published)).isTrue();
        assertThat(Json.MAPPER.readTree(prepare(CFG, "release", "--user", "u1", "--by", "a", "--reason", "r").json())
                .has("key_id")).as("no key id configured: none sent").isFalse();
    }

    @Test
    void releaseBuildsASignedRequestTheControlKeyVerifies() throws Exception {
        ControlCommand.Signed s = prepare(CFG, "release", "--user", "u1", "--incident", "inc-7",
                "--by", "alice@exchange.example", "--reason", "customer confirmed by phone", "--request-id", "req-1");

        JsonNode published = Json.MAPPER.readTree(s.json());
        assertThat(new CommandSigner(KEY).verify(published)).isTrue();
        assertThat(new CommandSigner(KEY + "-other").verify(published)).isFalse();
        assertThat(s.request().signature).isEqualTo(published.get("signature").asText()).startsWith("hmac-sha256:");
        // Canonical (keys sorted, no whitespace), only the fields that are set, and the signature is
        // an HMAC computed independently over the same form without it.
        String unsigned = "{\"incident_id\":\"inc-7\",\"reason\":\"customer confirmed by phone\","
                + "\"request_id\":\"req-1\",\"requested_at\":\"2022-01-17T10:00:00.000Z\","
                + "\"requested_by\":\"alice@exchange.example\",\"type\":\"release_account\",\"user_id\":\"u1\"}";
        Mac mac = Mac.getInstance("HmacSHA256");
        mac.init(new SecretKeySpec(KEY.getBytes(StandardCharsets.UTF_8), "HmacSHA256"));
        String expected = "hmac-sha256:" + HexFormat.of().formatHex(mac.doFinal(unsigned.getBytes(StandardCharsets.UTF_8)));
        assertThat(s.request().signature).isEqualTo(expected);
        assertThat(s.text()).isEqualTo(unsigned.replace(",\"type\"", ",\"signature\":\"" + expected + "\",\"type\""));
        assertThat(ControlRequests.problemWith(s.request())).isNull();
    }

    @Test
    void everySubcommandMakesItsType() throws Exception {
        ControlCommand.Signed resume = prepare(CFG, "resume", "--by", "bob", "--reason", "contained");
        assertThat(resume.request().type).isEqualTo(ControlRequest.RESUME_WITHDRAWALS);
        assertThat(resume.request().requestId).as("a random UUID by default").hasSize(36);
        assertThat(prepare(CFG, "resume", "--by", "bob", "--reason", "x").request().requestId)
                .isNotEqualTo(resume.request().requestId);

        ControlCommand.Signed resolve = prepare(CFG, "resolve", "--incident", "inc-7", "--by", "bob", "--reason", "done");
        assertThat(resolve.request().type).isEqualTo(ControlRequest.RESOLVE_INCIDENT);
        assertThat(resolve.request().incidentId).isEqualTo("inc-7");

        ControlCommand.Signed rule = prepare(CFG, "rule", "--rule", "account_drain",
                "--param", "rule.account-drain.share=0.7", "--param", "rule.account-drain.floor-usd=5000",
                "--by", "bob", "--reason", "too many false positives");
        assertThat(rule.request().type).isEqualTo(ControlRequest.UPDATE_RULE);
        assertThat(rule.request().rule).isEqualTo("account_drain");
        assertThat(rule.request().params).containsExactly(Map.entry("rule.account-drain.share", "0.7"),
                Map.entry("rule.account-drain.floor-usd", "5000"));
        for (ControlCommand.Signed s : new ControlCommand.Signed[] {resume, resolve, rule}) {
            assertThat(new CommandSigner(KEY).verify(Json.MAPPER.readTree(s.text()))).isTrue();
        }
    }

    @Test
    void shadowVersionsArePromotedOrDroppedByRuleAndTheJobAcceptsThem() throws Exception {
        ControlCommand.Signed shadow = prepare(CFG, "rule", "--rule", "account_drain", "--shadow",
                "--param", "rule.account-drain.share=0.9", "--by", "bob", "--reason", "try a higher share", "--request-id", "s-1");
        assertThat(Json.MAPPER.readTree(shadow.json()).path("mode").asText()).isEqualTo("shadow");
        assertThat(ControlCommand.heldNote(CFG, shadow.request())).as("a shadow acts on nothing: never held").isNull();
        assertThat(acceptedByTheJob(shadow).ruleVersion).satisfies(v -> {
            assertThat(v.mode).isEqualTo("shadow");
            assertThat(v.version).isEqualTo(2);
        });
        ControlCommand.Signed promote = prepare(CFG, "promote", "--rule", "account_drain", "--by", "bob", "--reason", "r");
        assertThat(promote.request().type).isEqualTo(ControlRequest.PROMOTE_RULE);
        assertThat(promote.request().rule).isEqualTo("account_drain");
        assertThat(ControlCommand.heldNote(CFG, promote.request())).contains("weakens the rule in force",
                "control approve --request " + promote.request().requestId);
        ControlCommand.Signed drop = prepare(CFG, "drop-shadow", "--rule", "new_address_withdrawal", "--by", "b", "--reason", "r");
        assertThat(drop.request().type).isEqualTo(ControlRequest.DROP_SHADOW);
        assertThat(new CommandSigner(KEY).verify(Json.MAPPER.readTree(drop.json()))).isTrue();

        assertThatThrownBy(() -> prepare(CFG, "rule", "--rule", "bulk_drain", "--shadow",
                "--param", "rule.bulk-drain.min-users=3", "--by", "b", "--reason", "r"))
                .hasMessageContaining("rule bulk_drain has no shadow versions");
        assertThatThrownBy(() -> prepare(CFG, "promote", "--rule", "no_such_rule", "--by", "b", "--reason", "r"))
                .hasMessageContaining("no_such_rule");
    }

    @Test
    void approveNamesTheHeldRequestAndTravelsOnItsPartition() throws Exception {
        ControlCommand.Signed approve = prepare(CFG, "approve", "--request", "resume-7", "--by", "carol",
                "--reason", "checked the wallet rotation with alice", "--request-id", "a-1");
        assertThat(approve.request().type).isEqualTo(ControlRequest.APPROVE);
        assertThat(approve.request().approves).isEqualTo("resume-7");
        JsonNode published = Json.MAPPER.readTree(approve.json());
        assertThat(new CommandSigner(KEY).verify(published)).isTrue();
        assertThat(published.get("approves").asText()).isEqualTo("resume-7");
        // Keyed like the request it approves: same partition, so never read before it.
        assertThat(ControlCommand.recordKey(approve.request())).isEqualTo("resume-7");
        ControlCommand.Signed resume = prepare(CFG, "resume", "--by", "alice", "--reason", "x", "--request-id", "resume-7");
        assertThat(ControlCommand.recordKey(resume.request())).isEqualTo("resume-7");

        // What the sender of a request the job will hold is told.
        assertThat(ControlCommand.heldNote(CFG, resume.request())).contains(
                "held by the job until a second analyst approves it",
                "tourniquet control approve --request resume-7", "control.approval-window (15 min)");
        assertThat(ControlCommand.heldNote(CFG, prepare(CFG, "rule", "--rule", "account_drain",
                "--param", "rule.account-drain.share=0.9", "--by", "a", "--reason", "r").request()))
                .startsWith("if it weakens the rule, held");
        assertThat(ControlCommand.heldNote(CFG, prepare(CFG, "release", "--user", "u1", "--by", "a", "--reason", "r")
                .request())).isNull();
        assertThat(ControlCommand.heldNote(CFG.with(Map.of(Settings.CONTROL_TWO_PERSON.key(), "false")),
                resume.request())).isNull();

        assertThat(run("control", "approve", "--by", "bob", "--reason", "x", "--print")).isEqualTo(2);
        assertThat(err.toString()).contains("--request");
    }

    @Test
    void theJobAcceptsWhatTheCommandSigns() throws Exception {
        ControlCommand.Signed s = prepare(CFG, "rule", "--rule", "account_drain",
                "--param", "rule.account-drain.share=0.7", "--by", "bob", "--reason", "tuning", "--request-id", "r-1");
        assertThat(acceptedByTheJob(s)).satisfies(signal -> {
            assertThat(signal.requestId).isEqualTo("r-1");
            assertThat(signal.ruleVersion.version).isEqualTo(2);
            assertThat(signal.ruleVersion.params).containsEntry("rule.account-drain.share", "0.7");
        });
    }

    /** The one signal the job's control processor makes of the signed bytes; nothing dead-lettered. */
    private static ControlSignal acceptedByTheJob(ControlCommand.Signed s) throws Exception {
        ControlProcessor fn = new ControlProcessor(new CommandSigner(KEY), new CommandSigner(KEY + "-commands"),
                TourniquetConfig.defaults(), SerializableClock.fixed(NOW.toEpochMilli()));
        try (var h = new KeyedOneInputStreamOperatorTestHarness<String, RawRecord, ControlSignal>(
                new KeyedProcessOperator<>(fn), EventKeys.platform(), Types.STRING)) {
            h.setProcessingTime(NOW.toEpochMilli());
            h.open();
            h.processElement(new StreamRecord<>(new RawRecord("tourniquet.control", 0, 0, null, s.json(), -1), 0));
            assertThat(h.getSideOutput(io.tourniquet.streams.Tags.DEAD_LETTERS)).isNull();
            assertThat(h.extractOutputValues()).hasSize(1);
            return h.extractOutputValues().get(0);
        }
    }

    @Test
    void printWritesTheSignedRequestAndSendsNothing() throws Exception {
        int code = run("control", "resolve", "--incident", "inc-7", "--by", "bob", "--reason", "done",
                "--print", "-s", "signing.control-key=" + KEY, "--kafka", "127.0.0.1:1");
        assertThat(code).as(err.toString()).isZero();
        JsonNode printed = Json.MAPPER.readTree(out.toString().trim());
        assertThat(new CommandSigner(KEY).verify(printed)).isTrue();
        assertThat(printed.get("type").asText()).isEqualTo("resolve_incident");
        assertThat(Times.parse(printed.get("requested_at").asText())).isNotNull();
    }

    @Test
    void missingOrShortControlKeyIsAClearError() {
        TourniquetConfig noKey = TourniquetConfig.load(Map.of(), Map.of());
        assertThatThrownBy(() -> prepare(noKey, "resume", "--by", "bob", "--reason", "x"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("no control key")
                .hasMessageContaining("TOURNIQUET_SIGNING_CONTROL_KEY")
                .hasMessageContaining("at least 32 bytes");
        assertThatThrownBy(() -> ControlRequests.controlSigner(noKey)).hasMessageContaining("no control key");

        int code = run("control", "resume", "--by", "bob", "--reason", "x", "--print",
                "-s", "signing.control-key=only-twenty-chars-ok");
        assertThat(code).isEqualTo(2);
        assertThat(err.toString()).contains("control key too short", "TOURNIQUET_SIGNING_CONTROL_KEY", "32 bytes");
        assertThat(out.toString()).isEmpty();
    }

    @Test
    void ruleChangesAreCheckedBeforeSigning() {
        assertThatThrownBy(() -> prepare(CFG, "rule", "--rule", "no_such_rule", "--param", "rule.account-drain.share=0.7",
                "--by", "bob", "--reason", "x")).hasMessageContaining("unknown rule 'no_such_rule'");
        assertThatThrownBy(() -> prepare(CFG, "rule", "--rule", "account_drain", "--param", "rule.bulk-drain.min-users=3",
                "--by", "bob", "--reason", "x")).hasMessageContaining("not a setting of rule account_drain");
        assertThatThrownBy(() -> prepare(CFG, "rule", "--rule", "account_drain", "--param", "rule.account-drain.share=-1",
                "--by", "bob", "--reason", "x")).hasMessageContaining("rule.account-drain.share: '-1' must be between");

        int code = run("control", "rule", "--rule", "account_drain", "--param", "rule.account-drain.share=lots",
                "--by", "bob", "--reason", "x", "--print", "-s", "signing.control-key=" + KEY);
        assertThat(code).isEqualTo(2);
        assertThat(err.toString()).contains("rule.account-drain.share");
        assertThat(out.toString()).isEmpty();
    }

    @Test
    void requiredOptionsAndSubcommand() {
        assertThat(run("control", "release", "--by", "bob", "--reason", "x", "--print")).isEqualTo(2);
        assertThat(err.toString()).contains("--user");
        assertThat(run("control", "release", "--user", "u1", "--reason", "x", "--print")).isEqualTo(2);
        assertThat(err.toString()).contains("--by");
        assertThat(run("control", "resolve", "--by", "bob", "--reason", "x", "--print")).isEqualTo(2);
        assertThat(err.toString()).contains("--incident");
        assertThat(run("control", "rule", "--rule", "account_drain", "--by", "bob", "--reason", "x")).isEqualTo(2);
        assertThat(err.toString()).contains("--param");
        assertThat(run("control")).isEqualTo(2);
        assertThat(err.toString()).contains("missing subcommand");
    }

    @Test
    void claimSubcommandsNameTheClaimAndAreCheckedBeforeSigning() throws Exception {
        ControlCommand.Signed doc = prepare(CFG, "claim-document", "--user", "u1", "--incident", "inc-7",
                "--document", "police_report", "--by", "bob", "--reason", "received by post");
        assertThat(doc.request().type).isEqualTo(ControlRequest.CLAIM_DOCUMENT);
        assertThat(doc.request().document).isEqualTo("police_report");
        ControlCommand.Signed decision = prepare(CFG, "claim-decision", "--user", "u1", "--incident", "inc-7",
                "--decision", "approve", "--by", "bob", "--reason", "all conditions met");
        assertThat(decision.request().decision).isEqualTo("approve");
        assertThat(ControlCommand.heldNote(CFG, decision.request())).contains("second analyst approves the payout");
        ControlCommand.Signed open = prepare(CFG, "open-claim", "--user", "u1", "--incident", "inc-7",
                "--by", "bob", "--reason", "victim asked before resolution");
        assertThat(open.request().type).isEqualTo(ControlRequest.OPEN_CLAIM);
        for (ControlCommand.Signed s : new ControlCommand.Signed[] {doc, decision, open}) {
            assertThat(new CommandSigner(KEY).verify(Json.MAPPER.readTree(s.text()))).isTrue();
            assertThat(s.request().userId).isEqualTo("u1");
            assertThat(s.request().incidentId).isEqualTo("inc-7");
        }

        assertThat(run("control", "claim-document", "--user", "u1", "--incident", "inc-7", "--document", "selfie",
                "--by", "bob", "--reason", "x", "--print", "-s", "signing.control-key=" + KEY)).isEqualTo(2);
        assertThat(err.toString()).contains("document: expected one of [police_report, questionnaire], got selfie");
        assertThat(out.toString()).isEmpty();
    }

    @Test
    void verdictCarriesTheJudgedAlertAndTheJobAcceptsIt() throws Exception {
        ControlCommand.Signed v = prepare(CFG, "verdict", "--alert", "alert-9", "--label", "false_positive",
                "--rule", "account_drain", "--user", "u1", "--alert-time", "2022-01-17T09:00:00Z",
                "--by", "bob", "--note", "user moved savings to their own wallet", "--request-id", "r-v");
        ControlRequest r = v.request();
        assertThat(r.type).isEqualTo(ControlRequest.VERDICT);
        assertThat(r.alertId).isEqualTo("alert-9");
        assertThat(r.label).isEqualTo("false_positive");
        assertThat(r.rule).isEqualTo("account_drain");
        assertThat(r.userId).isEqualTo("u1");
        assertThat(r.alertTime).isEqualTo("2022-01-17T09:00:00Z");
        assertThat(r.reason).as("--note is the request's reason").isEqualTo("user moved savings to their own wallet");
        assertThat(new CommandSigner(KEY).verify(Json.MAPPER.readTree(v.text()))).isTrue();

        assertThat(acceptedByTheJob(v)).satisfies(signal -> {
            assertThat(signal.alertId).isEqualTo("alert-9");
            assertThat(signal.alertTime).isEqualTo(Instant.parse("2022-01-17T09:00:00Z").toEpochMilli());
        });
    }

    @Test
    void aVerdictsLabelIsCheckedBeforeAnyLookUpAndAFailedLookUpSaysWhatToGive() {
        // No --rule/--alert-time and Elasticsearch unreachable: the label is refused first all the same.
        assertThat(run("control", "verdict", "--alert", "a1", "--label", "maybe", "--by", "bob", "--note", "x",
                "--print", "-s", "signing.control-key=" + KEY, "-s", "elasticsearch.url=http://127.0.0.1:1")).isEqualTo(2);
        assertThat(err.toString()).contains("label: expected one of [true_positive, false_positive, benign_true_positive], got maybe");
        assertThat(out.toString()).isEmpty();

        assertThatThrownBy(() -> prepare(CFG.with(Map.of(Settings.ES_URL.key(), "http://127.0.0.1:1")), "verdict",
                "--alert", "a1", "--label", "true_positive", "--by", "bob", "--note", "x"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("cannot look up alert a1 in tourniquet-alerts")
                .hasMessageContaining("give --rule, --alert-time and --user yourself");
    }
}
