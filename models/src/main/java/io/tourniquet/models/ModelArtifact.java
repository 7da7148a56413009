package io.tourniquet.models;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.tourniquet.models.ModelRejectedException.Reason;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InvalidClassException;
import java.io.ObjectInputFilter;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.UUID;
import smile.anomaly.IsolationForest;

/**
 * A versioned model on disk, and the loaded, verified model.
 *
 * <p>Layout: one directory per model version, named by it, holding {@code metadata.json}
 * ({@link ModelMetadata}) and {@code model.ser} (the Smile forest, Java-serialized). A directory is
 * written under a temporary name and renamed into place, so a reader never sees half an artifact.
 *
 * <p>Loading checks, in this order, and refuses with a {@link ModelRejectedException} naming the
 * reason: the metadata is readable and complete; its format is known; its feature schema version and
 * hash are the code's {@link WithdrawalFeatures}; the model file's size and sha256 equal the
 * metadata's. Only then is the file deserialized, and even then under an {@link ObjectInputFilter}
 * that admits only the three Smile classes a forest is made of (plus primitive arrays) and bounds
 * depth, references and sizes: a model file is code-like, and Java deserialization of an unverified
 * or foreign class graph can run code. The checksum proves integrity (no corruption, no mix-up of
 * files), not origin: whoever can write both files can replace the model, so the model directory
 * must be writable by the trainer only.
 */
