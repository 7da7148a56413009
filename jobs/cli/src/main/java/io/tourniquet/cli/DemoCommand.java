package io.tourniquet.cli;

import io.tourniquet.kafka.KafkaClientConfig;
import io.tourniquet.config.Settings;
import io.tourniquet.config.TourniquetConfig;
import io.tourniquet.sim.DemoReport;
import io.tourniquet.sim.Simulation;
import io.tourniquet.sim.SimulationConfig;
import io.tourniquet.sim.SimulationWriter;
import io.tourniquet.sim.Simulator;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "demo", mixinStandardHelpOptions = true,
        description = {"Replay a simulated January-2022-style 2FA-bypass incident through both jobs and print "
                        + "a report.",
                "The jobs run on an embedded Flink; './tourniquet demo' starts the local Kafka and Elasticsearch "
                        + "first.",
                "It resets the pipeline's topics and indices on the services it is given: use it on local ones."})
public final class DemoCommand implements Callable<Integer> {
    /** Public on purpose: the demo's commands are signed with a key everyone can read. */
    static final String DEMO_SIGNING_KEY = io.tourniquet.config.SigningKeys.DEMO_SIGNING_KEY;
    /** Likewise public: analysts' requests in the demo are signed with it. */
    static final String DEMO_CONTROL_KEY = io.tourniquet.config.SigningKeys.DEMO_CONTROL_KEY;

    @Mixin
    ConfigOptions options;

    @Option(names = "--seed", description = "Simulation seed (default: ${DEFAULT-VALUE}).")
    long seed = 42;

    @Option(names = "--victims", description = "Accounts the attacker drains (default: ${DEFAULT-VALUE}).")
    int victims = 20;

    @Option(names = "--benign-users", description = "Ordinary users (default: ${DEFAULT-VALUE}).")
    int benignUsers = 50;

    @Option(names = "--malformed", description = "Malformed records mixed in, for the DLQ (default: ${DEFAULT-VALUE}).")
    int malformed = 6;

    @Override
    public Integer call() throws Exception {
        String runId = Long.toString(System.currentTimeMillis(), 36);
        Map<String, String> defaults = new java.util.HashMap<>(RunCommand.localDefaults());
        defaults.putAll(Map.of(
                Settings.SIGNING_KEY.key(), DEMO_SIGNING_KEY,
                Settings.CONTROL_KEY.key(), DEMO_CONTROL_KEY,
                Settings.KAFKA_GROUP_PREFIX.key(), "tourniquet-demo-" + runId));
        TourniquetConfig cfg = options.resolve(defaults);
        System.out.println("Tourniquet demo: Kafka " + cfg.get(Settings.KAFKA_BOOTSTRAP) + ", Elasticsearch "
                + cfg.get(Settings.ES_URL) + " (commands signed with the public demo key)");
        System.out.println(Main.logFileLine());

        DemoReset.reset(cfg);
        SetupCommand.apply(cfg);

        Simulation sim = Simulator.generate(SimulationConfig.builder()
                .seed(seed).attackVictims(victims).benignUsers(benignUsers).malformedCount(malformed)
                .topicsFrom(cfg).build());
        int produced = SimulationWriter.writeToKafka(sim, KafkaClientConfig.base(cfg));
        System.out.println("simulated " + produced + " input records (seed " + seed + ", " + victims
                + " victims); replaying through the detect job, then the index job...");

        long started = System.nanoTime();
        RunCommand.run(cfg, true, true, true, RunCommand.Restore.FRESH);
        double seconds = (System.nanoTime() - started) / 1e9;

        DemoReport report = DemoReport.collect(cfg, sim, produced);
        System.out.println();
        System.out.print(report.render(seconds));
        return report.matchesGroundTruth() ? 0 : 1;
    }
}
