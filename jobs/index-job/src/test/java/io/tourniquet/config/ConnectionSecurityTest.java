package io.tourniquet.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import io.tourniquet.index.EsClients;
import io.tourniquet.index.EsSecurity;
import io.tourniquet.index.EsSinkSettings;
import java.io.ByteArrayOutputStream;
import java.io.ObjectOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The Elasticsearch connection settings: checked together at start, secrets never shown. */
class ConnectionSecurityTest {
    static final String SECRET = "s3cr3t-value-that-must-not-leak";

    @Test
    void conflictingOrIncompleteCredentialsAreAllReportedAtStart() {
        assertThatThrownBy(() -> TourniquetConfig.load(Map.of(), Map.of(
                Settings.ES_API_KEY.key(), "k", Settings.ES_USERNAME.key(), "u",
                Settings.ES_CA_FILE.key(), "/ca.pem", Settings.ES_CA_FINGERPRINT.key(), "ab")))
                .hasMessageContaining("elasticsearch.api-key and elasticsearch.username are both set")
                .hasMessageContaining("elasticsearch.username and elasticsearch.password go together")
                .hasMessageContaining("elasticsearch.ca-file and elasticsearch.ca-fingerprint are both set");
    }

    @Test
    void secretsAreMaskedWhereverTheConfigurationIsShown() {
        TourniquetConfig cfg = TourniquetConfig.load(Map.of(Settings.ES_PASSWORD.envName(), SECRET,
                Settings.ES_USERNAME.envName(), "analyst"), Map.of());
        assertThat(cfg.describe()).containsEntry(Settings.ES_USERNAME.key(), "analyst")
                .containsEntry(Settings.ES_PASSWORD.key(), "(set, " + SECRET.length() + " chars)");
        TourniquetConfig key = TourniquetConfig.load(Map.of(Settings.ES_API_KEY.envName(), SECRET), Map.of());
        assertThat(key.describe().values()).noneMatch(v -> v.contains(SECRET));
        assertThat(EsSecurity.from(key).toString()).doesNotContain(SECRET).contains("API key");
        assertThat(EsSecurity.from(cfg).toString()).doesNotContain(SECRET).contains("user 'analyst'");
    }

    @Test
    void theIndexJobsSinkCarriesTheCredentialsToItsWriters() throws Exception {
        TourniquetConfig cfg = TourniquetConfig.load(Map.of(Settings.ES_API_KEY.envName(), SECRET,
                Settings.ES_CA_FINGERPRINT.envName(), "AB:CD"), Map.of());
        EsSinkSettings sink = EsSinkSettings.from(cfg);
        assertThat(sink.security().apiKey()).isEqualTo(SECRET);
        assertThat(sink.security().caFingerprint()).isEqualTo("AB:CD");
        // Serialized into the job graph: it must be serializable, and survives withUrls.
        new ObjectOutputStream(new ByteArrayOutputStream()).writeObject(sink);
        assertThat(sink.withUrls(List.of("https://b:9200")).security()).isEqualTo(sink.security());
    }

    @Test
    void anUnusableCaIsNamedBeforeAnyRequest(@TempDir Path dir) throws Exception {
        Path notPem = dir.resolve("ca.pem");
        Files.writeString(notPem, "not a certificate", StandardCharsets.UTF_8);
        assertThatThrownBy(() -> EsClients.create(List.of("https://es:9200"),
                new EsSecurity(null, null, null, dir.resolve("missing.pem").toString(), null)))
                .hasMessageContaining("elasticsearch.ca-file").hasMessageContaining("missing.pem: no such file");
        assertThatThrownBy(() -> EsClients.create(List.of("https://es:9200"),
                new EsSecurity(null, null, null, notPem.toString(), null)))
                .hasMessageContaining("elasticsearch.ca-file").hasMessageContaining("not a PEM certificate");
        assertThatThrownBy(() -> EsClients.create(List.of("https://es:9200"),
                new EsSecurity(null, null, null, null, "12:34")))
                .hasMessageContaining("elasticsearch.ca-fingerprint: expected a SHA-256 fingerprint");
    }
}
