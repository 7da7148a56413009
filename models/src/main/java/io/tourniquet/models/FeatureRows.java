package io.tourniquet.models;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.BufferedReader;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.Reader;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The training-data format: NDJSON, one {@link FeatureRow} per line:
 *
 * <pre>{"schema_version":1,"schema_hash":"4e83…","withdrawal_id":"w-1","user_id":"u-1",
 *  "event_time":"2022-01-17T10:00:00.000Z","features":{"amount_vs_median":0.5,…},"label":null}</pre>
 *
 * {@code event_time} is written as RFC 3339 (UTC, milliseconds) and read as RFC 3339 or epoch ms.
 * Reading is strict: a line that is not a complete row of the code's current feature schema is an
 * error naming the line, because training on rows computed by other code would silently mix two
 * meanings of a feature.
 */
public final class FeatureRows {
    static final ObjectMapper MAPPER = new ObjectMapper();
    private static final DateTimeFormatter TIME =
            DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.SSS'Z'").withZone(ZoneOffset.UTC);

    private FeatureRows() {}

    /** One row as a single-line JSON object (no trailing newline). */
    public static String toJson(FeatureRow row) {
        ObjectNode o = MAPPER.createObjectNode();
        o.put("schema_version", row.schemaVersion());
        o.put("schema_hash", row.schemaHash());
        o.put("withdrawal_id", row.withdrawalId());
        o.put("user_id", row.userId());
        o.put("event_time", formatTime(row.eventTime()));
        ObjectNode f = o.putObject("features");
        double[] x = row.features();
        List<String> names = WithdrawalFeatures.names();
        for (int i = 0; i < x.length && i < names.size(); i++) {
            f.put(names.get(i), x[i]);
        }
        if (row.label() == null) {
            o.putNull("label");
        } else {
            o.put("label", row.label());
        }
        try {
            return MAPPER.writeValueAsString(o);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Parses one line; throws {@link IllegalArgumentException} saying what is wrong. */
    public static FeatureRow fromJson(String line) {
        JsonNode o;
        try {
            o = MAPPER.readTree(line);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalArgumentException("not JSON: " + e.getOriginalMessage(), e);
        }
        if (o == null || !o.isObject()) {
            throw new IllegalArgumentException("not a JSON object");
        }
        JsonNode version = o.get("schema_version");
        JsonNode hash = o.get("schema_hash");
        if (version == null || !version.canConvertToInt() || hash == null || !hash.isTextual()) {
            throw new IllegalArgumentException("schema_version (int) and schema_hash (string) are required");
        }
        if (version.asInt() != WithdrawalFeatures.SCHEMA_VERSION || !hash.asText().equals(WithdrawalFeatures.SCHEMA_HASH)) {
            throw new IllegalArgumentException("row has feature schema v" + version.asInt() + " (" + hash.asText()
                    + ") but the code has v" + WithdrawalFeatures.SCHEMA_VERSION + " (" + WithdrawalFeatures.SCHEMA_HASH
                    + ")");
        }
        JsonNode features = o.get("features");
        if (features == null || !features.isObject()) {
            throw new IllegalArgumentException("features must be an object of name: number");
        }
        Map<String, Double> m = new LinkedHashMap<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = features.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            if (!e.getValue().isNumber()) {
                throw new IllegalArgumentException("feature " + e.getKey() + " is not a number: " + e.getValue());
            }
            m.put(e.getKey(), e.getValue().doubleValue());
        }
        double[] x = WithdrawalFeatures.fromMap(m);
        JsonNode label = o.get("label");
        Boolean lbl;
        if (label == null || label.isNull()) {
            lbl = null;
        } else if (label.isBoolean()) {
            lbl = label.booleanValue();
        } else {
            throw new IllegalArgumentException("label must be true, false or null: " + label);
        }
        return new FeatureRow(version.asInt(), hash.asText(), text(o, "withdrawal_id"), text(o, "user_id"),
                parseTime(o.get("event_time")), x, lbl);
    }

    public static void write(Path file, Iterable<FeatureRow> rows) throws IOException {
        try (Writer w = Files.newBufferedWriter(file, StandardCharsets.UTF_8)) {
            write(w, rows);
        }
    }

    public static void write(Writer out, Iterable<FeatureRow> rows) throws IOException {
        BufferedWriter w = out instanceof BufferedWriter b ? b : new BufferedWriter(out);
        for (FeatureRow r : rows) {
            w.write(toJson(r));
            w.write('\n');
        }
        w.flush();
    }

    public static List<FeatureRow> read(Path file) throws IOException {
        try (Reader r = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            return read(r);
        }
    }

    /** All rows; blank lines are skipped; a bad line throws naming its line number. */
    public static List<FeatureRow> read(Reader in) throws IOException {
        BufferedReader r = in instanceof BufferedReader b ? b : new BufferedReader(in);
        List<FeatureRow> rows = new ArrayList<>();
        String line;
        int n = 0;
        while ((line = r.readLine()) != null) {
            n++;
            if (line.isBlank()) {
                continue;
            }
            try {
                rows.add(fromJson(line));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("line " + n + ": " + e.getMessage(), e);
            }
        }
        return rows;
    }

    static String formatTime(long epochMillis) {
        return TIME.format(Instant.ofEpochMilli(epochMillis));
    }

    private static long parseTime(JsonNode t) {
        if (t != null && t.isIntegralNumber()) {
            return t.longValue();
        }
        if (t != null && t.isTextual()) {
            try {
                return OffsetDateTime.parse(t.asText()).toInstant().toEpochMilli();
            } catch (DateTimeParseException e) {
                throw new IllegalArgumentException("event_time is not RFC 3339: " + t.asText(), e);
            }
        }
        throw new IllegalArgumentException("event_time (RFC 3339 string or epoch ms) is required");
    }

    private static String text(JsonNode o, String field) {
        JsonNode v = o.get(field);
        return v == null || v.isNull() ? null : v.asText();
    }
}
