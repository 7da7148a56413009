package io.tourniquet.forensics;

import co.elastic.clients.elasticsearch.ElasticsearchClient;
import co.elastic.clients.elasticsearch._types.FieldValue;
import co.elastic.clients.elasticsearch._types.SortOrder;
import co.elastic.clients.elasticsearch._types.aggregations.Aggregate;
import co.elastic.clients.elasticsearch._types.aggregations.Aggregation;
import co.elastic.clients.elasticsearch._types.aggregations.StringTermsBucket;
import co.elastic.clients.elasticsearch._types.mapping.FieldType;
import co.elastic.clients.elasticsearch._types.query_dsl.Query;
import co.elastic.clients.elasticsearch.core.SearchRequest;
import co.elastic.clients.elasticsearch.core.SearchResponse;
import co.elastic.clients.util.ObjectBuilder;
import com.fasterxml.jackson.databind.JsonNode;
import io.tourniquet.index.EsClients;
import io.tourniquet.util.Times;
import java.io.IOException;
import java.time.Instant;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.function.Function;
import io.tourniquet.config.Settings;
import io.tourniquet.config.TourniquetConfig;
import java.time.Duration;

/**
 * What every forensic question shares: the client and the configured aliases, requests traced and
 * their failures explained ({@link ElasticsearchUnreachableException}), searches that tolerate
 * missing indices, and the small query and document helpers. One subclass per question.
 */
abstract class ForensicsQuery {
    /** Buckets asked for when every affected user or value must come back (terms aggregations). */
    static final int MAX_BUCKETS = 10_000;

    /** The client, the configuration, the tracer and page sizes, shared by every question. */
    static final class Context {
        final ElasticsearchClient es;
        final TourniquetConfig cfg;
        final String url;
        final io.tourniquet.index.EsSecurity security;
        io.opentelemetry.api.trace.Tracer tracer =
                io.opentelemetry.api.OpenTelemetry.noop().getTracer("io.tourniquet.forensics");
        /** Checked once, when connecting: a bad list is a configuration error, not a failed question. */
        final List<String> mfaTypes;
        /** Hits per export page; tests lower it to cross page boundaries on small data. */
        int exportPage = Exports.EXPORT_PAGE;
        int claimsPage = Claims.CLAIMS_PAGE;
        /** Verdicts (and a shadow's alerts) per page: analysts write verdicts, so a page is most of them. */
        int verdictsPage = 1_000;

        Context(ElasticsearchClient es, TourniquetConfig cfg) {
            this.es = es;
            this.cfg = cfg;
            this.url = cfg.get(Settings.ES_URL);
            this.security = io.tourniquet.index.EsSecurity.from(cfg);
            this.mfaTypes = Eligibility.mfaTypes(cfg.get(Settings.APP_MFA_TYPES));
        }
    }

    final Context context;
    final ElasticsearchClient es;
    final String url;
    /** The configured aliases, and the incident window's lookback. */
    final String events;
    final String alerts;
    final String actions;
    final String incidents;
    final String claims;
    final String verdicts;
    final Duration lookback;

    ForensicsQuery(Context context) {
        this.context = context;
        this.es = context.es;
        this.url = context.url;
        this.events = context.cfg.get(Settings.INDEX_EVENTS);
        this.alerts = context.cfg.get(Settings.INDEX_ALERTS);
        this.actions = context.cfg.get(Settings.INDEX_ACTIONS);
        this.incidents = context.cfg.get(Settings.INDEX_INCIDENTS);
        this.claims = context.cfg.get(Settings.INDEX_CLAIMS);
        this.verdicts = context.cfg.get(Settings.INDEX_VERDICTS);
        this.lookback = context.cfg.get(Settings.FORENSICS_LOOKBACK);
    }

    @FunctionalInterface
    interface EsCall<T> {
        T run() throws IOException;
    }

    /**
     * Runs a request in a client span (OpenTelemetry database conventions: {@code db.system},
     * {@code db.operation.name}, {@code server.address}); a transport failure means Elasticsearch
     * is not there to answer. Without a configured endpoint the tracer is a no-op.
     */
    <T> T call(String operation, EsCall<T> c) {
        io.opentelemetry.api.trace.Span span = context.tracer.spanBuilder("elasticsearch " + operation)
                .setSpanKind(io.opentelemetry.api.trace.SpanKind.CLIENT)
                .setAttribute("db.system", "elasticsearch")
                .setAttribute("db.operation.name", operation)
                .setAttribute("server.address", url)
                .startSpan();
        try (io.opentelemetry.context.Scope ignored = span.makeCurrent()) {
            return c.run();
        } catch (IOException | RuntimeException e) {
            span.recordException(e);
            span.setStatus(io.opentelemetry.api.trace.StatusCode.ERROR);
            String explained = EsClients.explain(List.of(url), context.security, e);
            if (explained != null) throw ElasticsearchUnreachableException.explained(explained, e);
            if (e instanceof RuntimeException re) throw re;
            throw new ElasticsearchUnreachableException(url, e);
        } finally {
            span.end();
        }
    }

    <T> SearchResponse<T> search(Function<SearchRequest.Builder, ObjectBuilder<SearchRequest>> request,
                                         Class<T> type) {
        return search(request, type, true);
    }

    /** A search over aliases that may not exist yet (then: no hits); with a point in time, no index is named. */
    <T> SearchResponse<T> search(Function<SearchRequest.Builder, ObjectBuilder<SearchRequest>> request,
                                         Class<T> type, boolean tolerateMissing) {
        return call("search", () -> es.search(s -> {
            request.apply(s);
            if (tolerateMissing) s.ignoreUnavailable(true).allowNoIndices(true);
            return s;
        }, type));
    }

