package io.tourniquet.dashboards;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * The Kibana saved objects in {@code dashboards/*.ndjson} and the equivalent Elasticsearch
 * requests in {@code dashboards/queries/*.json}, read from the repository (the tests run with the
 * {@code jobs} module as working directory, so the folder is found by walking up).
 */
final class SavedObjects {
    static final ObjectMapper JSON = new ObjectMapper();
    static final String LENS = "lens";
    static final String DASHBOARD = "dashboard";
    static final String DATA_VIEW = "index-pattern";
    /** Lens's pseudo-field of a count of documents. */
    static final String RECORDS = "___records___";

    /** One NDJSON line: where it came from, and its text. */
    record Line(Path file, int number, String text) {
        @Override
        public String toString() {
            return file.getFileName() + ":" + number;
        }
    }

    /** A parsed saved object and the line it came from. */
    record SavedObject(Line line, JsonNode json) {
        String type() {
            return json.path("type").asText();
        }

        String id() {
            return json.path("id").asText();
        }

        JsonNode attributes() {
            return json.path("attributes");
        }

        /** The referenced object's id for the reference named {@code name}, or null. */
        String referenced(String name) {
            for (JsonNode r : json.path("references")) {
                if (r.path("name").asText().equals(name)) return r.path("id").asText();
            }
            return null;
        }
    }

    /** A {@code dashboards/queries/*.json} file: the request a panel's Lens would send. */
    record PanelQuery(Path file, String panel, String dataView, String answers, JsonNode request) {
    }

    private SavedObjects() {}

    static Path dir() {
        Path p = Path.of("").toAbsolutePath();
        for (; p != null; p = p.getParent()) {
            if (Files.isDirectory(p.resolve("dashboards")) && Files.isDirectory(p.resolve("jobs"))) {
                return p.resolve("dashboards");
            }
        }
        throw new IllegalStateException("no dashboards/ folder above " + Path.of("").toAbsolutePath());
    }

    static List<Path> ndjsonFiles() {
        try (Stream<Path> files = Files.list(dir())) {
            return files.filter(f -> f.getFileName().toString().endsWith(".ndjson")).sorted().toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Every line of every NDJSON file, blank ones included (they are an error). */
    static List<Line> lines() {
        List<Line> out = new ArrayList<>();
        for (Path f : ndjsonFiles()) {
            try {
                List<String> text = Files.readAllLines(f, StandardCharsets.UTF_8);
                for (int i = 0; i < text.size(); i++) out.add(new Line(f, i + 1, text.get(i)));
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        return out;
    }

    /** Every saved object, in file order; throws on a line that is not JSON. */
    static List<SavedObject> all() {
        List<SavedObject> out = new ArrayList<>();
        for (Line l : lines()) {
            try {
                out.add(new SavedObject(l, JSON.readTree(l.text())));
            } catch (IOException e) {
                throw new IllegalStateException(l + " is not JSON: " + e.getMessage(), e);
            }
        }
        return out;
    }

    static List<SavedObject> ofType(String type) {
        return all().stream().filter(o -> o.type().equals(type)).toList();
    }

    /** Objects by {@code type/id}. */
    static Map<String, SavedObject> byKey() {
        Map<String, SavedObject> out = new LinkedHashMap<>();
        for (SavedObject o : all()) out.put(o.type() + "/" + o.id(), o);
        return out;
    }

    static List<PanelQuery> queries() {
        try (Stream<Path> files = Files.list(dir().resolve("queries"))) {
            List<PanelQuery> out = new ArrayList<>();
            for (Path f : files.filter(x -> x.getFileName().toString().endsWith(".json")).sorted().toList()) {
                JsonNode q = JSON.readTree(f.toFile());
                out.add(new PanelQuery(f, q.path("panel").asText(null), q.path("data_view").asText(null),
                        q.path("answers").asText(null), q.get("request")));
            }
            return out;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** A JSON-in-a-string attribute (panelsJSON, optionsJSON, fieldFormatMap...), parsed. */
    static JsonNode parseEmbedded(JsonNode text) {
        try {
            return JSON.readTree(text.asText());
        } catch (IOException e) {
            throw new IllegalStateException("not JSON: " + text, e);
        }
    }
}
