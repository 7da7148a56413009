package io.tourniquet.testing;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.MessageDigest;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.ScramCredentialInfo;
import org.apache.kafka.clients.admin.ScramMechanism;
import org.apache.kafka.clients.admin.UserScramCredentialUpsertion;

/**
 * A Kafka broker and an Elasticsearch node with security on, started by the project's own
 * {@code infra/local/up} on their own ports and state directory, for the tests that prove Tourniquet
 * works through secured services.
 *
 * <ul>
 *   <li>Certificates are made here with the JDK's {@code keytool}: a CA, a server certificate for
 *       127.0.0.1 signed by it (Kafka's listeners and Elasticsearch's HTTPS), a client certificate
 *       for mutual TLS; PKCS12 stores and the CA as PEM.</li>
 *   <li>Kafka: PLAINTEXT on {@code base} (the script's health check, and creating the SCRAM user),
 *       SASL_SSL with SCRAM-SHA-512 on {@code base+2}, SSL with client certificates required on
 *       {@code base+3}.</li>
 *   <li>Elasticsearch: TLS on HTTP and authentication; {@code elastic} is the bootstrap user. No API
 *       key can be made: the test distribution (integ-test-zip) lacks the analysis-common module
 *       that the {@code .security} index's mappings need, so the native realm and API keys do not
 *       work there; the file-backed bootstrap user does.</li>
 * </ul>
 */
public final class SecuredServices implements AutoCloseable {
    public static final String STORE_PASSWORD = "store-pw-0123";
    public static final String SCRAM_USER = "tourniquet";
    public static final String SCRAM_PASSWORD = "scram-pw-4f1c9a";
    public static final String ELASTIC_PASSWORD = "elastic-pw-7d2e5b";

    public final Path dir;
    public final int kafkaBase;
    public final String saslSslBootstrap;
    public final String sslBootstrap;
    public final String plaintextBootstrap;
    public final String esUrl;
    public final Path caPem;
    public final Path truststoreP12;
    public final Path clientP12;
    /** SHA-256 of the CA certificate, hex: what Elasticsearch prints as its CA fingerprint. */
    public final String caFingerprint;
    private final Map<String, String> scriptEnv = new LinkedHashMap<>();

    private SecuredServices(Path dir, int kafkaBase, int esPort) throws Exception {
        this.dir = dir;
        this.kafkaBase = kafkaBase;
        this.plaintextBootstrap = "127.0.0.1:" + kafkaBase;
        this.saslSslBootstrap = "127.0.0.1:" + (kafkaBase + 2);
        this.sslBootstrap = "127.0.0.1:" + (kafkaBase + 3);
        this.esUrl = "https://127.0.0.1:" + esPort;
        Path certs = Files.createDirectories(dir.resolve("certs"));
        this.caPem = certs.resolve("ca.pem");
        this.truststoreP12 = certs.resolve("truststore.p12");
        this.clientP12 = certs.resolve("client.p12");
        makeCertificates(certs);
        this.caFingerprint = fingerprint(caPem);
        scriptEnv.put("TOURNIQUET_LOCAL_DIR", dir.resolve("state").toString());
        scriptEnv.put("TOURNIQUET_KAFKA_PORT", Integer.toString(kafkaBase));
        scriptEnv.put("TOURNIQUET_KAFKA_CONTROLLER_PORT", Integer.toString(kafkaBase + 1));
        scriptEnv.put("TOURNIQUET_ES_PORT", Integer.toString(esPort));
        scriptEnv.put("TOURNIQUET_ES_TRANSPORT_PORT", Integer.toString(esPort + 100));
        scriptEnv.put("TOURNIQUET_ES_HEAP", "512m");
        scriptEnv.put("TOURNIQUET_KAFKA_HEAP", "512m");
        scriptEnv.put("TOURNIQUET_KAFKA_EXTRA_CONFIG", writeBrokerConfig(certs).toString());
        scriptEnv.put("TOURNIQUET_ES_SECURITY_DIR", writeEsSecurity(certs).toString());
    }

    /** Certificates made, both services started and their users ready; {@link #close()} stops them. */
    public static SecuredServices start(Path dir, int kafkaBase, int esPort) throws Exception {
        SecuredServices s = new SecuredServices(dir, kafkaBase, esPort);
        try {
            s.script("up", Duration.ofMinutes(5));
            s.createScramUser();
        } catch (Exception | AssertionError e) {
            s.close();
            throw e;
        }
        return s;
    }

    @Override
    public void close() throws Exception {
        script("down", Duration.ofMinutes(2));
    }

