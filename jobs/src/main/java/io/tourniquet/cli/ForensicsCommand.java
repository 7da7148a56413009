package io.tourniquet.cli;

import io.tourniquet.config.TourniquetConfig;
import io.tourniquet.forensics.ElasticsearchUnreachableException;
import io.tourniquet.forensics.EventCsv;
import io.tourniquet.forensics.Forensics;
import io.tourniquet.forensics.Forensics.AppEligibility;
import io.tourniquet.forensics.Forensics.AssetAmount;
import io.tourniquet.forensics.Forensics.AttackerInfra;
import io.tourniquet.forensics.Forensics.BackendGroup;
import io.tourniquet.forensics.Forensics.ChannelGroup;
import io.tourniquet.forensics.Forensics.ClaimCondition;
import io.tourniquet.forensics.Forensics.ClaimTotals;
import io.tourniquet.forensics.Forensics.ClaimView;
import io.tourniquet.forensics.Forensics.ConditionCheck;
import io.tourniquet.forensics.Forensics.IncidentClaims;
import io.tourniquet.forensics.Forensics.IncidentView;
import io.tourniquet.forensics.Forensics.Indicator;
import io.tourniquet.forensics.Forensics.RootCause;
import io.tourniquet.forensics.Forensics.Timeline;
import io.tourniquet.forensics.Forensics.TimelineEntry;
import io.tourniquet.forensics.Forensics.UserEligibility;
import io.tourniquet.forensics.ForensicsJson;
import io.tourniquet.forensics.HtmlReport;
import io.tourniquet.forensics.ReportData;
import io.tourniquet.forensics.TimeRange;
import io.tourniquet.forensics.UnknownIdException;
import io.tourniquet.json.Json;
import io.tourniquet.util.Times;
import java.io.IOException;
import java.io.PrintWriter;
import java.math.BigDecimal;
import java.math.RoundingMode;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.stream.Collectors;
import picocli.CommandLine;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code tourniquet forensics}: the analysts' questions after an incident, answered from the
 * forensic indexes by {@link Forensics} (Elasticsearch queries and aggregations). Tables by
 * default, {@code --json} for the records as JSON.
 *
 * <p>Exit codes: 0 answered; 2 unknown incident or user, or bad arguments; 3 Elasticsearch
 * unreachable.
 */
@Command(name = "forensics", mixinStandardHelpOptions = true,
        description = "Answer an analyst's questions from the forensic indexes in Elasticsearch: incidents, one "
                + "account's timeline, root cause, attacker infrastructure, reimbursement eligibility, the "
                + "incident's Account Protection Programme claims, each rule's precision from analysts' verdicts, a shadow "
                + "rule version against the version in force, export "
                + "of the events, and an incident report "
                + "as one HTML page.",
        subcommands = {ForensicsCommand.Incidents.class, ForensicsCommand.IncidentCmd.class,
                ForensicsCommand.TimelineCmd.class, ForensicsCommand.RootCauseCmd.class,
                ForensicsCommand.AttackerInfraCmd.class, ForensicsCommand.AppEligibilityCmd.class,
                ForensicsCommand.ClaimsCmd.class, ForensicsCommand.PrecisionCmd.class, ForensicsCommand.ShadowCmd.class,
                ForensicsCommand.ExportCmd.class, ForensicsCommand.ReportCmd.class},
        footer = {"", "Exit codes: 0 answered, 2 unknown incident or user (or bad arguments), "
                + "3 Elasticsearch unreachable."})
public final class ForensicsCommand implements Runnable {
    static final int EXIT_UNKNOWN_ID = 2;
    static final int EXIT_UNREACHABLE = 3;

    @Spec
    CommandSpec spec;

    @Override
    public void run() {
        throw new CommandLine.ParameterException(spec.commandLine(), "missing subcommand: incidents, incident, "
                + "timeline, root-cause, attacker-infra, app-eligibility, claims, precision, shadow, export or report");
    }

    /** RFC 3339 timestamps for --since and --until. */
    static final class InstantConverter implements CommandLine.ITypeConverter<Instant> {
        @Override
        public Instant convert(String value) {
            return Times.parse(value);
        }
    }

