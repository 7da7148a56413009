package io.tourniquet.forensics;

import co.elastic.clients.elasticsearch._types.aggregations.Aggregate;
import co.elastic.clients.elasticsearch._types.aggregations.DateHistogramBucket;
import co.elastic.clients.elasticsearch._types.aggregations.StringTermsBucket;
import co.elastic.clients.elasticsearch._types.query_dsl.Query;
import co.elastic.clients.elasticsearch.core.SearchResponse;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SortedSet;
import java.util.TreeMap;
import java.util.TreeSet;

/** An incident's approvals, unauthorized approvals and alerts over time, for its chart. */
public final class Activities extends ForensicsQuery {
    private final Incidents incidentLookup;

    Activities(Context context, Incidents incidentLookup) {
        super(context);
        this.incidentLookup = incidentLookup;
    }

    /**
     * One interval of an incident's activity. {@code unauthorizedApprovals}: the incident's
     * approvals without 2FA (as {@link #rootCause} counts them); {@code approvals}: every
     * {@code withdrawal_approved} event on the platform, for scale; {@code alertsByRule}: the
     * incident's alerts by rule (alerts carry their triggering event's time).
     */
    public record ActivityBucket(Instant start, long unauthorizedApprovals, long approvals,
                                 Map<String, Long> alertsByRule) {
    }

    /**
     * An incident's activity over {@code range} in buckets of {@code interval}, every bucket present
     * (empty ones too), in time order; {@code rules}: the alert rules that occur, sorted.
     */
    public record Activity(String incidentId, TimeRange range, Duration interval, List<ActivityBucket> buckets,
                           List<String> rules) {
        public long unauthorizedApprovals() {
            return buckets.stream().mapToLong(ActivityBucket::unauthorizedApprovals).sum();
        }

        public long approvals() {
            return buckets.stream().mapToLong(ActivityBucket::approvals).sum();
        }

        public long alerts() {
            return buckets.stream().flatMap(b -> b.alertsByRule().values().stream()).mapToLong(Long::longValue).sum();
        }
    }

    /** Most buckets {@link #activity} answers: a chart's worth, not a way to page through events. */
    public static final int MAX_ACTIVITY_BUCKETS = 2_000;

    /**
     * The incident's activity per {@code interval} over the bounded {@code range}: two date
     * histograms (fixed interval, buckets aligned to multiples of it since the epoch), one over the
     * events with filter sub-aggregations for the incident's unauthorized approvals and for all
     * approvals, one over the incident's alerts with a terms sub-aggregation on the rule. Counts
     * only: no event is loaded. {@link UnknownIdException} for an unknown incident.
     */
    public Activity activity(String incidentId, TimeRange range, Duration interval) {
        if (range.since() == null || range.until() == null) {
            throw new IllegalArgumentException("activity needs a bounded range, got " + range);
        }
        long step = interval.toMillis();
        if (step < 1_000 || step % 1_000 != 0) {
            throw new IllegalArgumentException("the interval must be a whole number of seconds, at least 1 s: " + interval);
        }
        long from = Math.floorDiv(range.since().toEpochMilli(), step) * step;
        long lastStart = Math.floorDiv(range.until().toEpochMilli() - 1, step) * step;
        long n = (lastStart - from) / step + 1;
        if (n > MAX_ACTIVITY_BUCKETS) {
            throw new IllegalArgumentException(range + " in steps of " + interval + " is " + n + " buckets, more than "
                    + MAX_ACTIVITY_BUCKETS + ": choose a longer interval");
        }
        incidentLookup.incidentDoc(incidentId); // unknown id: exit 2, not an empty chart
        String fixed = (step / 1_000) + "s";
        Query unauthorized = and(term("exchange.mfa.authorized", false), term("exchange.incident_id", incidentId));
        Query approved = term("event.action", "withdrawal_approved");
        SearchResponse<Void> ev = search(s -> s.index(events).size(0)
                .query(and(range.query("@timestamp"), Query.of(q -> q.bool(b -> b.minimumShouldMatch("1")
                        .should(unauthorized).should(approved)))))
                .aggregations("per", a -> a.dateHistogram(h -> h.field("@timestamp").fixedInterval(t -> t.time(fixed))
                                .minDocCount(1))
                        .aggregations("unauthorized", f -> f.filter(unauthorized))
                        .aggregations("approvals", f -> f.filter(approved))), Void.class);
        SearchResponse<Void> al = search(s -> s.index(alerts).size(0)
                .query(and(term("incident_id", incidentId), range.query("@timestamp")))
                .aggregations("per", a -> a.dateHistogram(h -> h.field("@timestamp").fixedInterval(t -> t.time(fixed))
                                .minDocCount(1))
                        .aggregations("rules", r -> r.terms(t -> t.field("rule").size(100)))), Void.class);

        Map<Long, long[]> counts = new HashMap<>();
        for (DateHistogramBucket b : histogram(ev.aggregations().get("per"))) {
            Map<String, Aggregate> m = b.aggregations();
            counts.put(b.key(), new long[] {m.get("unauthorized").filter().docCount(), m.get("approvals").filter().docCount()});
        }
        Map<Long, Map<String, Long>> alertCounts = new HashMap<>();
        SortedSet<String> rules = new TreeSet<>();
        for (DateHistogramBucket b : histogram(al.aggregations().get("per"))) {
            Map<String, Long> byRule = new TreeMap<>();
            for (StringTermsBucket r : buckets(b.aggregations().get("rules"))) {
                byRule.put(key(r), r.docCount());
                rules.add(key(r));
            }
            alertCounts.put(b.key(), byRule);
        }
        // Every bucket of the range, so a quiet minute is a zero and not a gap.
        List<ActivityBucket> out = new ArrayList<>();
        for (long t = from; t <= lastStart; t += step) {
            long[] c = counts.getOrDefault(t, new long[2]);
            out.add(new ActivityBucket(Instant.ofEpochMilli(t), c[0], c[1], alertCounts.getOrDefault(t, Map.of())));
        }
        return new Activity(incidentId, range, interval, out, List.copyOf(rules));
    }

    private static List<DateHistogramBucket> histogram(Aggregate a) {
        if (a == null || !a.isDateHistogram()) return List.of(); // no index yet: no buckets
        return a.dateHistogram().buckets().array();
    }
}
