package io.tourniquet.pipeline;

import static org.assertj.core.api.Assertions.assertThat;
import com.fasterxml.jackson.databind.JsonNode;
import io.tourniquet.cli.SetupCommand;
import io.tourniquet.config.Settings;
import io.tourniquet.config.TourniquetConfig;
import io.tourniquet.json.Json;
import io.tourniquet.kafka.KafkaClientConfig;
import io.tourniquet.kafka.TopicReader;
import io.tourniquet.sim.GroundTruth;
import io.tourniquet.sim.Simulation;
import io.tourniquet.sim.SimulationWriter;
import io.tourniquet.testing.CliProcess;
import io.tourniquet.testing.ReplayedIncident;
import io.tourniquet.testing.SecuredServices;
import io.tourniquet.testing.SharedMiniCluster;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Tourniquet through secured services, as an exchange runs them: a Kafka broker with a SASL_SSL
 * (SCRAM-SHA-512) listener and a mutual-TLS listener, and Elasticsearch with TLS and
 * authentication, both started by the project's own scripts with certificates made by keytool
 * ({@link SecuredServices}). The detect and index jobs replay an incident through mutual TLS and
 * HTTPS trusted by CA fingerprint with basic auth; the CLI works through SCRAM with its secrets from the environment (Kafka's
 * EnvVarConfigProvider) and basic auth; wrong credentials fail at start with one sentence naming
 * the service.
 */
