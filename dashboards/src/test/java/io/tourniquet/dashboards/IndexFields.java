package io.tourniquet.dashboards;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.Optional;
import java.util.Set;

/**
 * The fields of one forensic index as its template maps them ({@code index-templates/*.json}),
 * resolved by dotted path through {@code properties}, nested objects and multi-fields. Only fields
 * the template maps count: a field that only dynamic mapping would create may not exist yet (and
 * could be mapped differently), so a saved object must not rely on it.
 */
final class IndexFields {
    /** Types Elasticsearch can aggregate on (doc values), as far as these templates use them. */
    static final Set<String> NUMERIC = Set.of("long", "integer", "short", "byte", "double", "float", "half_float",
            "scaled_float", "unsigned_long");
    static final Set<String> DATES = Set.of("date", "date_nanos");
    static final Set<String> AGGREGATABLE = Set.of("keyword", "constant_keyword", "ip", "boolean", "date",
            "date_nanos", "long", "integer", "short", "byte", "double", "float", "half_float", "scaled_float",
            "unsigned_long");

    /**
     * A mapped field.
     *
     * @param type        the mapping type ("object" for an object without one)
     * @param nested      whether it lies under a {@code nested} field (Lens and plain aggregations cannot reach it)
     * @param docValues   whether it keeps doc values (false if the mapping turns them off)
     * @param indexed     whether it is searchable
     */
    record Field(String path, String type, boolean nested, boolean docValues, boolean indexed) {
        boolean aggregatable() {
            return AGGREGATABLE.contains(type) && docValues && !nested;
        }

        boolean searchable() {
            return indexed && !nested && !type.equals("object") && !type.equals("nested");
        }

        boolean numeric() {
            return NUMERIC.contains(type);
        }

        boolean date() {
            return DATES.contains(type);
        }

        /** Lens's data type for the field's values. */
        String lensDataType() {
            if (numeric()) return "number";
            if (date()) return "date";
            return switch (type) {
                case "keyword", "constant_keyword", "text" -> "string";
                case "ip" -> "ip";
                case "boolean" -> "boolean";
                default -> type;
            };
        }
    }

    private final String name;
    private final JsonNode mappings;

    private IndexFields(String name, JsonNode mappings) {
        this.name = name;
        this.mappings = mappings;
    }

    /** The mappings of {@code index-templates/<name>.json}. */
    static IndexFields of(String name) {
        String path = "/index-templates/" + name + ".json";
        try (InputStream in = IndexFields.class.getResourceAsStream(path)) {
            if (in == null) throw new IllegalArgumentException("no index template " + path);
            return new IndexFields(name, SavedObjects.JSON.readTree(in).path("mappings"));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    String name() {
        return name;
    }

    Optional<Field> resolve(String path) {
        String[] parts = path.split("\\.");
        JsonNode node = mappings;
        boolean nested = false;
        for (int i = 0; i < parts.length; i++) {
            JsonNode next = node.path("properties").get(parts[i]);
            if (next == null) {
                // A multi-field (e.g. rule.name): the last segment names one of the leaf's "fields".
                boolean leaf = node != mappings && node.has("type");
                if (leaf && i == parts.length - 1 && node.path("fields").has(parts[i])) {
                    return Optional.of(field(path, node.path("fields").get(parts[i]), nested));
                }
                return Optional.empty();
            }
            if ("nested".equals(next.path("type").asText())) nested = true;
            node = next;
        }
        return Optional.of(field(path, node, nested));
    }

    private static Field field(String path, JsonNode node, boolean nested) {
        String type = node.has("type") ? node.path("type").asText() : "object";
        return new Field(path, type, nested, node.path("doc_values").asBoolean(true),
                node.path("index").asBoolean(true));
    }
}
