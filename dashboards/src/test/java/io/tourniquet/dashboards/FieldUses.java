package io.tourniquet.dashboards;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Which fields a Lens visualization or an Elasticsearch request uses, and how (searched, bucketed,
 * summed, ...), and whether an index's mapping allows each use. A use this class does not know is
 * reported as a problem rather than ignored, so a new kind of panel cannot slip past the check.
 */
final class FieldUses {
    /** A field and what is done with it: "search", or an aggregation / Lens operation, or "sort" / "source". */
    record Use(String field, String use, String where) {
    }

    private static final Set<String> BUCKET_OR_DISTINCT = Set.of("terms", "cardinality", "unique_count", "count",
            "value_count", "last_value", "sort");
    private static final Set<String> NUMERIC_ONLY = Set.of("sum", "avg", "average", "median", "standard_deviation",
            "percentile", "percentiles", "stats");
    private static final Set<String> NUMERIC_OR_DATE = Set.of("min", "max");
    private static final Set<String> FIELD_AGGS = Set.of("terms", "cardinality", "value_count", "min", "max", "sum",
            "avg", "stats", "percentiles", "date_histogram");
    private static final Set<String> LEAF_QUERIES = Set.of("term", "match", "match_phrase", "prefix", "wildcard",
            "range");
    /** A KQL field name before its ':' (quoted values are removed first). */
    private static final Pattern KQL_FIELD = Pattern.compile("([A-Za-z_@][A-Za-z0-9_@.\\-]*)\\s*:");
    private static final Pattern KQL_QUOTED = Pattern.compile("\"(?:[^\"\\\\]|\\\\.)*\"");

    private FieldUses() {}

    /** The fields a KQL expression names (each is searched). */
    static List<String> kqlFields(String kql) {
        List<String> out = new ArrayList<>();
        if (kql == null || kql.isBlank()) return out;
        Matcher m = KQL_FIELD.matcher(KQL_QUOTED.matcher(kql).replaceAll("\"\""));
        while (m.find()) out.add(m.group(1));
        return out;
    }

    // ---------------------------------------------------------------- Lens

    /** Every field use of a Lens saved object's form-based layers, queries and filters. */
    static List<Use> ofLens(JsonNode lensAttributes, List<String> problems) {
        List<Use> out = new ArrayList<>();
        JsonNode state = lensAttributes.path("state");
        addKql(out, state.path("query"), "query", problems);
        for (JsonNode f : state.path("filters")) {
            String key = f.path("meta").path("key").asText(null);
            if (key != null) out.add(new Use(key, "search", "filter"));
            else problems.add("a filter without meta.key: " + f);
        }
        Iterator<Map.Entry<String, JsonNode>> layers = state.path("datasourceStates").path("formBased")
                .path("layers").fields();
        while (layers.hasNext()) {
            Map.Entry<String, JsonNode> layer = layers.next();
            Iterator<Map.Entry<String, JsonNode>> cols = layer.getValue().path("columns").fields();
            while (cols.hasNext()) {
                Map.Entry<String, JsonNode> c = cols.next();
                JsonNode col = c.getValue();
                String where = "column " + c.getKey();
                String op = col.path("operationType").asText();
                String field = col.path("sourceField").asText(null);
                if (field != null && !(op.equals("count") && field.equals(SavedObjects.RECORDS))) {
                    out.add(new Use(field, op, where));
                }
                if (op.equals("last_value")) {
                    out.add(new Use(col.path("params").path("sortField").asText(), "sort", where + " sortField"));
                }
                addKql(out, col.path("filter"), where + " filter", problems);
            }
        }
        return out;
    }

    private static void addKql(List<Use> out, JsonNode query, String where, List<String> problems) {
        if (query.isMissingNode() || query.isNull()) return;
        if (!"kuery".equals(query.path("language").asText())) {
            problems.add(where + ": only KQL queries are checked, found " + query);
            return;
        }
        for (String f : kqlFields(query.path("query").asText())) out.add(new Use(f, "search", where));
    }

    // ---------------------------------------------------------------- Elasticsearch requests

    /** Every field use of a search request body (query, aggregations, sort, _source). */
    static List<Use> ofRequest(JsonNode body, List<String> problems) {
        List<Use> out = new ArrayList<>();
        if (body.has("query")) query(body.get("query"), out, problems, "query");
        for (String key : List.of("aggs", "aggregations")) {
            if (body.has(key)) aggs(body.get(key), out, problems, "aggs");
        }
        sort(body.path("sort"), out, "sort");
        return out;
    }

