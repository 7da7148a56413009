package io.tourniquet.dashboards;

import static org.assertj.core.api.Assertions.assertThat;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.File;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * {@code infra/kibana/import} against a stand-in for Kibana's HTTP API (Kibana cannot run here):
 * the request it sends, how it reports Kibana's refusals, an unreachable Kibana, and the local
 * validation of {@code --dry-run}.
 */
class KibanaImportScriptTest {
    static final Path SCRIPT = SavedObjects.dir().getParent().resolve("infra/kibana/import");

    /** What the stand-in received. */
    record Received(String method, String path, String query, Map<String, List<String>> headers, String body) {
    }

    HttpServer kibana;
    final List<Received> received = new CopyOnWriteArrayList<>();

    /** Starts a stand-in Kibana whose import endpoint answers {@code importAnswer}. */
    private String standIn(String importAnswer) throws IOException {
        kibana = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        kibana.createContext("/", exchange -> {
            String body = new String(exchange.getRequestBody().readAllBytes(), StandardCharsets.UTF_8);
            received.add(new Received(exchange.getRequestMethod(), exchange.getRequestURI().getPath(),
                    exchange.getRequestURI().getQuery(), Map.copyOf(exchange.getRequestHeaders()), body));
            String path = exchange.getRequestURI().getPath();
            if (path.equals("/api/status")) respond(exchange, 200, "{\"status\":{\"overall\":{\"level\":\"available\"}}}");
            else if (path.endsWith("/api/saved_objects/_import")) respond(exchange, 200, importAnswer);
            else respond(exchange, 404, "{}");
        });
        kibana.start();
        return "http://127.0.0.1:" + kibana.getAddress().getPort();
    }

    private static void respond(HttpExchange exchange, int status, String body) throws IOException {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        exchange.getResponseHeaders().add("Content-Type", "application/json");
        exchange.sendResponseHeaders(status, bytes.length);
        exchange.getResponseBody().write(bytes);
        exchange.close();
    }

    @AfterEach
    void stop() {
        if (kibana != null) kibana.stop(0);
    }

    record Run(int exit, String output) {
    }

    private static Run run(Map<String, String> env, String... args) throws Exception {
        List<String> command = new ArrayList<>(List.of("bash", SCRIPT.toString()));
        command.addAll(List.of(args));
        Path out = Files.createTempFile("kibana-import", ".log");
        try {
            ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(out.toFile())
                    .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")));
            pb.environment().keySet().removeIf(k -> k.startsWith("KIBANA_"));
            pb.environment().putAll(env);
            Process p = pb.start();
            assertThat(p.waitFor(60, TimeUnit.SECONDS)).as("the script finishes").isTrue();
            return new Run(p.exitValue(), Files.readString(out));
        } finally {
            Files.deleteIfExists(out);
        }
    }

    private static boolean jqInstalled() throws Exception {
        Process p = new ProcessBuilder("bash", "-c", "command -v jq").redirectErrorStream(true).start();
        p.getInputStream().readAllBytes();
        return p.waitFor() == 0;
    }

    @Test
    void importsEveryObjectInOneMultipartRequestWithXsrfHeaderOverwriteAndCredentials() throws Exception {
        int objects = SavedObjects.all().size();
        String url = standIn("{\"success\":true,\"successCount\":" + objects + "}");

        Run r = run(Map.of("KIBANA_URL", url, "KIBANA_USERNAME", "analyst", "KIBANA_PASSWORD", "s3cret"),
                "--space", "security");

        assertThat(r.exit()).as(r.output()).isZero();
        assertThat(r.output()).contains("imported " + objects + " saved objects");
        Received post = received.stream().filter(x -> x.method().equals("POST")).findFirst().orElseThrow();
        assertThat(received).filteredOn(x -> x.method().equals("POST")).hasSize(1);
        assertThat(post.path()).isEqualTo("/s/security/api/saved_objects/_import");
        assertThat(post.query()).isEqualTo("overwrite=true");
        assertThat(post.headers().get("Kbn-xsrf")).containsExactly("true");
        assertThat(post.headers().get("Authorization")).containsExactly(
                "Basic " + Base64.getEncoder().encodeToString("analyst:s3cret".getBytes(StandardCharsets.UTF_8)));
        assertThat(post.headers().get("Content-type").get(0)).startsWith("multipart/form-data");
        assertThat(post.body()).contains("name=\"file\"; filename=\"tourniquet-dashboards.ndjson\"");

        // Every line of every file, each exactly once; the data views before anything that uses them.
        List<String> lines = SavedObjects.lines().stream().map(SavedObjects.Line::text).toList();
        for (String line : lines) {
            assertThat(post.body().indexOf(line)).as("sent: " + line.substring(0, 60)).isNotNegative();
            assertThat(post.body().indexOf(line)).isEqualTo(post.body().lastIndexOf(line));
        }
        int lastDataView = SavedObjects.ofType(SavedObjects.DATA_VIEW).stream()
                .mapToInt(o -> post.body().indexOf(o.line().text())).max().orElseThrow();
        int firstOther = SavedObjects.all().stream().filter(o -> !o.type().equals(SavedObjects.DATA_VIEW))
                .mapToInt(o -> post.body().indexOf(o.line().text())).min().orElseThrow();
        assertThat(lastDataView).isLessThan(firstOther);
    }

