package io.tourniquet.forensics;

import co.elastic.clients.elasticsearch._types.SortOrder;
import co.elastic.clients.elasticsearch._types.aggregations.Aggregate;
import co.elastic.clients.elasticsearch._types.aggregations.Aggregation;
import co.elastic.clients.elasticsearch._types.aggregations.StringTermsBucket;
import co.elastic.clients.elasticsearch.core.SearchResponse;
import co.elastic.clients.util.NamedValue;
import io.tourniquet.forensics.Incidents.IncidentView;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/** The IPs, devices and destination addresses shared by the affected accounts. */
public final class AttackerInfrastructure extends ForensicsQuery {
    private final Incidents incidentLookup;

    AttackerInfrastructure(Context context, Incidents incidentLookup) {
        super(context);
        this.incidentLookup = incidentLookup;
    }

    /** One IP, device or destination address seen on the affected accounts. */
    public record Indicator(String value, long victims, long events, Instant firstSeen, Instant lastSeen) {
    }

    /**
     * IPs, devices and destination addresses on the affected accounts' events, ranked by how many
     * of those accounts each touches (then by first appearance).
     *
     * @param victims the affected accounts considered
     * @param window  the events' span that was searched
     * @param all     whether values touching a single account are included
     */
    public record AttackerInfra(String incidentId, List<String> victims, TimeRange window, boolean all,
                                List<Indicator> ips, List<Indicator> devices, List<Indicator> addresses) {
    }

    /**
     * IPs ({@code source.ip}), devices ({@code device.id}) and destination addresses
     * ({@code exchange.withdrawal.destination_address}) on every event of the affected accounts,
     * ranked by how many distinct accounts each touches (a cardinality sub-aggregation on
     * {@code user.id}), then by first appearance. Affected accounts: the incident's users, over the
     * incident's window; without an incident, every user with an unauthorized approval in the range,
     * from the first such approval minus the lookback to the last plus the lookback. Values touching
     * a single account are left out unless {@code all}. At most {@code limit} values of each kind.
     */
    public AttackerInfra attackerInfra(String incidentId, TimeRange range, boolean all, int limit) {
        if (limit < 1) throw new IllegalArgumentException("--limit must be at least 1");
        List<String> victims;
        TimeRange window;
        if (incidentId != null) {
            IncidentView inc = incidentLookup.summary(incidentId);
            victims = inc.userIds();
            window = incidentLookup.window(inc).intersect(range);
        } else {
            SearchResponse<Void> r = search(s -> s.index(events).size(0)
                    .query(and(term("exchange.mfa.authorized", false), range.query("@timestamp")))
                    .aggregations("first", minTime()).aggregations("last", maxTime())
                    .aggregations("victims", a -> a.terms(t -> t.field("user.id").size(MAX_BUCKETS))), Void.class);
            victims = buckets(r.aggregations().get("victims")).stream().map(ForensicsQuery::key).sorted().toList();
            Instant first = min(r.aggregations().get("first"));
            Instant last = max(r.aggregations().get("last"));
            window = first == null ? range : TimeRange.closed(first.minus(lookback), last.plus(lookback)).intersect(range);
        }
        if (victims.isEmpty()) {
            return new AttackerInfra(incidentId, victims, window, all, List.of(), List.of(), List.of());
        }
        Function<String, Aggregation> ranked = field -> Aggregation.of(a -> a.terms(t -> t.field(field).size(limit)
                        .shardSize(Math.max(MAX_BUCKETS, limit))
                        .order(List.of(NamedValue.of("victims", SortOrder.Desc), NamedValue.of("first", SortOrder.Asc),
                                NamedValue.of("_key", SortOrder.Asc))))
                .aggregations("victims", users()).aggregations("first", minTime()).aggregations("last", maxTime()));
        SearchResponse<Void> r = search(s -> s.index(events).size(0)
                .query(and(terms("user.id", victims), window.query("@timestamp")))
                .aggregations("ips", ranked.apply("source.ip"))
                .aggregations("devices", ranked.apply("device.id"))
                .aggregations("addresses", ranked.apply("exchange.withdrawal.destination_address")), Void.class);
        return new AttackerInfra(incidentId, victims, window, all, indicators(r, "ips", all),
                indicators(r, "devices", all), indicators(r, "addresses", all));
    }

    private static List<Indicator> indicators(SearchResponse<Void> r, String name, boolean all) {
        List<Indicator> out = new ArrayList<>();
        for (StringTermsBucket b : buckets(r.aggregations().get(name))) {
            Map<String, Aggregate> m = b.aggregations();
            long victims = cardinality(m.get("victims"));
            if (!all && victims < 2) break; // ranked by victims: the rest touch one account each
            out.add(new Indicator(key(b), victims, b.docCount(), min(m.get("first")), max(m.get("last"))));
        }
        return out;
    }
}
