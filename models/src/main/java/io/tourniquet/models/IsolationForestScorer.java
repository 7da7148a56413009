package io.tourniquet.models;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import smile.anomaly.IsolationForest;

/**
 * A {@link Scorer} backed by a Smile isolation forest. The score is Smile's: 2^(-E[h(x)]/c(psi)), in
 * (0, 1], about 0.5 for ordinary points and towards 1 for points isolated in few splits.
 *
 * <p>Explanation ({@link #topContributions}): for each feature, the vector is scored again with that
 * feature replaced by its training median; the contribution is the drop in score. It is a one-at-a-time
 * sensitivity, not a Shapley value: features that are only anomalous together (say a new device AND a
 * fresh address) each get part of the credit, or none when either alone looks normal; it costs
 * {@link WithdrawalFeatures#COUNT} extra scorings, so the job should call it only for anomalous events.
 */
public final class IsolationForestScorer implements Scorer {
    private final IsolationForest forest;
    private final double threshold;
    private final double[] medians;
    private final String modelVersion;

    IsolationForestScorer(IsolationForest forest, double threshold, double[] medians, String modelVersion) {
        WithdrawalFeatures.checkLength(medians);
        if (!Double.isFinite(threshold)) {
            throw new IllegalArgumentException("threshold must be finite: " + threshold);
        }
        this.forest = forest;
        this.threshold = threshold;
        this.medians = medians.clone();
        this.modelVersion = modelVersion;
    }

    @Override
    public double score(double[] features) {
        WithdrawalFeatures.checkLength(features);
        return forest.score(features);
    }

    @Override
    public double threshold() {
        return threshold;
    }

    @Override
    public List<Contribution> topContributions(double[] features, int k) {
        double full = score(features);
        List<String> names = WithdrawalFeatures.names();
        List<Contribution> all = new ArrayList<>(features.length);
        double[] probe = features.clone();
        for (int i = 0; i < probe.length; i++) {
            probe[i] = medians[i];
            all.add(new Contribution(names.get(i), features[i], medians[i], full - forest.score(probe)));
            probe[i] = features[i];
        }
        all.sort(Comparator.comparingDouble(Contribution::scoreChange).reversed());
        return List.copyOf(all.subList(0, Math.max(0, Math.min(k, all.size()))));
    }

    @Override
    public String modelVersion() {
        return modelVersion;
    }

    /** The training medians used as baselines by {@link #topContributions}. */
    public double[] medians() {
        return medians.clone();
    }

    IsolationForest forest() {
        return forest;
    }
}
