package io.tourniquet.forensics;

import static io.tourniquet.testing.TestEvents.T0;
import static org.assertj.core.api.Assertions.assertThat;
import com.fasterxml.jackson.databind.JsonNode;
import io.tourniquet.index.EcsDocuments;
import io.tourniquet.json.Json;
import io.tourniquet.model.Anomaly;
import io.tourniquet.model.EnrichedEvent;
import io.tourniquet.models.FeatureRow;
import io.tourniquet.models.FeatureRows;
import io.tourniquet.models.WithdrawalFeatures;
import io.tourniquet.testing.TestEvents;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

class TrainingRowsTest {
    /** An approval document exactly as the index job writes it, with logged features. */
    private static JsonNode approvalDoc(String wid, double newDevice) throws Exception {
        EnrichedEvent e = EnrichedEvent.of(TestEvents.approved("app-" + wid, "u1", wid, 500, T0));
        e.anomaly = new Anomaly();
        e.anomaly.schemaVersion = WithdrawalFeatures.SCHEMA_VERSION;
        e.anomaly.schemaHash = WithdrawalFeatures.SCHEMA_HASH;
        double[] x = new double[WithdrawalFeatures.COUNT];
        x[WithdrawalFeatures.NEW_DEVICE] = newDevice;
        e.anomaly.features.putAll(WithdrawalFeatures.toMap(x));
        return Json.MAPPER.readTree(EcsDocuments.event(e, "tourniquet-events").source);
    }

    @Test
    void exportTurnsLoggedApprovalsIntoRowsLabeledByTheGroundTruth() throws Exception {
        JsonNode truth = Json.MAPPER.readTree("""
                {"seed": 1, "unauthorized_approvals": [{"withdrawal_id": "w-bad", "user_id": "u1"}]}""");
        Set<String> attacks = TrainingRows.attackWithdrawalIds(truth);
        assertThat(attacks).containsExactly("w-bad");

        FeatureRow bad = TrainingRows.rowOf(approvalDoc("w-bad", 1.0), attacks);
        FeatureRow good = TrainingRows.rowOf(approvalDoc("w-good", 0.0), attacks);
        FeatureRow unlabeled = TrainingRows.rowOf(approvalDoc("w-good", 0.0), (Set<String>) null);
        assertThat(bad.label()).isTrue();
        assertThat(good.label()).isFalse();
        assertThat(unlabeled.label()).isNull();
        assertThat(bad.withdrawalId()).isEqualTo("w-bad");
        assertThat(bad.userId()).isEqualTo("u1");
        assertThat(bad.eventTime()).isEqualTo(T0);
        assertThat(bad.features()[WithdrawalFeatures.NEW_DEVICE]).isEqualTo(1.0);
        assertThat(bad.matchesCurrentSchema()).isTrue();
        // The row survives the NDJSON round trip that 'models train' reads.
        assertThat(FeatureRows.fromJson(FeatureRows.toJson(bad))).isEqualTo(bad);

        // Features of another schema are skipped, not mixed in.
        JsonNode other = approvalDoc("w-old", 0.0);
        ((com.fasterxml.jackson.databind.node.ObjectNode) other.path("exchange").path("anomaly"))
                .put("schema_hash", "0000");
        assertThat(TrainingRows.rowOf(other, attacks)).isNull();
    }

    @Test
    void analystsVerdictsLabelAnApprovalByItsAlerts() {
        var labels = java.util.Map.of("tp", "true_positive", "fp", "false_positive", "btp", "benign_true_positive");
        assertThat(TrainingRows.verdictLabel(List.of("tp"), labels)).contains(true);
        assertThat(TrainingRows.verdictLabel(List.of("fp", "tp"), labels)).as("any true positive").contains(true);
        assertThat(TrainingRows.verdictLabel(List.of("fp", "btp"), labels)).contains(false);
        assertThat(TrainingRows.verdictLabel(List.of(), labels)).as("no alert: benign").contains(false);
        assertThat(TrainingRows.verdictLabel(List.of("fp", "never-judged"), labels)).as("evidence of neither").isEmpty();
        assertThat(TrainingRows.verdictLabel(List.of("never-judged", "tp"), labels)).contains(true);
    }
}
