package io.tourniquet.models;

import java.util.List;

/**
 * Scores withdrawal feature vectors ({@link WithdrawalFeatures} order): what the detect job calls
 * at each approval. Implementations are immutable and safe to share between threads.
 */
public interface Scorer {

    /** The anomaly score of a vector; higher is more anomalous. Throws on a vector of another length. */
    double score(double[] features);

    /** Scores above this are anomalous (chosen at training for a target false-positive rate). */
    double threshold();

    /** {@code score(features) > threshold()}. */
    default boolean anomalous(double[] features) {
        return anomalous(score(features));
    }

    /** Whether an already computed score is above the threshold (saves scoring twice). */
    default boolean anomalous(double score) {
        return score > threshold();
    }

    /** The k features that raised the score most, largest first (see {@link Contribution}). */
    List<Contribution> topContributions(double[] features, int k);

    /** The version of the model, to log with every score it produced. */
    String modelVersion();
}
