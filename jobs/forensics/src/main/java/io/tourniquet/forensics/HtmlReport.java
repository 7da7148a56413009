package io.tourniquet.forensics;

import io.tourniquet.forensics.Activities.Activity;
import io.tourniquet.forensics.Activities.ActivityBucket;
import io.tourniquet.forensics.Incidents.AssetAmount;
import io.tourniquet.forensics.AttackerInfrastructure.AttackerInfra;
import io.tourniquet.forensics.RootCauses.BackendGroup;
import io.tourniquet.forensics.RootCauses.ChannelGroup;
import io.tourniquet.forensics.Claims.ClaimCondition;
import io.tourniquet.forensics.Claims.ClaimTotals;
import io.tourniquet.forensics.Claims.ClaimView;
import io.tourniquet.forensics.Claims.IncidentClaims;
import io.tourniquet.forensics.Incidents.IncidentView;
import io.tourniquet.forensics.AttackerInfrastructure.Indicator;
import io.tourniquet.forensics.RootCauses.RootCause;
import io.tourniquet.util.Times;
import java.math.BigDecimal;
import java.math.RoundingMode;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * An incident report as one self-contained HTML page: inline CSS and an inline SVG chart, no
 * script, font, image or link to fetch, so it opens anywhere without a network (and can be
 * attached to a ticket as it is). A pure function of {@link ReportData}: the same data gives the
 * same bytes.
 *
 * <p>Every value from the record is escaped, whatever it is: addresses, device ids, rule names and
 * user ids come from outside (an attacker chooses the destination address) and must never become
 * markup in an analyst's browser.
 */
public final class HtmlReport {
    // The chart's geometry (SVG user units); tests place the start and containment lines with it.
    static final int WIDTH = 1000;
    static final int PLOT_LEFT = 180;
    static final int PLOT_RIGHT = WIDTH - 20;
    static final int PLOT_TOP = 34;
    static final int PLOT_HEIGHT = 200;
    static final int LANE_HEIGHT = 22;
    static final int AXIS_HEIGHT = 44;
    /** Colours of the alert rules' markers, in the order of {@link Activity#rules()}. */
    private static final String[] RULE_COLOURS = {"#8250df", "#0969da", "#bf8700", "#1a7f37", "#cf222e", "#57606a"};
    private static final List<Duration> TICKS = List.of(Duration.ofMinutes(1), Duration.ofMinutes(2),
            Duration.ofMinutes(5), Duration.ofMinutes(10), Duration.ofMinutes(15), Duration.ofMinutes(30),
            Duration.ofHours(1), Duration.ofHours(2), Duration.ofHours(3), Duration.ofHours(6), Duration.ofHours(12),
            Duration.ofDays(1), Duration.ofDays(2), Duration.ofDays(7));
    private static final int MAX_TICKS = 10;
    private static final DateTimeFormatter HOUR_MINUTE = DateTimeFormatter.ofPattern("HH:mm", Locale.ROOT)
            .withZone(ZoneOffset.UTC);
    private static final DateTimeFormatter DAY_HOUR_MINUTE = DateTimeFormatter.ofPattern("MM-dd HH:mm", Locale.ROOT)
            .withZone(ZoneOffset.UTC);
    private static final DateTimeFormatter TIME_OF_DAY = DateTimeFormatter.ofPattern("HH:mm:ss", Locale.ROOT)
            .withZone(ZoneOffset.UTC);
    private static final DateTimeFormatter DAY = DateTimeFormatter.ofPattern("yyyy-MM-dd", Locale.ROOT)
            .withZone(ZoneOffset.UTC);