    /** A Kafka client properties file, as an operator writes one for {@code kafka.properties-file}. */
    public Path clientProperties(String name, String... lines) throws IOException {
        Path file = dir.resolve(name);
        Files.writeString(file, String.join("\n", lines) + "\n", StandardCharsets.UTF_8);
        return file;
    }

    /** A file the FileConfigProvider reads secrets from: {@code ${file:<path>:kafka.password}}. */
    public Path secretsFile(String kafkaPassword) throws IOException {
        Path file = dir.resolve("secrets-" + Integer.toHexString(kafkaPassword.hashCode()) + ".properties");
        Files.writeString(file, "kafka.password=" + kafkaPassword + "\nstore.password=" + STORE_PASSWORD + "\n");
        return file;
    }

    private void makeCertificates(Path certs) throws Exception {
        Path ca = certs.resolve("ca.p12");
        keytool("-genkeypair", "-alias", "ca", "-keyalg", "RSA", "-keysize", "2048", "-validity", "3650",
                "-dname", "CN=tourniquet-test-ca", "-ext", "bc:c", "-keystore", ca.toString());
        keytool("-exportcert", "-rfc", "-alias", "ca", "-keystore", ca.toString(), "-file", caPem.toString());
        keytool("-importcert", "-noprompt", "-alias", "ca", "-file", caPem.toString(),
                "-keystore", truststoreP12.toString());
        signed(certs, ca, "server", "CN=localhost", "SAN=ip:127.0.0.1,dns:localhost");
        signed(certs, ca, "client", "CN=tourniquet-client", null);
    }

    /** A key pair in {@code <name>.p12} whose certificate the CA signed, with the CA in the chain. */
    private void signed(Path certs, Path ca, String name, String dname, String san) throws Exception {
        Path store = certs.resolve(name + ".p12");
        Path csr = certs.resolve(name + ".csr");
        Path pem = certs.resolve(name + ".pem");
        List<String> gen = new ArrayList<>(List.of("-genkeypair", "-alias", name, "-keyalg", "RSA", "-keysize", "2048",
                "-validity", "3650", "-dname", dname, "-keystore", store.toString()));
        if (san != null) gen.addAll(List.of("-ext", san));
        keytool(gen.toArray(String[]::new));
        keytool("-certreq", "-alias", name, "-keystore", store.toString(), "-file", csr.toString());
        List<String> sign = new ArrayList<>(List.of("-gencert", "-rfc", "-alias", "ca", "-keystore", ca.toString(),
                "-infile", csr.toString(), "-outfile", pem.toString(), "-validity", "3650"));
        if (san != null) sign.addAll(List.of("-ext", san));
        keytool(sign.toArray(String[]::new));
        keytool("-importcert", "-noprompt", "-alias", "ca", "-file", caPem.toString(), "-keystore", store.toString());
        keytool("-importcert", "-alias", name, "-file", pem.toString(), "-keystore", store.toString());
    }