    static final class Range {
        @Option(names = "--since", paramLabel = "TIME", converter = InstantConverter.class,
                description = "Only from this event time on (RFC 3339, inclusive).")
        Instant since;

        @Option(names = "--until", paramLabel = "TIME", converter = InstantConverter.class,
                description = "Only before this event time (RFC 3339, exclusive).")
        Instant until;

        TimeRange range() {
            return new TimeRange(since, until);
        }
    }

    /** What every question does: connect, ask, render; errors as exit codes 2 and 3. */
    abstract static class Question implements Callable<Integer> {
        @Mixin
        ConfigOptions options;

        @Spec
        CommandSpec spec;

        abstract void ask(Forensics forensics, PrintWriter out) throws IOException;

        @Override
        public Integer call() throws IOException {
            PrintWriter out = spec.commandLine().getOut();
            PrintWriter err = spec.commandLine().getErr();
            TourniquetConfig cfg = options.resolve();
            try (CliTracing tracing = CliTracing.start(cfg, "forensics " + spec.name());
                 Forensics forensics = Forensics.connect(cfg).traced(tracing.openTelemetry())) {
                ask(forensics, out);
                out.flush();
                return 0;
            } catch (UnknownIdException e) {
                err.println("error: " + e.getMessage());
                err.flush();
                return EXIT_UNKNOWN_ID;
            } catch (ElasticsearchUnreachableException e) {
                err.println("error: " + e.getMessage() + " (is it up? './tourniquet infra status'; "
                        + "another URL: --es URL)");
                err.flush();
                return EXIT_UNREACHABLE;
            }
        }
    }

    /** A question whose answer is a record: a table, or JSON with --json. */
    abstract static class Answer<T> extends Question {
        @Option(names = "--json", description = "Print the answer as JSON instead of a table.")
        boolean json;

        abstract T answer(Forensics forensics);

        abstract void render(T answer, PrintWriter out);

        @Override
        void ask(Forensics forensics, PrintWriter out) {
            T a = answer(forensics);
            if (json) out.println(ForensicsJson.write(a));
            else render(a, out);
        }
    }

    @Command(name = "incidents", mixinStandardHelpOptions = true,
            description = "Incidents, newest first: status, times, users affected, impact, alerts by rule, actions.")
    static final class Incidents extends Answer<List<IncidentView>> {
        @Mixin
        Range range;

        @Option(names = "--limit", defaultValue = "50", paramLabel = "N", description = "At most N (default ${DEFAULT-VALUE}).")
        int limit;

        @Override
        List<IncidentView> answer(Forensics f) {
            return f.incidents(range.range(), limit);
        }

        @Override
        void render(List<IncidentView> list, PrintWriter out) {
            renderIncidents(list, out);
        }
    }

    @Command(name = "incident", mixinStandardHelpOptions = true,
            description = "One incident: status, times, users, per-asset impact, alerts by rule, actions taken.")
    static final class IncidentCmd extends Answer<IncidentView> {
        @Parameters(paramLabel = "ID", description = "The incident id (see 'forensics incidents').")
        String id;

        @Override
        IncidentView answer(Forensics f) {
            return f.incident(id);
        }

        @Override
        void render(IncidentView inc, PrintWriter out) {
            renderIncident(inc, out);
        }
    }

    @Command(name = "timeline", mixinStandardHelpOptions = true,
            description = {"Every event, alert and action of one account in time order: logins (IP, device, "
                    + "jailbreak flag), 2FA challenges, whitelist changes, withdrawals and their status, "
                    + "freezes, holds and releases."})
    static final class TimelineCmd extends Answer<Timeline> {
        @Parameters(paramLabel = "USER", description = "The account's user id.")
        String user;

        @Mixin
        Range range;

        @Option(names = "--limit", defaultValue = "500", paramLabel = "N",
                description = "At most N entries, the earliest (default ${DEFAULT-VALUE}).")
        int limit;

        @Override
        Timeline answer(Forensics f) {
            return f.timeline(user, range.range(), limit);
        }

        @Override
        void render(Timeline t, PrintWriter out) {
            renderTimeline(t, out);
        }
    }