    private static final String CSS = """
            :root{color-scheme:light}
            body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif;margin:0;\
            color:#1f2328;background:#fff;line-height:1.45}
            main{max-width:1040px;margin:0 auto;padding:24px 24px 40px}
            h1{font-size:1.5rem;margin:0 0 6px}
            h2{font-size:1.15rem;margin:32px 0 8px;padding-bottom:4px;border-bottom:1px solid #d0d7de}
            h3{font-size:.95rem;margin:18px 0 6px}
            table{border-collapse:collapse;font-size:.875rem;margin:4px 0 12px}
            th,td{padding:4px 12px 4px 0;border-bottom:1px solid #eaeef2;text-align:left;vertical-align:top}
            thead th{font-weight:600;border-bottom:1px solid #d0d7de;color:#57606a;font-size:.8rem}
            tbody th{font-weight:400;color:#57606a}
            tfoot td,tfoot th{font-weight:600;border-bottom:0}
            .num{text-align:right;font-variant-numeric:tabular-nums;padding-left:16px}
            code{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:.85em;word-break:break-all}
            .cards{display:flex;gap:12px;flex-wrap:wrap;margin:16px 0}
            .card{border:1px solid #d0d7de;border-radius:6px;padding:10px 16px;min-width:170px}
            .card .v{font-size:1.35rem;font-weight:600;font-variant-numeric:tabular-nums}
            .card .l{color:#57606a;font-size:.8rem}
            .status{display:inline-block;padding:1px 10px;border-radius:10px;font-size:.8rem;font-weight:600;\
            background:#eaeef2;vertical-align:middle}
            .status-open{background:#ffebe9;color:#a40e26}
            .status-contained{background:#fff8c5;color:#7d4e00}
            .status-resolved{background:#dafbe1;color:#116329}
            .note,.sub{color:#57606a;font-size:.85rem}
            .sub{margin:0}
            .pair{display:flex;gap:48px;flex-wrap:wrap;align-items:flex-start}
            .legend{display:flex;gap:18px;flex-wrap:wrap;font-size:.8rem;color:#57606a;margin:4px 0 0}
            .legend span::before{content:"";display:inline-block;width:10px;height:10px;margin-right:5px;\
            vertical-align:-1px;background:var(--c);border-radius:var(--r,0)}
            svg{display:block;width:100%;max-width:1000px;height:auto}
            svg text{font-family:inherit;font-size:11px;fill:#57606a}
            details summary{cursor:pointer;color:#57606a;font-size:.85rem}
            footer{margin-top:40px;color:#8c959f;font-size:.75rem}
            """;

    private HtmlReport() {
    }

    /** The reports' one style sheet, for other pages that should look the same (the backtest report). */
    public static String css() {
        return CSS;
    }

    /** {@link #esc} for other pages. */
    public static String escape(String s) {
        return esc(s);
    }

    /** The whole page. */
    public static String render(ReportData d) {
        IncidentView i = d.incident();
        StringBuilder h = new StringBuilder(32_768);
        h.append("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n")
                .append("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n")
                .append("<title>Incident ").append(esc(i.id())).append(" · Tourniquet incident report</title>\n")
                .append("<style>\n").append(CSS).append("</style>\n</head>\n<body>\n<main>\n");
        header(h, d);
        timeline(h, d);
        impact(h, i);
        alertsAndActions(h, i);
        rootCause(h, d.rootCause());
        attackerInfra(h, d.attackerInfra());
        users(h, i);
        claims(h, d.claims());
        verdicts(h, d.verdicts());
        h.append("<footer>Generated ").append(esc(time(d.generatedAt())))
                .append(" by <code>tourniquet forensics report</code> from the forensic indexes, with the same queries "
                        + "as <code>tourniquet forensics incident | root-cause | attacker-infra | claims</code>. All times are "
                        + "UTC (RFC 3339); amounts are exact; US$ values at request time.</footer>\n");
        h.append("</main>\n</body>\n</html>\n");
        return h.toString();
    }

    // ------------------------------------------------------------------------------------ summary

    private static void header(StringBuilder h, ReportData d) {
        IncidentView i = d.incident();
        h.append("<header id=\"summary\">\n<h1>Incident <code>").append(esc(i.id())).append("</code> <span class=\"status status-")
                .append(esc(i.status())).append("\" data-field=\"status\">").append(esc(i.status())).append("</span></h1>\n");
        h.append("<p class=\"sub\">Started ").append(esc(time(i.startedAt())));
        if (i.containedAt() != null) h.append(", contained ").append(esc(time(i.containedAt())));
        h.append(" · window of the forensic queries ").append(esc(d.window().toString())).append("</p>\n");

        h.append("<div class=\"cards\">\n");
        card(h, "users-affected", String.valueOf(i.usersAffected()), "users affected");
        card(h, "usd-total", "US$ " + usd(i.usdTotal()), "approved without 2FA (US$ at request time)");
        card(h, "time-to-containment", i.containedAt() == null ? "not contained" : duration(i.timeToContainment()),
                "from the start to containment");
        card(h, "usd-after-containment", "US$ " + usd(i.usdAfterContainment()), "approved after containment");
        h.append("</div>\n");

        h.append("<table id=\"times\">\n<tbody>\n");
        summaryRow(h, "status", "Status", i.status() + (i.resolvedBy() == null ? "" : " (resolved by " + i.resolvedBy() + ")"),
                false);
        summaryRow(h, "started", "Started", time(i.startedAt()) + "  (event time of the first alert's event)", false);
        summaryRow(h, "detected", "Detected", time(i.detectedAt()) + "  (wall clock, first alert raised)", false);
        summaryRow(h, "contained", "Contained", time(i.containedAt())
                + (i.containedAt() == null ? "" : "  (event time of the suspension)"), false);
        summaryRow(h, "time-to-containment-row", "Time to containment", duration(i.timeToContainment()), false);
        summaryRow(h, "resolved", "Resolved", time(i.resolvedAt()), false);
        summaryRow(h, "last-alert", "Last alert", time(i.lastAlertAt()), false);
        summaryRow(h, "users-affected-row", "Users affected", String.valueOf(i.usersAffected()), true);
        summaryRow(h, "usd-total-row", "US$ total", usd(i.usdTotal()), true);
        summaryRow(h, "usd-after-containment-row", "US$ approved after containment", usd(i.usdAfterContainment()), true);
        h.append("</tbody>\n</table>\n</header>\n");
    }

