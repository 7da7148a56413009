package io.tourniquet.sim;

/**
 * Generates the four input topics of an exchange under a January-2022-style attack, with the
 * ground truth a correct detector should reproduce. See the package documentation.
 */
public final class Simulator {

    private Simulator() {
    }

    /** Deterministic: the same config always yields the same records, in the same order. */
    public static Simulation generate(SimulationConfig config) {
        return new Generation(config).run();
    }
}