    @Command(name = "root-cause", mixinStandardHelpOptions = true,
            description = {"Which component approved withdrawals without 2FA, and since when: unauthorized "
                    + "approvals grouped by approving backend and version, and by channel, with first and last seen."})
    static final class RootCauseCmd extends Answer<RootCause> {
        @Option(names = "--incident", paramLabel = "ID", description = "Only this incident's approvals.")
        String incident;

        @Mixin
        Range range;

        @Override
        RootCause answer(Forensics f) {
            return f.rootCause(incident, range.range());
        }

        @Override
        void render(RootCause r, PrintWriter out) {
            renderRootCause(r, out);
        }
    }

    @Command(name = "attacker-infra", mixinStandardHelpOptions = true,
            description = {"IPs, devices and destination addresses shared across the affected accounts, ranked by "
                    + "how many of them each touches, with the first time each appeared. Affected accounts: the "
                    + "incident's users (or every user with an unauthorized approval), their events from "
                    + "forensics.lookback before the first alert to forensics.lookback after the last."})
    static final class AttackerInfraCmd extends Answer<AttackerInfra> {
        @Option(names = "--incident", paramLabel = "ID", description = "Only this incident's users and window.")
        String incident;

        @Mixin
        Range range;

        @Option(names = "--all", description = "Also values that touch a single account (hidden by default).")
        boolean all;

        @Option(names = "--limit", defaultValue = "20", paramLabel = "N",
                description = "At most N values of each kind (default ${DEFAULT-VALUE}).")
        int limit;

        @Override
        AttackerInfra answer(Forensics f) {
            return f.attackerInfra(incident, range.range(), all, limit);
        }

        @Override
        void render(AttackerInfra a, PrintWriter out) {
            renderAttackerInfra(a, out);
        }
    }

    @Command(name = "app-eligibility", mixinStandardHelpOptions = true,
            description = {"For each user of the incident, the Account Protection Program conditions the record "
                    + "can decide: 2FA on for every transaction type (forensics.app.mfa-types), an anti-phishing code "
                    + "set at least forensics.app.code-min-age before the first unauthorized withdrawal, no jailbroken "
                    + "device in the incident's logins. The police report and the questionnaire stay manual."})
    static final class AppEligibilityCmd extends Answer<AppEligibility> {
        @Option(names = "--incident", required = true, paramLabel = "ID", description = "The incident.")
        String incident;

        @Override
        AppEligibility answer(Forensics f) {
            return f.appEligibility(incident);
        }

        @Override
        void render(AppEligibility a, PrintWriter out) {
            renderEligibility(a, out);
        }
    }

    @Command(name = "claims", mixinStandardHelpOptions = true,
            description = {"The incident's Account Protection Programme claims, as the claims index holds them (each "
                    + "claim's latest version): per user the status, the eligibility and each condition's outcome, "
                    + "the documents still outstanding, the loss and the payout in US$, and who decided; then the "
                    + "totals (claims, eligible, approved and paid US$, pending)."})
    static final class ClaimsCmd extends Answer<IncidentClaims> {
        @Option(names = "--incident", required = true, paramLabel = "ID", description = "The incident.")
        String incident;

        @Override
        IncidentClaims answer(Forensics f) {
            return f.claims(incident);
        }

        @Override
        void render(IncidentClaims c, PrintWriter out) {
            renderClaims(c, out);
        }
    }

    @Command(name = "precision", mixinStandardHelpOptions = true,
            description = {"Each rule's precision from analysts' verdicts ('tourniquet control verdict'): the alerts "
                    + "judged (by their event time, --since/--until), each counted once with its latest label, and "
                    + "(true + benign true positives) / judged."})
    static final class PrecisionCmd extends Answer<Forensics.Precision> {
        @Mixin
        Range range;

        @Override
        Forensics.Precision answer(Forensics f) {
            return f.precision(range.range());
        }

        @Override
        void render(Forensics.Precision p, PrintWriter out) {
            renderPrecision(p, out);
        }
    }

    @Command(name = "shadow", mixinStandardHelpOptions = true,
            description = {"A shadow rule version against the version in force over its lifetime: the alerts each raised "
                    + "on the same live traffic, those only one raised, and each side's precision from verdicts.",
                    "The lifetime is by detection time, from the shadow version's acceptance to its promotion (the first "
                            + "alert of the promoted version), or to now while it is under evaluation (--since/--until)."})
    static final class ShadowCmd extends Answer<io.tourniquet.backtest.ShadowComparison.Result> {
        @Option(names = "--rule", required = true, paramLabel = "RULE",
                description = "The rule (account_drain or new_address_withdrawal).")
        String rule;