    @Test
    void anApiKeyIsSentAsSuchAndTheAliasPrefixRenamesOnlyTheDataViews() throws Exception {
        String url = standIn("{\"success\":true,\"successCount\":24}");
        Run r = run(Map.of("KIBANA_URL", url + "/", "KIBANA_API_KEY", "a2V5OnNlY3JldA=="), "--alias-prefix", "prod-");
        assertThat(r.exit()).as(r.output()).isZero();
        Received post = received.stream().filter(x -> x.method().equals("POST")).findFirst().orElseThrow();
        assertThat(post.path()).isEqualTo("/api/saved_objects/_import");
        assertThat(post.headers().get("Authorization")).containsExactly("ApiKey a2V5OnNlY3JldA==");
        for (String kind : List.of("events", "alerts", "actions", "incidents")) {
            assertThat(post.body()).contains("\"title\":\"prod-tourniquet-" + kind + "\"");
        }
        assertThat(post.body()).contains("\"id\":\"tourniquet-dv-events\"");
    }

    @Test
    void objectsKibanaRefusesAreListedAndTheExitStatusSaysSo() throws Exception {
        String url = standIn("{\"success\":false,\"successCount\":23,\"errors\":[{\"id\":\"tourniquet-lens-incidents\","
                + "\"type\":\"lens\",\"error\":{\"type\":\"unknown\",\"message\":\"bad state\"}}]}");
        Run r = run(Map.of("KIBANA_URL", url));
        assertThat(r.exit()).as(r.output()).isEqualTo(1);
        assertThat(r.output()).contains("lens/tourniquet-lens-incidents").contains("bad state")
                .contains("Kibana refused some objects");
    }

    @Test
    void anUnreachableKibanaIsAClearErrorAndNothingElseIsTried() throws Exception {
        int port;
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            port = s.getLocalPort();
        }
        Run r = run(Map.of("KIBANA_URL", "http://127.0.0.1:" + port));
        assertThat(r.exit()).as(r.output()).isEqualTo(3);
        assertThat(r.output()).contains("Kibana is not reachable at http://127.0.0.1:" + port)
                .contains("set KIBANA_URL");
    }

    @Test
    void dryRunValidatesTheCommittedFilesWithoutKibanaAndRejectsABrokenOne() throws Exception {
        Run ok = run(Map.of("KIBANA_URL", "http://127.0.0.1:1"), "--dry-run");
        if (!jqInstalled()) {
            assertThat(ok.exit()).isEqualTo(2);
            assertThat(ok.output()).contains("jq");
            return;
        }
        assertThat(ok.exit()).as(ok.output()).isZero();
        assertThat(ok.output()).contains(SavedObjects.all().size() + " saved objects valid").contains("dry run");

        Path broken = Files.createTempFile("broken", ".ndjson");
        try {
            String dashboard = SavedObjects.ofType(SavedObjects.DASHBOARD).get(0).line().text();
            Files.writeString(broken, dashboard.replace(":panel_p1\"", ":panel_p0\"") + "\n{\"type\":\"lens\"}\n");
            List<String> args = new ArrayList<>(List.of("--dry-run"));
            SavedObjects.ndjsonFiles().forEach(f -> args.add(f.toString()));
            args.add(broken.toString());
            Run bad = run(Map.of(), args.toArray(String[]::new));
            assertThat(bad.exit()).as(bad.output()).isEqualTo(1);
            assertThat(bad.output()).contains("not a JSON object with string type, string id")
                    .contains("nothing imported");
        } finally {
            Files.deleteIfExists(broken);
        }
    }
}