    /**
     * Every document of {@code index} that {@code filter} matches, in the order of {@code sorts}
     * (the last on a unique field), page by page with {@code search_after}: an answer of any size
     * is read whole, never cut at one page.
     */
    void forEachPage(String index, int pageSize, Query filter, List<co.elastic.clients.elasticsearch._types.SortOptions> sorts,
                     java.util.function.Consumer<JsonNode> each) {
        forEachPageOf(index, pageSize, filter, sorts, page -> page.forEach(each));
    }

    /** As {@link #forEachPage}, a page at a time, for answers that look something up per page. */
    void forEachPageOf(String index, int pageSize, Query filter, List<co.elastic.clients.elasticsearch._types.SortOptions> sorts,
                       java.util.function.Consumer<List<JsonNode>> eachPage) {
        List<FieldValue> after = null;
        while (true) {
            List<FieldValue> cursor = after;
            SearchResponse<JsonNode> page = search(s -> {
                s.index(index).size(pageSize).query(filter).sort(sorts);
                if (cursor != null) s.searchAfter(cursor);
                return s;
            }, JsonNode.class);
            var hits = page.hits().hits();
            eachPage.accept(hits.stream().map(h -> h.source()).filter(Objects::nonNull).toList());
            if (hits.size() < pageSize) return;
            after = hits.get(hits.size() - 1).sort();
        }
    }

    static Query term(String field, String value) {
        return Query.of(q -> q.term(t -> t.field(field).value(value)));
    }

    static Query term(String field, boolean value) {
        return Query.of(q -> q.term(t -> t.field(field).value(value)));
    }

    static Query terms(String field, List<String> values) {
        List<FieldValue> v = values.stream().map(FieldValue::of).toList();
        return Query.of(q -> q.terms(t -> t.field(field).terms(tv -> tv.value(v))));
    }

    /** All of the given filters (nulls skipped); match-all when none. */
    static Query and(Query... filters) {
        List<Query> present = Arrays.stream(filters).filter(Objects::nonNull).toList();
        if (present.isEmpty()) return Query.of(q -> q.matchAll(m -> m));
        return Query.of(q -> q.bool(b -> b.filter(present)));
    }

    static co.elastic.clients.elasticsearch._types.SortOptions byTime(String field) {
        return co.elastic.clients.elasticsearch._types.SortOptions.of(so -> so.field(f -> f.field(field)
                .order(SortOrder.Asc).unmappedType(FieldType.Date)));
    }

    static co.elastic.clients.elasticsearch._types.SortOptions byKeyword(String field) {
        return co.elastic.clients.elasticsearch._types.SortOptions.of(so -> so.field(f -> f.field(field)
                .order(SortOrder.Asc).unmappedType(FieldType.Keyword)));
    }

    static Aggregation minTime() {
        return Aggregation.of(a -> a.min(m -> m.field("@timestamp")));
    }

    static Aggregation maxTime() {
        return Aggregation.of(a -> a.max(m -> m.field("@timestamp")));
    }

    /** Distinct users, exact up to 40,000 (the highest precision threshold). */
    static Aggregation users() {
        return Aggregation.of(a -> a.cardinality(c -> c.field("user.id").precisionThreshold(40_000)));
    }

    static List<StringTermsBucket> buckets(Aggregate a) {
        if (a == null || !a.isSterms()) return List.of(); // unmapped field: no buckets
        return a.sterms().buckets().array();
    }

    static String key(StringTermsBucket b) {
        return b.key().stringValue();
    }

    static long total(SearchResponse<?> r) {
        return r.hits().total() == null ? r.hits().hits().size() : r.hits().total().value();
    }

    static long cardinality(Aggregate a) {
        return a == null ? 0 : a.cardinality().value();
    }

    static Instant min(Aggregate a) {
        return a == null ? null : instant(a.min());
    }

    static Instant max(Aggregate a) {
        return a == null ? null : instant(a.max());
    }

    /**
     * A min or max of {@code @timestamp}; null over no documents. The client reads Elasticsearch's
     * {@code "value": null} as 0, so emptiness is told by the absent {@code value_as_string}, which a
     * date field always has when there is a value.
     */
    static Instant instant(co.elastic.clients.elasticsearch._types.aggregations.SingleMetricAggregateBase m) {
        if (m.valueAsString() == null || !Double.isFinite(m.value())) return null;
        return Instant.ofEpochMilli((long) m.value());
    }

    static Instant instant(Long epochMillis) {
        return epochMillis == null ? null : Instant.ofEpochMilli(epochMillis);
    }

    static String fmt(Instant t) {
        return t == null ? "-" : Times.format(t.toEpochMilli());
    }

    static String text(JsonNode n, String pointer) {
        JsonNode v = n.at(pointer);
        return v.isMissingNode() || v.isNull() ? null : v.asText();
    }

    static Boolean bool(JsonNode n, String pointer) {
        JsonNode v = n.at(pointer);
        return v.isBoolean() ? v.asBoolean() : null;
    }

    static String or(String v, String otherwise) {
        return v == null ? otherwise : v;
    }

    static void append(StringBuilder sb, String label, String value) {
        if (value == null || value.isEmpty()) return;
        if (!sb.isEmpty()) sb.append(' ');
        sb.append(label).append('=').append(value);
    }
}