        @Option(names = "--version", paramLabel = "N",
                description = "The shadow version (default: the highest that raised an alert).")
        Integer version;

        @Option(names = "--since", paramLabel = "TIME", converter = InstantConverter.class,
                description = "From this detection time (RFC 3339; default: when the shadow version was accepted).")
        Instant since;

        @Option(names = "--until", paramLabel = "TIME", converter = InstantConverter.class,
                description = "Before this detection time (RFC 3339; default: the promotion, or now).")
        Instant until;

        @Override
        io.tourniquet.backtest.ShadowComparison.Result answer(Forensics f) {
            try {
                io.tourniquet.rules.catalog.RuleCatalog.settingsOf(rule);
            } catch (IllegalArgumentException e) {
                throw new UnknownIdException(e.getMessage()); // exit 2, naming the known rules
            }
            return io.tourniquet.backtest.ShadowComparison.compare(f, rule, version, since, until,
                    Instant.now().truncatedTo(java.time.temporal.ChronoUnit.MILLIS));
        }

        @Override
        void render(io.tourniquet.backtest.ShadowComparison.Result r, PrintWriter out) {
            io.tourniquet.backtest.ShadowComparison.text(r, out);
        }
    }

    static void renderPrecision(Forensics.Precision p, PrintWriter out) {
        if (p.judged() == 0) {
            out.println("no verdicts on alerts" + (p.range().unbounded() ? "" : " in " + p.range()));
            return;
        }
        out.println("Precision per rule from analysts' verdicts (each alert's latest; "
                + (p.range().unbounded() ? "all alerts" : "alerts in " + p.range()) + ")");
        out.println();
        TextTable t = new TextTable("RULE", "JUDGED>", "TRUE>", "BENIGN TRUE>", "FALSE>", "PRECISION>", "SUPPRESSING>");
        for (Forensics.RulePrecision r : p.rules()) {
            t.row(r.rule(), Long.toString(r.judged()), Long.toString(r.truePositives()),
                    Long.toString(r.benignTruePositives()), Long.toString(r.falsePositives()),
                    r.precision() == null ? "-" : String.format(java.util.Locale.ROOT, "%.1f %%", 100 * r.precision()),
                    Long.toString(r.suppressing()));
        }
        t.print(out);
        out.println();
        out.println("SUPPRESSING: false positives whose verdict suppresses the user's later alerts of the rule "
                + "(verdict.suppress-for).");
    }

    enum Format { ndjson, csv }

    @Command(name = "export", mixinStandardHelpOptions = true,
            description = {"The events of an incident (its users' events within its window) or of one user, in time "
                    + "order, as NDJSON (the indexed documents) or CSV, streamed page by page."})
    static final class ExportCmd extends Question {
        static final class Target {
            @Option(names = "--incident", paramLabel = "ID", description = "The incident's events.")
            String incident;

            @Option(names = "--user", paramLabel = "USER", description = "One account's events.")
            String user;
        }

        @ArgGroup(exclusive = true, multiplicity = "1")
        Target target;

        @Mixin
        Range range;

        @Option(names = "--format", defaultValue = "ndjson", paramLabel = "FORMAT",
                description = "ndjson or csv (default ${DEFAULT-VALUE}).")
        Format format;

        @Option(names = "--out", paramLabel = "FILE", description = "Write to FILE instead of standard output.")
        Path outFile;

        @Override
        void ask(Forensics f, PrintWriter stdout) throws IOException {
            if (outFile == null) {
                write(f, stdout); // standard output stays open for whoever called
                return;
            }
            long n;
            try (PrintWriter out = new PrintWriter(Files.newBufferedWriter(outFile, StandardCharsets.UTF_8))) {
                n = write(f, out);
            }
            PrintWriter err = spec.commandLine().getErr();
            err.println("exported " + n + " events to " + outFile);
            err.flush();
        }

