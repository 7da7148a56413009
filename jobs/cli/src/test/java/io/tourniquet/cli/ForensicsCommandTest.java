package io.tourniquet.cli;

import static org.assertj.core.api.Assertions.assertThat;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import picocli.CommandLine;

/**
 * {@code tourniquet forensics} without a real Elasticsearch: exit codes and messages for an
 * unreachable node (nothing listens on port 1) and for unknown ids (a stub that answers every
 * search with no hits, as an empty namespace would), argument checks, and the tables.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ForensicsCommandTest {
    static final String UNREACHABLE = "http://127.0.0.1:1";
    static final String EMPTY_SEARCH = "{\"took\":1,\"timed_out\":false,"
            + "\"_shards\":{\"total\":0,\"successful\":0,\"skipped\":0,\"failed\":0},"
            + "\"hits\":{\"total\":{\"value\":0,\"relation\":\"eq\"},\"max_score\":null,\"hits\":[]}}";
    static final String EMPTY_COUNT = "{\"count\":0,\"_shards\":{\"total\":0,\"successful\":0,\"skipped\":0,\"failed\":0}}";

    HttpServer stub;
    /** Where 'report' is told to write; no test that fails to answer may leave it behind. */
    final java.nio.file.Path reportFile = java.nio.file.Path.of(System.getProperty("java.io.tmpdir"),
            "forensics-command-test-" + ProcessHandle.current().pid() + ".html");
    String stubUrl;
    final List<String> requests = new ArrayList<>();

    @BeforeAll
    void startStub() throws IOException {
        stub = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        stub.createContext("/", exchange -> {
            String path = exchange.getRequestURI().getPath();
            synchronized (requests) {
                requests.add(exchange.getRequestMethod() + " " + path);
            }
            exchange.getRequestBody().readAllBytes();
            byte[] body = (path.endsWith("/_count") ? EMPTY_COUNT : EMPTY_SEARCH).getBytes(StandardCharsets.UTF_8);
            exchange.getResponseHeaders().add("Content-Type", "application/json");
            // The Java client refuses answers without it.
            exchange.getResponseHeaders().add("X-Elastic-Product", "Elasticsearch");
            exchange.sendResponseHeaders(200, body.length);
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(body);
            }
        });
        stub.start();
        stubUrl = "http://127.0.0.1:" + stub.getAddress().getPort();
    }

    @AfterAll
    void stopStub() throws IOException {
        stub.stop(0);
        java.nio.file.Files.deleteIfExists(reportFile);
    }

    record Run(int code, String out, String err) {
    }

    static Run run(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        CommandLine cl = Main.commandLine();
        cl.setOut(new PrintWriter(out));
        cl.setErr(new PrintWriter(err));
        int code = cl.execute(args);
        return new Run(code, out.toString(), err.toString());
    }

    @Test
    void unreachableElasticsearchExitsWith3AndSaysWhere() {
        List<List<String>> commands = List.of(List.of("incidents"), List.of("incident", "inc-1"),
                List.of("timeline", "u-1"), List.of("root-cause"), List.of("attacker-infra"),
                List.of("app-eligibility", "--incident", "inc-1"), List.of("claims", "--incident", "inc-1"),
                List.of("export", "--user", "u-1"),
                List.of("report", "--incident", "inc-1", "--out", reportFile.toString()));
        for (List<String> c : commands) {
            List<String> args = new ArrayList<>(List.of("forensics"));
            args.addAll(c);
            args.addAll(List.of("--es", UNREACHABLE));
            Run r = run(args.toArray(String[]::new));
            assertThat(r.code).as(c.toString()).isEqualTo(3);
            assertThat(r.err).as(c.toString()).startsWith("error: cannot reach Elasticsearch at " + UNREACHABLE + ": ")
                    .contains("refused");
            assertThat(r.out).as(c.toString()).isEmpty();
        }
    }

    @Test
    void unknownIncidentOrUserExitsWith2AndNamesIt() {
        Map<List<String>, String> cases = new LinkedHashMap<>();
        cases.put(List.of("incident", "inc-x"), "unknown incident 'inc-x'");
        cases.put(List.of("root-cause", "--incident", "inc-x"), "unknown incident 'inc-x'");
        cases.put(List.of("attacker-infra", "--incident", "inc-x"), "unknown incident 'inc-x'");
        cases.put(List.of("app-eligibility", "--incident", "inc-x"), "unknown incident 'inc-x'");
        cases.put(List.of("claims", "--incident", "inc-x"), "unknown incident 'inc-x'");
        cases.put(List.of("claims", "--incident", "inc-x", "--json"), "unknown incident 'inc-x'");
        cases.put(List.of("export", "--incident", "inc-x"), "unknown incident 'inc-x'");
        cases.put(List.of("report", "--incident", "inc-x", "--out", reportFile.toString()), "unknown incident 'inc-x'");
        cases.put(List.of("timeline", "u-x"), "unknown user 'u-x': no events, alerts or actions");
        cases.put(List.of("export", "--user", "u-x"), "unknown user 'u-x': no events");
        cases.forEach((c, message) -> {
            List<String> args = new ArrayList<>(List.of("forensics"));
            args.addAll(c);
            args.addAll(List.of("--es", stubUrl));
            Run r = run(args.toArray(String[]::new));
            assertThat(r.code).as(c.toString()).isEqualTo(2);
            assertThat(r.err).as(c.toString()).startsWith("error: " + message).contains(stubUrl);
        });
    }

    @Test
    void anEmptyNamespaceHasNoIncidentsAndNoRootCause() {
        Run incidents = run("forensics", "incidents", "--es", stubUrl, "--set", "index.incidents=ns-incidents");
        assertThat(incidents.code).as(incidents.err).isZero();
        assertThat(incidents.out).isEqualTo("no incidents" + System.lineSeparator());
        synchronized (requests) {
            assertThat(requests).as("the configured alias is what is searched").contains("POST /ns-incidents/_search");
        }
        Run rootCause = run("forensics", "root-cause", "--es", stubUrl, "--json");
        assertThat(rootCause.code).as(rootCause.err).isZero();
        assertThat(rootCause.out).contains("\"approvals\" : 0");
    }

    @Test
    void argumentsAreCheckedBeforeAnythingIsAsked() {
        Run both = run("forensics", "export", "--incident", "i", "--user", "u", "--es", UNREACHABLE);
        assertThat(both.code).isEqualTo(2);
        assertThat(both.err).contains("mutually exclusive");
        Run neither = run("forensics", "export", "--es", UNREACHABLE);
        assertThat(neither.code).isEqualTo(2);
        assertThat(neither.err).contains("Missing required argument");
        Run badTime = run("forensics", "timeline", "u-1", "--since", "yesterday", "--es", UNREACHABLE);
        assertThat(badTime.code).isEqualTo(2);
        assertThat(badTime.err).contains("--since").contains("not an RFC 3339 timestamp");
        Run reversed = run("forensics", "incidents", "--since", "2022-01-18T00:00:00Z", "--until", "2022-01-17T00:00:00Z",
                "--es", UNREACHABLE);
        assertThat(reversed.code).isEqualTo(2);
        assertThat(reversed.err).contains("--since (2022-01-18T00:00:00Z) is after --until");
        Run format = run("forensics", "export", "--user", "u", "--format", "xml", "--es", UNREACHABLE);
        assertThat(format.code).isEqualTo(2);
        assertThat(format.err).contains("ndjson, csv");
        Run noIncident = run("forensics", "app-eligibility", "--es", UNREACHABLE);
        assertThat(noIncident.code).isEqualTo(2);
        assertThat(noIncident.err).contains("--incident");
        Run noClaimsIncident = run("forensics", "claims", "--es", UNREACHABLE);
        assertThat(noClaimsIncident.code).isEqualTo(2);
        assertThat(noClaimsIncident.err).contains("--incident");
        Run noOut = run("forensics", "report", "--incident", "inc-1", "--es", UNREACHABLE);
        assertThat(noOut.code).isEqualTo(2);
        assertThat(noOut.err).contains("--out");
        Run badInterval = run("forensics", "report", "--incident", "inc-1", "--out", reportFile.toString(),
                "--interval", "often", "--es", UNREACHABLE);
        assertThat(badInterval.code).isEqualTo(2);
        assertThat(badInterval.err).contains("--interval");
        assertThat(reportFile).as("nothing written when nothing was answered").doesNotExist();
        Run noSub = run("forensics");
        assertThat(noSub.code).isEqualTo(2);
        assertThat(noSub.err).contains("missing subcommand");
    }
}
