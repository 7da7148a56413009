package io.tourniquet.detect;

import io.tourniquet.detect.job.DetectSinks;
import io.tourniquet.detect.job.DetectJob;
import io.tourniquet.signing.SignedAction;
import io.tourniquet.signing.CommandSigner;
import io.tourniquet.util.SerializableClock;
import static io.tourniquet.detect.DetectWorkflowITCase.approval;
import static org.assertj.core.api.Assertions.assertThat;
import io.tourniquet.config.Settings;
import io.tourniquet.config.TourniquetConfig;
import io.tourniquet.json.Json;
import io.tourniquet.model.Alert;
import io.tourniquet.model.ControlRequest;
import io.tourniquet.model.DeadLetter;
import io.tourniquet.model.EnrichedEvent;
import io.tourniquet.model.Incident;
import io.tourniquet.model.Notification;
import io.tourniquet.model.RawRecord;
import io.tourniquet.testing.CollectingSink;
import io.tourniquet.testing.ControlRecords;
import io.tourniquet.testing.RawRecords;
import io.tourniquet.testing.SharedMiniCluster;
import java.math.BigDecimal;
import java.util.Comparator;
import java.util.List;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A bulk 2FA-bypass attack through the whole detect topology at parallelism 2: victims' keys land
 * on both subtasks, yet the platform rules count them together, the suspension is issued once,
 * and the incident's impact is exact. Analysts' requests arrive on the control input.
 */
@ExtendWith(SharedMiniCluster.class)
class ContainmentWorkflowITCase {
    static final String KEY = "containment-test-key-0123456789abcdef";
    static final String CONTROL_KEY = "containment-control-key-0123456789abcdef";
    static final long NOW = 1_700_000_000_000L;
    static final String W = "exchange.wallet.withdrawals";
    static final String A = "exchange.account.changes";

    static String phishingCode(String id, String user, String code, String time) {
        return "{\"event_id\":\"" + id + "\",\"event_time\":\"" + time + "\",\"user_id\":\"" + user
                + "\",\"action\":\"anti_phishing_code_set\",\"anti_phishing_code\":\"" + code + "\"}";
    }

