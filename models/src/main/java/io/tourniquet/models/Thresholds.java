package io.tourniquet.models;

import java.util.Arrays;

/** Picking a score threshold for a target false-positive rate. */
public final class Thresholds {
    private Thresholds() {}

    /**
     * The lowest threshold t among the scores such that at most {@code floor(n * targetFpr)} of the
     * n benign scores are strictly above t (an upper quantile). With targetFpr 0.01 and 10,000
     * benign rows, at most 100 are above. Ties at t count as not above, so the achieved rate can
     * only be lower than the target.
     */
    public static double forFalsePositiveRate(double[] benignScores, double targetFpr) {
        if (benignScores.length == 0) {
            throw new IllegalArgumentException("no benign scores to choose a threshold from");
        }
        if (!(targetFpr >= 0 && targetFpr < 1)) {
            throw new IllegalArgumentException("target false-positive rate must be in [0, 1): " + targetFpr);
        }
        double[] s = benignScores.clone();
        Arrays.sort(s);
        int n = s.length;
        // 1e-9 so that, e.g., 0.01 * 300 counts as 3 despite binary rounding.
        int allowed = (int) Math.floor(n * targetFpr + 1e-9);
        return s[n - 1 - Math.min(allowed, n - 1)];
    }

    /** Share of the scores strictly above the threshold. */
    public static double fractionAbove(double[] scores, double threshold) {
        if (scores.length == 0) {
            return 0.0;
        }
        long above = Arrays.stream(scores).filter(s -> s > threshold).count();
        return (double) above / scores.length;
    }
}
