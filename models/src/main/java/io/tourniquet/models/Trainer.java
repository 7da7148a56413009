package io.tourniquet.models;

import java.util.ArrayList;
import java.util.List;
import smile.anomaly.IsolationForest;
import smile.anomaly.IsolationTree;
import smile.math.MathEx;

/**
 * Trains the withdrawal anomaly model: a Smile isolation forest on logged feature rows, plus the
 * score threshold for a target false-positive rate.
 *
 * <p>Rows labeled as attacks are left out: the forest should learn what normal looks like, and the
 * threshold is a quantile of normal scores. Unlabeled rows are kept and taken as benign (logged
 * traffic is overwhelmingly benign, and the forest tolerates a little contamination).
 *
 * <p>Why the trees are grown here rather than with {@code IsolationForest.fit}: in Smile 3.1.1,
 * {@code fit} grows the trees on a parallel stream, where each ForkJoin thread draws from its own
 * thread-local generator, so {@code MathEx.setSeed} on the caller does not make it reproducible;
 * and its per-tree sample takes every row whatever the sampling rate. This class grows the trees
 * one after another on the calling thread, from a subsample drawn by the seeded generator, and
 * assembles them with Smile's public {@code IsolationForest(n, extensionLevel, trees...)}
 * constructor ({@code n} being the per-tree sample size, which sets the path-length normalisation).
 * Smile's tree splits also draw from the shared {@code GaussianDistribution} singleton, which
 * caches every second draw: trainings are serialised on one lock, and with an even number of
 * features each split consumes whole pairs, so one training leaves the cache as it found it.
 */
public final class Trainer {
    private static final Object SMILE_RANDOM = new Object();

    private Trainer() {}

    public static TrainedModel train(List<FeatureRow> rows, TrainingParams p) {
        List<double[]> used = new ArrayList<>(rows.size());
        long start = Long.MAX_VALUE;
        long end = Long.MIN_VALUE;
        for (FeatureRow r : rows) {
            if (!r.matchesCurrentSchema()) {
                throw new IllegalArgumentException("row " + r.withdrawalId() + " has feature schema v"
                        + r.schemaVersion() + " (" + r.schemaHash() + "), the code has v"
                        + WithdrawalFeatures.SCHEMA_VERSION + " (" + WithdrawalFeatures.SCHEMA_HASH + ")");
            }
            if (r.isAttack()) {
                continue;
            }
            double[] x = r.features();
            WithdrawalFeatures.checkLength(x);
            used.add(x);
            start = Math.min(start, r.eventTime());
            end = Math.max(end, r.eventTime());
        }
        if (used.size() < 2) {
            throw new IllegalArgumentException("need at least 2 rows not labeled as attacks, got " + used.size());
        }
        double[][] data = used.toArray(new double[0][]);
        int sampleSize = Math.min(p.subsample(), data.length);
        int maxDepth = (int) Math.ceil(Math.log(sampleSize) / Math.log(2));
        IsolationForest forest = grow(data, p, sampleSize, maxDepth);

        double[] scores = new double[data.length];
        for (int i = 0; i < data.length; i++) {
            scores[i] = forest.score(data[i]);
        }
        double threshold = Thresholds.forFalsePositiveRate(scores, p.targetFpr());
        double trainingFpr = Thresholds.fractionAbove(scores, threshold);

        double[] medians = new double[WithdrawalFeatures.COUNT];
        for (int j = 0; j < medians.length; j++) {
            medians[j] = WithdrawalFeatures.median(column(data, j));
        }
        // The baseline's threshold comes from the same rows and target rate as the model's.
        double baselineThreshold =
                Thresholds.forFalsePositiveRate(column(data, WithdrawalFeatures.AMOUNT_VS_MEDIAN), p.targetFpr());
        return new TrainedModel(forest, p, sampleSize, maxDepth, rows.size(), data.length, start, end, threshold,
                trainingFpr, medians, baselineThreshold);
    }

    private static double[] column(double[][] data, int j) {
        double[] c = new double[data.length];
        for (int i = 0; i < data.length; i++) {
            c[i] = data[i][j];
        }
        return c;
    }

    private static IsolationForest grow(double[][] data, TrainingParams p, int sampleSize, int maxDepth) {
        IsolationTree[] trees = new IsolationTree[p.trees()];
        synchronized (SMILE_RANDOM) {
            // Seeds this thread's Smile generator (a thread-local): the subsamples and every split
            // below are drawn from it.
            MathEx.setSeed(p.seed());
            for (int t = 0; t < trees.length; t++) {
                int[] perm = MathEx.permutate(data.length);
                List<double[]> sample = new ArrayList<>(sampleSize);
                for (int i = 0; i < sampleSize; i++) {
                    sample.add(data[perm[i]]);
                }
                trees[t] = new IsolationTree(sample, maxDepth, p.extensionLevel());
            }
        }
        return new IsolationForest(sampleSize, p.extensionLevel(), trees);
    }
}
