package io.tourniquet.cli;

import io.tourniquet.forensics.Verdicts;
import io.tourniquet.config.TourniquetConfig;
import io.tourniquet.forensics.ElasticsearchUnreachableException;
import io.tourniquet.forensics.EventCsv;
import io.tourniquet.forensics.Exports;
import io.tourniquet.forensics.Forensics;
import io.tourniquet.forensics.Eligibility.AppEligibility;
import io.tourniquet.forensics.AttackerInfrastructure.AttackerInfra;
import io.tourniquet.forensics.Claims.IncidentClaims;
import io.tourniquet.forensics.Incidents.IncidentView;
import io.tourniquet.forensics.RootCauses.RootCause;
import io.tourniquet.forensics.Timelines.Timeline;
import io.tourniquet.forensics.ForensicsJson;
import io.tourniquet.forensics.HtmlReport;
import io.tourniquet.forensics.ReportData;
import io.tourniquet.forensics.TextReport;
import io.tourniquet.forensics.TimeRange;
import io.tourniquet.forensics.UnknownIdException;
import io.tourniquet.json.Json;
import io.tourniquet.util.Times;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.Callable;
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
            TextReport.renderIncidents(list, out);
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
            TextReport.renderIncident(inc, out);
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
            TextReport.renderTimeline(t, out);
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
            TextReport.renderRootCause(r, out);
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
            TextReport.renderAttackerInfra(a, out);
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
            TextReport.renderEligibility(a, out);
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
            TextReport.renderClaims(c, out);
        }
    }

    @Command(name = "precision", mixinStandardHelpOptions = true,
            description = {"Each rule's precision from analysts' verdicts ('tourniquet control verdict'): the alerts "
                    + "judged (by their event time, --since/--until), each counted once with its latest label, and "
                    + "(true + benign true positives) / judged."})
    static final class PrecisionCmd extends Answer<Verdicts.Precision> {
        @Mixin
        Range range;

        @Override
        Verdicts.Precision answer(Forensics f) {
            return f.precision(range.range());
        }

        @Override
        void render(Verdicts.Precision p, PrintWriter out) {
            TextReport.renderPrecision(p, out);
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

    enum Format { ndjson, csv }

    @Command(name = "export", mixinStandardHelpOptions = true,
            description = {"The events of an incident (its users' events within its window), of every account in its "
                    + "window, or of one user, in time order, as NDJSON (the indexed documents) or CSV, streamed page by page."})
    static final class ExportCmd extends Question {
        static final class Target {
            @Option(names = "--incident", paramLabel = "ID", description = "The incident's events.")
            String incident;

            @Option(names = "--user", paramLabel = "USER", description = "One account's events.")
            String user;

            @Option(names = "--window-of", paramLabel = "ID",
                    description = "Every account's events in the incident's window: who else was active while it ran.")
            String windowOf;
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
            Exports.EventSink line = doc ->
                    out.println(format == Format.csv ? EventCsv.row(doc) : Json.MAPPER.writeValueAsString(doc));
            long n = target.windowOf != null ? f.exportWindow(target.windowOf, range.range(), line)
                    : f.export(target.incident, target.user, range.range(), line);
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
}
