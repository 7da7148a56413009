package io.tourniquet.kafka;

import io.tourniquet.config.Settings;
import io.tourniquet.config.TourniquetConfig;
import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.Set;
import java.util.TreeSet;

/**
 * The properties every Kafka client of Tourniquet starts from: {@code kafka.bootstrap} plus the
 * client properties file ({@code kafka.properties-file}) as it is, so whatever a secured cluster
 * needs (SASL_SSL with SCRAM, mutual TLS, PKCS12 or PEM stores, config providers for secrets)
 * reaches the job's sources and sinks, the admin client and every CLI command alike.
 *
 * <p>Secrets should reach the clients through Kafka's own config providers
 * ({@code config.providers=env} with {@code ${env:VAR}}, or {@code file} with
 * {@code ${file:path:key}}): the placeholders are resolved inside each Kafka client, so the
 * password is neither in a command line nor in Flink's job graph.
 *
 * <p>Keys Tourniquet sets per client because its guarantees depend on them (acks, idempotence,
 * transactions, isolation, deserializers, group ids) are refused rather than silently overridden
 * one way or the other.
 */
public final class KafkaClientConfig {
    private KafkaClientConfig() {}

    /** What Tourniquet decides per client; a properties file must not set them. */
    static final Set<String> OWNED = Set.of("bootstrap.servers", "group.id", "key.serializer", "value.serializer",
            "key.deserializer", "value.deserializer", "transactional.id", "isolation.level", "enable.auto.commit",
            "acks", "enable.idempotence");

    /**
     * {@code bootstrap.servers} and the properties file's entries, validated; every problem of the
     * file is reported at once.
     */
    public static Properties base(TourniquetConfig cfg) {
        Properties p = new Properties();
        cfg.find(Settings.KAFKA_PROPERTIES_FILE).ifPresent(file -> p.putAll(load(Path.of(file.trim()))));
        p.put("bootstrap.servers", cfg.get(Settings.KAFKA_BOOTSTRAP));
        return p;
    }

    /** Only the bootstrap servers: for callers (tests, tools) that talk to an unsecured cluster. */
    public static Properties plain(String bootstrap) {
        Properties p = new Properties();
        p.put("bootstrap.servers", bootstrap);
        return p;
    }

    /** A copy of {@code base} with the given client-specific entries on top. */
    public static Properties with(Properties base, Object... keyValues) {
        Properties p = new Properties();
        p.putAll(base);
        for (int i = 0; i < keyValues.length; i += 2) p.put(keyValues[i], String.valueOf(keyValues[i + 1]));
        return p;
    }

    static Properties load(Path file) {
        String name = Settings.KAFKA_PROPERTIES_FILE.key() + " " + file;
        if (!Files.isRegularFile(file)) throw new IllegalArgumentException(name + ": no such file");
        Properties p = new Properties();
        try (Reader r = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            p.load(r);
        } catch (IOException e) {
            throw new IllegalArgumentException(name + ": cannot read (" + e.getMessage() + ")", e);
        }
        List<String> problems = new ArrayList<>();
        for (String key : new TreeSet<>(p.stringPropertyNames())) {
            if (OWNED.contains(key)) {
                problems.add(key + " is set by Tourniquet per client"
                        + (key.equals("bootstrap.servers") ? " (from " + Settings.KAFKA_BOOTSTRAP.key() + ")" : ""));
            } else if (p.getProperty(key).isBlank()) {
                problems.add(key + " is empty");
            }
        }
        if (!problems.isEmpty()) throw new IllegalArgumentException(name + ": " + String.join("; ", problems));
        return p;
    }

    /**
     * One sentence naming the service, the address and what went wrong, for a failure to talk to
     * Kafka at all: refused credentials, a failed TLS handshake, no answer, or a client
     * configuration Kafka rejected (a missing trust store, an unresolved config provider).
     */
    public static String explain(Properties client, Throwable failure) {
        String where = "Kafka at " + client.getProperty("bootstrap.servers") + " (" + securityProtocol(client) + ")";
        for (Throwable t = failure; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (t instanceof org.apache.kafka.common.errors.SaslAuthenticationException) {
                return where + " refused the credentials: " + t.getMessage()
                        + " (check sasl.mechanism and sasl.jaas.config in " + Settings.KAFKA_PROPERTIES_FILE.key() + ")";
            }
            if (t instanceof org.apache.kafka.common.errors.SslAuthenticationException) {
                return "TLS handshake with " + where + " failed: " + rootMessage(t)
                        + " (check ssl.truststore.* and, for mutual TLS, ssl.keystore.* in "
                        + Settings.KAFKA_PROPERTIES_FILE.key() + ")";
            }
            if (t instanceof org.apache.kafka.common.errors.AuthenticationException
                    || t instanceof org.apache.kafka.common.errors.AuthorizationException) {
                return where + " refused access: " + t.getMessage();
            }
            if (t instanceof org.apache.kafka.common.config.ConfigException) {
                return "Kafka client configuration rejected (" + Settings.KAFKA_PROPERTIES_FILE.key() + "): " + t.getMessage();
            }
            if (t instanceof java.util.concurrent.TimeoutException
                    || t instanceof org.apache.kafka.common.errors.TimeoutException) {
                return where + " did not answer in time (wrong address, the broker down, or a security.protocol "
                        + "that does not match the listener)";
            }
        }
        return where + ": " + rootMessage(failure);
    }

    private static String rootMessage(Throwable t) {
        String msg = t.toString();
        for (Throwable c = t; c != null; c = c.getCause() == c ? null : c.getCause()) {
            if (c.getMessage() != null) msg = c.getMessage();
        }
        return msg;
    }

    /** The security protocol the clients will use, for messages ("PLAINTEXT" when none is set). */
    public static String securityProtocol(Properties p) {
        return p.getProperty("security.protocol", "PLAINTEXT");
    }
}
