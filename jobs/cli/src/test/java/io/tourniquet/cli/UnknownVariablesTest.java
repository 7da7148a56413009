package io.tourniquet.cli;

import static org.assertj.core.api.Assertions.assertThat;
import io.tourniquet.config.TourniquetConfig;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** A misspelt TOURNIQUET_* variable is named at start instead of silently meaning a default. */
class UnknownVariablesTest {
    @Test
    void namesVariablesNoSettingReads() {
        assertThat(TourniquetConfig.unknownVariables(Map.of(
                "TOURNIQUET_KAFKA_BOOTSRAP", "broker:9092",
                "TOURNIQUET_KAFKA_BOOTSTRAP", "broker:9092",
                "TOURNIQUET_LOCAL_DIR", "/var/lib/tourniquet",
                "PATH", "/usr/bin")))
                .containsExactly("TOURNIQUET_KAFKA_BOOTSRAP is not the variable of any setting and is ignored (see 'tourniquet config')");
    }

    @Test
    void theInfraScriptsElasticsearchVariableAloneIsFlagged() {
        assertThat(TourniquetConfig.unknownVariables(Map.of("TOURNIQUET_ES_URL", "http://es:9200")))
                .singleElement().asString().contains("TOURNIQUET_ELASTICSEARCH_URL", "is unset");
        // As services.env writes them: both, equal.
        assertThat(TourniquetConfig.unknownVariables(Map.of("TOURNIQUET_ES_URL", "http://es:9200",
                "TOURNIQUET_ELASTICSEARCH_URL", "http://es:9200"))).isEmpty();
        assertThat(TourniquetConfig.unknownVariables(Map.of("TOURNIQUET_ES_URL", "http://es:9200",
                "TOURNIQUET_ELASTICSEARCH_URL", "http://other:9200"))).singleElement().asString()
                .contains("says http://other:9200");
    }
}
