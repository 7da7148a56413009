package io.tourniquet.models;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Evaluates a scorer against the amount-only baseline on labeled rows (true = attack): ROC AUC,
 * and precision, recall and false-positive rate at each scorer's own threshold.
 */
public final class Evaluator {
    private Evaluator() {}

    public static EvaluationReport evaluate(Scorer model, Scorer baseline, List<FeatureRow> rows) {
        List<double[]> vectors = new ArrayList<>();
        List<Boolean> labels = new ArrayList<>();
        int unlabeled = 0;
        for (FeatureRow r : rows) {
            if (!r.matchesCurrentSchema()) {
                throw new IllegalArgumentException("row " + r.withdrawalId() + " has feature schema v"
                        + r.schemaVersion() + ", the code has v" + WithdrawalFeatures.SCHEMA_VERSION);
            }
            if (r.label() == null) {
                unlabeled++;
            } else {
                vectors.add(r.features());
                labels.add(r.label());
            }
        }
        boolean[] attack = new boolean[labels.size()];
        int attacks = 0;
        for (int i = 0; i < attack.length; i++) {
            attack[i] = labels.get(i);
            attacks += attack[i] ? 1 : 0;
        }
        if (attacks == 0 || attacks == attack.length) {
            throw new IllegalArgumentException("evaluation needs both attack and benign labeled rows; got "
                    + attacks + " attacks of " + attack.length + " labeled rows");
        }
        return new EvaluationReport(attack.length, attacks, attack.length - attacks, unlabeled,
                metrics(model, vectors, attack), metrics(baseline, vectors, attack));
    }

    static EvaluationReport.Metrics metrics(Scorer s, List<double[]> vectors, boolean[] attack) {
        double[] scores = new double[vectors.size()];
        long tp = 0, fp = 0, tn = 0, fn = 0;
        for (int i = 0; i < scores.length; i++) {
            scores[i] = s.score(vectors.get(i));
            boolean flagged = s.anomalous(scores[i]);
            if (attack[i]) {
                if (flagged) tp++; else fn++;
            } else {
                if (flagged) fp++; else tn++;
            }
        }
        return new EvaluationReport.Metrics(s.modelVersion(), auc(scores, attack), s.threshold(), tp, fp, tn, fn);
    }

    /**
     * Exact ROC AUC by ranks (the Mann-Whitney U statistic over n_pos * n_neg): rank all scores
     * ascending, ties sharing their average rank, then AUC = (sum of attack ranks - p(p+1)/2) / (p n).
     */
    public static double auc(double[] scores, boolean[] positive) {
        int n = scores.length;
        Integer[] order = new Integer[n];
        for (int i = 0; i < n; i++) {
            order[i] = i;
        }
        Arrays.sort(order, (a, b) -> Double.compare(scores[a], scores[b]));
        double positiveRankSum = 0;
        long p = 0;
        int i = 0;
        while (i < n) {
            int j = i;
            while (j + 1 < n && scores[order[j + 1]] == scores[order[i]]) {
                j++;
            }
            double averageRank = (i + 1 + j + 1) / 2.0; // ranks are 1-based
            for (int k = i; k <= j; k++) {
                if (positive[order[k]]) {
                    positiveRankSum += averageRank;
                    p++;
                }
            }
            i = j + 1;
        }
        long q = n - p;
        if (p == 0 || q == 0) {
            throw new IllegalArgumentException("AUC needs positives and negatives");
        }
        return (positiveRankSum - p * (p + 1) / 2.0) / ((double) p * q);
    }
}
