package io.tourniquet.models;

/**
 * How much one feature pushed a score up: the score minus the score with that feature set to its
 * baseline value (its median on the training rows), all other features unchanged. Positive: the
 * feature's value made the withdrawal look more anomalous than a typical value would.
 *
 * @param feature the feature's name
 * @param value its value in the scored vector
 * @param baseline the value it was replaced with (the training median)
 * @param scoreChange score(vector) - score(vector with this feature at its baseline)
 */
public record Contribution(String feature, double value, double baseline, double scoreChange) {}
