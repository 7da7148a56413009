package io.tourniquet.models;

import smile.anomaly.IsolationForest;

/**
 * What {@link Trainer#train} produces, before it is written as a {@link ModelArtifact}.
 *
 * @param forest the Smile isolation forest
 * @param params the parameters it was trained with
 * @param sampleSize rows per tree actually used (the subsample, or fewer when fewer rows)
 * @param maxDepth tree height limit, ceil(log2(sampleSize))
 * @param rowsTotal rows given to the trainer
 * @param rowsUsed rows the forest was grown and the threshold chosen on (those not labeled attack)
 * @param windowStart earliest event time of the rows used (epoch ms)
 * @param windowEnd latest event time of the rows used (epoch ms)
 * @param threshold score threshold for {@code params.targetFpr()}
 * @param trainingFpr share of the rows used that score above the threshold (at most the target)
 * @param medians per-feature medians of the rows used: the baselines of the explanations
 * @param baselineThreshold the amount-only baseline's threshold for the same target rate
 */
public record TrainedModel(
        IsolationForest forest,
        TrainingParams params,
        int sampleSize,
        int maxDepth,
        int rowsTotal,
        int rowsUsed,
        long windowStart,
        long windowEnd,
        double threshold,
        double trainingFpr,
        double[] medians,
        double baselineThreshold) {

    public TrainedModel {
        medians = medians.clone();
    }

    @Override
    public double[] medians() {
        return medians.clone();
    }

    /** A scorer for this model, reporting the given version. */
    public IsolationForestScorer scorer(String modelVersion) {
        return new IsolationForestScorer(forest, threshold, medians, modelVersion);
    }

    /** The amount-only baseline, with its threshold from the same training rows. */
    public AmountBaseline baseline() {
        return new AmountBaseline(baselineThreshold, medians[WithdrawalFeatures.AMOUNT_VS_MEDIAN]);
    }
}
