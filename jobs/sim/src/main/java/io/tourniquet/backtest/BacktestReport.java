package io.tourniquet.backtest;

import io.tourniquet.backtest.Backtest.AlertLine;
import io.tourniquet.backtest.Backtest.CommandLine;
import io.tourniquet.backtest.Backtest.Count;
import io.tourniquet.backtest.Backtest.Report;
import io.tourniquet.backtest.Backtest.SideQuality;
import io.tourniquet.forensics.ForensicsJson;
import io.tourniquet.forensics.HtmlReport;
import java.io.PrintWriter;
import java.util.List;
import java.util.Locale;

/** A backtest's report as text (the terminal), JSON ({@code --json}) and one HTML page ({@code --html}). */
public final class BacktestReport {
    private BacktestReport() {}

    public static String json(Report r) {
        return ForensicsJson.write(r);
    }

    public static void text(Report r, PrintWriter out) {
        out.println();
        out.println("Backtest of " + r.rule() + " " + r.params() + ", alerts and commands with event time in ["
                + r.from() + ", " + r.to() + ")");
        out.println();
        out.println(String.format(Locale.ROOT, "%-28s %10s %10s %8s", "ALERTS PER RULE", "IN FORCE", "CANDIDATE", "CHANGE"));
        for (Count c : r.alertsPerRule()) out.println(countLine(c));
        out.println();
        out.println(String.format(Locale.ROOT, "%-28s %10s %10s %8s", "COMMANDS PER ACTION", "IN FORCE", "CANDIDATE", "CHANGE"));
        if (r.commandsPerAction().isEmpty()) out.println("(none on either side)");
        for (Count c : r.commandsPerAction()) out.println(countLine(c));
        alerts(out, "Alerts only the rules in force raise (the candidate would not)", r.onlyInForce());
        alerts(out, "Alerts only the candidate raises", r.onlyCandidate());
        commands(out, "Commands only the rules in force issue", r.commandsOnlyInForce());
        commands(out, "Commands only the candidate issues", r.commandsOnlyCandidate());
        out.println();
        if (r.quality() == null) {
            out.println("Verdicts: " + r.qualityNote());
        } else {
            out.println("Against analysts' verdicts on " + r.rule() + " (" + r.quality().verdicts() + " judged alerts, "
                    + r.quality().judgedRight() + " right; right = true or benign true positive):");
            out.println("  in force:  " + quality(r.quality().inForce()));
            out.println("  candidate: " + quality(r.quality().candidate()));
        }
    }

    private static String countLine(Count c) {
        int d = c.candidate() - c.inForce();
        return String.format(Locale.ROOT, "%-28s %10d %10d %8s", c.name(), c.inForce(), c.candidate(),
                d == 0 ? "" : (d > 0 ? "+" : "") + d);
    }

    static void alerts(PrintWriter out, String title, List<AlertLine> lines) {
        out.println();
        out.println(title + ": " + lines.size());
        for (AlertLine a : lines) {
            out.println("  " + a.time() + "  " + a.rule() + "  user " + a.userId()
                    + (a.withdrawalId() == null ? "" : "  withdrawal " + a.withdrawalId())
                    + (a.amount() == null ? "" : "  " + a.amount() + " " + a.asset())
                    + (a.usdValue() == null ? "" : String.format(Locale.ROOT, "  US$ %,.2f", a.usdValue()))
                    + (a.summary() == null ? "" : "  " + a.summary()));
        }
    }

    private static void commands(PrintWriter out, String title, List<CommandLine> lines) {
        out.println();
        out.println(title + ": " + lines.size());
        for (CommandLine c : lines) {
            out.println("  " + c.time() + "  " + c.action() + " " + c.scope() + "  (" + c.reason() + ")");
        }
    }

    static String quality(SideQuality q) {
        return q.judged() + " judged raised, " + q.right() + " right; precision " + pct(q.precision()) + ", recall "
                + pct(q.recall());
    }

    private static String pct(Double v) {
        return v == null ? "-" : String.format(Locale.ROOT, "%.1f %%", 100 * v);
    }

