package io.tourniquet.detect;

import io.tourniquet.detect.job.DetectSinks;
import io.tourniquet.detect.job.DetectJob;
import io.tourniquet.signing.SignedAction;
import io.tourniquet.signing.CommandSigner;
import io.tourniquet.util.SerializableClock;
import static org.assertj.core.api.Assertions.assertThat;
import io.tourniquet.config.Settings;
import io.tourniquet.config.TourniquetConfig;
import io.tourniquet.json.Json;
import io.tourniquet.model.Alert;
import io.tourniquet.model.DeadLetter;
import io.tourniquet.model.EnrichedEvent;
import io.tourniquet.model.RawRecord;
import io.tourniquet.testing.CollectingSink;
import io.tourniquet.testing.RawRecords;
import io.tourniquet.testing.SharedMiniCluster;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** The whole detect topology on the shared MiniCluster with bounded input and collecting sinks. */
@ExtendWith(SharedMiniCluster.class)
class DetectWorkflowITCase {
    static final String KEY = "workflow-test-key-0123456789abcdef0123";
    static final String W = "exchange.wallet.withdrawals";
    static final String M = "exchange.auth.mfa";
    static final String L = "exchange.auth.logins";

    static String approval(String id, String user, String wid, String challenge, String time) {
        return "{\"event_id\":\"" + id + "\",\"event_time\":\"" + time + "\",\"user_id\":\"" + user
                + "\",\"session_id\":\"s\",\"ip\":\"203.0.113.9\",\"device_id\":\"d\",\"withdrawal_id\":\"" + wid
                + "\",\"status\":\"approved\",\"asset\":\"ETH\",\"network\":\"ethereum\",\"amount\":\"10.5\","
                + "\"usd_value\":33000,\"destination_address\":\"0xbad\",\"mfa_challenge_id\":"
                + (challenge == null ? "null" : "\"" + challenge + "\"")
                + ",\"approval_channel\":\"internal\",\"approval_service\":\"withdrawal-approver\","
                + "\"approval_service_version\":\"2.14.0-rc1\"}";
    }

    static String verified(String id, String user, String wid, String challenge, String time) {
        return "{\"event_id\":\"" + id + "\",\"event_time\":\"" + time + "\",\"user_id\":\"" + user
                + "\",\"action\":\"challenge_verified\",\"challenge_id\":\"" + challenge
                + "\",\"method\":\"totp\",\"purpose\":\"withdrawal\",\"withdrawal_id\":\"" + wid + "\"}";
    }

    static String login(String id, String user, String time) {
        return "{\"event_id\":\"" + id + "\",\"event_time\":\"" + time + "\",\"user_id\":\"" + user
                + "\",\"outcome\":\"success\",\"auth_method\":\"password\",\"device_jailbroken\":false,"
                + "\"geo\":null,\"ip\":\"198.51.100.1\"}";
    }

    @Test
    void detectsAlertsSignsCommandsDeadLettersAndDeduplicatesAcrossKeysOutOfOrder() throws Exception {
        List<RawRecord> input = new RawRecords()
                .add(L, login("l1", "u1", "2022-01-17T10:00:00Z"))
                .add(W, approval("a-u2", "u2", "w2", "c2", "2022-01-17T10:00:20Z")) // verification comes later
                .add(W, approval("a-u1", "u1", "w1", null, "2022-01-17T10:00:10Z")) // January 2022 pattern
                .add(W, approval("a-u3", "u3", "w3", "c-bogus", "2022-01-17T10:00:05Z"))
                .add(M, verified("m-u4", "u4", "w4", "c4", "2022-01-17T10:00:00Z"))
                .add(W, approval("a-u4", "u4", "w4", "c4", "2022-01-17T10:00:30Z"))
                .add(W, approval("a-u4", "u4", "w4", "c4", "2022-01-17T10:00:30Z")) // redelivered
                .add(M, verified("m-u2", "u2", "w2", "c2", "2022-01-17T10:00:18+00:00"))
                .add(W, "{not json")
                .add(W, approval("a-neg", "u5", "w5", null, "2022-01-17T10:00:00Z").replace("\"10.5\"", "\"-10.5\""))
                .add(L, login("l2", "u9", "2022-01-17T10:05:00Z"))
                .list();

        CollectingSink<Alert> alerts = CollectingSink.named("wf-alerts");
        CollectingSink<SignedAction> actions = CollectingSink.named("wf-actions");
        CollectingSink<EnrichedEvent> enriched = CollectingSink.named("wf-enriched");
        CollectingSink<DeadLetter> dlq = CollectingSink.named("wf-dlq");
        TourniquetConfig cfg = TourniquetConfig.defaults().with(Map.of(Settings.SIGNING_KEY.key(), KEY,
                Settings.CONTROL_KEY.key(), KEY));

        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
        env.setParallelism(SharedMiniCluster.PARALLELISM);
        DetectJob.defineWorkflow(
                env.fromData(input, TypeInformation.of(RawRecord.class)).uid("test-input").name("test input")
                        .assignTimestampsAndWatermarks(DetectJob.watermarks(cfg)).uid("test-watermarks"),
                io.tourniquet.testing.ControlRecords.none(env),
                new DetectSinks(alerts, actions, enriched, dlq, CollectingSink.named("wf-incidents"),
                        CollectingSink.named("wf-notifications")),
                cfg, SerializableClock.fixed(1_700_000_000_000L));
        env.execute("detect-workflow-test");

        assertThat(alerts.results()).extracting(a -> a.userId + ":" + a.evidence.reason)
                .containsExactlyInAnyOrder("u1:no_challenge", "u3:unknown_challenge");

        CommandSigner verifier = new CommandSigner(KEY);
        assertThat(actions.results()).hasSize(6).allSatisfy(a ->
                assertThat(verifier.verify(Json.MAPPER.readTree(a.json))).as("signature of " + a).isTrue());
        assertThat(actions.results()).extracting(a -> a.action.action + ":" + a.action.scope.keyValue())
                .containsExactlyInAnyOrder("freeze_account:u1", "hold_withdrawal:w1", "revoke_mfa_tokens:u1",
                        "freeze_account:u3", "hold_withdrawal:w3", "revoke_mfa_tokens:u3");

        assertThat(dlq.results()).extracting(d -> d.reasonCode + "@" + d.offset)
                .containsExactlyInAnyOrder("not_json@5", "invalid_value@6");
        assertThat(dlq.results()).allSatisfy(d -> assertThat(d.topic).isEqualTo(W));

        Map<String, EnrichedEvent> byId = enriched.results().stream()
                .collect(Collectors.toMap(e -> e.event.eventId, e -> e));
        assertThat(enriched.results()).as("one per valid unique event").hasSize(8);
        assertThat(byId.get("a-u1").mfaAuthorized).isFalse();
        assertThat(byId.get("a-u2").mfaAuthorized).isTrue();
        assertThat(byId.get("a-u3").mfaAuthorized).isFalse();
        assertThat(byId.get("a-u4").mfaAuthorized).isTrue();
        assertThat(byId.get("l1").mfaAuthorized).isNull();
        assertThat(byId.get("a-u1").alertIds).hasSize(1);
    }
}
