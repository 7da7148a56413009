package io.tourniquet.detect;

import io.tourniquet.detect.job.ActionPlanner;
import io.tourniquet.signing.ActionExpiry;
import io.tourniquet.signing.SignedAction;
import io.tourniquet.signing.CommandSigner;
import io.tourniquet.util.SerializableClock;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.tourniquet.json.Json;
import io.tourniquet.model.Alert;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import org.apache.flink.streaming.api.operators.StreamFlatMap;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.util.OneInputStreamOperatorTestHarness;
import org.junit.jupiter.api.Test;

class CommandSignerTest {
    private static final String KEY = "test-key-0123456789-0123456789-0123456789";
    private static final long ISSUED = 1_700_000_000_000L;

    private static List<SignedAction> plan(Alert alert) throws Exception {
        ActionPlanner planner = new ActionPlanner(new CommandSigner(KEY, "k7"), ActionExpiry.defaults(), SerializableClock.fixed(ISSUED));
        try (var h = new OneInputStreamOperatorTestHarness<>(new StreamFlatMap<>(planner))) {
            h.open();
            h.processElement(new StreamRecord<>(alert, alert.eventTime));
            return new ArrayList<>(h.extractOutputValues());
        }
    }

    private static Alert alert() {
        Alert a = new Alert();
        a.alertId = "0123456789abcdef0123456789abcdef";
        a.rule = "unauthorized_approval";
        a.ruleVersion = 3;
        a.severity = "high";
        a.eventTime = java.time.Instant.parse("2022-01-17T10:00:00Z").toEpochMilli();
        a.userId = "u1";
        a.withdrawalId = "w1";
        return a;
    }

    @Test
    void unauthorizedApprovalFreezesHoldsAndRevokesWithTheContractsCanonicalSignature() throws Exception {
        List<SignedAction> actions = plan(alert());
        assertThat(actions).extracting(s -> s.action.action)
                .containsExactly("freeze_account", "hold_withdrawal", "revoke_mfa_tokens");

        SignedAction hold = actions.get(1);
        String published = new String(hold.json, StandardCharsets.UTF_8);
        // The canonical form written out by hand: keys sorted, no whitespace.
        String unsigned = "{\"action\":\"hold_withdrawal\",\"action_id\":\"" + hold.action.actionId + "\","
                + "\"alert_ids\":[\"0123456789abcdef0123456789abcdef\"],\"event_time\":\"2022-01-17T10:00:00.000Z\","
                + "\"expires_at\":\"2023-11-14T23:13:20.000Z\","
                + "\"incident_id\":null,\"issued_at\":\"2023-11-14T22:13:20.000Z\",\"key_id\":\"k7\","
                + "\"reason\":\"unauthorized_approval\","
                + "\"rule_version\":3,\"scope\":{\"user_id\":\"u1\",\"withdrawal_id\":\"w1\"}}";
        Mac mac = Mac.getInstance("HmacSHA256");
        mac.init(new SecretKeySpec(KEY.getBytes(StandardCharsets.UTF_8), "HmacSHA256"));
        String expected = "hmac-sha256:" + HexFormat.of().formatHex(mac.doFinal(unsigned.getBytes(StandardCharsets.UTF_8)));
        assertThat(hold.action.signature).isEqualTo(expected);
        assertThat(published).isEqualTo(
                unsigned.substring(0, unsigned.length() - 1) + ",\"signature\":\"" + expected + "\"}");
        assertThat(new CommandSigner(KEY).verify(Json.MAPPER.readTree(hold.json))).isTrue();
    }

    @Test
    void eachActionKindExpiresAfterItsOwnSetting() throws Exception {
        ActionExpiry expiry = ActionExpiry.from(io.tourniquet.config.TourniquetConfig.load(java.util.Map.of(),
                java.util.Map.of("action.freeze-account.expire-after", "5 min")));
        ActionPlanner planner = new ActionPlanner(new CommandSigner(KEY, "2026-q4"), expiry, SerializableClock.fixed(ISSUED));
        List<SignedAction> actions;
        try (var h = new OneInputStreamOperatorTestHarness<>(new StreamFlatMap<>(planner))) {
            h.open();
            h.processElement(new StreamRecord<>(alert(), alert().eventTime));
            actions = new ArrayList<>(h.extractOutputValues());
        }
        assertThat(actions).extracting(s -> s.action.action + " " + (s.action.expiresAt - ISSUED) / 60_000 + " " + s.action.keyId)
                .containsExactly("freeze_account 5 2026-q4", "hold_withdrawal 60 2026-q4", "revoke_mfa_tokens 60 2026-q4");
        // Both are signed: changing either breaks the signature.
        var tree = (com.fasterxml.jackson.databind.node.ObjectNode) Json.MAPPER.readTree(actions.get(0).json);
        tree.put("expires_at", "2099-01-01T00:00:00.000Z");
        assertThat(new CommandSigner(KEY).verify(tree)).isFalse();
    }

    @Test
    void tamperedOrForeignSignaturesDoNotVerify() throws Exception {
        SignedAction freeze = plan(alert()).get(0);
        JsonNode record = Json.MAPPER.readTree(freeze.json);
        CommandSigner signer = new CommandSigner(KEY);
        ObjectNode tampered = record.deepCopy();
        ((ObjectNode) tampered.get("scope")).put("user_id", "someone-else");
        assertThat(signer.verify(tampered)).isFalse();
        ObjectNode unsigned = record.deepCopy();
        unsigned.remove("signature");
        assertThat(signer.verify(unsigned)).isFalse();
        assertThat(new CommandSigner(KEY + "x").verify(record)).isFalse();
    }

    @Test
    void actionIdsDependOnlyOnTheTrigger() throws Exception {
        List<String> first = plan(alert()).stream().map(s -> s.action.actionId).toList();
        List<String> again = plan(alert()).stream().map(s -> s.action.actionId).toList();
        assertThat(again).isEqualTo(first).doesNotHaveDuplicates();
        Alert other = alert();
        other.alertId = "ffffffffffffffffffffffffffffffff";
        assertThat(plan(other).get(0).action.actionId).isNotEqualTo(first.get(0));
    }

    @Test
    void refusesShortKeys() {
        assertThatThrownBy(() -> new CommandSigner("short")).hasMessageContaining("at least 32 bytes");
    }
}
