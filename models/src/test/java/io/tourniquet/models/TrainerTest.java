package io.tourniquet.models;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class TrainerTest {

    /** Training data as the job would log it: no labels, about 1% undetected takeovers mixed in. */
    static List<FeatureRow> logged() {
        return new SyntheticWithdrawals(7).rows(6000, 60, false);
    }

    /** Labeled evaluation data from another seed: different users, different withdrawals. */
    static List<FeatureRow> labeled() {
        return new SyntheticWithdrawals(8).rows(3000, 150, true);
    }

    @Test
    void separatesTakeoverFromBenignBetterThanAmountAlone() {
        TrainedModel m = Trainer.train(logged(), TrainingParams.defaults());
        EvaluationReport r = Evaluator.evaluate(m.scorer("test"), m.baseline(), labeled());
        System.out.println("[TrainerTest] synthetic data, defaults " + TrainingParams.defaults() + "\n" + r);

        assertThat(r.attacks()).isEqualTo(150);
        assertThat(r.benign()).isEqualTo(3000);
        assertThat(r.model().auc()).isGreaterThan(0.9).isGreaterThan(r.baseline().auc());
        assertThat(r.beatsBaseline()).isTrue();
        // At the threshold chosen for 1% on training rows: most takeovers caught, few owners bothered.
        assertThat(r.model().recall()).isGreaterThan(0.6).isGreaterThan(r.baseline().recall());
        assertThat(r.model().precision()).isGreaterThan(0.8);
        assertThat(r.model().falsePositiveRate()).isLessThanOrEqualTo(0.02);
    }

    @Test
    void sameRowsSameParamsSameSeedGiveTheSameScores() {
        List<FeatureRow> rows = new SyntheticWithdrawals(11).rows(1500, 15, false);
        TrainingParams p = new TrainingParams(40, 128, 0, 99L, 0.01);
        List<FeatureRow> probe = new SyntheticWithdrawals(12).rows(200, 20, true);

        double[] first = scores(Trainer.train(rows, p), probe);
        double[] second = scores(Trainer.train(rows, p), probe);
        double[] otherSeed = scores(Trainer.train(rows, p.withSeed(100L)), probe);

        assertThat(second).containsExactly(first);
        assertThat(otherSeed).isNotEqualTo(first); // the seed does drive the trees
        // Also on another thread: the seed, not the thread's history, decides.
        double[][] fromThread = new double[1][];
        Thread t = new Thread(() -> fromThread[0] = scores(Trainer.train(rows, p), probe));
        t.start();
        try {
            t.join();
        } catch (InterruptedException e) {
            throw new AssertionError(e);
        }
        assertThat(fromThread[0]).containsExactly(first);
    }

    @Test
    void thresholdKeepsTrainingFalsePositivesAtTheTargetAndSkipsLabeledAttacks() {
        List<FeatureRow> rows = new ArrayList<>(new SyntheticWithdrawals(13).rows(1000, 0, false));
        rows.addAll(new SyntheticWithdrawals(14).rows(0, 30, true));
        TrainedModel m = Trainer.train(rows, new TrainingParams(50, 256, 0, 1L, 0.05));
        assertThat(m.rowsTotal()).isEqualTo(1030);
        assertThat(m.rowsUsed()).isEqualTo(1000);
        assertThat(m.sampleSize()).isEqualTo(256);
        assertThat(m.maxDepth()).isEqualTo(8);
        assertThat(m.trainingFpr()).isLessThanOrEqualTo(0.05).isGreaterThan(0.04); // 50 of 1000, ties aside
        assertThat(m.forest().size()).isEqualTo(50);
        assertThat(m.windowStart()).isLessThan(m.windowEnd());
    }

    @Test
    void aTakeoverIsExplainedByTheFeaturesThatMadeItOdd() {
        TrainedModel m = Trainer.train(logged(), TrainingParams.defaults());
        IsolationForestScorer s = m.scorer("test");
        long t = WithdrawalFeaturesTest.T0;
        UserHistory h = WithdrawalFeaturesTest.history();
        double[] owner = WithdrawalFeatures.compute(h, new WithdrawalContext(t, t + 25_000, 180.0, 3000.0,
                t - 900_000L, "dev-1", "10.0.0.1", "DE", false, null));
        double[] thief = WithdrawalFeatures.compute(h, new WithdrawalContext(t, t + 300, 2900.0, 3000.0,
                t - 40_000L, "atk", "6.6.6.6", "XX", false, t - 600_000L));

        assertThat(s.anomalous(thief)).isTrue();
        assertThat(s.anomalous(owner)).isFalse();
        List<Contribution> top = s.topContributions(thief, 4);
        System.out.println("[TrainerTest] thief score " + s.score(thief) + " top contributions " + top);
        assertThat(top).hasSize(4);
        assertThat(top).isSortedAccordingTo((a, b) -> Double.compare(b.scoreChange(), a.scoreChange()));
        assertThat(top.get(0).scoreChange()).isPositive();
        // Each of the top four is something the thief changed from the owner's habits.
        assertThat(top).extracting(Contribution::feature).allMatch(f -> List.of("amount_vs_median", "balance_share",
                "login_age", "new_device", "new_ip", "new_country", "destination_age", "approval_delay").contains(f));
        assertThat(s.topContributions(thief, 0)).isEmpty();
        assertThat(s.topContributions(thief, 99)).hasSize(WithdrawalFeatures.COUNT);
    }

    @Test
    void rowsOfAnotherSchemaAreRefused() {
        FeatureRow good = new SyntheticWithdrawals(1).rows(1, 0, false).get(0);
        FeatureRow old = new FeatureRow(0, "abc", "w-old", "u", 0L, good.features(), null);
        assertThatThrownBy(() -> Trainer.train(List.of(good, good, old), TrainingParams.defaults()))
                .hasMessageContaining("row w-old has feature schema v0 (abc), the code has v1");
    }

    static double[] scores(TrainedModel m, List<FeatureRow> rows) {
        IsolationForestScorer s = m.scorer("x");
        return rows.stream().mapToDouble(r -> s.score(r.features())).toArray();
    }
}
