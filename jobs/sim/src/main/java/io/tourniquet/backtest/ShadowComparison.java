package io.tourniquet.backtest;

import io.tourniquet.forensics.Verdicts;
import com.fasterxml.jackson.databind.JsonNode;
import io.tourniquet.backtest.Backtest.AlertLine;
import io.tourniquet.backtest.Backtest.Quality;
import io.tourniquet.forensics.Forensics;
import io.tourniquet.forensics.UnknownIdException;
import java.io.PrintWriter;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * A shadow rule version against the version in force over the shadow's lifetime, from what was
 * indexed: the alerts each raised on the same live traffic, matched as the backtest matches them
 * (rule, user, withdrawal, event time), with each side's precision and recall from analysts'
 * verdicts. The lifetime is by detection time (wall clock): from the shadow version's acceptance
 * (its alerts carry it) to the first alert of the version in force that took its number or a later
 * one (a promotion keeps the number), or to now while it is under evaluation; or as given. What the shadow would have done is only what it
 * alerted on: a shadow version issues no commands.
 */
public final class ShadowComparison {
    private ShadowComparison() {}

    /**
     * @param ended whether the shadow's lifetime ended (promoted, or overtaken by a later version in
     *              force) at {@code until}
     * @param both  alerts both sides raised (matched)
     */
    public record Result(String rule, int version, Instant since, Instant until, boolean ended, int inForce, int shadow,
                         int both,
                         List<AlertLine> onlyInForce, List<AlertLine> onlyShadow, Quality quality, String qualityNote) {
    }

    /**
     * @param version the shadow version to compare (null: the highest that raised an alert)
     * @param since   from (detection time; null: when the shadow version was accepted)
     * @param until   to, exclusive (null: the first alert of a version in force numbered as the
     *                shadow or later, else now)
     * @throws UnknownIdException if no shadow alert of the rule is indexed and {@code version} or
     *                            {@code since} is not given
     */
    public static Result compare(Forensics f, String rule, Integer version, Instant since, Instant until, Instant now) {
        Verdicts.ShadowVersion latest = version != null ? null : f.latestShadow(rule).orElseThrow(() ->
                new UnknownIdException("no shadow alert of rule " + rule + " is indexed: is a shadow version under"
                        + " evaluation ('tourniquet control rule --shadow')? Give --version and --since to compare anyway"));
        int v = version != null ? version : latest.version();
        Instant from = since != null ? since : latest != null ? latest.since() : null;
        if (from == null) {
            throw new UnknownIdException("when shadow version " + v + " of rule " + rule + " began is not known: give --since");
        }
        // Unless given: until the version it became (or a later one) raised its first alert, else now.
        java.util.Optional<Instant> end = f.firstInForceFrom(rule, v, from);
        Instant to = until != null ? until : end.orElse(now);
        List<AlertLine> active = lines(f.alertsDetected(rule, null, from, to));
        List<AlertLine> shadow = lines(f.alertsDetected(rule, v, from, to));
        List<AlertLine> onlyActive = Backtest.only(active, shadow, AlertLine::key);
        List<AlertLine> onlyShadow = Backtest.only(shadow, active, AlertLine::key);
        Comparator<AlertLine> byTime = Comparator.comparing(AlertLine::time).thenComparing(AlertLine::key);

        Quality quality = null;
        String note = null;
        try {
            List<String> ids = new ArrayList<>();
            active.forEach(a -> ids.add(a.alertId()));
            shadow.forEach(a -> ids.add(a.alertId()));
            Map<String, String> labels = new LinkedHashMap<>();
            f.latestVerdicts(ids).forEach((id, verdict) -> labels.put(id, verdict.path("label").asText()));
            quality = labels.isEmpty() ? null : Backtest.quality(rule, labels, active, shadow);
            if (quality == null) note = "no alert of either side has a verdict yet ('tourniquet control verdict')";
        } catch (RuntimeException e) {
            note = "verdicts unavailable: " + e.getMessage();
        }
        return new Result(rule, v, from, to, until == null && end.isPresent(), active.size(), shadow.size(), active.size() - onlyActive.size(),
                onlyActive.stream().sorted(byTime).toList(), onlyShadow.stream().sorted(byTime).toList(), quality, note);
    }

    private static List<AlertLine> lines(List<JsonNode> docs) {
        List<AlertLine> out = new ArrayList<>(docs.size());
        for (JsonNode d : docs) {
            JsonNode e = d.path("evidence");
            out.add(new AlertLine(d.path("alert_id").asText(), d.path("rule").asText(), text(d, "user_id"),
                    text(d, "withdrawal_id"), Instant.parse(d.path("event_time").asText()), text(e, "asset"),
                    text(e, "amount"), e.path("usd_value").isNumber() ? e.path("usd_value").asDouble() : null,
                    text(d, "summary")));
        }
        return out;
    }

    private static String text(JsonNode d, String field) {
        JsonNode n = d.path(field);
        return n.isValueNode() && !n.isNull() ? n.asText() : null;
    }

    public static void text(Result r, PrintWriter out) {
        out.println();
        out.println("Shadow version " + r.version() + " of " + r.rule() + " against the version in force, alerts detected in ["
                + r.since() + ", " + r.until() + ")");
        out.println();
        out.println(String.format(Locale.ROOT, "%-28s %10s %10s %8s", "ALERTS", "IN FORCE", "SHADOW", "CHANGE"));
        int d = r.shadow() - r.inForce();
        out.println(String.format(Locale.ROOT, "%-28s %10d %10d %8s", r.rule(), r.inForce(), r.shadow(),
                d == 0 ? "" : (d > 0 ? "+" : "") + d));
        out.println("raised by both: " + r.both());
        BacktestReport.alerts(out, "Alerts only the version in force raised (the shadow would not)", r.onlyInForce());
        BacktestReport.alerts(out, "Alerts only the shadow raised", r.onlyShadow());
        out.println();
        if (r.quality() == null) {
            out.println("Verdicts: " + r.qualityNote());
        } else {
            out.println("Against analysts' verdicts (" + r.quality().verdicts() + " judged alerts, "
                    + r.quality().judgedRight() + " right; right = true or benign true positive):");
            out.println("  in force: " + BacktestReport.quality(r.quality().inForce()));
            out.println("  shadow:   " + BacktestReport.quality(r.quality().candidate()));
        }
        out.println();
        out.println("A shadow version starts with no state: in its first window it may miss what needs history.");
        if (r.ended()) {
            out.println("It ended at " + r.until() + ", when the version in force it became (promoted) or a later one"
                    + " raised its first alert.");
        } else {
            out.println("Promote it with 'tourniquet control promote --rule " + r.rule() + "', or end it with 'drop-shadow'.");
        }
    }
}
