package io.tourniquet.model;

import com.fasterxml.jackson.annotation.JsonInclude;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What the anomaly detector logged about one approval. The features are there on every approval,
 * scored or not: they are the training data ({@code models export}). Score, threshold and model
 * version are there only when a model was active, so every score names the model that made it.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class Anomaly {
    /** {@code WithdrawalFeatures.SCHEMA_VERSION} and {@code SCHEMA_HASH} the features were computed with. */
    public int schemaVersion;
    public String schemaHash;
    /** Feature name → value, in the schema's order. */
    public Map<String, Double> features = new LinkedHashMap<>();
    public String modelVersion;
    public Double score;
    public Double threshold;
    /** Above the threshold: the top contributions, largest first. */
    public List<AnomalyContribution> topContributions;

    public Anomaly() {}

    @Override
    public String toString() {
        return "Anomaly{" + modelVersion + " score=" + score + " features=" + features + "}";
    }
}