        private long write(Forensics f, PrintWriter out) throws IOException {
            if (format == Format.csv) out.println(EventCsv.header());
            long n = f.export(target.incident, target.user, range.range(), doc ->
                    out.println(format == Format.csv ? EventCsv.row(doc) : Json.MAPPER.writeValueAsString(doc)));
            out.flush();
            // PrintWriter keeps write errors to itself: a full disk must not look like a complete export.
            if (out.checkError()) throw new IOException("writing the export failed" + (outFile == null ? "" : ": " + outFile));
            return n;
        }
    }

    /** Durations for --interval, as settings take them ({@code 1 min}, {@code 30 s}, {@code 1 h}). */
    static final class DurationConverter implements CommandLine.ITypeConverter<Duration> {
        @Override
        public Duration convert(String value) {
            return org.apache.flink.util.TimeUtils.parseDuration(value);
        }
    }

    @Command(name = "report", mixinStandardHelpOptions = true,
            description = {"One incident as a self-contained HTML page (inline CSS and SVG, nothing fetched when "
                    + "opened): summary, a chart of approvals and alerts over time with the start and containment "
                    + "marked, per-asset impact, root cause, attacker infrastructure and the claims, from the same "
                    + "queries as incident, root-cause, attacker-infra and claims."})
    static final class ReportCmd extends Question {
        @Option(names = "--incident", required = true, paramLabel = "ID", description = "The incident.")
        String incident;

        @Option(names = "--out", required = true, paramLabel = "FILE", description = "The HTML file to write.")
        Path outFile;

        @Option(names = "--interval", paramLabel = "DURATION", converter = DurationConverter.class,
                description = "The chart's bucket size, whole seconds (e.g. '30 s', '5 min'); "
                        + "default: per minute, coarser for long incidents (at most 120 bars).")
        Duration interval;

        @Override
        void ask(Forensics f, PrintWriter out) throws IOException {
            ReportData data = ReportData.assemble(f, incident, interval, Instant.now());
            Files.writeString(outFile, HtmlReport.render(data), StandardCharsets.UTF_8);
            PrintWriter err = spec.commandLine().getErr();
            err.println("wrote the report of incident " + incident + " to " + outFile);
            err.flush();
        }
    }

    // ---------------------------------------------------------------------------------- rendering

    static String time(Instant t) {
        return t == null ? "-" : Times.format(t.toEpochMilli());
    }

    static String usd(BigDecimal v) {
        return v == null ? "-" : v.setScale(2, RoundingMode.HALF_EVEN).toPlainString();
    }

    static String impact(List<AssetAmount> impact) {
        return impact.isEmpty() ? "-" : impact.stream().map(a -> a.amount() + " " + a.asset())
                .collect(Collectors.joining(", "));
    }

    static String counts(Map<String, Long> counts) {
        return counts.isEmpty() ? "-" : counts.entrySet().stream().map(e -> e.getKey() + "=" + e.getValue())
                .collect(Collectors.joining(", "));
    }

    static String duration(Duration d) {
        if (d == null) return "-";
        long s = d.toSeconds();
        return s >= 3600 ? String.format("%dh%02dm%02ds", s / 3600, s % 3600 / 60, s % 60)
                : String.format("%dm%02ds", s / 60, s % 60);
    }

    static void renderIncidents(List<IncidentView> list, PrintWriter out) {
        if (list.isEmpty()) {
            out.println("no incidents");
            return;
        }
        TextTable t = new TextTable("INCIDENT", "STATUS", "STARTED", "CONTAINED", "RESOLVED", "USERS>", "US$>",
                "IMPACT", "ALERTS", "ACTIONS");
        for (IncidentView i : list) {
            t.row(i.id(), i.status(), time(i.startedAt()), time(i.containedAt()), time(i.resolvedAt()),
                    i.usersAffected(), usd(i.usdTotal()), impact(i.impact()), counts(i.alertsByRule()),
                    counts(i.actionsByType()));
        }
        t.print(out);
    }

