package io.tourniquet.forensics;

import co.elastic.clients.elasticsearch._types.FieldValue;
import co.elastic.clients.elasticsearch._types.query_dsl.Query;
import co.elastic.clients.elasticsearch.core.SearchResponse;
import co.elastic.clients.elasticsearch.core.search.Hit;
import com.fasterxml.jackson.databind.JsonNode;
import io.tourniquet.forensics.Incidents.IncidentView;
import java.io.IOException;
import java.util.List;

/** An incident's or an account's events, streamed in time order. */
public final class Exports extends ForensicsQuery {
    private final Incidents incidentLookup;

    /** Hits per page: never more in memory. */
    static final int EXPORT_PAGE = 1_000;
    private static final String EXPORT_KEEP_ALIVE = "2m";

    Exports(Context context, Incidents incidentLookup) {
        super(context);
        this.incidentLookup = incidentLookup;
    }

    /** Receives exported event documents one at a time. */
    @FunctionalInterface
    public interface EventSink {
        void accept(JsonNode eventDocument) throws IOException;
    }

    /**
     * Streams the events of an incident (its users' events over its window) or of one user, in
     * time order, through a point in time with {@code search_after}: pages of 1,000, never more in
     * memory. Exactly one of {@code incidentId} and {@code userId}. Returns how many were written.
     */
    public long export(String incidentId, String userId, TimeRange range, EventSink sink) throws IOException {
        if ((incidentId == null) == (userId == null)) {
            throw new IllegalArgumentException("export needs exactly one of --incident and --user");
        }
        Query q;
        if (incidentId != null) {
            IncidentView inc = incidentLookup.incident(incidentId);
            q = and(terms("user.id", inc.userIds()), incidentLookup.window(inc).intersect(range).query("@timestamp"));
        } else {
            q = and(term("user.id", userId), range.query("@timestamp"));
            long n = call("count", () -> es.count(c -> c.index(events).ignoreUnavailable(true).allowNoIndices(true).query(q)))
                    .count();
            if (n == 0) {
                throw new UnknownIdException("unknown user '" + userId + "': no events"
                        + (range.unbounded() ? "" : " in " + range) + " in " + events + " at " + url);
            }
        }
        String pit;
        try {
            pit = call("open_point_in_time", () -> es.openPointInTime(p -> p.index(events).ignoreUnavailable(true)
                    .keepAlive(t -> t.time(EXPORT_KEEP_ALIVE)))).id();
        } catch (co.elastic.clients.elasticsearch._types.ElasticsearchException e) {
            if (e.status() == 404) return 0; // no events index at all
            throw e;
        }
        long written = 0;
        try {
            List<FieldValue> after = null;
            while (true) {
                String pitId = pit;
                List<FieldValue> from = after;
                SearchResponse<JsonNode> page = search(s -> {
                    s.pit(p -> p.id(pitId).keepAlive(t -> t.time(EXPORT_KEEP_ALIVE))).size(context.exportPage).query(q)
                            .sort(byTime("@timestamp")).sort(byKeyword("event.id"));
                    if (from != null) s.searchAfter(from);
                    return s;
                }, JsonNode.class, false);
                if (page.pitId() != null) pit = page.pitId();
                List<Hit<JsonNode>> hits = page.hits().hits();
                for (Hit<JsonNode> h : hits) {
                    sink.accept(h.source());
                    written++;
                }
                if (hits.size() < context.exportPage) break;
                after = hits.get(hits.size() - 1).sort();
            }
        } finally {
            String pitId = pit;
            try {
                es.closePointInTime(c -> c.id(pitId));
            } catch (IOException | RuntimeException e) {
                // It expires by itself after the keep-alive; the export itself is complete.
            }
        }
        return written;
    }
}
