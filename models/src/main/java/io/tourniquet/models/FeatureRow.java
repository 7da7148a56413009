package io.tourniquet.models;

import java.util.Arrays;
import java.util.Objects;

/**
 * One withdrawal's features as logged by the detect job: the training-data row. The label is
 * {@code true} for a known attack, {@code false} for known benign, {@code null} when unknown (most
 * logged traffic). {@link FeatureRows} reads and writes rows as NDJSON.
 *
 * @param schemaVersion the {@link WithdrawalFeatures#SCHEMA_VERSION} the features were computed with
 * @param schemaHash the {@link WithdrawalFeatures#SCHEMA_HASH} they were computed with
 * @param eventTime epoch ms of the scored event (the approval)
 * @param features the vector, in schema order (copied in and out)
 */
public record FeatureRow(
        int schemaVersion,
        String schemaHash,
        String withdrawalId,
        String userId,
        long eventTime,
        double[] features,
        Boolean label) {

    public FeatureRow {
        Objects.requireNonNull(schemaHash, "schemaHash");
        Objects.requireNonNull(features, "features");
        features = features.clone();
    }

    /** A row of the code's current schema; checks the vector's length and values. */
    public static FeatureRow of(String withdrawalId, String userId, long eventTime, double[] features, Boolean label) {
        WithdrawalFeatures.checkLength(features);
        return new FeatureRow(WithdrawalFeatures.SCHEMA_VERSION, WithdrawalFeatures.SCHEMA_HASH, withdrawalId, userId,
                eventTime, features, label);
    }

    @Override
    public double[] features() {
        return features.clone();
    }

    public FeatureRow withLabel(Boolean newLabel) {
        return new FeatureRow(schemaVersion, schemaHash, withdrawalId, userId, eventTime, features, newLabel);
    }

    /** True when the row was computed with the code's current feature schema. */
    public boolean matchesCurrentSchema() {
        return schemaVersion == WithdrawalFeatures.SCHEMA_VERSION && schemaHash.equals(WithdrawalFeatures.SCHEMA_HASH);
    }

    /** A known attack (label true). */
    public boolean isAttack() {
        return Boolean.TRUE.equals(label);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof FeatureRow r
                && schemaVersion == r.schemaVersion
                && eventTime == r.eventTime
                && schemaHash.equals(r.schemaHash)
                && Objects.equals(withdrawalId, r.withdrawalId)
                && Objects.equals(userId, r.userId)
                && Arrays.equals(features, r.features)
                && Objects.equals(label, r.label);
    }

    @Override
    public int hashCode() {
        return Objects.hash(schemaVersion, schemaHash, withdrawalId, userId, eventTime, Arrays.hashCode(features), label);
    }

    @Override
    public String toString() {
        return "FeatureRow[v" + schemaVersion + " " + withdrawalId + " " + userId + " @" + eventTime + " "
                + Arrays.toString(features) + " label=" + label + "]";
    }
}
