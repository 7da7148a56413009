package io.tourniquet.forensics;

import co.elastic.clients.elasticsearch._types.SortOrder;
import co.elastic.clients.elasticsearch._types.mapping.FieldType;
import co.elastic.clients.elasticsearch._types.query_dsl.Query;
import co.elastic.clients.elasticsearch.core.SearchResponse;
import com.fasterxml.jackson.databind.JsonNode;
import io.tourniquet.model.ControlRequest;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;

/**
 * Analysts' verdicts on alerts (the latest one on an alert is its verdict), each rule's precision
 * from them, and the alerts of shadow rule versions beside those of the versions in force.
 */
public final class Verdicts extends ForensicsQuery {

    Verdicts(Context context) {
        super(context);
    }

    /** The latest verdict (by {@code decided_at}) on each of {@code alertIds} that has one. */
    public Map<String, JsonNode> latestVerdicts(List<String> alertIds) {
        Map<String, JsonNode> latest = new java.util.HashMap<>();
        for (int from = 0; from < alertIds.size(); from += VERDICT_TERMS) {
            List<String> chunk = alertIds.subList(from, Math.min(alertIds.size(), from + VERDICT_TERMS));
            forEachVerdict(terms("alert_id", chunk), v -> latest.put(text(v, "/alert_id"), v));
        }
        return latest;
    }

    /**
     * The latest verdict's label of every alert of {@code rule} judged whose event time is in
     * {@code range}, by alert id (a backtest's truth).
     */
    public Map<String, String> latestLabels(String rule, TimeRange range) {
        Map<String, String> labels = new java.util.HashMap<>();
        forEachVerdict(and(term("rule", rule), range.query("alert_time")),
                v -> labels.put(text(v, "/alert_id"), text(v, "/label")));
        return labels;
    }

    /** An analyst's latest verdict on one alert, as a report shows it. */
    public record VerdictView(String alertId, String rule, String userId, String label, String by, String note,
                              Instant decidedAt, boolean suppressing) {
    }

    /** Alerts of an incident whose verdicts a report looks up, at most (the first by time). */
    static final int REPORT_ALERTS = 10_000;

    /** The latest verdict on each of the incident's alerts that has one, by the alerts' time. */
    public List<VerdictView> incidentVerdicts(String incidentId) {
        SearchResponse<JsonNode> al = search(s -> s.index(alerts).size(REPORT_ALERTS).query(term("incident_id", incidentId))
                .source(src -> src.filter(f -> f.includes("alert_id")))
                .sort(byTime("@timestamp")).sort(byKeyword("alert_id")), JsonNode.class);
        List<String> ids = al.hits().hits().stream().map(h -> text(h.source(), "/alert_id")).filter(Objects::nonNull)
                .toList();
        Map<String, JsonNode> latest = latestVerdicts(ids);
        List<VerdictView> out = new ArrayList<>();
        for (String id : ids) {
            JsonNode v = latest.get(id);
            if (v == null) continue;
            out.add(new VerdictView(id, text(v, "/rule"), text(v, "/user_id"), text(v, "/label"), text(v, "/by"),
                    text(v, "/note"), Instant.parse(text(v, "/decided_at")), v.at("/suppresses_until").isTextual()));
        }
        return out;
    }

    /** Alert ids per verdict query: well under Elasticsearch's 65,536 terms. */
    static final int VERDICT_TERMS = 1_000;
    /**
     * Every verdict {@code filter} matches, in the order they were decided (then by id), page by page
     * ({@code search_after}): a later one on the same alert comes after, so "the last one seen" is
     * the alert's verdict.
     */
    private void forEachVerdict(Query filter, java.util.function.Consumer<JsonNode> each) {
        forEachPage(verdicts, filter, "decided_at", "verdict_id", each);
    }

    /** Every document of {@code index} that {@code filter} matches, by time then id. */
    private void forEachPage(String index, Query filter, String timeField, String idField,
                             java.util.function.Consumer<JsonNode> each) {
        forEachPage(index, context.verdictsPage, filter, List.of(byTime(timeField), byKeyword(idField)), each);
    }

    /** Alerts of shadow rule versions (every other alert lacks the field). */
    private static final Query SHADOW_ALERT = Query.of(q -> q.term(t -> t.field("shadow").value(true)));
    /** Alerts of the versions in force. */
    private static final Query NOT_SHADOW_ALERT = Query.of(q -> q.bool(b -> b.mustNot(SHADOW_ALERT)));

    /** A shadow rule version as its alerts name it: its number, and when it was accepted. */
    public record ShadowVersion(String rule, int version, Instant since) {
    }

