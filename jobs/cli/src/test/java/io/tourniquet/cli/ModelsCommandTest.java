package io.tourniquet.cli;

import static io.tourniquet.testing.TestEvents.T0;
import static org.assertj.core.api.Assertions.assertThat;
import io.tourniquet.models.FeatureRow;
import io.tourniquet.models.FeatureRows;
import io.tourniquet.models.ModelArtifact;
import io.tourniquet.models.WithdrawalFeatures;
import io.tourniquet.testing.TestModels;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ModelsCommandTest {
    @TempDir
    Path dir;

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
