package io.tourniquet.sim;

import java.util.List;
import java.util.Objects;

/**
 * The output of {@link Simulator#generate(SimulationConfig)}.
 *
 * @param config      what produced it
 * @param records     every record in arrival order (valid, duplicated and malformed, topics interleaved)
 * @param groundTruth what a correct pipeline should conclude from them
 */
public record Simulation(SimulationConfig config, List<SimRecord> records, GroundTruth groundTruth) {

    public Simulation {
        Objects.requireNonNull(config, "config");
        records = List.copyOf(records);
        Objects.requireNonNull(groundTruth, "groundTruth");
    }

    /** The records of one topic, in arrival order. */
    public List<SimRecord> recordsOf(String topic) {
        return records.stream().filter(r -> r.topic().equals(topic)).toList();
    }
}
