package io.tourniquet.cli;

import io.tourniquet.backtest.Backtest;
import io.tourniquet.backtest.BacktestReport;
import io.tourniquet.config.TourniquetConfig;
import io.tourniquet.forensics.Forensics;
import io.tourniquet.forensics.TimeRange;
import io.tourniquet.util.Times;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code tourniquet backtest}: what a rule change would have done on the retained history, before
 * anyone turns it on. Runs on the embedded cluster in this process; writes to no topic.
 */
@Command(name = "backtest", mixinStandardHelpOptions = true,
        description = {"Show what a rule change would have done on the retained input, before anyone turns it on.",
                "The input topics are replayed through the detect topology twice, with the rules in force "
                + "(this configuration) and with the candidate (--param), and the alerts and commands whose "
                + "event time is in [--from, --to) are compared: per rule and per action, and every alert and command "
                + "only one side raised. With analysts' verdicts in index.verdicts, each side's precision and recall "
                + "on the rule.",
                "Nothing is written to any topic. History before --from is replayed too: it builds the state the "
                        + "rules decide on. Rule changes analysts made live are not replayed: give the thresholds in "
                        + "force with -s if they differ from the configuration."})
public final class BacktestCommand implements Callable<Integer> {
    @Mixin
    ConfigOptions options;

    @Spec
    CommandSpec spec;

    @Option(names = "--rule", required = true, paramLabel = "RULE", description = "The rule the candidate changes.")
    String rule;

    @Option(names = "--param", required = true, paramLabel = "KEY=VALUE",
            description = "A setting of the rule and its candidate value, e.g. rule.account-drain.share=0.7; repeatable.")
    Map<String, String> params = new LinkedHashMap<>();

    @Option(names = "--from", required = true, paramLabel = "TIME", converter = ForensicsCommand.InstantConverter.class,
            description = "Compare from this event time on (RFC 3339, inclusive).")
    Instant from;

    @Option(names = "--to", required = true, paramLabel = "TIME", converter = ForensicsCommand.InstantConverter.class,
            description = "Compare up to this event time (RFC 3339, exclusive).")
    Instant to;

    @Option(names = "--json", description = "Print the report as JSON instead of text.")
    boolean json;

    @Option(names = "--html", paramLabel = "FILE", description = "Also write the report as one HTML page.")
    Path html;

    @Option(names = "--no-verdicts", description = "Do not read analysts' verdicts from Elasticsearch.")
    boolean noVerdicts;

    @Option(names = "--files", paramLabel = "DIR",
            description = "Replay NDJSON files instead of the input topics: DIR/<topic>.ndjson per input topic "
                    + "(as 'simulate --out-dir' writes them), one record per line.")
    Path files;

    @Override
    public Integer call() throws Exception {
        TourniquetConfig cfg = options.resolve();
        PrintWriter out = spec.commandLine().getOut();
        ControlCommand.checkLocally(rule, params); // typos before two replays
        Backtest.VerdictSource verdicts = noVerdicts ? null : (r, f, t) -> {
            try (Forensics forensics = Forensics.connect(cfg)) {
                return forensics.latestLabels(r, new TimeRange(f, t));
            }
        };
        if (!json) {
            out.println("backtest of " + rule + " " + params + " on event times [" + Times.format(from.toEpochMilli())
                    + ", " + Times.format(to.toEpochMilli()) + "): replaying " + (files == null ? "the input topics"
                    : "the files in " + files) + " twice ...");
            out.println(Main.logFileLine());
            out.flush();
        }
        Backtest.Report report = Backtest.run(cfg, rule, params, from, to, verdicts, files);
        if (json) out.println(BacktestReport.json(report));
        else BacktestReport.text(report, out);
        if (html != null) {
            if (html.toAbsolutePath().getParent() != null) Files.createDirectories(html.toAbsolutePath().getParent());
            Files.writeString(html, BacktestReport.html(report), StandardCharsets.UTF_8);
            if (!json) out.println("HTML report: " + html);
        }
        out.flush();
        return 0;
    }
}
