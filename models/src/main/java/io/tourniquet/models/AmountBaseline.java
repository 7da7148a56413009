package io.tourniquet.models;

import java.util.List;

/**
 * The trivial baseline a model must beat: the score is the amount feature alone
 * ({@code amount_vs_median}, the log ratio to the user's median withdrawal), with a threshold chosen
 * like the model's, for the same target false-positive rate on the same training rows.
 */
public final class AmountBaseline implements Scorer {
    public static final String VERSION = "baseline-amount_vs_median";
    private final double threshold;
    private final double median;

    public AmountBaseline(double threshold, double median) {
        this.threshold = threshold;
        this.median = median;
    }

    @Override
    public double score(double[] features) {
        WithdrawalFeatures.checkLength(features);
        return features[WithdrawalFeatures.AMOUNT_VS_MEDIAN];
    }

    @Override
    public double threshold() {
        return threshold;
    }

    @Override
    public List<Contribution> topContributions(double[] features, int k) {
        double v = score(features);
        String name = WithdrawalFeatures.names().get(WithdrawalFeatures.AMOUNT_VS_MEDIAN);
        return k <= 0 ? List.of() : List.of(new Contribution(name, v, median, v - median));
    }

    @Override
    public String modelVersion() {
        return VERSION;
    }
}