    private static void card(StringBuilder h, String field, String value, String label) {
        h.append("<div class=\"card\"><div class=\"v\" data-field=\"").append(field).append("\">").append(esc(value))
                .append("</div><div class=\"l\">").append(esc(label)).append("</div></div>\n");
    }

    private static void summaryRow(StringBuilder h, String field, String label, String value, boolean numeric) {
        h.append("<tr><th scope=\"row\">").append(esc(label)).append("</th><td").append(numeric ? " class=\"num\"" : "")
                .append(" data-field=\"").append(field).append("\">").append(esc(value)).append("</td></tr>\n");
    }

    // ------------------------------------------------------------------------------------ timeline chart

    private static void timeline(StringBuilder h, ReportData d) {
        Activity a = d.activity();
        h.append("<section id=\"timeline\">\n<h2>Timeline</h2>\n<p class=\"note\">Withdrawals approved per ")
                .append(esc(interval(a.interval()))).append(" of event time: ").append(a.unauthorizedApprovals())
                .append(" without 2FA in this incident, ").append(a.approvals())
                .append(" approvals on the platform in all; ").append(a.alerts()).append(" alerts of the incident.</p>\n");
        h.append(chart(d));
        h.append("<div class=\"legend\"><span style=\"--c:#cf222e\">approved without 2FA (this incident)</span>"
                + "<span style=\"--c:#d0d7de\">approved with 2FA (platform)</span>"
                + "<span style=\"--c:#0550ae\">started</span><span style=\"--c:#1a7f37\">contained</span></div>\n");
        h.append("</section>\n");
    }

    /** X of an instant on the chart: linear over the chart's range, from {@link #PLOT_LEFT} to {@link #PLOT_RIGHT}. */
    static double x(TimeRange chart, Instant t) {
        double from = chart.since().toEpochMilli();
        double to = chart.until().toEpochMilli();
        return PLOT_LEFT + (t.toEpochMilli() - from) / (to - from) * (PLOT_RIGHT - PLOT_LEFT);
    }

