package io.tourniquet.detect;

import io.tourniquet.detect.job.DetectSinks;
import io.tourniquet.detect.job.DetectJob;
import io.tourniquet.signing.SignedAction;
import io.tourniquet.util.SerializableClock;
import static io.tourniquet.detect.DetectWorkflowITCase.approval;
import static io.tourniquet.detect.DetectWorkflowITCase.verified;
import static org.assertj.core.api.Assertions.assertThat;
import io.tourniquet.config.Settings;
import io.tourniquet.config.TourniquetConfig;
import io.tourniquet.model.Alert;
import io.tourniquet.model.ControlRequest;
import io.tourniquet.model.DeadLetter;
import io.tourniquet.model.EnrichedEvent;
import io.tourniquet.model.Incident;
import io.tourniquet.model.Notification;
import io.tourniquet.model.RawRecord;
import io.tourniquet.models.ModelArtifact;
import io.tourniquet.models.Scorer;
import io.tourniquet.models.WithdrawalFeatures;
import io.tourniquet.testing.CollectingSink;
import io.tourniquet.testing.ControlRecords;
import io.tourniquet.testing.RawRecords;
import io.tourniquet.testing.SharedMiniCluster;
import io.tourniquet.testing.TestModels;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * The anomaly detector in the whole detect topology at parallelism 2, with a model active from
 * configuration: every approval (the unauthorized one too, which leaves through the incident
 * tracker) carries its features, the model version and that model's score of them; anomalous
 * ones raise an {@code anomaly_score} alert that issues no command by default; and an analyst's
 * rule change to a model that is not there is refused to the DLQ.
 *
 * <p>The hot swap of a model (a later rule version changes later scores) is proven in
 * {@code AnomalyScoringDetectorTest}, where the order of the rule change and the events is fixed:
 * here the control input and the events race, as they do in production, so which events a
 * mid-stream change reaches is not deterministic.
 */
@ExtendWith(SharedMiniCluster.class)
class AnomalyScoringWorkflowITCase {
    static final String KEY = "anomaly-test-key-0123456789abcdef0123";
    static final String CONTROL_KEY = "anomaly-control-key-0123456789abcdef";
    static final long NOW = 1_700_000_000_000L;
    static final String W = "exchange.wallet.withdrawals";
    static final String M = "exchange.auth.mfa";

    @TempDir
    Path models;

    @Test
    void approvalsAreFeaturedAndScoredInTheDetectJobAndABadModelChangeIsRefused() throws Exception {
        TestModels.train(models, "m1", 11, 0.0);
        Scorer m1 = ModelArtifact.load(models.resolve("m1")).scorer();

        RawRecords in = new RawRecords();
        in.add(M, verified("v-ok", "ok", "w-ok", "c-ok", "2022-01-17T10:00:00Z"));
        in.add(W, approval("a-ok", "ok", "w-ok", "c-ok", "2022-01-17T10:00:20Z"));
        in.add(W, approval("a-bad", "bad", "w-bad", null, "2022-01-17T10:01:00Z"));
        List<RawRecord> events = in.list();

        TourniquetConfig cfg = TourniquetConfig.defaults().with(Map.of(
                Settings.SIGNING_KEY.key(), KEY, Settings.CONTROL_KEY.key(), CONTROL_KEY,
                Settings.MODELS_DIR.key(), models.toString(), Settings.ANOMALY_MODEL_VERSION.key(), "m1",
                Settings.ANOMALY_MODEL_SHA256.key(), TestModels.sha256(models, "m1")));
        ControlRequest toMissing = ControlRecords.request("r-1", ControlRequest.UPDATE_RULE, "alice@sec", NOW - 1_000);
        toMissing.rule = "anomaly_score";
        toMissing.params = Map.of(Settings.ANOMALY_MODEL_VERSION.key(), "m-deleted");
        List<RawRecord> control = new ControlRecords(cfg.get(Settings.TOPIC_CONTROL), CONTROL_KEY)
                .signed(toMissing).list();

        CollectingSink<Alert> alerts = CollectingSink.named("an-alerts");
        CollectingSink<SignedAction> actions = CollectingSink.named("an-actions");
        CollectingSink<EnrichedEvent> enriched = CollectingSink.named("an-enriched");
        CollectingSink<DeadLetter> dlq = CollectingSink.named("an-dlq");
        CollectingSink<Incident> incidents = CollectingSink.named("an-incidents");
        CollectingSink<Notification> notifications = CollectingSink.named("an-notifications");

        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
        env.setParallelism(SharedMiniCluster.PARALLELISM);
        DetectJob.defineWorkflow(
                env.fromData(events, TypeInformation.of(RawRecord.class)).uid("an-input")
                        .assignTimestampsAndWatermarks(DetectJob.watermarks(cfg)).uid("an-watermarks"),
                env.fromData(control, TypeInformation.of(RawRecord.class)).uid("an-control")
                        .assignTimestampsAndWatermarks(ControlWatermarks.strategy()).uid("an-control-watermarks"),
                new DetectSinks(alerts, actions, enriched, dlq, incidents, notifications), cfg,
                SerializableClock.fixed(NOW));
        env.execute("anomaly-workflow-test");

        List<EnrichedEvent> approvals = enriched.results().stream().filter(e -> e.event.isApproval()).toList();
        assertThat(approvals).extracting(e -> e.event.withdrawalId).containsExactlyInAnyOrder("w-ok", "w-bad");
        assertThat(approvals).allSatisfy(e -> {
            assertThat(e.anomaly.features).hasSize(WithdrawalFeatures.COUNT);
            assertThat(e.anomaly.modelVersion).isEqualTo("m1");
            assertThat(e.anomaly.score).isEqualTo(m1.score(WithdrawalFeatures.fromMap(e.anomaly.features)));
        });
        // Neither user has any history: a first, large, session-less withdrawal is anomalous.
        List<Alert> anomalous = alerts.results().stream().filter(a -> a.rule.equals("anomaly_score")).toList();
        assertThat(anomalous).extracting(a -> a.withdrawalId).containsExactlyInAnyOrder("w-ok", "w-bad");
        assertThat(anomalous).allSatisfy(a -> {
            assertThat(a.ruleVersion).isEqualTo(1);
            assertThat(a.severity).isEqualTo("medium");
            assertThat(a.evidence.modelVersion).isEqualTo("m1");
            assertThat(a.evidence.contributions).hasSize(3);
        });
        assertThat(alerts.results()).filteredOn(a -> a.rule.equals("unauthorized_approval"))
                .extracting(a -> a.withdrawalId).containsExactly("w-bad");
        assertThat(actions.results()).as("an anomaly alerts; it freezes only if configured to")
                .noneMatch(a -> "anomaly_score".equals(a.action.reason));
        assertThat(dlq.results()).singleElement().satisfies(d -> {
            assertThat(d.reasonCode).isEqualTo("invalid_rule_change");
            assertThat(d.reason).contains("no model artifact");
        });
    }
}
