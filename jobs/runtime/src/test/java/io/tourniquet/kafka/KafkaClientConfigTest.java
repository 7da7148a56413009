package io.tourniquet.kafka;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import io.tourniquet.config.Settings;
import io.tourniquet.config.TourniquetConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.common.errors.SaslAuthenticationException;
import org.apache.kafka.common.errors.SslAuthenticationException;
import org.apache.kafka.common.errors.TimeoutException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class KafkaClientConfigTest {
    @TempDir
    Path dir;

    private TourniquetConfig withFile(String content) throws Exception {
        Path file = dir.resolve("client.properties");
        Files.writeString(file, content);
        return TourniquetConfig.load(Map.of(), Map.of(Settings.KAFKA_BOOTSTRAP.key(), "k1:9093",
                Settings.KAFKA_PROPERTIES_FILE.key(), file.toString()));
    }

    @Test
    void everyEntryOfTheFileReachesTheClientsUnresolvedWithTheBootstrapServers() throws Exception {
        Properties p = KafkaClientConfig.base(withFile("""
                security.protocol=SASL_SSL
                sasl.mechanism=SCRAM-SHA-512
                config.providers=env
                config.providers.env.class=org.apache.kafka.common.config.provider.EnvVarConfigProvider
                sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="u" password="${env:PW}";
                ssl.truststore.type=PEM
                """));
        assertThat(p).containsEntry("bootstrap.servers", "k1:9093").containsEntry("security.protocol", "SASL_SSL")
                .containsEntry("config.providers", "env").hasSize(7);
        // Resolved inside each Kafka client, never here: no secret in the job graph or a log line.
        assertThat(p.getProperty("sasl.jaas.config")).contains("${env:PW}");
        assertThat(KafkaClientConfig.securityProtocol(p)).isEqualTo("SASL_SSL");
    }

    @Test
    void withoutAFileOnlyTheBootstrapServers() {
        Properties p = KafkaClientConfig.base(TourniquetConfig.defaults());
        assertThat(p).containsOnlyKeys("bootstrap.servers");
        assertThat(KafkaClientConfig.securityProtocol(p)).isEqualTo("PLAINTEXT");
    }

    @Test
    void keysTourniquetSetsPerClientAreRefusedAllAtOnce() throws Exception {
        TourniquetConfig cfg = withFile("bootstrap.servers=elsewhere:9092\nacks=1\nisolation.level=read_uncommitted\n"
                + "ssl.keystore.location=\nsecurity.protocol=SSL\n");
        assertThatThrownBy(() -> KafkaClientConfig.base(cfg)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("kafka.properties-file")
                .hasMessageContaining("acks is set by Tourniquet per client")
                .hasMessageContaining("bootstrap.servers is set by Tourniquet per client (from kafka.bootstrap)")
                .hasMessageContaining("isolation.level is set by Tourniquet per client")
                .hasMessageContaining("ssl.keystore.location is empty");
    }

    @Test
    void aMissingFileIsNamed() {
        TourniquetConfig cfg = TourniquetConfig.load(Map.of(), Map.of(Settings.KAFKA_PROPERTIES_FILE.key(),
                dir.resolve("nope.properties").toString()));
        assertThatThrownBy(() -> KafkaClientConfig.base(cfg)).hasMessageContaining("nope.properties: no such file");
    }

    @Test
    void failuresToTalkToKafkaBecomeOneSentenceNamingTheServiceAndTheAddress() {
        Properties p = KafkaClientConfig.plain("k1:9094");
        p.put("security.protocol", "SASL_SSL");
        assertThat(KafkaClientConfig.explain(p, new RuntimeException(new SaslAuthenticationException("bad password"))))
                .startsWith("Kafka at k1:9094 (SASL_SSL) refused the credentials: bad password");
        assertThat(KafkaClientConfig.explain(p, new SslAuthenticationException("SSL handshake failed",
                new javax.net.ssl.SSLHandshakeException("PKIX path building failed"))))
                .startsWith("TLS handshake with Kafka at k1:9094 (SASL_SSL) failed: PKIX path building failed");
        assertThat(KafkaClientConfig.explain(p, new java.util.concurrent.ExecutionException(new TimeoutException("t"))))
                .contains("did not answer in time");
        assertThat(KafkaClientConfig.explain(p, new org.apache.kafka.common.KafkaException("Failed to construct",
                new org.apache.kafka.common.config.ConfigException("Invalid value PEMX for ssl.truststore.type"))))
                .startsWith("Kafka client configuration rejected (kafka.properties-file): Invalid value PEMX");
    }
}
