package io.tourniquet.testing;

import java.io.BufferedReader;
import java.io.File;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * JUnit 5 extension that provides a real Kafka broker and a real Elasticsearch node, started
 * at most once per test JVM and shared by every test class that uses it.
 *
 * <p>If the environment variables {@code TOURNIQUET_KAFKA_BOOTSTRAP} and
 * {@code TOURNIQUET_ES_URL} are both set, those services are used as they are: nothing is
 * started or stopped. Otherwise the extension runs {@code infra/local/up} with its state in
 * {@code <repo>/jobs/target/local-services} on test ports (Kafka 19092, controller 19093,
 * Elasticsearch 19200, transport 19300; override with the system properties
 * {@code tourniquet.test.kafka.port}, {@code tourniquet.test.kafka.controller.port},
 * {@code tourniquet.test.es.port}, {@code tourniquet.test.es.transport.port}), reads the
 * addresses from the {@code services.env} the script writes, and runs {@code infra/local/down}
 * when the test plan finishes (the handle lives in the root context's store).
 *
 * <pre>{@code
 * @ExtendWith(LocalServices.class)
 * class MyITCase {
 *     @Test void test() { String bootstrap = LocalServices.kafkaBootstrap(); ... }
 * }
 * }</pre>
 */
public final class LocalServices implements BeforeAllCallback {

    public static final String ENV_KAFKA_BOOTSTRAP = "TOURNIQUET_KAFKA_BOOTSTRAP";
    public static final String ENV_ES_URL = "TOURNIQUET_ES_URL";

    private static final ExtensionContext.Namespace NAMESPACE =
            ExtensionContext.Namespace.create(LocalServices.class);
    private static final Duration UP_TIMEOUT = Duration.ofMinutes(5);
    private static final Duration DOWN_TIMEOUT = Duration.ofMinutes(2);
    private static final int MAX_CAPTURED_CHARS = 64 * 1024;

    /** The services of this JVM once started; read by the static accessors. */
    private static volatile Services current;

    @Override
    public void beforeAll(ExtensionContext context) {
        Services services = context.getRoot().getStore(NAMESPACE)
                .getOrComputeIfAbsent(Services.class, key -> Services.acquire(), Services.class);
        services.throwIfFailed();
        current = services;
    }

    /** The Kafka bootstrap servers, e.g. {@code 127.0.0.1:19092}. */
    public static String kafkaBootstrap() {
        return started().kafkaBootstrap;
    }

    /** The Elasticsearch base URL, e.g. {@code http://127.0.0.1:19200}. */
    public static String elasticsearchUrl() {
        return started().elasticsearchUrl;
    }

    private static Services started() {
        Services services = current;
        if (services == null) {
            throw new IllegalStateException(
                    "LocalServices not initialised: annotate the test class with @ExtendWith(LocalServices.class)");
        }
        services.throwIfFailed();
        return services;
    }

    /** One per JVM, stored in the root context so JUnit closes it at the end of the run. */
    private static final class Services implements ExtensionContext.Store.CloseableResource {
        final String kafkaBootstrap;
        final String elasticsearchUrl;
        /** Set only when this JVM started the services and must stop them. */
        final Script owned;
        final RuntimeException failure;

        private Services(String kafkaBootstrap, String elasticsearchUrl, Script owned,
                RuntimeException failure) {
            this.kafkaBootstrap = kafkaBootstrap;
            this.elasticsearchUrl = elasticsearchUrl;
            this.owned = owned;
            this.failure = failure;
        }

        static Services acquire() {
            String bootstrap = System.getenv(ENV_KAFKA_BOOTSTRAP);
            String esUrl = System.getenv(ENV_ES_URL);
            if (notBlank(bootstrap) && notBlank(esUrl)) {
                log("using external services from the environment: Kafka " + bootstrap
                        + ", Elasticsearch " + esUrl);
                return new Services(bootstrap.trim(), esUrl.trim(), null, null);
            }
            try {
                return startLocal();
            } catch (RuntimeException e) {
                // Remember the failure: later test classes fail fast instead of retrying.
                return new Services(null, null, null, e);
            }
        }

        private static Services startLocal() {
            Path repo = findRepoRoot();
            Path stateDir = repo.resolve("jobs").resolve("target").resolve("local-services");
            Map<String, String> env = new HashMap<>();
            env.put("TOURNIQUET_LOCAL_DIR", stateDir.toString());
            env.put("TOURNIQUET_KAFKA_PORT", System.getProperty("tourniquet.test.kafka.port", "19092"));
            env.put("TOURNIQUET_KAFKA_CONTROLLER_PORT",
                    System.getProperty("tourniquet.test.kafka.controller.port", "19093"));
            env.put("TOURNIQUET_ES_PORT", System.getProperty("tourniquet.test.es.port", "19200"));
            env.put("TOURNIQUET_ES_TRANSPORT_PORT",
                    System.getProperty("tourniquet.test.es.transport.port", "19300"));
            Script script = new Script(repo, env);

            log("starting Kafka and Elasticsearch with infra/local/up (state: " + stateDir + ")");
            long startNanos = System.nanoTime();
            Script.Result up = script.run("up", UP_TIMEOUT);
            if (up.exitCode != 0) {
                // up may have started one service before failing on the other.
                script.run("down", DOWN_TIMEOUT);
                throw new IllegalStateException("infra/local/up failed ("
                        + (up.timedOut ? "timed out after " + UP_TIMEOUT.toSeconds() + "s" : "exit code " + up.exitCode)
                        + "); its output:\n" + up.output);
            }
            Map<String, String> services = readEnvFile(stateDir.resolve("services.env"));
            String bootstrap = services.get(ENV_KAFKA_BOOTSTRAP);
            String esUrl = services.get(ENV_ES_URL);
            if (!notBlank(bootstrap) || !notBlank(esUrl)) {
                script.run("down", DOWN_TIMEOUT);
                throw new IllegalStateException("services.env in " + stateDir + " lacks " + ENV_KAFKA_BOOTSTRAP
                        + " or " + ENV_ES_URL + "; infra/local/up output:\n" + up.output);
            }
            log(String.format("Kafka %s and Elasticsearch %s ready after %.1fs", bootstrap, esUrl,
                    (System.nanoTime() - startNanos) / 1e9));
            return new Services(bootstrap, esUrl, script, null);
        }

        void throwIfFailed() {
            if (failure != null) {
                throw failure;
            }
        }

        @Override
        public void close() {
            if (owned == null) {
                return;
            }
            log("stopping the services started for this test JVM (infra/local/down)");
            Script.Result down = owned.run("down", DOWN_TIMEOUT);
            if (down.exitCode != 0) {
                throw new IllegalStateException("infra/local/down failed (exit code " + down.exitCode
                        + "); its output:\n" + down.output);
            }
        }
    }

    /** Runs infra/local scripts with a fixed environment, streaming their output to stdout. */
    private static final class Script {
        final Path repo;
        final Map<String, String> env;

        Script(Path repo, Map<String, String> env) {
            this.repo = repo;
            this.env = env;
        }

        static final class Result {
            final int exitCode;
            final boolean timedOut;
            final String output;

            Result(int exitCode, boolean timedOut, String output) {
                this.exitCode = exitCode;
                this.timedOut = timedOut;
                this.output = output;
            }
        }

        Result run(String name, Duration timeout) {
            Path script = repo.resolve("infra").resolve("local").resolve(name);
            ProcessBuilder builder = new ProcessBuilder(script.toString())
                    .directory(repo.toFile())
                    .redirectErrorStream(true)
                    .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")));
            builder.environment().putAll(env);
            // Must not leak into the script: it would point the services elsewhere.
            builder.environment().remove(ENV_KAFKA_BOOTSTRAP);
            builder.environment().remove(ENV_ES_URL);

            Process process;
            try {
                process = builder.start();
            } catch (IOException e) {
                throw new UncheckedIOException("could not run " + script, e);
            }
            StringBuilder captured = new StringBuilder();
            Thread pump = new Thread(() -> pump(process, name, captured), "local-services-" + name);
            pump.setDaemon(true);
            pump.start();
            boolean finished;
            try {
                finished = process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS);
                if (!finished) {
                    process.descendants().forEach(ProcessHandle::destroyForcibly);
                    process.destroyForcibly();
                    process.waitFor(30, TimeUnit.SECONDS);
                }
                pump.join(TimeUnit.SECONDS.toMillis(30));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                process.destroyForcibly();
                throw new IllegalStateException("interrupted while running " + script, e);
            }
            String output;
            synchronized (captured) {
                output = captured.toString();
            }
            return new Result(finished ? process.exitValue() : -1, !finished, output);
        }

        private static void pump(Process process, String name, StringBuilder captured) {
            try (BufferedReader reader = new BufferedReader(
                    new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
                String line;
                while ((line = reader.readLine()) != null) {
                    System.out.println("[local-services " + name + "] " + line);
                    synchronized (captured) {
                        captured.append(line).append('\n');
                        if (captured.length() > MAX_CAPTURED_CHARS) {
                            captured.delete(0, captured.length() - MAX_CAPTURED_CHARS);
                        }
                    }
                }
            } catch (IOException e) {
                synchronized (captured) {
                    captured.append("[reading the output failed: ").append(e).append("]\n");
                }
            }
        }
    }

    /** Walks up from the working directory to the directory that contains infra/local/up. */
    public static Path findRepoRoot() {
        Path start = Paths.get("").toAbsolutePath();
        for (Path dir = start; dir != null; dir = dir.getParent()) {
            if (Files.isRegularFile(dir.resolve("infra").resolve("local").resolve("up"))) {
                return dir;
            }
        }
        throw new IllegalStateException("no infra/local/up found in " + start + " or any parent directory; set "
                + ENV_KAFKA_BOOTSTRAP + " and " + ENV_ES_URL + " to use already running services");
    }

    static Map<String, String> readEnvFile(Path file) {
        List<String> lines;
        try {
            lines = Files.readAllLines(file, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException("could not read " + file, e);
        }
        Map<String, String> values = new HashMap<>();
        for (String line : lines) {
            String trimmed = line.trim();
            int eq = trimmed.indexOf('=');
            if (trimmed.isEmpty() || trimmed.startsWith("#") || eq <= 0) {
                continue;
            }
            values.put(trimmed.substring(0, eq).trim(), trimmed.substring(eq + 1).trim());
        }
        return values;
    }

    private static boolean notBlank(String s) {
        return s != null && !s.isBlank();
    }

    private static void log(String message) {
        System.out.println("[local-services] " + message);
    }
}
