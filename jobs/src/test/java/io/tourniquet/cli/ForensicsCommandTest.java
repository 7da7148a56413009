package io.tourniquet.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpServer;
import io.tourniquet.forensics.Forensics;
import io.tourniquet.forensics.Forensics.AssetAmount;
import io.tourniquet.forensics.Forensics.AttackerInfra;
import io.tourniquet.forensics.Forensics.BackendGroup;
import io.tourniquet.forensics.Forensics.ChannelGroup;
import io.tourniquet.forensics.Forensics.IncidentView;
import io.tourniquet.forensics.Forensics.Indicator;
import io.tourniquet.forensics.Forensics.RootCause;
import io.tourniquet.forensics.Forensics.Timeline;
import io.tourniquet.forensics.Forensics.TimelineEntry;
import io.tourniquet.forensics.TimeRange;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.math.BigDecimal;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
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
    static final Instant T0 = Instant.parse("2022-01-17T02:00:00Z");
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

    private static String render(java.util.function.Consumer<PrintWriter> renderer) {
        StringWriter s = new StringWriter();
        PrintWriter w = new PrintWriter(s);
        renderer.accept(w);
        w.flush();
        return s.toString().replace(System.lineSeparator(), "\n");
    }

    @Test
    void rootCauseTableNamesTheVersionAndItsFirstAndLastApproval() {
        RootCause r = new RootCause(null, TimeRange.ALL, 12, 11, T0, T0.plusSeconds(220),
                List.of(new BackendGroup("withdrawal-approver", "2.14.0-rc1", 12, 11, T0, T0.plusSeconds(220))),
                List.of(new ChannelGroup("internal", 12, 11, T0, T0.plusSeconds(220))));
        assertThat(render(w -> ForensicsCommand.renderRootCause(r, w))).isEqualTo("""
                Unauthorized approvals (exchange.mfa.authorized: false): 12 approvals of 11 users, first 2022-01-17T02:00:00.000Z, last 2022-01-17T02:03:40.000Z

                SERVICE              VERSION     APPROVALS  USERS  FIRST SEEN                LAST SEEN
                withdrawal-approver  2.14.0-rc1         12     11  2022-01-17T02:00:00.000Z  2022-01-17T02:03:40.000Z

                CHANNEL   APPROVALS  USERS  FIRST SEEN                LAST SEEN
                internal         12     11  2022-01-17T02:00:00.000Z  2022-01-17T02:03:40.000Z
                """);
    }

    @Test
    void incidentShowsTimesImpactAlertsAndActions() {
        IncidentView i = new IncidentView("inc-1", "contained", T0, T0.plusSeconds(2), T0.plusSeconds(281), null, null,
                T0.plusSeconds(380), 2, List.of("u-1", "u-2"),
                List.of(new AssetAmount("BTC", "1.50000001", new BigDecimal("63000.0004"), 1),
                        new AssetAmount("ETH", "20", new BigDecimal("64200"), 1)),
                new BigDecimal("127200.0004"), List.of(), BigDecimal.ZERO,
                Map.of("unauthorized_approval", 2L), Map.of("freeze_account", 2L));
        String text = render(w -> ForensicsCommand.renderIncident(i, w));
        assertThat(text).contains("incident   inc-1\n", "status     contained\n",
                "contained  2022-01-17T02:04:41.000Z   (4m41s after the start)\n",
                "users      2: u-1, u-2\n", "total US$ 127200.00\n",
                "ASSET      AMOUNT       US$  WITHDRAWALS\n",
                "BTC    1.50000001  63000.00            1\n",
                "ETH            20  64200.00            1\n",
                "unauthorized_approval       2\n", "freeze_account         2\n");
        assertThat(text).doesNotContain("Approved after containment");
        assertThat(render(w -> ForensicsCommand.renderIncidents(List.of(i), w)))
                .contains("inc-1     contained  2022-01-17T02:00:00.000Z  2022-01-17T02:04:41.000Z  -             2  127200.00  "
                        + "1.50000001 BTC, 20 ETH  unauthorized_approval=2  freeze_account=2");
    }

    @Test
    void timelineAndAttackerInfraTables() {
        Timeline t = new Timeline("u-1", TimeRange.ALL, List.of(
                new TimelineEntry(T0, "event", "withdrawal_approved", "e1", "success", null, null, null, null, "w1",
                        "approved", "BTC", "1", "bc1q", false, "inc-1", "w1 approved 1 BTC"),
                new TimelineEntry(T0, "alert", "unauthorized_approval", "a1", "high", null, null, null, null, "w1",
                        null, null, null, null, null, "inc-1", "approved without 2FA")), 1, 1, 3, true);
        assertThat(render(w -> ForensicsCommand.renderTimeline(t, w))).isEqualTo("""
                TIME                      SOURCE  WHAT                          DETAIL
                2022-01-17T02:00:00.000Z  event   withdrawal_approved           w1 approved 1 BTC
                2022-01-17T02:00:00.000Z  alert   unauthorized_approval (high)  approved without 2FA

                user u-1: 1 events, 1 alerts, 3 actions; showing the first 2 (--limit)
                """);

        AttackerInfra a = new AttackerInfra("inc-1", List.of("u-1", "u-2"), new TimeRange(T0, T0.plusSeconds(1)), false,
                List.of(new Indicator("203.0.113.9", 2, 6, T0, T0.plusSeconds(1))), List.of(), List.of());
        assertThat(render(w -> ForensicsCommand.renderAttackerInfra(a, w))).contains(
                "Affected accounts: 2 (incident inc-1)",
                "KIND  VALUE        VICTIMS  EVENTS  FIRST SEEN                LAST SEEN\n"
                        + "ip    203.0.113.9        2       6  2022-01-17T02:00:00.000Z  2022-01-17T02:00:01.000Z\n");
        AttackerInfra none = new AttackerInfra(null, List.of(), TimeRange.ALL, true, List.of(), List.of(), List.of());
        assertThat(render(w -> ForensicsCommand.renderAttackerInfra(none, w)))
                .contains("nothing shared between affected accounts");
    }

    @Test
    void eligibilityTableGivesVerdictsReasonsAndTheManualInputs() {
        var checks = List.of(new Forensics.ConditionCheck("mfa_all_types", Forensics.Outcome.PASS, "ok"),
                new Forensics.ConditionCheck("anti_phishing_code", Forensics.Outcome.FAIL, "never set"),
                new Forensics.ConditionCheck("no_jailbroken_device", Forensics.Outcome.PASS, "none"));
        var a = new Forensics.AppEligibility("inc-1", java.time.Duration.ofDays(21), List.of("withdrawal"),
                List.of(new Forensics.UserEligibility("u-1", Forensics.Verdict.NOT_ELIGIBLE, T0, checks,
                        Forensics.APP_MANUAL_INPUTS)));
        String text = render(w -> ForensicsCommand.renderEligibility(a, w));
        assertThat(text).contains("u-1   not eligible  2022-01-17T02:00:00.000Z  pass           fail",
                "u-1  anti_phishing_code fail: never set",
                "at least 21 d before", "police report");
    }

    @Test
    void claimsTableGivesEachClaimItsConditionsAndTheTotals() {
        List<Forensics.ClaimCondition> pass = List.of(new Forensics.ClaimCondition("mfa_all_types", "pass", "2FA on"),
                new Forensics.ClaimCondition("no_jailbroken_device", "pass", "none"));
        List<Forensics.ClaimCondition> review = List.of(new Forensics.ClaimCondition("mfa_all_types", "review",
                "no policy on record"), new Forensics.ClaimCondition("no_jailbroken_device", "pass", "none"));
        List<AssetAmount> btc = List.of(new AssetAmount("BTC", "1.5", new BigDecimal("63000.0004"), 1));
        List<AssetAmount> eth = List.of(new AssetAmount("ETH", "20", new BigDecimal("64200"), 1));
        List<Forensics.ClaimView> list = List.of(
                new Forensics.ClaimView("c-1", "u-1", "approved", "eligible", pass, List.of(), btc,
                        new BigDecimal("63000.0004"), btc, new BigDecimal("63000.0004"), "approve", "ok", "alice@sec",
                        "bob@sec", T0, T0, "tourniquet", 4, T0),
                new Forensics.ClaimView("c-2", "u-2", "awaiting_documents", "needs_manual_review", review,
                        List.of("police_report"), eth, new BigDecimal("64200"), List.of(), null, null, null, null, null,
                        null, T0, "tourniquet", 2, T0));
        var claims = new Forensics.IncidentClaims("inc-1", list, Forensics.totals(list));
        assertThat(render(w -> ForensicsCommand.renderClaims(claims, w))).isEqualTo("""
                Account Protection Programme claims of incident inc-1 (each claim's latest version; US$ at request time)

                USER  STATUS              ELIGIBILITY          CONDITIONS                                       OUTSTANDING    LOSS US$  PAYOUT US$  DECIDED BY
                u-1   approved            eligible             mfa_all_types=pass, no_jailbroken_device=pass    -              63000.00    63000.00  alice@sec (approved by bob@sec)
                u-2   awaiting_documents  needs_manual_review  mfa_all_types=review, no_jailbroken_device=pass  police_report  64200.00           -  -

                Conditions:
                  u-1  mfa_all_types pass: 2FA on
                  u-1  no_jailbroken_device pass: none
                  u-2  mfa_all_types review: no policy on record
                  u-2  no_jailbroken_device pass: none

                Totals: 2 claims, 1 eligible; 1 approved, US$ 63000.00 paid; 0 denied; 1 pending (loss US$ 64200.00); loss of all claims US$ 127200.00
                """);
        var none = new Forensics.IncidentClaims("inc-2", List.of(), Forensics.totals(List.of()));
        assertThat(render(w -> ForensicsCommand.renderClaims(none, w))).isEqualTo("no claims for incident inc-2\n");
    }
}