    static void renderIncident(IncidentView i, PrintWriter out) {
        out.println("incident   " + i.id());
        out.println("status     " + i.status() + (i.resolvedBy() == null ? "" : " (resolved by " + i.resolvedBy() + ")"));
        out.println("started    " + time(i.startedAt()) + "   (event time of the first alert's event)");
        out.println("detected   " + time(i.detectedAt()));
        out.println("contained  " + time(i.containedAt())
                + (i.containedAt() == null ? "" : "   (" + duration(i.timeToContainment()) + " after the start)"));
        out.println("resolved   " + time(i.resolvedAt()));
        out.println("last alert " + time(i.lastAlertAt()));
        out.println("users      " + i.usersAffected() + (i.userIds().isEmpty() ? "" : ": " + String.join(", ", i.userIds())));
        out.println();
        out.println("Impact (unauthorized approvals; US$ at request time): total US$ " + usd(i.usdTotal()));
        TextTable impact = new TextTable("ASSET", "AMOUNT>", "US$>", "WITHDRAWALS>");
        i.impact().forEach(a -> impact.row(a.asset(), a.amount(), usd(a.usdValue()), a.withdrawals()));
        impact.print(out);
        if (!i.impactAfterContainment().isEmpty()) {
            out.println();
            out.println("Approved after containment: US$ " + usd(i.usdAfterContainment()));
            TextTable after = new TextTable("ASSET", "AMOUNT>", "US$>", "WITHDRAWALS>");
            i.impactAfterContainment().forEach(a -> after.row(a.asset(), a.amount(), usd(a.usdValue()), a.withdrawals()));
            after.print(out);
        }
        out.println();
        TextTable alerts = new TextTable("ALERT RULE", "ALERTS>");
        i.alertsByRule().forEach(alerts::row);
        alerts.print(out);
        out.println();
        TextTable actions = new TextTable("ACTION", "COMMANDS>");
        i.actionsByType().forEach(actions::row);
        actions.print(out);
    }

    static void renderTimeline(Timeline t, PrintWriter out) {
        TextTable table = new TextTable("TIME", "SOURCE", "WHAT", "DETAIL");
        for (TimelineEntry e : t.entries()) {
            String what = e.kind() == null ? "-" : e.kind();
            if (e.source().equals("alert")) what = what + " (" + e.outcome() + ")";
            table.row(time(e.time()), e.source(), what, e.detail());
        }
        table.print(out);
        out.println();
        out.println("user " + t.userId() + (t.range().unbounded() ? "" : " in " + t.range()) + ": " + t.events()
                + " events, " + t.alerts() + " alerts, " + t.actions() + " actions"
                + (t.truncated() ? "; showing the first " + t.entries().size() + " (--limit)" : ""));
    }

    static void renderRootCause(RootCause r, PrintWriter out) {
        out.println("Unauthorized approvals (exchange.mfa.authorized: false)"
                + (r.incidentId() == null ? "" : " in incident " + r.incidentId())
                + (r.range().unbounded() ? "" : " in " + r.range()) + ": " + r.approvals() + " approvals of " + r.users()
                + " users, first " + time(r.firstSeen()) + ", last " + time(r.lastSeen()));
        if (r.approvals() == 0) return;
        out.println();
        TextTable backends = new TextTable("SERVICE", "VERSION", "APPROVALS>", "USERS>", "FIRST SEEN", "LAST SEEN");
        for (BackendGroup b : r.byBackend()) {
            backends.row(b.service(), b.version(), b.approvals(), b.users(), time(b.firstSeen()), time(b.lastSeen()));
        }
        backends.print(out);
        out.println();
        TextTable channels = new TextTable("CHANNEL", "APPROVALS>", "USERS>", "FIRST SEEN", "LAST SEEN");
        for (ChannelGroup c : r.byChannel()) {
            channels.row(c.channel(), c.approvals(), c.users(), time(c.firstSeen()), time(c.lastSeen()));
        }
        channels.print(out);
    }

    static void renderAttackerInfra(AttackerInfra a, PrintWriter out) {
        out.println("Affected accounts: " + a.victims().size()
                + (a.incidentId() == null ? " (users with unauthorized approvals)" : " (incident " + a.incidentId() + ")")
                + "; their events in " + a.window()
                + (a.all() ? "" : "; values touching a single account hidden (--all shows them)"));
        out.println();
        TextTable t = new TextTable("KIND", "VALUE", "VICTIMS>", "EVENTS>", "FIRST SEEN", "LAST SEEN");
        addIndicators(t, "ip", a.ips());
        addIndicators(t, "device", a.devices());
        addIndicators(t, "address", a.addresses());
        if (t.isEmpty()) out.println("nothing shared between affected accounts");
        else t.print(out);
    }