    /** One self-contained page in the incident report's style. */
    public static String html(Report r) {
        StringBuilder h = new StringBuilder(16_384);
        h.append("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n")
                .append("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n")
                .append("<title>Backtest of ").append(esc(r.rule())).append(" · Tourniquet</title>\n")
                .append("<style>\n").append(HtmlReport.css()).append("</style>\n</head>\n<body>\n<main>\n");
        h.append("<h1>Backtest of <code>").append(esc(r.rule())).append("</code></h1>\n<p class=\"sub\">Candidate ");
        r.params().forEach((k, v) -> h.append("<code>").append(esc(k)).append('=').append(esc(v)).append("</code> "));
        h.append("against the rules in force; alerts and commands with event time in [")
                .append(esc(r.from().toString())).append(", ").append(esc(r.to().toString())).append(").</p>\n");
        h.append("<div class=\"pair\">\n");
        countTable(h, "Alerts per rule", r.alertsPerRule());
        countTable(h, "Commands per action", r.commandsPerAction());
        h.append("</div>\n");
        alertTable(h, "Only the rules in force raise", r.onlyInForce());
        alertTable(h, "Only the candidate raises", r.onlyCandidate());
        commandTable(h, "Commands only the rules in force issue", r.commandsOnlyInForce());
        commandTable(h, "Commands only the candidate issues", r.commandsOnlyCandidate());
        h.append("<h2>Against analysts' verdicts</h2>\n");
        if (r.quality() == null) {
            h.append("<p class=\"note\">").append(esc(r.qualityNote())).append("</p>\n");
        } else {
            h.append("<p class=\"note\">").append(r.quality().verdicts()).append(" judged alerts of the rule, ")
                    .append(r.quality().judgedRight()).append(" right (true or benign true positive).</p>\n")
                    .append("<table><thead><tr><th></th><th class=\"num\">judged raised</th><th class=\"num\">right</th>")
                    .append("<th class=\"num\">precision</th><th class=\"num\">recall</th></tr></thead><tbody>\n");
            qualityRow(h, "in force", r.quality().inForce());
            qualityRow(h, "candidate", r.quality().candidate());
            h.append("</tbody></table>\n");
        }
        h.append("<footer>Tourniquet backtest: both sides replayed on the embedded cluster; nothing was written to any topic.</footer>\n");
        h.append("</main>\n</body>\n</html>\n");
        return h.toString();
    }

    private static void countTable(StringBuilder h, String title, List<Count> counts) {
        h.append("<div><h2>").append(esc(title)).append("</h2>\n<table><thead><tr><th></th>")
                .append("<th class=\"num\">in force</th><th class=\"num\">candidate</th></tr></thead><tbody>\n");
        for (Count c : counts) {
            h.append("<tr><th>").append(esc(c.name())).append("</th><td class=\"num\">").append(c.inForce())
                    .append("</td><td class=\"num\">").append(c.candidate()).append("</td></tr>\n");
        }
        h.append("</tbody></table></div>\n");
    }

    private static void alertTable(StringBuilder h, String title, List<AlertLine> lines) {
        h.append("<h2>").append(esc(title)).append(" (").append(lines.size()).append(")</h2>\n");
        if (lines.isEmpty()) return;
        h.append("<table><thead><tr><th>event time</th><th>rule</th><th>user</th><th>withdrawal</th>")
                .append("<th class=\"num\">amount</th><th class=\"num\">US$</th><th>reason</th></tr></thead><tbody>\n");
        for (AlertLine a : lines) {
            h.append("<tr><td>").append(esc(a.time().toString())).append("</td><td>").append(esc(a.rule()))
                    .append("</td><td><code>").append(esc(a.userId())).append("</code></td><td><code>")
                    .append(esc(a.withdrawalId())).append("</code></td><td class=\"num\">")
                    .append(esc(a.amount() == null ? "" : a.amount() + " " + a.asset())).append("</td><td class=\"num\">")
                    .append(a.usdValue() == null ? "" : String.format(Locale.ROOT, "%,.2f", a.usdValue()))
                    .append("</td><td>").append(esc(a.summary())).append("</td></tr>\n");
        }
        h.append("</tbody></table>\n");
    }

    private static void commandTable(StringBuilder h, String title, List<CommandLine> lines) {
        h.append("<h2>").append(esc(title)).append(" (").append(lines.size()).append(")</h2>\n");
        if (lines.isEmpty()) return;
        h.append("<table><thead><tr><th>event time</th><th>command</th><th>scope</th><th>reason</th></tr></thead><tbody>\n");
        for (CommandLine c : lines) {
            h.append("<tr><td>").append(esc(c.time().toString())).append("</td><td>").append(esc(c.action()))
                    .append("</td><td><code>").append(esc(c.scope())).append("</code></td><td>").append(esc(c.reason()))
                    .append("</td></tr>\n");
        }
        h.append("</tbody></table>\n");
    }

    private static void qualityRow(StringBuilder h, String side, SideQuality q) {
        h.append("<tr><th>").append(side).append("</th><td class=\"num\">").append(q.judged())
                .append("</td><td class=\"num\">").append(q.right()).append("</td><td class=\"num\">")
                .append(esc(pct(q.precision()))).append("</td><td class=\"num\">").append(esc(pct(q.recall())))
                .append("</td></tr>\n");
    }

    private static String esc(String s) {
        return s == null ? "" : HtmlReport.escape(s);
    }
}
