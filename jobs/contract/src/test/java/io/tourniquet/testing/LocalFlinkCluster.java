package io.tourniquet.testing;

import com.fasterxml.jackson.databind.JsonNode;
import io.tourniquet.json.Json;
import java.io.File;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

/**
 * The local standalone Flink cluster of {@code infra/local/up --flink-only}, started by a test the
 * way an operator starts it: separate JVMs (1 JobManager, 2 TaskManagers), state, logs and pid
 * files under {@code stateDir}, on test ports (REST {@code tourniquet.test.flink.rest.port}, default
 * 18081; RPC {@code tourniquet.test.flink.rpc.port}, default 16123) so it never meets a developer's
 * cluster on 8081. Only this cluster's processes are ever stopped or killed: by the pids its
 * script recorded.
 */
public final class LocalFlinkCluster implements AutoCloseable {
    static final Duration UP_TIMEOUT = Duration.ofMinutes(5);
    static final Duration DOWN_TIMEOUT = Duration.ofMinutes(2);

    private final Path repo = LocalServices.findRepoRoot();
    private final Path stateDir;
    private final Path scriptLog;
    private final int restPort = Integer.getInteger("tourniquet.test.flink.rest.port", 18081);
    private final int rpcPort = Integer.getInteger("tourniquet.test.flink.rpc.port", 16123);
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
    private boolean started;

    /** @param scriptLog where the scripts' output goes (kept: it explains a failed start) */
    public LocalFlinkCluster(Path stateDir, Path scriptLog) {
        this.stateDir = stateDir;
        this.scriptLog = scriptLog;
    }

    public String restUrl() {
        return "http://127.0.0.1:" + restPort;
    }

    /** {@code up --flink-only}: the whole cluster, or, run again, a replacement for each dead TaskManager. */
    public void up() throws IOException, InterruptedException {
        started = true; // from the first attempt on: a half-started cluster must be stopped too
        script("up", UP_TIMEOUT);
    }

    /** {@code down --flink-only}: stops what the script recorded in this state dir (e.g. left by a killed test JVM). */
    public void down() throws IOException, InterruptedException {
        script("down", DOWN_TIMEOUT);
    }

    @Override
    public void close() throws IOException, InterruptedException {
        if (started) down();
    }

    private void script(String name, Duration timeout) throws IOException, InterruptedException {
        Files.createDirectories(scriptLog.getParent());
        Files.writeString(scriptLog, "\n$ infra/local/" + name + " --flink-only\n", java.nio.file.StandardOpenOption.CREATE,
                java.nio.file.StandardOpenOption.APPEND);
        ProcessBuilder pb = new ProcessBuilder(repo.resolve("infra/local/" + name).toString(), "--flink-only")
                .directory(repo.toFile()).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(scriptLog.toFile()))
                .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")));
        // The cluster's JVMs inherit this environment: none of the test's TOURNIQUET_* may reach the
        // JobManager, where a job's main would read them as settings.
        pb.environment().keySet().removeIf(k -> k.startsWith("TOURNIQUET_"));
        pb.environment().putAll(Map.of("TOURNIQUET_LOCAL_DIR", stateDir.toString(),
                "TOURNIQUET_FLINK_REST_PORT", Integer.toString(restPort),
                "TOURNIQUET_FLINK_RPC_PORT", Integer.toString(rpcPort)));
        Process p = pb.start();
        if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
            p.descendants().forEach(ProcessHandle::destroyForcibly);
            p.destroyForcibly();
            throw new AssertionError("infra/local/" + name + " --flink-only did not finish within " + timeout
                    + "; see " + scriptLog);
        }
        if (p.exitValue() != 0) {
            throw new AssertionError("infra/local/" + name + " --flink-only failed (exit " + p.exitValue() + "):\n"
                    + Files.readString(scriptLog));
        }
    }

    /** The pid of each TaskManager process the script started, by the resource id the REST API shows. */
    public Map<String, Long> taskManagerPids() throws IOException {
        Map<String, Long> out = new TreeMap<>();
        Path flink = stateDir.resolve("flink");
        try (var files = Files.list(flink)) {
            for (Path idFile : files.filter(f -> f.getFileName().toString().endsWith(".resource-id")).toList()) {
                String n = idFile.getFileName().toString().replace(".resource-id", "");
                Path pidFile = flink.resolve(n + ".pid");
                if (Files.exists(pidFile)) {
                    out.put(Files.readString(idFile).trim(), Long.parseLong(Files.readString(pidFile).trim()));
                }
            }
        }
        return out;
    }

    /** GET on the REST API as JSON; empty while the JobManager does not answer (restarting, busy). */
    public Optional<JsonNode> get(String path) throws InterruptedException {
        try {
            HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(restUrl() + path))
                    .timeout(Duration.ofSeconds(10)).GET().build(), HttpResponse.BodyHandlers.ofString());
            return r.statusCode() == 200 ? Optional.of(Json.MAPPER.readTree(r.body())) : Optional.empty();
        } catch (IOException e) {
            return Optional.empty();
        }
    }

    /** Polls (no fixed sleep: the next look comes as soon as the last answered) until {@code done}, or fails. */
    public JsonNode await(String path, Predicate<JsonNode> done, Duration deadline, String what)
            throws InterruptedException {
        long end = System.nanoTime() + deadline.toNanos();
        JsonNode last = null;
        while (System.nanoTime() < end) {
            Optional<JsonNode> r = get(path);
            if (r.isPresent()) {
                last = r.get();
                if (done.test(last)) return last;
            }
            Thread.sleep(100); // a polling interval, not a synchronisation: the condition decides
        }
        throw new AssertionError("not within " + deadline + ": " + what + "; last " + path + ": " + last);
    }

    /** A job's value of a job-level metric (e.g. numRestarts), if the JobManager reports it. */
    public Optional<Long> jobMetric(String jobId, String metric) throws InterruptedException {
        return get("/jobs/" + jobId + "/metrics?get=" + metric).flatMap(m -> {
            for (JsonNode e : m) {
                if (e.path("id").asText().equals(metric)) return Optional.of(e.path("value").asLong());
            }
            return Optional.empty();
        });
    }

    /** Resource ids of the registered TaskManagers with at least one slot in use. */
    public List<String> busyTaskManagers() throws InterruptedException {
        List<String> out = new ArrayList<>();
        for (JsonNode tm : get("/taskmanagers").orElseThrow().path("taskmanagers")) {
            if (tm.path("freeSlots").asInt() < tm.path("slotsNumber").asInt()) out.add(tm.path("id").asText());
        }
        return out;
    }
}