    /** The inline SVG: a bar per bucket, a lane of markers per alert rule, the start and containment lines. */
    static String chart(ReportData d) {
        Activity a = d.activity();
        TimeRange chart = d.chart();
        IncidentView i = d.incident();
        List<String> rules = a.rules();
        int plotBottom = PLOT_TOP + PLOT_HEIGHT;
        int lanesBottom = plotBottom + 8 + rules.size() * LANE_HEIGHT;
        int height = lanesBottom + AXIS_HEIGHT;
        StringBuilder s = new StringBuilder(16_384);
        s.append("<svg id=\"chart\" viewBox=\"0 0 ").append(WIDTH).append(' ').append(height)
                .append("\" role=\"img\" aria-label=\"Withdrawals approved and alerts over time, incident ")
                .append(esc(i.id())).append("\">\n");

        // Y axis: whole numbers of approvals, at most five gridlines.
        long max = Math.max(1, a.buckets().stream().mapToLong(b -> Math.max(b.approvals(), b.unauthorizedApprovals()))
                .max().orElse(1));
        long step = niceStep(max / 4.0);
        long top = (max + step - 1) / step * step;
        for (long v = 0; v <= top; v += step) {
            double y = plotBottom - (double) v / top * PLOT_HEIGHT;
            s.append("<line class=\"grid\" x1=\"").append(PLOT_LEFT).append("\" x2=\"").append(PLOT_RIGHT)
                    .append("\" y1=\"").append(num(y)).append("\" y2=\"").append(num(y)).append("\" stroke=\"")
                    .append(v == 0 ? "#8c959f" : "#eaeef2").append("\"/>");
            s.append("<text x=\"").append(PLOT_LEFT - 8).append("\" y=\"").append(num(y + 4))
                    .append("\" text-anchor=\"end\">").append(v).append("</text>\n");
        }
        s.append("<text x=\"").append(PLOT_LEFT - 8).append("\" y=\"").append(PLOT_TOP - 14)
                .append("\" text-anchor=\"end\">approvals per ").append(esc(interval(a.interval()))).append("</text>\n");

        // Bars: all approvals in grey, the incident's unauthorized ones in red in front.
        double bucketWidth = (PLOT_RIGHT - PLOT_LEFT) * (double) a.interval().toMillis()
                / Duration.between(chart.since(), chart.until()).toMillis();
        double gap = Math.min(2, bucketWidth * 0.2);
        for (ActivityBucket b : a.buckets()) {
            double x0 = x(chart, b.start()) + gap / 2;
            double w = Math.max(0.5, bucketWidth - gap);
            double hAll = (double) b.approvals() / top * PLOT_HEIGHT;
            double hBad = (double) b.unauthorizedApprovals() / top * PLOT_HEIGHT;
            s.append("<g class=\"bucket\" data-start=\"").append(esc(time(b.start()))).append("\" data-approvals=\"")
                    .append(b.approvals()).append("\" data-unauthorized=\"").append(b.unauthorizedApprovals()).append("\">")
                    .append("<title>").append(esc(hm(b.start()) + "–" + hm(b.start().plus(a.interval())) + " UTC: "
                            + b.unauthorizedApprovals() + " without 2FA of " + b.approvals() + " approvals"))
                    .append("</title>");
            s.append("<rect class=\"approvals\" x=\"").append(num(x0)).append("\" y=\"").append(num(plotBottom - hAll))
                    .append("\" width=\"").append(num(w)).append("\" height=\"").append(num(hAll))
                    .append("\" fill=\"#d0d7de\"/>");
            s.append("<rect class=\"unauthorized\" x=\"").append(num(x0)).append("\" y=\"").append(num(plotBottom - hBad))
                    .append("\" width=\"").append(num(w)).append("\" height=\"").append(num(hBad))
                    .append("\" fill=\"#cf222e\"/></g>\n");
        }

        // A lane per alert rule: a dot in each bucket that has alerts, larger for more.
        for (int r = 0; r < rules.size(); r++) {
            String rule = rules.get(r);
            String colour = RULE_COLOURS[r % RULE_COLOURS.length];
            double y = plotBottom + 8 + r * LANE_HEIGHT + LANE_HEIGHT / 2.0;
            s.append("<g class=\"lane\" data-rule=\"").append(esc(rule)).append("\">");
            s.append("<text x=\"").append(PLOT_LEFT - 8).append("\" y=\"").append(num(y + 4))
                    .append("\" text-anchor=\"end\">").append(esc(rule)).append("</text>");
            s.append("<line x1=\"").append(PLOT_LEFT).append("\" x2=\"").append(PLOT_RIGHT).append("\" y1=\"")
                    .append(num(y)).append("\" y2=\"").append(num(y)).append("\" stroke=\"#eaeef2\"/>");
            for (ActivityBucket b : a.buckets()) {
                Long n = b.alertsByRule().get(rule);
                if (n == null || n == 0) continue;
                double cx = x(chart, b.start()) + bucketWidth / 2;
                double radius = Math.min(LANE_HEIGHT / 2.0 - 1, 3 + Math.sqrt(n));
                s.append("<circle class=\"alert\" data-count=\"").append(n).append("\" cx=\"").append(num(cx))
                        .append("\" cy=\"").append(num(y)).append("\" r=\"").append(num(radius)).append("\" fill=\"")
                        .append(colour).append("\"><title>").append(esc(n + " " + rule + " alert" + (n == 1 ? "" : "s")
                                + ", " + hm(b.start()) + "–" + hm(b.start().plus(a.interval())) + " UTC"))
                        .append("</title></circle>");
            }
            s.append("</g>\n");
        }

        // X axis: ticks on round times, labelled in UTC.
        Duration tick = tick(chart);
        long t0 = Math.floorDiv(chart.since().toEpochMilli() + tick.toMillis() - 1, tick.toMillis()) * tick.toMillis();
        boolean manyDays = !DAY.format(chart.since()).equals(DAY.format(chart.until().minusMillis(1)));
        for (long t = t0; t <= chart.until().toEpochMilli(); t += tick.toMillis()) {
            Instant at = Instant.ofEpochMilli(t);
            double tx = x(chart, at);
            s.append("<line class=\"tick\" x1=\"").append(num(tx)).append("\" x2=\"").append(num(tx)).append("\" y1=\"")
                    .append(lanesBottom).append("\" y2=\"").append(lanesBottom + 5).append("\" stroke=\"#8c959f\"/>");
            s.append("<text class=\"tick-label\" x=\"").append(num(tx)).append("\" y=\"").append(lanesBottom + 18)
                    .append("\" text-anchor=\"middle\">").append(manyDays ? DAY_HOUR_MINUTE.format(at) : HOUR_MINUTE.format(at))
                    .append("</text>\n");
        }
        s.append("<line x1=\"").append(PLOT_LEFT).append("\" x2=\"").append(PLOT_RIGHT).append("\" y1=\"")
                .append(lanesBottom).append("\" y2=\"").append(lanesBottom).append("\" stroke=\"#8c959f\"/>");
        s.append("<text x=\"").append((PLOT_LEFT + PLOT_RIGHT) / 2).append("\" y=\"").append(lanesBottom + 36)
                .append("\" text-anchor=\"middle\">event time (UTC")
                .append(manyDays ? "" : ", " + DAY.format(chart.since())).append(")</text>\n");

        // Start and containment: labels on the outer side of each line so that close lines stay legible.
        marker(s, "started", "#0550ae", chart, i.startedAt(), lanesBottom, "end");
        if (i.containedAt() != null) marker(s, "contained", "#1a7f37", chart, i.containedAt(), lanesBottom, "start");
        s.append("</svg>\n");
        return s.toString();
    }

