package io.tourniquet.forensics;

import io.tourniquet.forensics.Eligibility.AppEligibility;
import io.tourniquet.forensics.Incidents.AssetAmount;
import io.tourniquet.forensics.AttackerInfrastructure.AttackerInfra;
import io.tourniquet.forensics.RootCauses.BackendGroup;
import io.tourniquet.forensics.RootCauses.ChannelGroup;
import io.tourniquet.forensics.Claims.ClaimCondition;
import io.tourniquet.forensics.Claims.ClaimTotals;
import io.tourniquet.forensics.Claims.ClaimView;
import io.tourniquet.forensics.Eligibility.ConditionCheck;
import io.tourniquet.forensics.Claims.IncidentClaims;
import io.tourniquet.forensics.Incidents.IncidentView;
import io.tourniquet.forensics.AttackerInfrastructure.Indicator;
import io.tourniquet.forensics.RootCauses.RootCause;
import io.tourniquet.forensics.Timelines.Timeline;
import io.tourniquet.forensics.Timelines.TimelineEntry;
import io.tourniquet.forensics.Eligibility.UserEligibility;
import io.tourniquet.util.TextTable;
import io.tourniquet.util.Times;
import java.io.PrintWriter;
import java.math.BigDecimal;
import java.math.RoundingMode;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * The forensic answers as plain-text tables, for a person at a terminal ({@code tourniquet
 * forensics}): beside {@link HtmlReport}, which renders the same records as one page. Pure: records
 * in, text out.
 */
public final class TextReport {
    private TextReport() {}

    public static void renderPrecision(Verdicts.Precision p, PrintWriter out) {
        if (p.judged() == 0) {
            out.println("no verdicts on alerts" + (p.range().unbounded() ? "" : " in " + p.range()));
            return;
        }
        out.println("Precision per rule from analysts' verdicts (each alert's latest; "
                + (p.range().unbounded() ? "all alerts" : "alerts in " + p.range()) + ")");
        out.println();
        TextTable t = new TextTable("RULE", "JUDGED>", "TRUE>", "BENIGN TRUE>", "FALSE>", "PRECISION>", "SUPPRESSING>");
        for (Verdicts.RulePrecision r : p.rules()) {
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


    public static String time(Instant t) {
        return t == null ? "-" : Times.format(t.toEpochMilli());
    }

    public static String usd(BigDecimal v) {
        return v == null ? "-" : v.setScale(2, RoundingMode.HALF_EVEN).toPlainString();
    }

    public static String impact(List<AssetAmount> impact) {
        return impact.isEmpty() ? "-" : impact.stream().map(a -> a.amount() + " " + a.asset())
                .collect(Collectors.joining(", "));
    }

    public static String counts(Map<String, Long> counts) {
        return counts.isEmpty() ? "-" : counts.entrySet().stream().map(e -> e.getKey() + "=" + e.getValue())
                .collect(Collectors.joining(", "));
    }

    public static String duration(Duration d) {
        if (d == null) return "-";
        long s = d.toSeconds();
        return s >= 3600 ? String.format("%dh%02dm%02ds", s / 3600, s % 3600 / 60, s % 60)
                : String.format("%dm%02ds", s / 60, s % 60);
    }

    public static void renderIncidents(List<IncidentView> list, PrintWriter out) {
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

    public static void renderIncident(IncidentView i, PrintWriter out) {
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

    public static void renderTimeline(Timeline t, PrintWriter out) {
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

    public static void renderRootCause(RootCause r, PrintWriter out) {
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

    public static void renderAttackerInfra(AttackerInfra a, PrintWriter out) {
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

    public static void renderEligibility(AppEligibility a, PrintWriter out) {
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
        out.println("Outstanding for every user (manual): " + String.join("; ", Eligibility.APP_MANUAL_INPUTS));
    }

    public static void renderClaims(IncidentClaims c, PrintWriter out) {
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

    public static String conditions(List<ClaimCondition> list) {
        return list.isEmpty() ? "-" : list.stream().map(k -> k.name() + "=" + k.outcome())
                .collect(Collectors.joining(", "));
    }

    /** Who decided, and the second analyst who approved the decision when it needed one. */
    public static String decidedBy(ClaimView v) {
        if (v.decidedBy() == null) return "-";
        return v.decidedBy() + (v.decisionApprovedBy() == null ? "" : " (approved by " + v.decisionApprovedBy() + ")");
    }

    private static String outcome(ConditionCheck c) {
        return c.outcome().name().toLowerCase(java.util.Locale.ROOT);
    }

    private static String verdict(Eligibility.Verdict v) {
        return v.name().toLowerCase(java.util.Locale.ROOT).replace('_', ' ');
    }
}
