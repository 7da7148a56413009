package io.tourniquet.models;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.tourniquet.models.ModelRejectedException.Reason;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import java.io.Serializable;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ModelArtifactTest {
    static final Instant CREATED = Instant.parse("2022-03-01T12:00:00Z");
    static List<FeatureRow> rows;
    static TrainedModel model;

    @TempDir
    Path dir;

    @BeforeAll
    static void train() {
        rows = new SyntheticWithdrawals(21).rows(1000, 10, false);
        model = Trainer.train(rows, new TrainingParams(30, 128, 0, 5L, 0.02));
    }

    @Test
    void roundTripGivesTheSameScoresAndFullMetadata() throws Exception {
        Path written = ModelArtifact.write(model, dir, null, CREATED);
        assertThat(written.getParent()).isEqualTo(dir);
        assertThat(written.getFileName().toString()).matches("iforest-20220301T120000Z-[0-9a-f]{12}");
        try (var files = Files.list(dir)) {
            assertThat(files).containsExactly(written); // no temporary directory left
        }

        ModelArtifact a = ModelArtifact.load(written);
        assertThat(a.modelVersion()).isEqualTo(written.getFileName().toString());
        assertThat(a.scorer().modelVersion()).isEqualTo(a.modelVersion());
        IsolationForestScorer original = model.scorer(a.modelVersion());
        for (FeatureRow r : new SyntheticWithdrawals(22).rows(100, 10, true)) {
            double[] x = r.features();
            assertThat(a.scorer().score(x)).isEqualTo(original.score(x));
            assertThat(a.scorer().topContributions(x, 3)).isEqualTo(original.topContributions(x, 3));
            assertThat(a.baseline().score(x)).isEqualTo(x[WithdrawalFeatures.AMOUNT_VS_MEDIAN]);
        }
        assertThat(a.scorer().threshold()).isEqualTo(model.threshold());
        assertThat(a.baseline().threshold()).isEqualTo(model.baselineThreshold());
        assertThat(a.scorer().medians()).containsExactly(model.medians());

        ModelMetadata m = a.metadata();
        assertThat(m.format()).isEqualTo(ModelArtifact.FORMAT);
        assertThat(m.modelType()).isEqualTo("smile.anomaly.IsolationForest");
        assertThat(m.createdAt()).isEqualTo("2022-03-01T12:00:00.000Z");
        assertThat(m.featureSchema().version()).isEqualTo(WithdrawalFeatures.SCHEMA_VERSION);
        assertThat(m.featureSchema().hash()).isEqualTo(WithdrawalFeatures.SCHEMA_HASH);
        assertThat(m.featureSchema().names()).isEqualTo(WithdrawalFeatures.names());
        assertThat(m.training().rowsTotal()).isEqualTo(1010);
        assertThat(m.training().rowsUsed()).isEqualTo(1010); // unlabeled rows are all used
        assertThat(m.training().windowStart()).isEqualTo(FeatureRows.formatTime(model.windowStart()));
        assertThat(m.training().windowEnd()).isEqualTo(FeatureRows.formatTime(model.windowEnd()));
        assertThat(List.of(m.training().trees(), m.training().subsample(), m.training().sampleSize(),
                m.training().maxDepth(), m.training().extensionLevel())).containsExactly(30, 128, 128, 7, 0);
        assertThat(m.training().seed()).isEqualTo(5L);
        assertThat(m.targetFpr()).isEqualTo(0.02);
        assertThat(m.trainingFpr()).isEqualTo(model.trainingFpr());
        assertThat(m.baseline().feature()).isEqualTo("amount_vs_median");
        byte[] bytes = Files.readAllBytes(written.resolve(ModelArtifact.MODEL_FILE));
        assertThat(m.modelBytes()).isEqualTo(bytes.length);
        assertThat(m.modelSha256()).isEqualTo(ModelArtifact.sha256(bytes));
        assertThat(m.modelVersion()).endsWith(m.modelSha256().substring(0, 12));

        // Same model, same time: same version, and a version is never overwritten.
        assertThatThrownBy(() -> ModelArtifact.write(model, dir, null, CREATED))
                .isInstanceOf(FileAlreadyExistsException.class);
        assertThat(ModelArtifact.write(model, dir, "v2", CREATED)).isEqualTo(dir.resolve("v2"));
        assertThatThrownBy(() -> ModelArtifact.write(model, dir, "../escape", CREATED))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void aFlippedByteIsRefusedBeforeDeserializing() throws Exception {
        Path a = ModelArtifact.write(model, dir, "v1", CREATED);
        Path file = a.resolve(ModelArtifact.MODEL_FILE);
        byte[] bytes = Files.readAllBytes(file);
        bytes[bytes.length / 2] ^= 0x01;
        Files.write(file, bytes);
        ModelRejectedException e = rejected(a);
        assertThat(e.reason()).isEqualTo(Reason.CHECKSUM_MISMATCH);
        assertThat(e).hasMessageContaining("has sha256").hasMessageContaining("not deserialized");

        Files.write(file, java.util.Arrays.copyOf(bytes, bytes.length - 1)); // truncated
        assertThat(rejected(a).reason()).isEqualTo(Reason.CHECKSUM_MISMATCH);
        Files.delete(file);
        assertThat(rejected(a).reason()).isEqualTo(Reason.MODEL_UNREADABLE);
    }

    @Test
    void aModelOfAnotherFeatureSchemaIsRefusedNamingBoth() throws Exception {
        Path a = ModelArtifact.write(model, dir, "v1", CREATED);
        editMetadata(a, m -> ((ObjectNode) m.get("feature_schema")).put("version", 2).put("hash", "f00d"));
        ModelRejectedException e = rejected(a);
        assertThat(e.reason()).isEqualTo(Reason.SCHEMA_MISMATCH);
        assertThat(e).hasMessageContaining("trained on feature schema v2 (hash f00d)")
                .hasMessageContaining("this code computes feature schema v1 (hash " + WithdrawalFeatures.SCHEMA_HASH + ")");

        Path b = ModelArtifact.write(model, dir, "v2", CREATED);
        editMetadata(b, m -> ((ObjectNode) m.get("feature_schema")).put("hash", "f00d")); // same version, other hash
        assertThat(rejected(b).reason()).isEqualTo(Reason.SCHEMA_MISMATCH);
    }

    @Test
    void missingOrUnreadableMetadataIsRefused() throws Exception {
        Path a = ModelArtifact.write(model, dir, "v1", CREATED);
        Path meta = a.resolve(ModelArtifact.METADATA_FILE);
        Files.writeString(meta, "{not json");
        assertThat(rejected(a).reason()).isEqualTo(Reason.METADATA_UNREADABLE);
        Files.delete(meta);
        ModelRejectedException missing = rejected(a);
        assertThat(missing.reason()).isEqualTo(Reason.METADATA_UNREADABLE);
        assertThat(missing).hasMessageContaining("metadata.json does not exist");

        Path b = ModelArtifact.write(model, dir, "v2", CREATED);
        editMetadata(b, m -> m.remove("model_sha256"));
        assertThat(rejected(b).reason()).isEqualTo(Reason.METADATA_UNREADABLE);
        Path c = ModelArtifact.write(model, dir, "v3", CREATED);
        editMetadata(c, m -> ((ObjectNode) m.get("feature_medians")).remove("jailbroken"));
        assertThat(rejected(c)).hasMessageContaining("missing [jailbroken]");
        Path d = ModelArtifact.write(model, dir, "v4", CREATED);
        editMetadata(d, m -> m.put("format", "tourniquet-anomaly-model/99"));
        assertThat(rejected(d).reason()).isEqualTo(Reason.UNSUPPORTED_FORMAT);
        assertThat(rejected(dir.resolve("nothing-here")).reason()).isEqualTo(Reason.METADATA_UNREADABLE);
    }

    /** Records whether its readObject ran: it must not, even with a matching checksum. */
    static final class Gadget implements Serializable {
        private static final long serialVersionUID = 1L;
        static volatile boolean readObjectRan;

        private void readObject(ObjectInputStream in) throws IOException, ClassNotFoundException {
            readObjectRan = true;
            in.defaultReadObject();
        }
    }

    @Test
    void aForeignClassIsRefusedByTheFilterEvenWithAMatchingChecksum() throws Exception {
        Gadget.readObjectRan = false;
        Path a = ModelArtifact.write(model, dir, "v1", CREATED);
        replaceModel(a, new Gadget());
        ModelRejectedException e = rejected(a);
        assertThat(e.reason()).isEqualTo(Reason.FORBIDDEN_CLASS);
        assertThat(e).hasMessageContaining("REJECTED");
        assertThat(Gadget.readObjectRan).isFalse();

        Path b = ModelArtifact.write(model, dir, "v2", CREATED);
        HashMap<String, String> map = new HashMap<>();
        map.put("a", "b");
        replaceModel(b, map); // java.* is not allowed either
        assertThat(rejected(b).reason()).isEqualTo(Reason.FORBIDDEN_CLASS);

        Path c = ModelArtifact.write(model, dir, "v3", CREATED);
        replaceModel(c, model.forest().trees()[0]); // an allowed class, but not a forest
        ModelRejectedException notAForest = rejected(c);
        assertThat(notAForest.reason()).isEqualTo(Reason.CORRUPT_MODEL);
        assertThat(notAForest).hasMessageContaining("holds a smile.anomaly.IsolationTree");
    }

    private static ModelRejectedException rejected(Path artifact) {
        return catchThrowableOfType(ModelRejectedException.class, () -> ModelArtifact.load(artifact));
    }

    private static void editMetadata(Path artifact, java.util.function.Consumer<ObjectNode> edit) throws IOException {
        Path meta = artifact.resolve(ModelArtifact.METADATA_FILE);
        ObjectNode m = (ObjectNode) ModelArtifact.MAPPER.readTree(meta.toFile());
        edit.accept(m);
        Files.write(meta, ModelArtifact.MAPPER.writeValueAsBytes(m));
    }

    /** Puts another object in the model file and updates size and checksum, as an attacker with write access could. */
    private static void replaceModel(Path artifact, Object replacement) throws IOException {
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        try (ObjectOutputStream out = new ObjectOutputStream(buf)) {
            out.writeObject(replacement);
        }
        byte[] bytes = buf.toByteArray();
        Files.write(artifact.resolve(ModelArtifact.MODEL_FILE), bytes);
        editMetadata(artifact, m -> m.put("model_bytes", bytes.length).put("model_sha256", ModelArtifact.sha256(bytes)));
    }
}