@ExtendWith(SharedMiniCluster.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class SecuredServicesITCase {
    static final String KEY = "secured-itcase-signing-key-0123456789abcdef";
    static final String CONTROL_KEY = "secured-itcase-control-key-0123456789abcdef";
    static final Duration READ = Duration.ofSeconds(60);
    static final Duration CLI_DEADLINE = Duration.ofSeconds(150);

    SecuredServices services;
    Path dir;

    @BeforeAll
    void startSecuredServices() throws Exception {
        dir = Path.of("target", "secured-services").toAbsolutePath();
        CliProcess.deleteRecursively(dir);
        Files.createDirectories(dir);
        services = SecuredServices.start(dir, Integer.getInteger("tourniquet.test.secured.kafka.port", 29092),
                Integer.getInteger("tourniquet.test.secured.es.port", 29200));
    }

    @AfterAll
    void stop() throws Exception {
        if (services != null) services.close();
    }

    /** Mutual TLS: a PEM trust store, a PKCS12 key store whose password comes from a secrets file. */
    private Path mutualTlsProperties() throws Exception {
        Path secrets = services.secretsFile(SecuredServices.SCRAM_PASSWORD);
        return services.clientProperties("mtls.properties",
                "security.protocol=SSL",
                "ssl.truststore.type=PEM",
                "ssl.truststore.location=" + services.caPem,
                "ssl.keystore.type=PKCS12",
                "ssl.keystore.location=" + services.clientP12,
                "config.providers=file",
                "config.providers.file.class=org.apache.kafka.common.config.provider.FileConfigProvider",
                "ssl.keystore.password=${file:" + secrets + ":store.password}");
    }

    /** SCRAM over TLS with a PKCS12 trust store; both passwords from the environment. */
    private Path scramProperties() throws Exception {
        return services.clientProperties("scram.properties",
                "security.protocol=SASL_SSL",
                "sasl.mechanism=SCRAM-SHA-512",
                "config.providers=env",
                "config.providers.env.class=org.apache.kafka.common.config.provider.EnvVarConfigProvider",
                "sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username=\""
                        + SecuredServices.SCRAM_USER + "\" password=\"${env:TQ_KAFKA_PASSWORD}\";",
                "ssl.truststore.type=PKCS12",
                "ssl.truststore.location=" + services.truststoreP12,
                "ssl.truststore.password=${env:TQ_STORE_PASSWORD}");
    }

    private static String namespace(String prefix) {
        return prefix + UUID.randomUUID().toString().substring(0, 8) + "-";
    }

    @Test
    void theDetectAndIndexJobsReplayAnIncidentThroughMutualTlsAndAuthenticatedHttps() throws Exception {
        TourniquetConfig cfg = TourniquetConfig.load(Map.of(), Map.of(
                Settings.KAFKA_BOOTSTRAP.key(), services.sslBootstrap,
                Settings.KAFKA_PROPERTIES_FILE.key(), mutualTlsProperties().toString(),
                Settings.ES_URL.key(), services.esUrl,
                Settings.ES_USERNAME.key(), "elastic",
                Settings.ES_PASSWORD.key(), SecuredServices.ELASTIC_PASSWORD,
                Settings.ES_CA_FINGERPRINT.key(), services.caFingerprint,
                Settings.SIGNING_KEY.key(), KEY,
                Settings.CONTROL_KEY.key(), CONTROL_KEY,
                Settings.CHECKPOINT_INTERVAL.key(), "1 s")).namespaced(namespace("sec"));
        SetupCommand.apply(cfg);
        Simulation sim = ReplayedIncident.simulate(cfg, 20220117);
        GroundTruth truth = sim.groundTruth();
        SimulationWriter.writeToKafka(sim, KafkaClientConfig.base(cfg));

        ReplayedIncident.replay(cfg, "secured");

        List<JsonNode> actions = read(cfg, Settings.TOPIC_ACTIONS);
        assertThat(ReplayOutcome.unauthorizedApprovalCommands(actions))
                .containsExactlyInAnyOrderElementsOf(ReplayOutcome.unauthorizedApprovalCommands(truth));
        int alerts = read(cfg, Settings.TOPIC_ALERTS).size();
        assertThat(alerts).isGreaterThanOrEqualTo(truth.unauthorizedApprovals().size());
        var count = services.esRequest("GET", "/" + cfg.get(Settings.INDEX_ALERTS) + "/_count", null);
        assertThat(count.statusCode()).as(count.body()).isEqualTo(200);
        assertThat(Json.MAPPER.readTree(count.body()).path("count").asInt()).as("alerts indexed").isEqualTo(alerts);
    }

    private List<JsonNode> read(TourniquetConfig cfg, io.tourniquet.config.Setting<String> topic) throws Exception {
        List<JsonNode> out = new ArrayList<>();
        for (ConsumerRecord<byte[], byte[]> r : TopicReader.readAll(KafkaClientConfig.base(cfg), cfg.get(topic), READ)) {
            out.add(Json.MAPPER.readTree(r.value()));
        }
        return out;
    }

    /** The CLI's settings for a namespace on the secured services; secrets go in the environment. */
    private Map<String, String> cliSettings(String ns) {
        TourniquetConfig cfg = TourniquetConfig.load(Map.of(), Map.of(
                Settings.KAFKA_BOOTSTRAP.key(), services.saslSslBootstrap,
                Settings.ES_URL.key(), services.esUrl)).namespaced(ns);
        return CliProcess.settingsOf(cfg);
    }

    private Map<String, String> scramEnv(String kafkaPassword) throws Exception {
        Map<String, String> env = new LinkedHashMap<>();
        env.put(Settings.KAFKA_PROPERTIES_FILE.envName(), scramProperties().toString());
        env.put("TQ_KAFKA_PASSWORD", kafkaPassword);
        env.put("TQ_STORE_PASSWORD", SecuredServices.STORE_PASSWORD);
        env.put(Settings.ES_USERNAME.envName(), "elastic");
        env.put(Settings.ES_PASSWORD.envName(), SecuredServices.ELASTIC_PASSWORD);
        env.put(Settings.ES_CA_FILE.envName(), services.caPem.toString());
        return env;
    }

    private record Run(int exit, String console) {}

    private Run cli(String name, List<String> command, Map<String, String> settings, Map<String, String> env)
            throws Exception {
        CliProcess p = CliProcess.start(dir, name, command, settings, env);
        if (!p.process().waitFor(CLI_DEADLINE.toSeconds(), TimeUnit.SECONDS)) {
            p.kill();
            throw new AssertionError(name + " did not end within " + CLI_DEADLINE + ":\n" + p.console());
        }
        return new Run(p.process().exitValue(), p.console());
    }

    @Test
    void theCliSetsUpThroughScramWithItsSecretsFromTheEnvironmentAndNeverShowsThem() throws Exception {
        String ns = namespace("cli");
        Map<String, String> settings = cliSettings(ns);
        Run setup = cli("setup-scram", List.of("setup"), settings, scramEnv(SecuredServices.SCRAM_PASSWORD));
        assertThat(setup.exit()).as(setup.console()).isZero();
        assertThat(setup.console()).contains("topics: created", "index templates: applied");
        try (Admin admin = Admin.create(Map.of("bootstrap.servers", services.plaintextBootstrap))) {
            Set<String> topics = admin.listTopics().names().get(30, TimeUnit.SECONDS);
            assertThat(topics).contains(ns + "exchange.wallet.withdrawals", ns + "tourniquet.actions");
        }

        Run config = cli("config-scram", List.of("config"), settings, scramEnv(SecuredServices.SCRAM_PASSWORD));
        assertThat(config.exit()).as(config.console()).isZero();
        assertThat(config.console()).contains(Settings.ES_PASSWORD.key())
                .doesNotContain(SecuredServices.ELASTIC_PASSWORD).doesNotContain(SecuredServices.SCRAM_PASSWORD);
    }

    @Test
    void wrongCredentialsFailAtStartWithOneSentenceNamingTheService() throws Exception {
        Map<String, String> settings = cliSettings(namespace("bad"));

        Run kafka = cli("setup-wrong-scram", List.of("setup"), settings, scramEnv("not-the-password"));
        assertThat(kafka.exit()).isEqualTo(2);
        assertThat(kafka.console()).contains("Kafka at " + services.saslSslBootstrap + " (SASL_SSL) refused the credentials")
                .doesNotContain("\tat ");

        Map<String, String> noClientCertificate = new LinkedHashMap<>(settings);
        noClientCertificate.put(Settings.KAFKA_BOOTSTRAP.key(), services.sslBootstrap);
        Map<String, String> env = scramEnv(SecuredServices.SCRAM_PASSWORD);
        env.put(Settings.KAFKA_PROPERTIES_FILE.envName(), services.clientProperties("tls-only.properties",
                "security.protocol=SSL", "ssl.truststore.type=PEM", "ssl.truststore.location=" + services.caPem)
                .toString());
        Run tls = cli("setup-no-client-cert", List.of("setup"), noClientCertificate, env);
        assertThat(tls.exit()).isEqualTo(2);
        assertThat(tls.console()).contains("Kafka at " + services.sslBootstrap + " (SSL)").doesNotContain("\tat ");

        Map<String, String> wrongKey = scramEnv(SecuredServices.SCRAM_PASSWORD);
        wrongKey.remove(Settings.ES_USERNAME.envName());
        wrongKey.remove(Settings.ES_PASSWORD.envName());
        wrongKey.put(Settings.ES_API_KEY.envName(), java.util.Base64.getEncoder()
                .encodeToString("no-such-id:no-such-key".getBytes(java.nio.charset.StandardCharsets.UTF_8)));
        // The distribution here cannot issue API keys (see SecuredServices), so only a refused one is shown.
        Run es = cli("setup-wrong-api-key", List.of("setup"), settings, wrongKey);
        assertThat(es.exit()).isEqualTo(2);
        assertThat(es.console()).contains("Elasticsearch at " + services.esUrl + " refused the credentials (401, API key)")
                .doesNotContain("\tat ");

        Map<String, String> untrusted = scramEnv(SecuredServices.SCRAM_PASSWORD);
        untrusted.remove(Settings.ES_CA_FILE.envName());
        Run jvmTrust = cli("setup-untrusted-es", List.of("setup"), settings, untrusted);
        assertThat(jvmTrust.exit()).isEqualTo(2);
        assertThat(jvmTrust.console()).contains("TLS handshake with Elasticsearch at " + services.esUrl + " failed")
                .doesNotContain("\tat ");
    }
}
