package io.tourniquet.testing;

import io.tourniquet.models.FeatureRow;
import io.tourniquet.models.ModelArtifact;
import io.tourniquet.models.Trainer;
import io.tourniquet.models.TrainingParams;
import io.tourniquet.models.WithdrawalFeatures;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * Small anomaly models for job tests: trained on synthetic owner-like feature vectors (known
 * device, IP and country, modest amounts, human approval delays, old destinations), so that a
 * takeover-like vector scores far above the threshold. Seeded, so the same call gives the same model.
 */
public final class TestModels {
    private TestModels() {}

    /** Owner-like rows; {@code amountShift} moves the typical amount (another "population" for a second model). */
    public static List<FeatureRow> benignRows(int n, long seed, double amountShift) {
        Random r = new Random(seed);
        List<FeatureRow> rows = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            double[] x = new double[WithdrawalFeatures.COUNT];
            x[WithdrawalFeatures.AMOUNT_VS_MEDIAN] = amountShift + 0.4 * r.nextGaussian();
            x[WithdrawalFeatures.BALANCE_SHARE] = 0.3 * r.nextDouble();
            x[WithdrawalFeatures.LOGIN_AGE] = Math.log1p(300 + 20_000 * r.nextDouble());
            x[WithdrawalFeatures.NEW_DEVICE] = r.nextDouble() < 0.03 ? 1 : 0;
            x[WithdrawalFeatures.NEW_IP] = r.nextDouble() < 0.1 ? 1 : 0;
            x[WithdrawalFeatures.NEW_COUNTRY] = 0;
            x[WithdrawalFeatures.JAILBROKEN] = 0;
            x[WithdrawalFeatures.DESTINATION_AGE] = Math.log1p(48 + 5_000 * r.nextDouble());
            x[WithdrawalFeatures.APPROVAL_DELAY] = Math.log1p(10 + 50 * r.nextDouble());
            x[WithdrawalFeatures.WITHDRAWALS_LAST_HOUR] = r.nextDouble() < 0.2 ? 1 : 0;
            double angle = 2 * Math.PI * r.nextDouble();
            x[WithdrawalFeatures.HOUR_SIN] = Math.sin(angle);
            x[WithdrawalFeatures.HOUR_COS] = Math.cos(angle);
            rows.add(FeatureRow.of("w-" + i, "u-" + (i % 50), TestEvents.T0 - (n - i) * 60_000L, x, null));
        }
        return rows;
    }

    /** Trains a 50-tree forest on 1,000 benign rows and writes it as {@code modelsDir/version}. */
    public static Path train(Path modelsDir, String version, long seed, double amountShift) throws IOException {
        var model = Trainer.train(benignRows(1_000, seed, amountShift), new TrainingParams(50, 256, 0, seed, 0.01));
        return ModelArtifact.write(model, modelsDir, version, Instant.ofEpochMilli(TestEvents.T0));
    }

    /** The parameters of a signed rule change that activates {@code version}: its name and its file's sha256. */
    public static java.util.Map<String, String> activation(Path modelsDir, String version) throws Exception {
        return java.util.Map.of(io.tourniquet.config.Settings.ANOMALY_MODEL_VERSION.key(), version,
                io.tourniquet.config.Settings.ANOMALY_MODEL_SHA256.key(), sha256(modelsDir, version));
    }

    public static String sha256(Path modelsDir, String version) throws Exception {
        return io.tourniquet.models.ModelArtifact.load(modelsDir.resolve(version)).metadata().modelSha256();
    }
}
