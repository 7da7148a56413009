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

    /**
     * What each rule should alert on under other rule settings than the ground truth's defaults
     * (e.g. a backtest's candidate): the same computation over the same distinct valid events.
     */
    public GroundTruth.ExpectedAlerts expectedAlerts(io.tourniquet.config.TourniquetConfig rules) {
        com.fasterxml.jackson.databind.ObjectReader exact = SimJson.mapper().reader()
                .with(com.fasterxml.jackson.databind.DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS);
        java.util.Map<String, Expectations.Emitted> distinct = new java.util.LinkedHashMap<>();
        for (SimRecord r : records) {
            if (!r.isValid()) continue;
            try {
                com.fasterxml.jackson.databind.JsonNode node = exact.readTree(r.value());
                distinct.putIfAbsent(node.get("event_id").asText(),
                        new Expectations.Emitted(r.eventTime(), node.get("event_id").asText(), node));
            } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
                throw new java.io.UncheckedIOException(e);
            }
        }
        return new Expectations(rules).compute(List.copyOf(distinct.values()), groundTruth.unauthorizedApprovals())
                .alerts();
    }

    /** The records of one topic, in arrival order. */
    public List<SimRecord> recordsOf(String topic) {
        return records.stream().filter(r -> r.topic().equals(topic)).toList();
    }
}