    private static void marker(StringBuilder s, String name, String colour, TimeRange chart, Instant at, int bottom,
                               String anchor) {
        double mx = x(chart, at);
        s.append("<line class=\"marker ").append(name).append("\" data-time=\"").append(esc(time(at))).append("\" x1=\"")
                .append(num(mx)).append("\" x2=\"").append(num(mx)).append("\" y1=\"").append(PLOT_TOP - 6)
                .append("\" y2=\"").append(bottom).append("\" stroke=\"").append(colour)
                .append("\" stroke-width=\"1.5\" stroke-dasharray=\"4 3\"/>");
        s.append("<text x=\"").append(num(mx + ("end".equals(anchor) ? -4 : 4))).append("\" y=\"").append(PLOT_TOP - 10)
                .append("\" text-anchor=\"").append(anchor).append("\" style=\"fill:").append(colour).append("\">")
                .append(name).append(' ').append(TIME_OF_DAY.format(at)).append("</text>\n");
    }

    /** The smallest of 1, 2, 5 × 10^k at least {@code raw} (and at least 1). */
    static long niceStep(double raw) {
        long p = 1;
        while (true) {
            for (long m : new long[] {1, 2, 5}) {
                if (m * p >= raw) return m * p;
            }
            p *= 10;
        }
    }

    private static Duration tick(TimeRange chart) {
        long span = Duration.between(chart.since(), chart.until()).toMillis();
        for (Duration d : TICKS) {
            if (span / d.toMillis() <= MAX_TICKS) return d;
        }
        return TICKS.get(TICKS.size() - 1);
    }

    // ------------------------------------------------------------------------------------ tables

    private static void impact(StringBuilder h, IncidentView i) {
        h.append("<section id=\"impact\">\n<h2>Impact</h2>\n<p class=\"note\">Withdrawals approved without 2FA, "
                + "per asset: exact amounts, US$ at request time.</p>\n");
        assetTable(h, "impact-table", i.impact(), i.usdTotal());
        if (!i.impactAfterContainment().isEmpty()) {
            h.append("<h3>Approved after containment</h3>\n<p class=\"note\">What the holds and the suspension were for.</p>\n");
            assetTable(h, "after-containment-table", i.impactAfterContainment(), i.usdAfterContainment());
        }
        h.append("</section>\n");
    }

