package io.tourniquet.models;

/**
 * Isolation-forest training parameters, all recorded in the artifact.
 *
 * @param trees number of isolation trees (100, Liu et al.'s default: on the synthetic test data 200
 *     scored no better, and scoring time grows with the trees)
 * @param subsample rows drawn (without replacement) to grow each tree (psi in Liu et al.; 256 is
 *     their default: small samples isolate anomalies better, as fewer normal points mask them)
 * @param extensionLevel 0 for the classic axis-parallel forest; up to features - 1 for the
 *     extended forest's oblique cuts
 * @param seed seed of Smile's random generator for the training thread: same rows, same
 *     parameters, same seed give the same model
 * @param targetFpr share of benign (or unlabeled) training rows allowed above the threshold
 */
public record TrainingParams(int trees, int subsample, int extensionLevel, long seed, double targetFpr) {

    public TrainingParams {
        if (trees < 1) {
            throw new IllegalArgumentException("trees must be >= 1: " + trees);
        }
        if (subsample < 2) {
            throw new IllegalArgumentException("subsample must be >= 2: " + subsample);
        }
        if (extensionLevel < 0 || extensionLevel > WithdrawalFeatures.COUNT - 1) {
            throw new IllegalArgumentException("extension level must be in [0, " + (WithdrawalFeatures.COUNT - 1)
                    + "]: " + extensionLevel);
        }
        if (!(targetFpr > 0 && targetFpr < 1)) {
            throw new IllegalArgumentException("target false-positive rate must be in (0, 1): " + targetFpr);
        }
    }

    public static TrainingParams defaults() {
        return new TrainingParams(100, 256, 0, 1L, 0.01);
    }

    public TrainingParams withSeed(long newSeed) {
        return new TrainingParams(trees, subsample, extensionLevel, newSeed, targetFpr);
    }

    public TrainingParams withExtensionLevel(int level) {
        return new TrainingParams(trees, subsample, level, seed, targetFpr);
    }

    public TrainingParams withTargetFpr(double fpr) {
        return new TrainingParams(trees, subsample, extensionLevel, seed, fpr);
    }
}