    @Test
    void aBulkAttackIsContainedOnceWithExactImpactAndAnalystsRequestsAreVerified() throws Exception {
        RawRecords in = new RawRecords();
        in.add(A, phishingCode("p-v1", "v1", "Blue Heron 42", "2022-01-10T09:00:00Z"));
        in.add(A, phishingCode("p-v1b", "v1", "blue heron 43!", "2022-01-12T09:00:00Z"));
        // Seven victims 20 s apart, arriving out of order; amounts with up to 18 fraction digits.
        String[] amounts = {"1.000000000000000001", "0.5", "2.25", "0.333333333333333333", "1", "3.1", "0.000000000000000009"};
        int[] order = {2, 0, 1, 4, 3, 6, 5};
        for (int i : order) {
            String time = String.format("2022-01-17T10:%02d:%02dZ", (i * 20) / 60, (i * 20) % 60);
            in.add(W, approval("a-v" + i, "v" + i, "w" + i, null, time).replace("\"10.5\"", "\"" + amounts[i] + "\""));
        }
        List<RawRecord> events = in.list();

        TourniquetConfig cfg = TourniquetConfig.defaults().with(java.util.Map.of(
                Settings.SIGNING_KEY.key(), KEY, Settings.CONTROL_KEY.key(), CONTROL_KEY));
        String topic = cfg.get(Settings.TOPIC_CONTROL);
        ControlRequest release = ControlRecords.request("r-1", ControlRequest.RELEASE_ACCOUNT, "alice@sec", NOW - 60_000);
        release.userId = "v0";
        ControlRequest forged = ControlRecords.request("r-2", ControlRequest.RESUME_WITHDRAWALS, "mallory", NOW - 60_000);
        List<RawRecord> control = new ControlRecords(topic, CONTROL_KEY)
                .signed(release)
                .signed(release) // replayed
                .unsigned(forged)
                .list();

        CollectingSink<Alert> alerts = CollectingSink.named("cw-alerts");
        CollectingSink<SignedAction> actions = CollectingSink.named("cw-actions");
        CollectingSink<EnrichedEvent> enriched = CollectingSink.named("cw-enriched");
        CollectingSink<DeadLetter> dlq = CollectingSink.named("cw-dlq");
        CollectingSink<Incident> incidents = CollectingSink.named("cw-incidents");
        CollectingSink<Notification> notifications = CollectingSink.named("cw-notifications");

        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
        env.setParallelism(SharedMiniCluster.PARALLELISM);
        DetectJob.defineWorkflow(
                env.fromData(events, TypeInformation.of(RawRecord.class)).uid("cw-input")
                        .assignTimestampsAndWatermarks(DetectJob.watermarks(cfg)).uid("cw-watermarks"),
                env.fromData(control, TypeInformation.of(RawRecord.class)).uid("cw-control")
                        .assignTimestampsAndWatermarks(ControlWatermarks.strategy()).uid("cw-control-watermarks"),
                new DetectSinks(alerts, actions, enriched, dlq, incidents, notifications), cfg,
                SerializableClock.fixed(NOW));
        env.execute("containment-workflow-test");

        // One bulk-drain alert and one platform suspension, however many victims follow.
        assertThat(alerts.results()).filteredOn(a -> a.rule.equals("bulk_drain")).hasSize(1);
        List<SignedAction> suspends = actions.results().stream()
                .filter(a -> a.action.action.equals("suspend_withdrawals")).toList();
        assertThat(suspends).singleElement().satisfies(s -> {
            assertThat(s.action.scope.platform).isTrue();
            assertThat(s.action.reason).isEqualTo("bulk_drain");
            assertThat(s.action.ruleVersion).isEqualTo(1);
        });
        CommandSigner verifier = new CommandSigner(KEY);
        assertThat(actions.results()).allSatisfy(a ->
                assertThat(verifier.verify(Json.MAPPER.readTree(a.json))).as("signature of " + a).isTrue());
        assertThat(actions.results()).filteredOn(a -> a.action.action.equals("freeze_account")).hasSize(7);

        // The incident: the last version has exactly the seven victims and exact per-asset sums.
        Incident last = incidents.results().stream().max(Comparator.comparingLong(i -> i.version)).orElseThrow();
        assertThat(incidents.results()).extracting(i -> i.incidentId).containsOnly(last.incidentId);
        assertThat(last.status).isEqualTo(Incident.CONTAINED);
        assertThat(last.usersAffected).isEqualTo(7);
        BigDecimal expected = BigDecimal.ZERO;
        for (String a : amounts) expected = expected.add(new BigDecimal(a));
        assertThat(last.impact).singleElement().satisfies(i -> assertThat(i.asset).isEqualTo("ETH"));
        assertThat(new BigDecimal(last.impact.get(0).amount)).isEqualByComparingTo(expected);
        assertThat(last.usdTotal).isEqualByComparingTo("231000"); // 7 x 33,000
        assertThat(last.startedAt).isEqualTo(io.tourniquet.util.Times.parse("2022-01-17T10:00:00Z").toEpochMilli());
        assertThat(last.containedAt).isNotNull().isEqualTo(suspends.get(0).action.eventTime);
        assertThat(suspends.get(0).action.actionId).isEqualTo(last.suspensionActionId);
        assertThat(alerts.results()).filteredOn(a -> a.rule.equals("unauthorized_approval"))
                .allSatisfy(a -> assertThat(a.incidentId).isEqualTo(last.incidentId));
        assertThat(enriched.results()).filteredOn(e -> e.event.isApproval())
                .allSatisfy(e -> assertThat(e.incidentId).isEqualTo(last.incidentId));

        // Analysts: the signed release is honoured once; the replay and the unsigned resume are refused.
        assertThat(actions.results()).filteredOn(a -> a.action.action.equals("release_account"))
                .singleElement().satisfies(a -> {
                    assertThat(a.action.scope.userId).isEqualTo("v0");
                    assertThat(a.action.reason).isEqualTo("analyst");
                    assertThat(a.action.requestedBy).isEqualTo("alice@sec");
                });
        assertThat(actions.results()).noneMatch(a -> a.action.action.equals("resume_withdrawals"));
        assertThat(dlq.results()).extracting(d -> d.reasonCode).containsExactlyInAnyOrder("replayed", "unsigned");

        // Users are told once per incident and kind, with the code as they last set it.
        assertThat(notifications.results()).filteredOn(n -> n.userId.equals("v1"))
                .extracting(n -> n.kind).containsExactlyInAnyOrder("unauthorized_approval", "mfa_tokens_revoked",
                        "bulk_drain");
        assertThat(notifications.results()).filteredOn(n -> n.userId.equals("v1"))
                .allSatisfy(n -> assertThat(n.antiPhishingCode).isEqualTo("blue heron 43!"));
        assertThat(notifications.results()).filteredOn(n -> n.userId.equals("v2"))
                .allSatisfy(n -> assertThat(n.antiPhishingCode).isNull());
    }
}