    private static void assetTable(StringBuilder h, String id, List<AssetAmount> rows, BigDecimal total) {
        h.append("<table id=\"").append(id).append("\">\n<thead><tr><th>Asset</th><th class=\"num\">Amount</th>"
                + "<th class=\"num\">US$</th><th class=\"num\">Withdrawals</th></tr></thead>\n<tbody>\n");
        if (rows.isEmpty()) h.append("<tr><td colspan=\"4\">none</td></tr>\n");
        int withdrawals = 0;
        for (AssetAmount a : rows) {
            withdrawals += a.withdrawals();
            h.append("<tr><td>").append(esc(a.asset())).append("</td><td class=\"num\">").append(esc(a.amount()))
                    .append("</td><td class=\"num\">").append(esc(usd(a.usdValue()))).append("</td><td class=\"num\">")
                    .append(a.withdrawals()).append("</td></tr>\n");
        }
        h.append("</tbody>\n<tfoot><tr><td>Total</td><td></td><td class=\"num\">").append(esc(usd(total)))
                .append("</td><td class=\"num\">").append(withdrawals).append("</td></tr></tfoot>\n</table>\n");
    }

    private static void alertsAndActions(StringBuilder h, IncidentView i) {
        h.append("<section id=\"response\">\n<h2>Alerts and actions</h2>\n<div class=\"pair\">\n");
        counts(h, "alerts-table", "Alert rule", "Alerts", i.alertsByRule());
        counts(h, "actions-table", "Action", "Commands", i.actionsByType());
        h.append("</div>\n</section>\n");
    }

    private static void counts(StringBuilder h, String id, String what, String count, Map<String, Long> counts) {
        h.append("<table id=\"").append(id).append("\">\n<thead><tr><th>").append(esc(what))
                .append("</th><th class=\"num\">").append(esc(count)).append("</th></tr></thead>\n<tbody>\n");
        if (counts.isEmpty()) h.append("<tr><td colspan=\"2\">none</td></tr>\n");
        counts.forEach((k, v) -> h.append("<tr><td>").append(esc(k)).append("</td><td class=\"num\">").append(v)
                .append("</td></tr>\n"));
        h.append("</tbody>\n</table>\n");
    }

    private static void rootCause(StringBuilder h, RootCause r) {
        h.append("<section id=\"root-cause\">\n<h2>Root cause</h2>\n<p class=\"note\" data-field=\"root-cause-summary\">")
                .append(r.approvals()).append(" approvals without 2FA (<code>exchange.mfa.authorized: false</code>) of ")
                .append(r.users()).append(" users, first ").append(esc(time(r.firstSeen()))).append(", last ")
                .append(esc(time(r.lastSeen()))).append(".</p>\n");
        h.append("<h3>By approving backend</h3>\n<table id=\"root-cause-backends\">\n<thead><tr><th>Service</th>"
                + "<th>Version</th><th class=\"num\">Approvals</th><th class=\"num\">Users</th><th>First seen</th>"
                + "<th>Last seen</th></tr></thead>\n<tbody>\n");
        if (r.byBackend().isEmpty()) h.append("<tr><td colspan=\"6\">none</td></tr>\n");
        for (BackendGroup b : r.byBackend()) {
            h.append("<tr><td><code>").append(esc(b.service())).append("</code></td><td><code>").append(esc(b.version()))
                    .append("</code></td><td class=\"num\">").append(b.approvals()).append("</td><td class=\"num\">")
                    .append(b.users()).append("</td><td>").append(esc(time(b.firstSeen()))).append("</td><td>")
                    .append(esc(time(b.lastSeen()))).append("</td></tr>\n");
        }
        h.append("</tbody>\n</table>\n");
        h.append("<h3>By channel</h3>\n<table id=\"root-cause-channels\">\n<thead><tr><th>Channel</th>"
                + "<th class=\"num\">Approvals</th><th class=\"num\">Users</th><th>First seen</th><th>Last seen</th>"
                + "</tr></thead>\n<tbody>\n");
        if (r.byChannel().isEmpty()) h.append("<tr><td colspan=\"5\">none</td></tr>\n");
        for (ChannelGroup c : r.byChannel()) {
            h.append("<tr><td><code>").append(esc(c.channel())).append("</code></td><td class=\"num\">")
                    .append(c.approvals()).append("</td><td class=\"num\">").append(c.users()).append("</td><td>")
                    .append(esc(time(c.firstSeen()))).append("</td><td>").append(esc(time(c.lastSeen())))
                    .append("</td></tr>\n");
        }
        h.append("</tbody>\n</table>\n</section>\n");
    }

    private static void attackerInfra(StringBuilder h, AttackerInfra a) {
        h.append("<section id=\"attacker-infra\">\n<h2>Attacker infrastructure</h2>\n<p class=\"note\">IPs, devices and "
                + "destination addresses on the events of the ").append(a.victims().size())
                .append(" affected accounts in ").append(esc(a.window().toString()))
                .append(", ranked by how many of them each touches")
                .append(a.all() ? "" : "; values touching a single account are left out").append(".</p>\n");
        indicators(h, "infra-ips", "IP addresses", "IP", a.ips());
        indicators(h, "infra-devices", "Devices", "Device", a.devices());
        indicators(h, "infra-addresses", "Destination addresses", "Address", a.addresses());
        h.append("</section>\n");
    }

