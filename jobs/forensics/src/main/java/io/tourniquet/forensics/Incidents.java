package io.tourniquet.forensics;

import co.elastic.clients.elasticsearch._types.SortOrder;
import co.elastic.clients.elasticsearch._types.aggregations.StringTermsBucket;
import co.elastic.clients.elasticsearch._types.mapping.FieldType;
import co.elastic.clients.elasticsearch.core.SearchResponse;
import co.elastic.clients.elasticsearch.core.search.Hit;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import io.tourniquet.json.Json;
import io.tourniquet.model.AssetImpact;
import io.tourniquet.model.Incident;
import java.math.BigDecimal;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Incidents as the incident index holds them, with their alerts and commands counted, and an
 * incident's window: its span of alerts widened by {@code forensics.lookback} on both sides,
 * which the other questions about an incident look at.
 */
public final class Incidents extends ForensicsQuery {

    Incidents(Context context) {
        super(context);
    }

    /** One asset's share of an incident's impact: the exact amount string and its US$ value. */
    public record AssetAmount(String asset, String amount, BigDecimal usdValue, int withdrawals) {
    }

    /**
     * An incident as the incident index holds it, with its alerts counted by rule (alerts index)
     * and its commands counted by action (actions index).
     */
    public record IncidentView(String id, String status, Instant startedAt, Instant detectedAt, Instant containedAt,
                               Instant resolvedAt, String resolvedBy, Instant lastAlertAt, int usersAffected,
                               List<String> userIds, List<AssetAmount> impact, BigDecimal usdTotal,
                               List<AssetAmount> impactAfterContainment, BigDecimal usdAfterContainment,
                               Map<String, Long> alertsByRule, Map<String, Long> actionsByType) {
        /** Time from the first alert's event to containment, if contained. */
        public Duration timeToContainment() {
            return containedAt == null ? null : Duration.between(startedAt, containedAt);
        }
    }

    /** Incidents started in the range, newest first, at most {@code limit}. */
    public List<IncidentView> incidents(TimeRange range, int limit) {
        SearchResponse<JsonNode> r = search(s -> s.index(incidents).size(limit)
                .query(and(range.query("started_at")))
                .sort(so -> so.field(f -> f.field("started_at").order(SortOrder.Desc).unmappedType(FieldType.Date))),
                JsonNode.class);
        List<JsonNode> docs = r.hits().hits().stream().map(Hit::source).filter(Objects::nonNull).toList();
        List<String> ids = docs.stream().map(d -> d.path("incident_id").asText()).toList();
        Map<String, Map<String, Long>> alertCounts = countsPerIncident(alerts, "rule", ids);
        Map<String, Map<String, Long>> actionCounts = countsPerIncident(actions, "action", ids);
        return docs.stream().map(d -> view(d, alertCounts, actionCounts)).toList();
    }

    /** One incident; {@link UnknownIdException} if the incident index has no such incident. */
    public IncidentView incident(String incidentId) {
        JsonNode doc = incidentDoc(incidentId);
        List<String> ids = List.of(incidentId);
        return view(doc, countsPerIncident(alerts, "rule", ids), countsPerIncident(actions, "action", ids));
    }

    /**
     * One incident without its alerts and commands counted (two aggregations fewer): what the
     * questions about its users and its window need.
     */
    IncidentView summary(String incidentId) {
        return view(incidentDoc(incidentId), Map.of(), Map.of());
    }

    JsonNode incidentDoc(String incidentId) {
        SearchResponse<JsonNode> r = search(s -> s.index(incidents).size(1)
                .query(q -> q.term(t -> t.field("incident.id").value(incidentId))), JsonNode.class);
        if (r.hits().hits().isEmpty() || r.hits().hits().get(0).source() == null) {
            throw new UnknownIdException("unknown incident '" + incidentId + "': not in " + incidents + " at " + url
                    + " (list them with 'tourniquet forensics incidents')");
        }
        return r.hits().hits().get(0).source();
    }

    /** Per incident id, the documents of {@code index} counted by {@code field}: one terms aggregation. */
    private Map<String, Map<String, Long>> countsPerIncident(String index, String field, List<String> ids) {
        Map<String, Map<String, Long>> out = new HashMap<>();
        if (ids.isEmpty()) return out;
        SearchResponse<Void> r = search(s -> s.index(index).size(0)
                .query(terms("incident_id", ids))
                .aggregations("by_incident", a -> a.terms(t -> t.field("incident_id").size(ids.size()))
                        .aggregations("by", b -> b.terms(t -> t.field(field).size(100)))), Void.class);
        for (StringTermsBucket b : buckets(r.aggregations().get("by_incident"))) {
            Map<String, Long> counts = new LinkedHashMap<>();
            for (StringTermsBucket c : buckets(b.aggregations().get("by"))) counts.put(key(c), c.docCount());
            out.put(key(b), counts);
        }
        return out;
    }

    private IncidentView view(JsonNode doc, Map<String, Map<String, Long>> alertCounts,
                              Map<String, Map<String, Long>> actionCounts) {
        Incident inc;
        try {
            inc = Json.MAPPER.treeToValue(doc, Incident.class);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("unreadable incident document: " + e.getOriginalMessage(), e);
        }
        return new IncidentView(inc.incidentId, inc.status, Instant.ofEpochMilli(inc.startedAt),
                Instant.ofEpochMilli(inc.detectedAt), instant(inc.containedAt), instant(inc.resolvedAt),
                inc.resolvedBy, Instant.ofEpochMilli(inc.lastAlertAt), inc.usersAffected, List.copyOf(inc.userIds),
                amounts(inc.impact), inc.usdTotal, amounts(inc.impactAfterContainment), inc.usdAfterContainment,
                alertCounts.getOrDefault(inc.incidentId, Map.of()), actionCounts.getOrDefault(inc.incidentId, Map.of()));
    }

    private static List<AssetAmount> amounts(List<AssetImpact> impact) {
        return impact.stream().map(i -> new AssetAmount(i.asset, i.amount, i.usdValue, i.withdrawals)).toList();
    }

    /** The incident's window: its alerts' span widened by the lookback on both sides. */
    public TimeRange window(IncidentView incident) {
        return TimeRange.closed(incident.startedAt().minus(lookback), incident.lastAlertAt().plus(lookback));
    }
}
