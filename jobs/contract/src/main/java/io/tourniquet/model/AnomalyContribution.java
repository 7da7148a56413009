package io.tourniquet.model;

/**
 * How much one feature raised an anomaly score: the score minus the score with that feature at its
 * training median (the models module's {@code Contribution}, as a Flink/Jackson POJO).
 */
public class AnomalyContribution {
    public String feature;
    public double value;
    public double baseline;
    public double scoreChange;

    public AnomalyContribution() {}

    public AnomalyContribution(String feature, double value, double baseline, double scoreChange) {
        this.feature = feature;
        this.value = value;
        this.baseline = baseline;
        this.scoreChange = scoreChange;
    }

    @Override
    public String toString() {
        return feature + "=" + value + " (median " + baseline + ", +" + scoreChange + ")";
    }
}