    private static void addIndicators(TextTable t, String kind, List<Indicator> list) {
        for (Indicator i : list) t.row(kind, i.value(), i.victims(), i.events(), time(i.firstSeen()), time(i.lastSeen()));
    }

    static void renderEligibility(AppEligibility a, PrintWriter out) {
        out.println("Account Protection Program, incident " + a.incidentId() + ": 2FA required for "
                + String.join(", ", a.mfaTypes()) + "; anti-phishing code at least " + a.codeMinAge().toDays()
                + " d before the first unauthorized withdrawal; no jailbroken device");
        out.println();
        TextTable t = new TextTable("USER", "VERDICT", "FIRST UNAUTHORIZED", "2FA ALL TYPES", "ANTI-PHISHING CODE",
                "NO JAILBROKEN DEVICE");
        for (UserEligibility u : a.users()) {
            List<ConditionCheck> c = u.checks();
            t.row(u.userId(), verdict(u.verdict()), time(u.firstUnauthorizedAt()), outcome(c.get(0)),
                    outcome(c.get(1)), outcome(c.get(2)));
        }
        t.print(out);
        out.println();
        out.println("Reasons:");
        for (UserEligibility u : a.users()) {
            for (ConditionCheck c : u.checks()) {
                out.println("  " + u.userId() + "  " + c.condition() + " " + outcome(c) + ": " + c.reason());
            }
        }
        out.println();
        out.println("Outstanding for every user (manual): " + String.join("; ", Forensics.APP_MANUAL_INPUTS));
    }

    static void renderClaims(IncidentClaims c, PrintWriter out) {
        if (c.claims().isEmpty()) {
            out.println("no claims for incident " + c.incidentId());
            return;
        }
        out.println("Account Protection Programme claims of incident " + c.incidentId()
                + " (each claim's latest version; US$ at request time)");
        out.println();
        TextTable t = new TextTable("USER", "STATUS", "ELIGIBILITY", "CONDITIONS", "OUTSTANDING", "LOSS US$>",
                "PAYOUT US$>", "DECIDED BY");
        for (ClaimView v : c.claims()) {
            t.row(v.userId(), v.status(), v.eligibility() == null ? "-" : v.eligibility(), conditions(v.conditions()),
                    v.outstanding().isEmpty() ? "-" : String.join(", ", v.outstanding()), usd(v.lossUsd()),
                    usd(v.payoutUsd()), decidedBy(v));
        }
        t.print(out);
        out.println();
        out.println("Conditions:");
        for (ClaimView v : c.claims()) {
            for (ClaimCondition k : v.conditions()) {
                out.println("  " + v.userId() + "  " + k.name() + " " + k.outcome()
                        + (k.detail() == null ? "" : ": " + k.detail()));
            }
        }
        ClaimTotals s = c.totals();
        out.println();
        out.println("Totals: " + s.claims() + " claims, " + s.eligible() + " eligible; " + s.approved()
                + " approved, US$ " + usd(s.paidUsd()) + " paid; " + s.denied() + " denied; " + s.pending()
                + " pending (loss US$ " + usd(s.pendingLossUsd()) + "); loss of all claims US$ " + usd(s.lossUsd()));
    }

    static String conditions(List<ClaimCondition> list) {
        return list.isEmpty() ? "-" : list.stream().map(k -> k.name() + "=" + k.outcome())
                .collect(Collectors.joining(", "));
    }

    /** Who decided, and the second analyst who approved the decision when it needed one. */
    static String decidedBy(ClaimView v) {
        if (v.decidedBy() == null) return "-";
        return v.decidedBy() + (v.decisionApprovedBy() == null ? "" : " (approved by " + v.decisionApprovedBy() + ")");
    }

    private static String outcome(ConditionCheck c) {
        return c.outcome().name().toLowerCase(java.util.Locale.ROOT);
    }

    private static String verdict(Forensics.Verdict v) {
        return v.name().toLowerCase(java.util.Locale.ROOT).replace('_', ' ');
    }
}