    /** The highest shadow version of {@code rule} that raised an alert, if any did. */
    public java.util.Optional<ShadowVersion> latestShadow(String rule) {
        SearchResponse<JsonNode> r = search(s -> s.index(alerts).size(1)
                .query(and(term("rule", rule), SHADOW_ALERT))
                .sort(so -> so.field(f -> f.field("rule_version").order(SortOrder.Desc).unmappedType(FieldType.Integer)))
                .sort(byTime("detected_at")), JsonNode.class);
        if (r.hits().hits().isEmpty() || r.hits().hits().get(0).source() == null) return java.util.Optional.empty();
        JsonNode d = r.hits().hits().get(0).source();
        String since = text(d, "/shadow_since");
        return java.util.Optional.of(new ShadowVersion(rule, d.path("rule_version").asInt(),
                since == null ? null : Instant.parse(since)));
    }

    /**
     * When the first alert of {@code rule} not marked shadow, of version {@code version} or later,
     * was detected at or after {@code since}: the end of a shadow version that was promoted (the
     * promoted version keeps its number) or overtaken by a later version in force.
     */
    public java.util.Optional<Instant> firstInForceFrom(String rule, int version, Instant since) {
        SearchResponse<JsonNode> r = search(s -> s.index(alerts).size(1)
                .query(and(term("rule", rule), NOT_SHADOW_ALERT,
                        Query.of(q -> q.range(x -> x.number(n -> n.field("rule_version").gte((double) version)))),
                        new TimeRange(since, null).query("detected_at")))
                .sort(byTime("detected_at")), JsonNode.class);
        if (r.hits().hits().isEmpty() || r.hits().hits().get(0).source() == null) return java.util.Optional.empty();
        String at = text(r.hits().hits().get(0).source(), "/detected_at");
        return at == null ? java.util.Optional.empty() : java.util.Optional.of(Instant.parse(at));
    }

    /**
     * Every alert of {@code rule} detected (wall clock) in [{@code from}, {@code to}): those of the
     * shadow version {@code shadowVersion}, or, when it is null, those of the versions in force
     * (every alert not marked shadow). Paged in detection order.
     */
    public List<JsonNode> alertsDetected(String rule, Integer shadowVersion, Instant from, Instant to) {
        Query which = shadowVersion != null
                ? and(SHADOW_ALERT, Query.of(q -> q.term(t -> t.field("rule_version").value(shadowVersion))))
                : NOT_SHADOW_ALERT;
        List<JsonNode> out = new ArrayList<>();
        forEachPage(alerts, and(term("rule", rule), which, new TimeRange(from, to).query("detected_at")),
                "detected_at", "alert_id", out::add);
        return out;
    }

    /**
     * Analysts' verdicts on one rule's alerts.
     *
     * @param precision right detections ({@code true_positive} and {@code benign_true_positive}) over
     *                  judged alerts; null when none was judged
     */
    public record RulePrecision(String rule, long judged, long truePositives, long benignTruePositives,
                                long falsePositives, Double precision, long suppressing) {
    }

    /** Precision per rule over the alerts judged, by the alerts' event time. */
    public record Precision(TimeRange range, List<RulePrecision> rules, long judged) {
    }

    /**
     * Each rule's precision from analysts' verdicts: every alert whose event time is in
     * {@code range} and that has a verdict counts once, with its latest label.
     */
    public Precision precision(TimeRange range) {
        Map<String, JsonNode> latest = new java.util.LinkedHashMap<>();
        // Verdicts on shadow versions' alerts are the shadow's ('forensics shadow'), not the rule's.
        Query notShadow = Query.of(q -> q.bool(b -> b.mustNot(m -> m.term(t -> t.field("alert_shadow").value(true)))));
        forEachVerdict(and(range.query("alert_time"), notShadow), v -> latest.put(text(v, "/alert_id"), v));
        Map<String, long[]> byRule = new java.util.TreeMap<>();
        for (JsonNode v : latest.values()) {
            long[] c = byRule.computeIfAbsent(or(text(v, "/rule"), "?"), r -> new long[4]);
            switch (or(text(v, "/label"), "")) {
                case ControlRequest.TRUE_POSITIVE -> c[0]++;
                case ControlRequest.BENIGN_TRUE_POSITIVE -> c[1]++;
                case ControlRequest.FALSE_POSITIVE -> c[2]++;
                default -> { }
            }
            if (v.at("/suppresses_until").isTextual()) c[3]++;
        }
        List<RulePrecision> rules = new ArrayList<>();
        for (var e : byRule.entrySet()) {
            long[] c = e.getValue();
            long judged = c[0] + c[1] + c[2];
            rules.add(new RulePrecision(e.getKey(), judged, c[0], c[1], c[2],
                    judged == 0 ? null : (double) (c[0] + c[1]) / judged, c[3]));
        }
        return new Precision(range, rules, latest.size());
    }
}