    private static void keytool(String... args) throws Exception {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "keytool").toString());
        cmd.addAll(List.of(args));
        cmd.addAll(List.of("-storetype", "PKCS12", "-storepass", STORE_PASSWORD));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
            throw new IllegalStateException("keytool " + String.join(" ", args) + " failed:\n" + out);
        }
    }

    private Path writeBrokerConfig(Path certs) throws IOException {
        int plain = kafkaBase;
        int controller = kafkaBase + 1;
        Path file = dir.resolve("broker-security.properties");
        Files.writeString(file, String.join("\n",
                "listeners=PLAINTEXT://127.0.0.1:" + plain + ",CONTROLLER://127.0.0.1:" + controller
                        + ",SASL_SSL://" + saslSslBootstrap + ",SSL://" + sslBootstrap,
                "advertised.listeners=PLAINTEXT://127.0.0.1:" + plain + ",SASL_SSL://" + saslSslBootstrap
                        + ",SSL://" + sslBootstrap,
                "listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT,SASL_SSL:SASL_SSL,SSL:SSL",
                "sasl.enabled.mechanisms=SCRAM-SHA-512",
                "listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config="
                        + "org.apache.kafka.common.security.scram.ScramLoginModule required;",
                "ssl.keystore.type=PKCS12",
                "ssl.keystore.location=" + certs.resolve("server.p12"),
                "ssl.keystore.password=" + STORE_PASSWORD,
                "ssl.truststore.type=PKCS12",
                "ssl.truststore.location=" + truststoreP12,
                "ssl.truststore.password=" + STORE_PASSWORD,
                "listener.name.ssl.ssl.client.auth=required",
                "") , StandardCharsets.UTF_8);
        return file;
    }

    private Path writeEsSecurity(Path certs) throws IOException {
        Path es = Files.createDirectories(dir.resolve("es-security"));
        Files.copy(certs.resolve("server.p12"), es.resolve("http.p12"), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        Files.copy(caPem, es.resolve("ca.pem"), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        Files.writeString(es.resolve("keystore-password"), STORE_PASSWORD);
        Files.writeString(es.resolve("elastic-password"), ELASTIC_PASSWORD);
        return es;
    }

    /** The SCRAM user, created over the PLAINTEXT listener; waits (deadline) until it can log in. */
    private void createScramUser() throws Exception {
        try (Admin admin = Admin.create(Map.of("bootstrap.servers", plaintextBootstrap))) {
            admin.alterUserScramCredentials(List.of(new UserScramCredentialUpsertion(SCRAM_USER,
                    new ScramCredentialInfo(ScramMechanism.SCRAM_SHA_512, 4096), SCRAM_PASSWORD)))
                    .all().get(60, TimeUnit.SECONDS);
        }
        Properties sasl = new Properties();
        sasl.put("bootstrap.servers", saslSslBootstrap);
        sasl.put("security.protocol", "SASL_SSL");
        sasl.put("sasl.mechanism", "SCRAM-SHA-512");
        sasl.put("sasl.jaas.config", "org.apache.kafka.common.security.scram.ScramLoginModule required username=\""
                + SCRAM_USER + "\" password=\"" + SCRAM_PASSWORD + "\";");
        sasl.put("ssl.truststore.type", "PEM");
        sasl.put("ssl.truststore.location", caPem.toString());
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        Exception last = null;
        while (System.nanoTime() < deadline) {
            try (Admin admin = Admin.create(sasl)) {
                admin.describeCluster().nodes().get(10, TimeUnit.SECONDS);
                return;
            } catch (Exception e) {
                last = e; // the credential reaches the broker's cache shortly after it is written
            }
            Thread.sleep(200);
        }
        throw new IllegalStateException("SCRAM user cannot log in within 60 s", last);
    }

    /** A request to the secured node as {@code elastic}, trusting only the test CA. */
    public HttpResponse<String> esRequest(String method, String path, String json) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(esUrl + path))
                .header("Authorization", "Basic " + Base64.getEncoder().encodeToString(
                        ("elastic:" + ELASTIC_PASSWORD).getBytes(StandardCharsets.UTF_8)))
                .header("Content-Type", "application/json")
                .timeout(Duration.ofSeconds(30))
                .method(method, json == null ? HttpRequest.BodyPublishers.noBody()
                        : HttpRequest.BodyPublishers.ofString(json));
        HttpClient http = HttpClient.newBuilder().sslContext(trustingCa()).build();
        return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    private SSLContext trustingCa() throws Exception {
        KeyStore ks = KeyStore.getInstance("PKCS12");
        try (var in = Files.newInputStream(truststoreP12)) {
            ks.load(in, STORE_PASSWORD.toCharArray());
        }
        TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(ks);
        SSLContext ctx = SSLContext.getInstance("TLS");
        ctx.init(null, tmf.getTrustManagers(), null);
        return ctx;
    }

    private static String fingerprint(Path pem) throws Exception {
        try (var in = Files.newInputStream(pem)) {
            X509Certificate cert = (X509Certificate) CertificateFactory.getInstance("X.509").generateCertificate(in);
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(cert.getEncoded()));
        }
    }

    private void script(String name, Duration timeout) throws Exception {
        Path repo = Path.of("").toAbsolutePath();
        while (!Files.exists(repo.resolve("infra/local/" + name))) repo = repo.getParent();
        ProcessBuilder pb = new ProcessBuilder(repo.resolve("infra/local/" + name).toString())
                .directory(repo.toFile()).redirectErrorStream(true)
                .redirectOutput(dir.resolve(name + ".log").toFile());
        pb.environment().keySet().removeIf(k -> k.startsWith("TOURNIQUET_"));
        pb.environment().putAll(scriptEnv);
        Process p = pb.start();
        if (!p.waitFor(timeout.toSeconds(), TimeUnit.SECONDS)) {
            p.descendants().forEach(ProcessHandle::destroyForcibly);
            p.destroyForcibly();
            throw new IllegalStateException("infra/local/" + name + " timed out:\n" + Files.readString(dir.resolve(name + ".log")));
        }
        if (p.exitValue() != 0) {
            throw new IllegalStateException("infra/local/" + name + " failed (exit " + p.exitValue() + "):\n"
                    + Files.readString(dir.resolve(name + ".log")));
        }
    }
}