    private static void indicators(StringBuilder h, String id, String title, String what, List<Indicator> list) {
        h.append("<h3>").append(esc(title)).append("</h3>\n<table id=\"").append(id).append("\">\n<thead><tr><th>")
                .append(esc(what)).append("</th><th class=\"num\">Victims</th><th class=\"num\">Events</th>"
                        + "<th>First seen</th><th>Last seen</th></tr></thead>\n<tbody>\n");
        if (list.isEmpty()) h.append("<tr><td colspan=\"5\">none shared between affected accounts</td></tr>\n");
        for (Indicator i : list) {
            h.append("<tr><td><code>").append(esc(i.value())).append("</code></td><td class=\"num\">").append(i.victims())
                    .append("</td><td class=\"num\">").append(i.events()).append("</td><td>")
                    .append(esc(time(i.firstSeen()))).append("</td><td>").append(esc(time(i.lastSeen())))
                    .append("</td></tr>\n");
        }
        h.append("</tbody>\n</table>\n");
    }

    private static void users(StringBuilder h, IncidentView i) {
        h.append("<section id=\"users\">\n<h2>Affected users</h2>\n<details><summary>").append(i.userIds().size())
                .append(" accounts</summary>\n<p id=\"user-ids\">");
        for (int n = 0; n < i.userIds().size(); n++) {
            if (n > 0) h.append(", ");
            h.append("<code>").append(esc(i.userIds().get(n))).append("</code>");
        }
        h.append("</p>\n</details>\n</section>\n");
    }

    // ------------------------------------------------------------------------------------ verdicts

    /** Analysts' latest verdict on each of the incident's alerts that has one. */
    private static void verdicts(StringBuilder h, List<Verdicts.VerdictView> verdicts) {
        h.append("<section id=\"verdicts\">\n<h2>Analysts' verdicts</h2>\n");
        if (verdicts.isEmpty()) {
            h.append("<p class=\"note\" data-field=\"verdicts-none\">No alert of this incident has a verdict yet "
                    + "(<code>tourniquet control verdict</code>).</p>\n</section>\n");
            return;
        }
        h.append("<table id=\"verdicts-table\">\n<thead><tr><th>Alert</th><th>Rule</th><th>User</th><th>Verdict</th>"
                + "<th>By</th><th>Decided</th><th>Note</th></tr></thead>\n<tbody>\n");
        for (Verdicts.VerdictView v : verdicts) {
            h.append("<tr data-alert=\"").append(esc(v.alertId())).append("\"><td><code>").append(esc(v.alertId()))
                    .append("</code></td><td>").append(esc(v.rule())).append("</td><td><code>")
                    .append(esc(v.userId() == null ? "-" : v.userId())).append("</code></td><td>").append(esc(v.label()))
                    .append(v.suppressing() ? " (suppressing)" : "").append("</td><td>").append(esc(v.by()))
                    .append("</td><td>").append(esc(v.decidedAt().toString())).append("</td><td>")
                    .append(esc(v.note() == null ? "" : v.note())).append("</td></tr>\n");
        }
        h.append("</tbody>\n</table>\n</section>\n");
    }

    // ------------------------------------------------------------------------------------ claims

