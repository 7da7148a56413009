package io.tourniquet.forensics;

import co.elastic.clients.elasticsearch._types.aggregations.Aggregate;
import co.elastic.clients.elasticsearch._types.aggregations.Aggregation;
import co.elastic.clients.elasticsearch._types.aggregations.StringTermsBucket;
import co.elastic.clients.elasticsearch._types.query_dsl.Query;
import co.elastic.clients.elasticsearch.core.SearchResponse;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;

/** How the unauthorized approvals got through: by approving service and version, and by channel. */
public final class RootCauses extends ForensicsQuery {
    private final Incidents incidentLookup;

    RootCauses(Context context, Incidents incidentLookup) {
        super(context);
        this.incidentLookup = incidentLookup;
    }

    /** Unauthorized approvals of one approving backend version. */
    public record BackendGroup(String service, String version, long approvals, long users, Instant firstSeen,
                               Instant lastSeen) {
    }

    /** Unauthorized approvals through one approval channel. */
    public record ChannelGroup(String channel, long approvals, long users, Instant firstSeen, Instant lastSeen) {
    }

    /**
     * Which component approved withdrawals without 2FA, and since when: unauthorized approvals
     * ({@code exchange.mfa.authorized: false}) grouped by approving service and version, and by channel.
     */
    public record RootCause(String incidentId, TimeRange range, long approvals, long users, Instant firstSeen,
                            Instant lastSeen, List<BackendGroup> byBackend, List<ChannelGroup> byChannel) {
    }

    /**
     * Unauthorized approvals grouped by approving service and version, and by channel, each with its
     * count, distinct users and first and last time: aggregations over {@code exchange.mfa.authorized:
     * false}, of one incident if {@code incidentId} is given (its approvals carry
     * {@code exchange.incident_id}).
     */
    public RootCause rootCause(String incidentId, TimeRange range) {
        if (incidentId != null) incidentLookup.incidentDoc(incidentId); // unknown id: exit 2, not an empty table
        Query q = and(term("exchange.mfa.authorized", false),
                incidentId == null ? null : term("exchange.incident_id", incidentId), range.query("@timestamp"));
        SearchResponse<Void> r = search(s -> s.index(events).size(0).trackTotalHits(t -> t.enabled(true)).query(q)
                .aggregations("first", minTime()).aggregations("last", maxTime()).aggregations("users", users())
                .aggregations("by_service", a -> a.terms(t -> t.field("exchange.withdrawal.approval_service")
                                .missing("(none)").size(100))
                        .aggregations("by_version", v -> v.terms(t -> t.field("exchange.withdrawal.approval_service_version")
                                        .missing("(none)").size(100))
                                .aggregations(stats())))
                .aggregations("by_channel", a -> a.terms(t -> t.field("exchange.withdrawal.approval_channel")
                        .missing("(none)").size(100)).aggregations(stats())), Void.class);
        Map<String, Aggregate> aggs = r.aggregations();
        List<BackendGroup> byBackend = new ArrayList<>();
        for (StringTermsBucket service : buckets(aggs.get("by_service"))) {
            for (StringTermsBucket version : buckets(service.aggregations().get("by_version"))) {
                Map<String, Aggregate> m = version.aggregations();
                byBackend.add(new BackendGroup(key(service), key(version), version.docCount(), cardinality(m.get("users")),
                        min(m.get("first")), max(m.get("last"))));
            }
        }
        byBackend.sort(Comparator.comparingLong(BackendGroup::approvals).reversed()
                .thenComparing(BackendGroup::firstSeen, Comparator.nullsLast(Comparator.naturalOrder())));
        List<ChannelGroup> byChannel = new ArrayList<>();
        for (StringTermsBucket channel : buckets(aggs.get("by_channel"))) {
            Map<String, Aggregate> m = channel.aggregations();
            byChannel.add(new ChannelGroup(key(channel), channel.docCount(), cardinality(m.get("users")),
                    min(m.get("first")), max(m.get("last"))));
        }
        return new RootCause(incidentId, range, total(r), cardinality(aggs.get("users")), min(aggs.get("first")),
                max(aggs.get("last")), byBackend, byChannel);
    }

    private static Map<String, Aggregation> stats() {
        return Map.of("first", minTime(), "last", maxTime(), "users", users());
    }
}
