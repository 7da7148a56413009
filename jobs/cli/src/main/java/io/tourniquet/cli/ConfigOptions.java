package io.tourniquet.cli;

import io.tourniquet.config.Settings;
import io.tourniquet.config.TourniquetConfig;
import java.util.LinkedHashMap;
import java.util.Map;
import picocli.CommandLine.Option;

/** Shared flags: every setting can be given with --set, the common ones have their own flag. */
public final class ConfigOptions {
    @Option(names = "--kafka", paramLabel = "HOST:PORT", description = "Kafka bootstrap servers (kafka.bootstrap).")
    String kafka;

    @Option(names = "--es", paramLabel = "URL", description = "Elasticsearch URL (elasticsearch.url).")
    String elasticsearch;

    @Option(names = {"-s", "--set"}, paramLabel = "KEY=VALUE",
            description = "Any setting (see 'tourniquet config'); repeatable. Overrides TOURNIQUET_* variables.")
    Map<String, String> settings = new LinkedHashMap<>();

    /** Defaults, then the environment, then these flags. */
    public TourniquetConfig resolve() {
        return resolve(Map.of());
    }

    public TourniquetConfig resolve(Map<String, String> commandDefaults) {
        Map<String, String> overrides = new LinkedHashMap<>(commandDefaults);
        overrides.putAll(settings);
        if (kafka != null) overrides.put(Settings.KAFKA_BOOTSTRAP.key(), kafka);
        if (elasticsearch != null) overrides.put(Settings.ES_URL.key(), elasticsearch);
        return TourniquetConfig.fromEnvironment(overrides);
    }
}