    /** The incident's Account Protection Programme claims: the totals, then one row per claim. */
    private static void claims(StringBuilder h, IncidentClaims c) {
        h.append("<section id=\"claims\">\n<h2>Account Protection Programme claims</h2>\n");
        if (c.claims().isEmpty()) {
            h.append("<p class=\"note\" data-field=\"claims-none\">No claims have been opened for this incident.</p>\n"
                    + "</section>\n");
            return;
        }
        ClaimTotals t = c.totals();
        h.append("<p class=\"note\">Each claim as last changed; loss and payout in US$ at request time, the payout "
                + "capped by the programme limit.</p>\n");
        h.append("<div class=\"cards\">\n");
        card(h, "claims-count", String.valueOf(t.claims()), "claims");
        card(h, "claims-eligible", String.valueOf(t.eligible()), "eligible on the record");
        card(h, "claims-paid-usd", "US$ " + usd(t.paidUsd()), t.approved() + " approved: paid");
        card(h, "claims-pending", String.valueOf(t.pending()), "pending (loss US$ " + usd(t.pendingLossUsd()) + ")");
        h.append("</div>\n");
        h.append("<table id=\"claims-table\">\n<thead><tr><th>User</th><th>Status</th><th>Eligibility</th>"
                + "<th>Conditions</th><th>Outstanding</th><th class=\"num\">Loss US$</th>"
                + "<th class=\"num\">Payout US$</th><th>Decided by</th></tr></thead>\n<tbody>\n");
        for (ClaimView v : c.claims()) {
            h.append("<tr data-claim=\"").append(esc(v.claimId())).append("\"><td><code>").append(esc(v.userId()))
                    .append("</code></td><td>").append(esc(v.status())).append("</td><td>").append(esc(v.eligibility()))
                    .append("</td><td>");
            for (int k = 0; k < v.conditions().size(); k++) {
                ClaimCondition cond = v.conditions().get(k);
                if (k > 0) h.append("<br>");
                h.append("<span class=\"condition\" data-condition=\"").append(esc(cond.name())).append("\" title=\"")
                        .append(esc(cond.detail())).append("\">").append(esc(cond.name() + "=" + cond.outcome()))
                        .append("</span>");
            }
            if (v.conditions().isEmpty()) h.append("-");
            h.append("</td><td>").append(v.outstanding().isEmpty() ? "-" : esc(String.join(", ", v.outstanding())))
                    .append("</td><td class=\"num\">").append(esc(usd(v.lossUsd()))).append("</td><td class=\"num\">")
                    .append(esc(usd(v.payoutUsd()))).append("</td><td>").append(esc(decidedBy(v))).append("</td></tr>\n");
        }
        h.append("</tbody>\n<tfoot><tr><td>Total</td><td>").append(t.approved()).append(" approved, ").append(t.denied())
                .append(" denied, ").append(t.pending()).append(" pending</td><td>").append(t.eligible())
                .append(" eligible</td><td></td><td></td><td class=\"num\" data-field=\"claims-loss-usd\">")
                .append(esc(usd(t.lossUsd()))).append("</td><td class=\"num\" data-field=\"claims-paid-usd-total\">")
                .append(esc(usd(t.paidUsd()))).append("</td><td></td></tr></tfoot>\n</table>\n</section>\n");
    }

    private static String decidedBy(ClaimView v) {
        if (v.decidedBy() == null) return "-";
        return v.decidedBy() + (v.decisionApprovedBy() == null ? "" : " (approved by " + v.decisionApprovedBy() + ")");
    }

    // ------------------------------------------------------------------------------------ formatting

    /** HTML-escapes text for element content and double- or single-quoted attribute values. */
    static String esc(String s) {
        if (s == null) return "-";
        StringBuilder out = new StringBuilder(s.length() + 16);
        for (int k = 0; k < s.length(); k++) {
            char c = s.charAt(k);
            switch (c) {
                case '&' -> out.append("&amp;");
                case '<' -> out.append("&lt;");
                case '>' -> out.append("&gt;");
                case '"' -> out.append("&quot;");
                case '\'' -> out.append("&#39;");
                default -> out.append(c);
            }
        }
        return out.toString();
    }

    static String time(Instant t) {
        return t == null ? "-" : Times.format(t.toEpochMilli());
    }

    /** US$ to the cent (half even, as the CLI), digits grouped by thousands. */
    static String usd(BigDecimal v) {
        return v == null ? "-" : String.format(Locale.ROOT, "%,.2f", v.setScale(2, RoundingMode.HALF_EVEN));
    }

    static String duration(Duration d) {
        if (d == null) return "-";
        long s = d.toSeconds();
        return s >= 3600 ? String.format(Locale.ROOT, "%dh%02dm%02ds", s / 3600, s % 3600 / 60, s % 60)
                : String.format(Locale.ROOT, "%dm%02ds", s / 60, s % 60);
    }

    static String interval(Duration d) {
        long s = d.toSeconds();
        if (s == 60) return "minute";
        if (s == 3_600) return "hour";
        if (s == 86_400) return "day";
        if (s % 86_400 == 0) return s / 86_400 + " d";
        if (s % 3_600 == 0) return s / 3_600 + " h";
        if (s % 60 == 0) return s / 60 + " min";
        return s + " s";
    }

    private static String hm(Instant t) {
        return HOUR_MINUTE.format(t);
    }

    /** SVG coordinates to a tenth of a unit, always with a dot. */
    static String num(double v) {
        return String.format(Locale.ROOT, "%.1f", v);
    }
}
