package io.tourniquet.models;

import java.util.Locale;

/**
 * Figures of a model and of the amount-only baseline on the same labeled rows.
 *
 * @param labeledRows rows with a label (the ones evaluated)
 * @param attacks rows labeled true
 * @param benign rows labeled false
 * @param unlabeledRows rows without a label, ignored
 */
public record EvaluationReport(
        int labeledRows, int attacks, int benign, int unlabeledRows, Metrics model, Metrics baseline) {

    /**
     * One scorer's figures.
     *
     * @param auc ROC AUC: the probability that a random attack scores above a random benign row
     *     (ties count half)
     * @param threshold the scorer's threshold; "flagged" means score above it
     * @param truePositives attacks flagged
     * @param falsePositives benign rows flagged
     * @param trueNegatives benign rows not flagged
     * @param falseNegatives attacks not flagged
     */
    public record Metrics(String name, double auc, double threshold, long truePositives, long falsePositives,
            long trueNegatives, long falseNegatives) {

        /** Flagged rows that are attacks; NaN when nothing is flagged. */
        public double precision() {
            long flagged = truePositives + falsePositives;
            return flagged == 0 ? Double.NaN : (double) truePositives / flagged;
        }

        /** Attacks flagged. */
        public double recall() {
            long attacks = truePositives + falseNegatives;
            return attacks == 0 ? Double.NaN : (double) truePositives / attacks;
        }

        /** Benign rows flagged. */
        public double falsePositiveRate() {
            long benign = falsePositives + trueNegatives;
            return benign == 0 ? Double.NaN : (double) falsePositives / benign;
        }

        @Override
        public String toString() {
            return String.format(Locale.ROOT,
                    "%-28s AUC %.4f | threshold %.4f | precision %.4f recall %.4f FPR %.4f"
                            + " | TP %d FP %d TN %d FN %d",
                    name, auc, threshold, precision(), recall(), falsePositiveRate(), truePositives,
                    falsePositives, trueNegatives, falseNegatives);
        }
    }

    /** True when the model's AUC is above the baseline's. */
    public boolean beatsBaseline() {
        return model.auc() > baseline.auc();
    }

    @Override
    public String toString() {
        return String.format(Locale.ROOT, "evaluated %d labeled rows (%d attacks, %d benign; %d unlabeled ignored)%n"
                + "  model    %s%n  baseline %s%n  model beats baseline on AUC: %s", labeledRows, attacks, benign,
                unlabeledRows, model, baseline, beatsBaseline() ? "yes" : "NO");
    }
}
