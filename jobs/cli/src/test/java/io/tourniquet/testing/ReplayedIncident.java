package io.tourniquet.testing;

import io.tourniquet.cli.SetupCommand;
import io.tourniquet.config.Settings;
import io.tourniquet.config.TourniquetConfig;
import io.tourniquet.detect.job.DetectJobRunner;
import io.tourniquet.index.EsClients;
import io.tourniquet.index.IndexJobRunner;
import io.tourniquet.sim.Simulation;
import io.tourniquet.sim.SimulationConfig;
import io.tourniquet.sim.Simulator;
import java.util.Map;
import java.util.UUID;

/**
 * The end-to-end ITCases' shared fixture: a namespaced configuration on the real local services,
 * a simulated incident, and its bounded replay through the detect job and then the index job.
 * Each step is separate so a test can act in between (e.g. put analysts' requests on the control
 * topic before the replay).
 */
public final class ReplayedIncident {
    private ReplayedIncident() {}

    /** Topics, groups and indices under a fresh {@code prefix<random>-} namespace, created and ready. */
    public static TourniquetConfig config(String prefix, String signingKey, String controlKey) throws Exception {
        String ns = prefix + UUID.randomUUID().toString().substring(0, 8) + "-";
        TourniquetConfig cfg = TourniquetConfig.load(Map.of(), Map.of(
                Settings.KAFKA_BOOTSTRAP.key(), LocalServices.kafkaBootstrap(),
                Settings.ES_URL.key(), LocalServices.elasticsearchUrl(),
                Settings.SIGNING_KEY.key(), signingKey,
                Settings.CONTROL_KEY.key(), controlKey,
                Settings.CHECKPOINT_INTERVAL.key(), "1 s")).namespaced(ns);
        SetupCommand.apply(cfg);
        return cfg;
    }

    /** The ITCases' incident: 16 ordinary users, 12 victims, 6 malformed records, 3 redeliveries. */
    public static Simulation simulate(TourniquetConfig cfg, long seed) {
        return Simulator.generate(SimulationConfig.builder()
                .seed(seed).benignUsers(16).attackVictims(12).malformedCount(6).duplicateCount(3)
                .topicsFrom(cfg).build());
    }

    /** Both jobs over what the input topics hold, one after the other; then every alias refreshed. */
    public static void replay(TourniquetConfig cfg, String name) throws Exception {
        DetectJobRunner.build(cfg, true).execute(name + "-detect");
        IndexJobRunner.build(cfg, true).execute(name + "-index");
        try (var es = EsClients.create(cfg)) {
            for (var s : Settings.INDEX_ALIASES) es.indices().refresh(r -> r.index(cfg.get(s)));
        }
    }
}