    private static void aggs(JsonNode aggs, List<Use> out, List<String> problems, String where) {
        Iterator<Map.Entry<String, JsonNode>> it = aggs.fields();
        while (it.hasNext()) {
            Map.Entry<String, JsonNode> agg = it.next();
            String at = where + "." + agg.getKey();
            Iterator<Map.Entry<String, JsonNode>> parts = agg.getValue().fields();
            while (parts.hasNext()) {
                Map.Entry<String, JsonNode> p = parts.next();
                String type = p.getKey();
                JsonNode body = p.getValue();
                if (type.equals("aggs") || type.equals("aggregations")) {
                    aggs(body, out, problems, at);
                } else if (type.equals("meta")) {
                    continue;
                } else if (FIELD_AGGS.contains(type)) {
                    if (!body.has("field")) problems.add(at + ": " + type + " without a field");
                    else out.add(new Use(body.get("field").asText(), type, at));
                    sortOrder(body, problems, at);
                } else if (type.equals("filter")) {
                    query(body, out, problems, at);
                } else if (type.equals("top_hits")) {
                    sort(body.path("sort"), out, at);
                    for (JsonNode s : body.path("_source")) out.add(new Use(s.asText(), "source", at));
                } else {
                    problems.add(at + ": aggregation '" + type + "' is not known to this check");
                }
            }
        }
    }

    /** A terms order must name _count, _key or a sibling sub-aggregation; the latter is checked by ES itself. */
    private static void sortOrder(JsonNode body, List<String> problems, String at) {
        if (!body.has("order")) return;
        if (!body.get("order").isObject() || body.get("order").size() != 1) {
            problems.add(at + ": order must be one {key: direction}");
        }
    }

    private static void sort(JsonNode sort, List<Use> out, String where) {
        for (JsonNode s : sort) {
            if (s.isTextual()) out.add(new Use(s.asText(), "sort", where));
            else s.fieldNames().forEachRemaining(f -> out.add(new Use(f, "sort", where)));
        }
    }

    private static void query(JsonNode q, List<Use> out, List<String> problems, String where) {
        Iterator<Map.Entry<String, JsonNode>> it = q.fields();
        while (it.hasNext()) {
            Map.Entry<String, JsonNode> e = it.next();
            String type = e.getKey();
            JsonNode body = e.getValue();
            switch (type) {
                case "bool" -> {
                    for (String clause : List.of("must", "filter", "should", "must_not")) {
                        JsonNode c = body.path(clause);
                        if (c.isArray()) c.forEach(x -> query(x, out, problems, where + "." + clause));
                        else if (c.isObject()) query(c, out, problems, where + "." + clause);
                    }
                }
                case "exists" -> out.add(new Use(body.path("field").asText(), "search", where));
                case "terms" -> body.fieldNames().forEachRemaining(f -> {
                    if (!f.equals("boost")) out.add(new Use(f, "search", where));
                });
                case "match_all" -> { }
                default -> {
                    if (LEAF_QUERIES.contains(type)) {
                        body.fieldNames().forEachRemaining(f -> out.add(new Use(f, "search", where)));
                    } else {
                        problems.add(where + ": query '" + type + "' is not known to this check");
                    }
                }
            }
        }
    }

    // ---------------------------------------------------------------- checks against a mapping

    /** What is wrong with each use under {@code index}'s mapping; empty if nothing. */
    static List<String> problems(IndexFields index, List<Use> uses) {
        List<String> out = new ArrayList<>();
        for (Use u : uses) {
            String at = u.where() + ": " + u.use() + " on " + u.field() + " (" + index.name() + ")";
            Optional<IndexFields.Field> found = index.resolve(u.field());
            if (found.isEmpty()) {
                out.add(at + ": the template does not map this field");
                continue;
            }
            IndexFields.Field f = found.get();
            if (f.nested()) {
                out.add(at + ": a field under a nested object cannot be searched or aggregated this way");
                continue;
            }
            String use = u.use();
            if (use.equals("source")) continue;
            if (use.equals("search")) {
                if (!f.searchable()) out.add(at + ": " + f.type() + " field is not searchable");
            } else if (use.equals("date_histogram")) {
                if (!f.date()) out.add(at + ": a date histogram needs a date field, not " + f.type());
            } else if (NUMERIC_ONLY.contains(use)) {
                if (!f.numeric()) out.add(at + ": needs a numeric field, not " + f.type());
            } else if (NUMERIC_OR_DATE.contains(use)) {
                if (!f.numeric() && !f.date()) out.add(at + ": needs a numeric or date field, not " + f.type());
            } else if (BUCKET_OR_DISTINCT.contains(use)) {
                if (!f.aggregatable()) out.add(at + ": " + f.type() + " field is not aggregatable");
            } else {
                out.add(at + ": use '" + use + "' is not known to this check");
            }
            if ((NUMERIC_ONLY.contains(use) || NUMERIC_OR_DATE.contains(use) || use.equals("date_histogram"))
                    && !f.aggregatable()) {
                out.add(at + ": field has no doc values");
            }
        }
        return out;
    }
}
