package io.tourniquet.cli;

import io.tourniquet.config.TourniquetConfig;
import io.tourniquet.index.IndexTemplates;
import io.tourniquet.kafka.KafkaTopics;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

@Command(name = "setup", mixinStandardHelpOptions = true,
        description = {"Create missing topics and apply index templates.",
                "Idempotent; the jobs also do this at start."})
public final class SetupCommand implements Callable<Integer> {
    @Mixin
    ConfigOptions options;

    @Override
    public Integer call() throws Exception {
        TourniquetConfig cfg = options.resolve();
        apply(cfg);
        return 0;
    }

    public static void apply(TourniquetConfig cfg) throws Exception {
        applyTopics(cfg);
        applyIndexTemplates(cfg);
    }

    /** Missing topics created (what the detect job needs; it never touches Elasticsearch). */
    public static void applyTopics(TourniquetConfig cfg) throws Exception {
        List<String> created = KafkaTopics.ensure(cfg, KafkaTopics.all(cfg), Map.of());
        System.out.println("topics: " + (created.isEmpty() ? "all present" : "created " + created));
    }

    /** Index templates applied (what the index job needs). */
    public static void applyIndexTemplates(TourniquetConfig cfg) throws Exception {
        io.tourniquet.index.EsClients.with(cfg, client -> {
            IndexTemplates.apply(client, cfg);
            return null;
        });
        System.out.println("index templates: applied");
    }
}
