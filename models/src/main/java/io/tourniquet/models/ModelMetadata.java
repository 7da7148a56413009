package io.tourniquet.models;

import com.fasterxml.jackson.annotation.JsonProperty;
import java.util.List;
import java.util.Map;

/**
 * metadata.json of a {@link ModelArtifact}: everything needed to check a model before loading it,
 * and to know how it was made.
 */
public record ModelMetadata(
        @JsonProperty("format") String format,
        @JsonProperty("model_version") String modelVersion,
        @JsonProperty("model_type") String modelType,
        @JsonProperty("smile_version") String smileVersion,
        @JsonProperty("created_at") String createdAt,
        @JsonProperty("feature_schema") FeatureSchema featureSchema,
        @JsonProperty("training") Training training,
        @JsonProperty("target_fpr") double targetFpr,
        @JsonProperty("threshold") double threshold,
        @JsonProperty("training_fpr") double trainingFpr,
        @JsonProperty("feature_medians") Map<String, Double> featureMedians,
        @JsonProperty("baseline") Baseline baseline,
        @JsonProperty("model_file") String modelFile,
        @JsonProperty("model_bytes") long modelBytes,
        @JsonProperty("model_sha256") String modelSha256) {

    /** The feature schema the model was trained on. */
    public record FeatureSchema(
            @JsonProperty("version") int version,
            @JsonProperty("hash") String hash,
            @JsonProperty("names") List<String> names) {}

    /**
     * The training rows and parameters.
     *
     * @param windowStart earliest event time of the rows used (RFC 3339)
     * @param windowEnd latest event time of the rows used (RFC 3339)
     * @param rowsTotal rows read
     * @param rowsUsed rows not labeled as attacks: the forest and threshold were fitted on these
     */
    public record Training(
            @JsonProperty("window_start") String windowStart,
            @JsonProperty("window_end") String windowEnd,
            @JsonProperty("rows_total") int rowsTotal,
            @JsonProperty("rows_used") int rowsUsed,
            @JsonProperty("trees") int trees,
            @JsonProperty("subsample") int subsample,
            @JsonProperty("sample_size") int sampleSize,
            @JsonProperty("max_depth") int maxDepth,
            @JsonProperty("extension_level") int extensionLevel,
            @JsonProperty("seed") long seed) {}

    /** The amount-only baseline's threshold, for evaluation against the model. */
    public record Baseline(
            @JsonProperty("feature") String feature,
            @JsonProperty("threshold") double threshold) {}
}
