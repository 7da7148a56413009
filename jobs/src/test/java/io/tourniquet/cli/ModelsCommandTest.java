package io.tourniquet.cli;

import static io.tourniquet.testing.TestEvents.T0;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.tourniquet.index.EcsDocuments;
import io.tourniquet.json.Json;
import io.tourniquet.model.Anomaly;
import io.tourniquet.model.EnrichedEvent;
import io.tourniquet.models.FeatureRow;
import io.tourniquet.models.FeatureRows;
import io.tourniquet.models.ModelArtifact;
import io.tourniquet.models.WithdrawalFeatures;
import io.tourniquet.testing.TestEvents;
import io.tourniquet.testing.TestModels;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ModelsCommandTest {
    @TempDir
    Path dir;

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
        Set<String> attacks = ModelsCommand.attackWithdrawalIds(truth);
        assertThat(attacks).containsExactly("w-bad");

        FeatureRow bad = ModelsCommand.rowOf(approvalDoc("w-bad", 1.0), attacks);
        FeatureRow good = ModelsCommand.rowOf(approvalDoc("w-good", 0.0), attacks);
        FeatureRow unlabeled = ModelsCommand.rowOf(approvalDoc("w-good", 0.0), (Set<String>) null);
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
        assertThat(ModelsCommand.rowOf(other, attacks)).isNull();
    }

    @Test
    void analystsVerdictsLabelAnApprovalByItsAlerts() {
        var labels = java.util.Map.of("tp", "true_positive", "fp", "false_positive", "btp", "benign_true_positive");
        assertThat(ModelsCommand.verdictLabel(List.of("tp"), labels)).contains(true);
        assertThat(ModelsCommand.verdictLabel(List.of("fp", "tp"), labels)).as("any true positive").contains(true);
        assertThat(ModelsCommand.verdictLabel(List.of("fp", "btp"), labels)).contains(false);
        assertThat(ModelsCommand.verdictLabel(List.of(), labels)).as("no alert: benign").contains(false);
        assertThat(ModelsCommand.verdictLabel(List.of("fp", "never-judged"), labels)).as("evidence of neither").isEmpty();
        assertThat(ModelsCommand.verdictLabel(List.of("never-judged", "tp"), labels)).contains(true);
    }

    @Test
    void trainEvaluateAndInfoThroughTheLauncher() throws Exception {
        List<FeatureRow> rows = TestModels.benignRows(600, 3, 0.0);
        Path input = dir.resolve("rows.ndjson");
        FeatureRows.write(input, rows);
        Path store = dir.resolve("models-store");
        int train = Main.commandLine().execute("models", "train", "--input", input.toString(), "--out",
                store.toString(), "--trees", "30", "--version", "m-cli");
        assertThat(train).isZero();
        assertThat(ModelArtifact.load(store.resolve("m-cli")).modelVersion()).isEqualTo("m-cli");

        // Labeled: the owner-like rows benign, takeover-like rows attacks.
        List<FeatureRow> labeled = new ArrayList<>();
        for (FeatureRow r : TestModels.benignRows(300, 4, 0.0)) labeled.add(r.withLabel(false));
        for (int i = 0; i < 20; i++) {
            double[] x = TestModels.benignRows(1, 100 + i, 0.0).get(0).features();
            x[WithdrawalFeatures.AMOUNT_VS_MEDIAN] = 0.3; // a modest sum: the amount alone cannot tell
            x[WithdrawalFeatures.NEW_DEVICE] = 1;
            x[WithdrawalFeatures.NEW_COUNTRY] = 1;
            x[WithdrawalFeatures.DESTINATION_AGE] = 0.01;
            x[WithdrawalFeatures.APPROVAL_DELAY] = 0.5;
            labeled.add(FeatureRow.of("attack-" + i, "u-x", T0, x, true));
        }
        Path labeledFile = dir.resolve("labeled.ndjson");
        FeatureRows.write(labeledFile, labeled);
        assertThat(Main.commandLine().execute("models", "evaluate", "--model", store.resolve("m-cli").toString(),
                "--input", labeledFile.toString())).isZero();
        assertThat(Main.commandLine().execute("models", "info", store.resolve("m-cli").toString())).isZero();

        Files.write(store.resolve("m-cli").resolve(ModelArtifact.MODEL_FILE), new byte[] {1, 2, 3});
        assertThat(Main.commandLine().execute("models", "info", store.resolve("m-cli").toString()))
                .as("a damaged artifact is refused").isEqualTo(1);
    }
}