public record ModelArtifact(Path directory, ModelMetadata metadata, IsolationForestScorer scorer,
        AmountBaseline baseline) {

    public static final String FORMAT = "tourniquet-anomaly-model/1";
    public static final String METADATA_FILE = "metadata.json";
    public static final String MODEL_FILE = "model.ser";
    public static final String MODEL_TYPE = "smile.anomaly.IsolationForest";
    public static final String SMILE_VERSION = "3.1.1";
    /** Far above any forest we train (100 trees of 256 rows is about 1.6 MB). */
    public static final long MAX_MODEL_BYTES = 256L * 1024 * 1024;

    /** Only the classes a Smile isolation forest is made of; primitive arrays pass as undecided. */
    static final ObjectInputFilter MODEL_FILTER = ObjectInputFilter.Config.createFilter(
            "maxdepth=64;maxrefs=20000000;maxarray=1000000;maxbytes=" + MAX_MODEL_BYTES
                    + ";smile.anomaly.IsolationForest;smile.anomaly.IsolationTree;smile.anomaly.IsolationTree$Node;!*");

    static final ObjectMapper MAPPER = new ObjectMapper()
            .enable(SerializationFeature.INDENT_OUTPUT)
            .enable(DeserializationFeature.FAIL_ON_MISSING_CREATOR_PROPERTIES)
            .enable(DeserializationFeature.FAIL_ON_NULL_CREATOR_PROPERTIES)
            .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES)
            .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);

    private static final DateTimeFormatter VERSION_TIME =
            DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmss'Z'").withZone(ZoneOffset.UTC);

    /** Writes the model under {@code parentDir/<version>}, version made from the time and checksum. */
    public static Path write(TrainedModel model, Path parentDir) throws IOException {
        return write(model, parentDir, null, Instant.now());
    }

    /**
     * Writes the model under {@code parentDir/<modelVersion>} and returns that directory. With a null
     * version, it is {@code iforest-<created, UTC>-<first 12 hex of the model's sha256>}, so versions
     * sort by creation time. An existing version is never overwritten.
     */
    public static Path write(TrainedModel model, Path parentDir, String modelVersion, Instant createdAt)
            throws IOException {
        byte[] bytes = serialize(model.forest());
        String sha = sha256(bytes);
        String version = modelVersion != null ? modelVersion
                : "iforest-" + VERSION_TIME.format(createdAt) + "-" + sha.substring(0, 12);
        if (!version.matches("[A-Za-z0-9][A-Za-z0-9._-]{0,127}")) {
            throw new IllegalArgumentException("model version must be a plain file name: " + version);
        }
        TrainingParams p = model.params();
        ModelMetadata meta = new ModelMetadata(FORMAT, version, MODEL_TYPE, SMILE_VERSION,
                FeatureRows.formatTime(createdAt.toEpochMilli()),
                new ModelMetadata.FeatureSchema(WithdrawalFeatures.SCHEMA_VERSION, WithdrawalFeatures.SCHEMA_HASH,
                        WithdrawalFeatures.names()),
                new ModelMetadata.Training(FeatureRows.formatTime(model.windowStart()),
                        FeatureRows.formatTime(model.windowEnd()), model.rowsTotal(), model.rowsUsed(), p.trees(),
                        p.subsample(), model.sampleSize(), model.maxDepth(), p.extensionLevel(), p.seed()),
                p.targetFpr(), model.threshold(), model.trainingFpr(), WithdrawalFeatures.toMap(model.medians()),
                new ModelMetadata.Baseline(WithdrawalFeatures.names().get(WithdrawalFeatures.AMOUNT_VS_MEDIAN),
                        model.baselineThreshold()),
                MODEL_FILE, bytes.length, sha);

        Files.createDirectories(parentDir);
        Path target = parentDir.resolve(version);
        if (Files.exists(target)) {
            throw new FileAlreadyExistsException(target.toString(), null, "model versions are never overwritten");
        }
        Path tmp = parentDir.resolve("." + version + ".tmp-" + UUID.randomUUID());
        Files.createDirectory(tmp);
        try {
            Files.write(tmp.resolve(MODEL_FILE), bytes);
            Files.write(tmp.resolve(METADATA_FILE), MAPPER.writeValueAsBytes(meta));
            Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException | RuntimeException e) {
            deleteQuietly(tmp);
            throw e;
        }
        return target;
    }

    /** Loads and verifies the artifact in {@code directory}; see the class comment for the checks. */
    public static ModelArtifact load(Path directory) throws ModelRejectedException {
        ModelMetadata meta = readMetadata(directory.resolve(METADATA_FILE));
        if (!FORMAT.equals(meta.format())) {
            throw new ModelRejectedException(Reason.UNSUPPORTED_FORMAT,
                    "artifact format " + meta.format() + " in " + directory + ", this code reads " + FORMAT);
        }
        ModelMetadata.FeatureSchema schema = meta.featureSchema();
        if (schema.version() != WithdrawalFeatures.SCHEMA_VERSION
                || !WithdrawalFeatures.SCHEMA_HASH.equals(schema.hash())) {
            throw new ModelRejectedException(Reason.SCHEMA_MISMATCH,
                    "model " + meta.modelVersion() + " was trained on feature schema v" + schema.version()
                            + " (hash " + schema.hash() + ") but this code computes feature schema v"
                            + WithdrawalFeatures.SCHEMA_VERSION + " (hash " + WithdrawalFeatures.SCHEMA_HASH
                            + "); retrain it on rows logged by this code");
        }
        double[] medians;
        try {
            medians = WithdrawalFeatures.fromMap(meta.featureMedians());
            checkFinite("threshold", meta.threshold());
            checkFinite("baseline.threshold", meta.baseline().threshold());
            if (!MODEL_FILE.equals(meta.modelFile()) || meta.modelSha256() == null
                    || !meta.modelSha256().matches("[0-9a-f]{64}")) {
                throw new IllegalArgumentException("model_file must be " + MODEL_FILE
                        + " and model_sha256 64 lowercase hex digits");
            }
        } catch (IllegalArgumentException e) {
            throw new ModelRejectedException(Reason.METADATA_UNREADABLE,
                    directory.resolve(METADATA_FILE) + ": " + e.getMessage(), e);
        }

        byte[] bytes = readModelBytes(directory.resolve(MODEL_FILE), meta);
        String actual = sha256(bytes);
        if (!MessageDigest.isEqual(actual.getBytes(), meta.modelSha256().getBytes())) {
            throw new ModelRejectedException(Reason.CHECKSUM_MISMATCH,
                    directory.resolve(MODEL_FILE) + " has sha256 " + actual + ", the metadata says "
                            + meta.modelSha256() + "; not deserialized");
        }
        IsolationForest forest = deserialize(bytes, directory);
        if (forest.size() != meta.training().trees() || forest.getExtensionLevel() != meta.training().extensionLevel()) {
            throw new ModelRejectedException(Reason.CORRUPT_MODEL, "the forest in " + directory
                    + " has " + forest.size() + " trees and extension level " + forest.getExtensionLevel()
                    + ", the metadata says " + meta.training().trees() + " and " + meta.training().extensionLevel());
        }
        return new ModelArtifact(directory, meta,
                new IsolationForestScorer(forest, meta.threshold(), medians, meta.modelVersion()),
                new AmountBaseline(meta.baseline().threshold(), medians[WithdrawalFeatures.AMOUNT_VS_MEDIAN]));
    }

    /** The model's version, as logged with each score. */
    public String modelVersion() {
        return metadata.modelVersion();
    }

    private static ModelMetadata readMetadata(Path file) throws ModelRejectedException {
        try {
            ModelMetadata meta = MAPPER.readValue(Files.readAllBytes(file), ModelMetadata.class);
            if (meta == null) {
                throw new ModelRejectedException(Reason.METADATA_UNREADABLE, file + " is empty");
            }
            return meta;
        } catch (NoSuchFileException e) {
            throw new ModelRejectedException(Reason.METADATA_UNREADABLE,
                    file + " does not exist", e);
        } catch (JsonProcessingException e) {
            throw new ModelRejectedException(Reason.METADATA_UNREADABLE,
                    file + " is not valid model metadata: " + e.getOriginalMessage(), e);
        } catch (IOException e) {
            throw new ModelRejectedException(Reason.METADATA_UNREADABLE,
                    file + " cannot be read: " + e, e);
        }
    }

    private static byte[] readModelBytes(Path file, ModelMetadata meta) throws ModelRejectedException {
        try {
            long size = Files.size(file);
            if (size > MAX_MODEL_BYTES) {
                throw new ModelRejectedException(Reason.MODEL_UNREADABLE,
                        file + " has " + size + " bytes, more than the " + MAX_MODEL_BYTES + " a model may have");
            }
            if (size != meta.modelBytes()) {
                throw new ModelRejectedException(Reason.CHECKSUM_MISMATCH,
                        file + " has " + size + " bytes, the metadata says " + meta.modelBytes() + "; not deserialized");
            }
            return Files.readAllBytes(file);
        } catch (NoSuchFileException e) {
            throw new ModelRejectedException(Reason.MODEL_UNREADABLE, file + " does not exist", e);
        } catch (IOException e) {
            throw new ModelRejectedException(Reason.MODEL_UNREADABLE,
                    file + " cannot be read: " + e, e);
        }
    }

    private static IsolationForest deserialize(byte[] bytes, Path directory) throws ModelRejectedException {
        try (ObjectInputStream in = new ObjectInputStream(new ByteArrayInputStream(bytes))) {
            in.setObjectInputFilter(MODEL_FILTER);
            Object o = in.readObject();
            if (!(o instanceof IsolationForest forest)) {
                throw new ModelRejectedException(Reason.CORRUPT_MODEL,
                        directory + " holds a " + o.getClass().getName() + ", not an " + MODEL_TYPE);
            }
            return forest;
        } catch (InvalidClassException e) {
            // The filter's refusal ("filter status: REJECTED") surfaces as InvalidClassException.
            Reason reason = e.getMessage() != null && e.getMessage().contains("REJECTED")
                    ? Reason.FORBIDDEN_CLASS : Reason.CORRUPT_MODEL;
            throw new ModelRejectedException(reason, directory.resolve(MODEL_FILE)
                    + " was refused during deserialization (only " + MODEL_TYPE + " and its trees are allowed): "
                    + e.getMessage(), e);
        } catch (IOException | ClassNotFoundException | RuntimeException e) {
            throw new ModelRejectedException(Reason.CORRUPT_MODEL, directory.resolve(MODEL_FILE)
                    + " does not deserialize: " + e, e);
        }
    }

    private static byte[] serialize(IsolationForest forest) throws IOException {
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        try (ObjectOutputStream out = new ObjectOutputStream(buf)) {
            out.writeObject(forest);
        }
        return buf.toByteArray();
    }

    static String sha256(byte[] bytes) {
        return WithdrawalFeatures.sha256Hex(bytes);
    }

    private static void checkFinite(String name, double v) {
        if (!Double.isFinite(v)) {
            throw new IllegalArgumentException(name + " must be a finite number: " + v);
        }
    }

    private static void deleteQuietly(Path dir) {
        try (var files = Files.list(dir)) {
            for (Path f : (Iterable<Path>) files::iterator) {
                Files.deleteIfExists(f);
            }
            Files.deleteIfExists(dir);
        } catch (IOException ignored) {
            // Best effort: a leftover ".tmp-" directory is never taken for a model.
        }
    }
}
