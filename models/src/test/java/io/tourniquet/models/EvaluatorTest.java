package io.tourniquet.models;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import org.junit.jupiter.api.Test;

class EvaluatorTest {

    @Test
    void aucByRanks() {
        boolean[] pos = {false, false, true, true};
        assertThat(Evaluator.auc(new double[] {0.1, 0.2, 0.3, 0.4}, pos)).isEqualTo(1.0);
        assertThat(Evaluator.auc(new double[] {0.4, 0.3, 0.2, 0.1}, pos)).isEqualTo(0.0);
        assertThat(Evaluator.auc(new double[] {0.5, 0.5, 0.5, 0.5}, pos)).isEqualTo(0.5);
        // pairs (pos, neg): (0.3>0.1) (0.3<0.35) (0.4>0.1) (0.4>0.35): 3 of 4
        assertThat(Evaluator.auc(new double[] {0.1, 0.35, 0.3, 0.4}, pos)).isEqualTo(0.75);
        // a tie between a positive and a negative counts half: (0.2=0.2) 0.5 + 1 + 1 + 1 = 3.5 of 4
        assertThat(Evaluator.auc(new double[] {0.1, 0.2, 0.2, 0.4}, pos)).isEqualTo(0.875);
    }

    @Test
    void thresholdForATargetFalsePositiveRate() {
        double[] benign = new double[100];
        for (int i = 0; i < 100; i++) {
            benign[i] = i; // 0..99
        }
        assertThat(Thresholds.forFalsePositiveRate(benign, 0.05)).isEqualTo(94.0); // 95..99 above: 5%
        assertThat(Thresholds.fractionAbove(benign, 94.0)).isEqualTo(0.05);
        assertThat(Thresholds.forFalsePositiveRate(benign, 0.0)).isEqualTo(99.0);
        assertThat(Thresholds.forFalsePositiveRate(benign, 0.009)).isEqualTo(99.0);
        assertThat(Thresholds.forFalsePositiveRate(new double[] {3, 3, 3, 3}, 0.5)).isEqualTo(3.0); // ties: none above
        assertThatThrownBy(() -> Thresholds.forFalsePositiveRate(new double[0], 0.1))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void precisionRecallAndFalsePositiveRateAtTheThreshold() {
        // A scorer that returns the balance share, threshold 0.5.
        Scorer share = new Scorer() {
            public double score(double[] f) { return f[WithdrawalFeatures.BALANCE_SHARE]; }
            public double threshold() { return 0.5; }
            public List<Contribution> topContributions(double[] f, int k) { return List.of(); }
            public String modelVersion() { return "share"; }
        };
        List<FeatureRow> rows = List.of(row(0.9, 5.0, true), row(0.8, 0.0, true), row(0.1, 1.0, true),
                row(0.7, 0.0, false), row(0.2, 0.0, false), row(0.3, 0.0, false), row(0.4, 0.0, false),
                row(0.99, 9.0, null));
        EvaluationReport r = Evaluator.evaluate(share, new AmountBaseline(2.0, 0.0), rows);
        assertThat(r.labeledRows()).isEqualTo(7);
        assertThat(r.unlabeledRows()).isEqualTo(1);
        assertThat(r.attacks()).isEqualTo(3);
        EvaluationReport.Metrics m = r.model();
        assertThat(new long[] {m.truePositives(), m.falsePositives(), m.trueNegatives(), m.falseNegatives()})
                .containsExactly(2, 1, 3, 1);
        assertThat(m.precision()).isEqualTo(2.0 / 3);
        assertThat(m.recall()).isEqualTo(2.0 / 3);
        assertThat(m.falsePositiveRate()).isEqualTo(0.25);
        assertThat(m.auc()).isEqualTo(8.0 / 12); // the 0.1 attack is below all four benign rows
        EvaluationReport.Metrics b = r.baseline();
        assertThat(b.truePositives()).isEqualTo(1); // amount 5.0 > 2.0
        assertThat(b.falsePositives()).isZero();
        // attack amounts 5, 0, 1 against benign 0, 0, 0, 0: 4 + 4 * 0.5 + 4 = 10 of 12 pairs
        assertThat(b.auc()).isEqualTo(10.0 / 12);
        assertThat(r.beatsBaseline()).isFalse();
        assertThat(r.toString()).contains("AUC 0.6667").contains("precision 0.6667 recall 0.6667 FPR 0.2500")
                .contains("AUC 0.8333").contains("model beats baseline on AUC: NO");
        assertThatThrownBy(() -> Evaluator.evaluate(share, share, rows.subList(0, 3)))
                .hasMessageContaining("needs both attack and benign");
    }

    private static FeatureRow row(double share, double amount, Boolean label) {
        double[] x = new double[WithdrawalFeatures.COUNT];
        x[WithdrawalFeatures.BALANCE_SHARE] = share;
        x[WithdrawalFeatures.AMOUNT_VS_MEDIAN] = amount;
        return FeatureRow.of("w", "u", 0L, x, label);
    }
}
