package io.tourniquet.dashboards;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import com.fasterxml.jackson.databind.JsonNode;
import io.tourniquet.config.Settings;
import io.tourniquet.dashboards.FieldUses.Use;
import io.tourniquet.dashboards.SavedObjects.PanelQuery;
import io.tourniquet.dashboards.SavedObjects.SavedObject;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
 * The Kibana saved objects in {@code dashboards/}, checked without Kibana: well-formed NDJSON,
 * references that resolve, panels wired to their visualizations, every field a visualization
 * uses mapped by the index templates with a type that supports the use, and one equivalent
 * Elasticsearch request per panel ({@code dashboards/queries/}, run against real Elasticsearch by
 * {@link DashboardQueriesITCase}) that uses the same fields.
 */
class DashboardsTest {
    static final String LAYER_REF = "indexpattern-datasource-layer-";
    static final Set<String> TYPES = Set.of(SavedObjects.DATA_VIEW, SavedObjects.LENS, SavedObjects.DASHBOARD);
    static final int GRID_COLUMNS = 48;

    @Test
    void everyLineIsASavedObjectWithTypeIdAndAttributes() {
        assertThat(SavedObjects.ndjsonFiles()).isNotEmpty();
        for (SavedObjects.Line line : SavedObjects.lines()) {
            assertThat(line.text()).as(line + " is blank").isNotBlank();
            JsonNode o = parse(line);
            assertThat(o.isObject()).as(line + " is an object").isTrue();
            assertThat(o.path("type").isTextual()).as(line + " type").isTrue();
            assertThat(TYPES).as(line + " type").contains(o.path("type").asText());
            assertThat(o.path("id").asText("")).as(line + " id").startsWith("tourniquet-");
            assertThat(o.path("attributes").isObject()).as(line + " attributes").isTrue();
            assertThat(o.path("attributes").path("title").asText("")).as(line + " title").isNotBlank();
            assertThat(o.path("references").isArray()).as(line + " references").isTrue();
            // Kibana migrates an imported object from the version it names; 8.x formats only.
            assertThat(o.path("coreMigrationVersion").asText()).as(line + " coreMigrationVersion").startsWith("8.");
            assertThat(o.path("typeMigrationVersion").asText()).as(line + " typeMigrationVersion").startsWith("8.");
        }
        List<String> keys = SavedObjects.all().stream().map(o -> o.type() + "/" + o.id()).toList();
        assertThat(keys).as("ids are unique").doesNotHaveDuplicates();
        assertThat(SavedObjects.all().stream().map(SavedObject::id).toList()).as("ids unique across types")
                .doesNotHaveDuplicates();
    }

    private static JsonNode parse(SavedObjects.Line line) {
        try {
            return SavedObjects.JSON.readTree(line.text());
        } catch (Exception e) {
            throw new AssertionError(line + " is not valid JSON: " + e.getMessage(), e);
        }
    }

    @Test
    void everyReferenceResolvesToAnObjectOfTheNamedType() {
        Map<String, SavedObject> byKey = SavedObjects.byKey();
        for (SavedObject o : SavedObjects.all()) {
            Set<String> names = new HashSet<>();
            for (JsonNode r : o.json().path("references")) {
                String name = r.path("name").asText("");
                assertThat(name).as(o.line() + " reference name").isNotBlank();
                assertThat(names.add(name)).as(o.line() + " reference " + name + " named once").isTrue();
                String key = r.path("type").asText() + "/" + r.path("id").asText();
                assertThat(byKey).as(o.line() + " reference " + name).containsKey(key);
            }
        }
    }

    @Test
    void theDataViewsNameTheAliasesWithADateTimeField() {
        Map<String, String> timeFields = new LinkedHashMap<>();
        for (SavedObject dv : SavedObjects.ofType(SavedObjects.DATA_VIEW)) {
            JsonNode a = dv.attributes();
            String title = a.path("title").asText();
            assertThat(dv.id()).isEqualTo("tourniquet-dv-" + kindOf(title));
            String timeField = a.path("timeFieldName").asText();
            timeFields.put(title, timeField);
            IndexFields fields = IndexFields.of(kindOf(title));
            assertThat(fields.resolve(timeField)).as(title + " time field").hasValueSatisfying(
                    f -> assertThat(f.date()).as(title + " time field is a date").isTrue());
            // Kibana stores these as JSON strings: they must parse, and name mapped fields.
            JsonNode formats = SavedObjects.parseEmbedded(a.path("fieldFormatMap"));
            formats.fieldNames().forEachRemaining(f ->
                    assertThat(fields.resolve(f)).as(title + " fieldFormatMap " + f).hasValueSatisfying(
                            x -> assertThat(x.numeric()).isTrue()));
            assertThat(SavedObjects.parseEmbedded(a.path("runtimeFieldMap")).size())
                    .as("no runtime fields: the local Elasticsearch has no scripting to test them").isZero();
            SavedObjects.parseEmbedded(a.path("fields"));
        }
        assertThat(timeFields).containsOnlyKeys(Settings.INDEX_EVENTS.defaultText(),
                Settings.INDEX_ALERTS.defaultText(), Settings.INDEX_ACTIONS.defaultText(),
                Settings.INDEX_INCIDENTS.defaultText(), Settings.INDEX_CLAIMS.defaultText(),
                Settings.INDEX_VERDICTS.defaultText());
        assertThat(timeFields.get(Settings.INDEX_EVENTS.defaultText())).isEqualTo("@timestamp");
        assertThat(timeFields.get(Settings.INDEX_ALERTS.defaultText())).isEqualTo("@timestamp");
        assertThat(timeFields.get(Settings.INDEX_ACTIONS.defaultText())).isEqualTo("@timestamp");
        assertThat(timeFields.get(Settings.INDEX_INCIDENTS.defaultText())).isIn("started_at", "@timestamp");
        assertThat(timeFields.get(Settings.INDEX_CLAIMS.defaultText())).as("when the claim opened").isEqualTo("@timestamp");
        assertThat(timeFields.get(Settings.INDEX_VERDICTS.defaultText())).as("the judged alert's time").isEqualTo("alert_time");
    }

    /** {@code tourniquet-events} -> {@code events}: the template file of the alias. */
    static String kindOf(String dataViewTitle) {
        assertThat(dataViewTitle).startsWith("tourniquet-");
        return dataViewTitle.substring("tourniquet-".length());
    }

    @Test
    void theDashboardsTheIssueAsksForExistAndTheirPanelsReferenceTheirVisualizations() {
        Map<String, SavedObject> byKey = SavedObjects.byKey();
        List<SavedObject> dashboards = SavedObjects.ofType(SavedObjects.DASHBOARD);
        assertThat(dashboards).extracting(SavedObject::id).containsExactlyInAnyOrder(
                "tourniquet-dash-incident-overview", "tourniquet-dash-root-cause",
                "tourniquet-dash-attacker-infrastructure", "tourniquet-dash-containment",
                "tourniquet-dash-login-anomalies");
        Set<String> onADashboard = new HashSet<>();
        for (SavedObject d : dashboards) {
            JsonNode a = d.attributes();
            SavedObjects.parseEmbedded(a.path("optionsJSON"));
            SavedObjects.parseEmbedded(a.path("kibanaSavedObjectMeta").path("searchSourceJSON"));
            JsonNode panels = SavedObjects.parseEmbedded(a.path("panelsJSON"));
            assertThat(panels.isArray() && !panels.isEmpty()).as(d.id() + " has panels").isTrue();
            Set<String> usedRefs = new HashSet<>();
            Set<String> indexes = new HashSet<>();
            List<int[]> boxes = new ArrayList<>();
            for (JsonNode p : panels) {
                String index = p.path("panelIndex").asText("");
                String at = d.id() + " panel " + index;
                assertThat(indexes.add(index)).as(at + " panelIndex unique and set").isTrue();
                JsonNode g = p.path("gridData");
                assertThat(g.path("i").asText()).as(at + " gridData.i").isEqualTo(index);
                int x = g.path("x").asInt(-1), y = g.path("y").asInt(-1), w = g.path("w").asInt(0), h = g.path("h").asInt(0);
                assertThat(x >= 0 && y >= 0 && w > 0 && h > 0 && x + w <= GRID_COLUMNS).as(at + " grid " + g).isTrue();
                for (int[] b : boxes) {
                    boolean apart = x + w <= b[0] || b[0] + b[2] <= x || y + h <= b[1] || b[1] + b[3] <= y;
                    assertThat(apart).as(at + " overlaps another panel").isTrue();
                }
                boxes.add(new int[] {x, y, w, h});
                // Kibana 8 stores a by-reference panel's target as the reference "<panelIndex>:<panelRefName>".
                String refName = index + ":" + p.path("panelRefName").asText("");
                JsonNode ref = null;
                for (JsonNode r : d.json().path("references")) {
                    if (r.path("name").asText().equals(refName)) ref = r;
                }
                assertThat(ref).as(at + " reference " + refName).isNotNull();
                assertThat(ref.path("type").asText()).as(at + " type").isEqualTo(p.path("type").asText());
                assertThat(byKey).containsKey(ref.path("type").asText() + "/" + ref.path("id").asText());
                usedRefs.add(refName);
                onADashboard.add(ref.path("id").asText());
            }
            List<String> unused = new ArrayList<>();
            d.json().path("references").forEach(r -> {
                if (!usedRefs.contains(r.path("name").asText())) unused.add(r.path("name").asText());
            });
            assertThat(unused).as(d.id() + " references no panel uses").isEmpty();
        }
        assertThat(onADashboard).as("every visualization is on a dashboard").containsAll(
                SavedObjects.ofType(SavedObjects.LENS).stream().map(SavedObject::id).toList());
    }

    @Test
    void everyLensStateIsCompleteAndEachLayerHasItsDataView() {
        for (SavedObject lens : SavedObjects.ofType(SavedObjects.LENS)) {
            List<String> problems = lensStructure(lens);
            assertThat(problems).as(lens.id()).isEmpty();
        }
    }

    /** Column order, accessors, term orderings and layer references that Lens would not be able to resolve. */
    static List<String> lensStructure(SavedObject lens) {
        List<String> problems = new ArrayList<>();
        JsonNode state = lens.attributes().path("state");
        JsonNode layers = state.path("datasourceStates").path("formBased").path("layers");
        if (!layers.isObject() || layers.isEmpty()) problems.add("no form-based layers");
        Map<String, JsonNode> columns = new LinkedHashMap<>();
        layers.fields().forEachRemaining(layer -> {
            String layerId = layer.getKey();
            if (lens.referenced(LAYER_REF + layerId) == null) problems.add("layer " + layerId + " has no data view reference");
            JsonNode cols = layer.getValue().path("columns");
            Set<String> order = new TreeSet<>();
            layer.getValue().path("columnOrder").forEach(c -> order.add(c.asText()));
            Set<String> names = new TreeSet<>();
            cols.fieldNames().forEachRemaining(names::add);
            if (!order.equals(names)) problems.add("columnOrder " + order + " != columns " + names);
            cols.fields().forEachRemaining(c -> columns.put(c.getKey(), c.getValue()));
        });
        for (Map.Entry<String, JsonNode> c : columns.entrySet()) {
            JsonNode orderBy = c.getValue().path("params").path("orderBy");
            if ("column".equals(orderBy.path("type").asText())) {
                JsonNode by = columns.get(orderBy.path("columnId").asText());
                if (by == null || by.path("isBucketed").asBoolean(true)) {
                    problems.add(c.getKey() + " is ordered by " + orderBy + ", not a metric column");
                }
            }
        }
        JsonNode vis = state.path("visualization");
        List<String> accessors = new ArrayList<>();
        switch (lens.attributes().path("visualizationType").asText()) {
            case "lnsXY" -> vis.path("layers").forEach(l -> {
                if (!layers.has(l.path("layerId").asText())) problems.add("xy layer " + l.path("layerId") + " unknown");
                accessors.add(l.path("xAccessor").asText());
                l.path("accessors").forEach(x -> accessors.add(x.asText()));
                if (l.has("splitAccessor")) accessors.add(l.path("splitAccessor").asText());
            });
            case "lnsDatatable" -> {
                vis.path("columns").forEach(x -> accessors.add(x.path("columnId").asText()));
                Set<String> shown = new HashSet<>(accessors);
                if (!shown.equals(columns.keySet())) problems.add("table shows " + shown + " of " + columns.keySet());
                if (vis.has("sorting")) accessors.add(vis.path("sorting").path("columnId").asText());
            }
            case "lnsMetric" -> accessors.add(vis.path("metricAccessor").asText());
            default -> problems.add("visualization type " + lens.attributes().path("visualizationType") + " not checked");
        }
        for (String a : accessors) {
            if (!columns.containsKey(a)) problems.add("the visualization shows column '" + a + "', which does not exist");
        }
        if (!vis.path("layerId").isMissingNode() && !layers.has(vis.path("layerId").asText())) {
            problems.add("visualization layer " + vis.path("layerId") + " unknown");
        }
        return problems;
    }

    @Test
    void everyFieldAPanelUsesIsMappedWithATypeThatSupportsTheUse() {
        List<SavedObject> lenses = SavedObjects.ofType(SavedObjects.LENS);
        assertThat(lenses).hasSizeGreaterThanOrEqualTo(5);
        int checked = 0;
        for (SavedObject lens : lenses) {
            List<String> problems = lensFieldProblems(lens);
            assertThat(problems).as(lens.id()).isEmpty();
            checked += FieldUses.ofLens(lens.attributes(), new ArrayList<>()).size();
        }
        assertThat(checked).as("field uses checked").isGreaterThan(50);
    }

    /** The index behind a Lens object's (single) data view. */
    static IndexFields indexOf(SavedObject lens) {
        Set<String> views = new TreeSet<>();
        lens.json().path("references").forEach(r -> {
            if (r.path("name").asText().startsWith(LAYER_REF)) views.add(r.path("id").asText());
        });
        assertThat(views).as(lens.id() + " data views").hasSize(1);
        SavedObject dv = SavedObjects.byKey().get(SavedObjects.DATA_VIEW + "/" + views.iterator().next());
        assertThat(dv).as(lens.id() + " data view").isNotNull();
        return IndexFields.of(kindOf(dv.attributes().path("title").asText()));
    }

    static String dataViewOf(SavedObject lens) {
        for (JsonNode r : lens.json().path("references")) {
            if (r.path("name").asText().startsWith(LAYER_REF)) return r.path("id").asText();
        }
        return null;
    }

    /** Field existence and type per use, plus each column's declared data type against the mapping. */
    static List<String> lensFieldProblems(SavedObject lens) {
        List<String> problems = new ArrayList<>();
        IndexFields index = indexOf(lens);
        problems.addAll(FieldUses.problems(index, FieldUses.ofLens(lens.attributes(), problems)));
        lens.attributes().path("state").path("datasourceStates").path("formBased").path("layers").forEach(layer ->
                layer.path("columns").fields().forEachRemaining(c -> {
                    JsonNode col = c.getValue();
                    String op = col.path("operationType").asText();
                    String field = col.path("sourceField").asText(null);
                    String declared = col.path("dataType").asText();
                    String expected;
                    if (op.equals("count") || op.equals("unique_count")) {
                        expected = "number";
                    } else {
                        Optional<IndexFields.Field> f = field == null ? Optional.empty() : index.resolve(field);
                        if (f.isEmpty()) return; // reported above
                        expected = f.get().lensDataType();
                    }
                    if (!declared.equals(expected)) {
                        problems.add("column " + c.getKey() + ": dataType " + declared + ", the field gives " + expected);
                    }
                    if (op.equals("date_histogram") && !col.path("isBucketed").asBoolean()) {
                        problems.add("column " + c.getKey() + ": a date histogram is a bucket column");
                    }
                }));
        return problems;
    }

    @Test
    void everyPanelHasOneEquivalentElasticsearchRequestOnTheSameFields() {
        Map<String, SavedObject> lenses = SavedObjects.ofType(SavedObjects.LENS).stream()
                .collect(Collectors.toMap(SavedObject::id, o -> o));
        List<PanelQuery> queries = SavedObjects.queries();
        assertThat(queries).extracting(PanelQuery::panel).as("one request per panel")
                .doesNotHaveDuplicates()
                .containsExactlyInAnyOrderElementsOf(lenses.keySet());
        for (PanelQuery q : queries) {
            String at = q.file().getFileName().toString();
            assertThat(q.file().getFileName().toString()).isEqualTo(q.panel() + ".json");
            assertThat(q.answers()).as(at + " says what it answers").isNotBlank();
            assertThat(q.request()).as(at + " request").isNotNull();
            SavedObject lens = lenses.get(q.panel());
            assertThat(q.dataView()).as(at + " data view").isEqualTo(dataViewOf(lens));

            List<String> problems = new ArrayList<>();
            List<Use> uses = FieldUses.ofRequest(q.request(), problems);
            problems.addAll(FieldUses.problems(indexOf(lens), uses));
            assertThat(problems).as(at).isEmpty();

            // The request mirrors the panel: every field the panel touches, the request touches too.
            Set<String> requestFields = uses.stream().map(Use::field).collect(Collectors.toSet());
            Set<String> panelFields = FieldUses.ofLens(lens.attributes(), new ArrayList<>()).stream()
                    .map(Use::field).collect(Collectors.toCollection(TreeSet::new));
            assertThat(requestFields).as(at + " uses the panel's fields").containsAll(panelFields);
        }
    }

    @Test
    void theFieldCheckRejectsWhatKibanaWouldRefuse() {
        IndexFields events = IndexFields.of("events");
        IndexFields alerts = IndexFields.of("alerts");
        IndexFields incidents = IndexFields.of("incidents");

        assertThat(alerts.resolve("rule.name")).as("a multi-field resolves").hasValueSatisfying(f -> {
            assertThat(f.type()).isEqualTo("keyword");
            assertThat(f.aggregatable()).isTrue();
        });
        assertThat(events.resolve("source.ip")).hasValueSatisfying(f -> assertThat(f.lensDataType()).isEqualTo("ip"));
        assertThat(incidents.resolve("impact.asset")).hasValueSatisfying(f -> assertThat(f.nested()).isTrue());
        assertThat(events.resolve("exchange.withdrawal.no_such_field")).isEmpty();
        assertThat(events.resolve("exchange.withdrawal")).hasValueSatisfying(f -> assertThat(f.type()).isEqualTo("object"));

        assertThat(FieldUses.problems(events, List.of(new Use("exchange.withdrawal.usd_value", "sum", "t"),
                new Use("@timestamp", "date_histogram", "t"), new Use("started_x", "source", "t")))).hasSize(1);
        assertThat(FieldUses.problems(alerts, List.of(new Use("summary", "terms", "t")))).singleElement()
                .asString().contains("not aggregatable");
        assertThat(FieldUses.problems(incidents, List.of(new Use("impact.asset", "terms", "t")))).singleElement()
                .asString().contains("nested");
        assertThat(FieldUses.problems(events, List.of(new Use("exchange.account.anti_phishing_code", "search", "t"))))
                .singleElement().asString().contains("not searchable");
        assertThat(FieldUses.problems(events, List.of(new Use("user.id", "date_histogram", "t")))).singleElement()
                .asString().contains("date histogram");
        assertThat(FieldUses.problems(events, List.of(new Use("device.id", "sum", "t")))).singleElement()
                .asString().contains("numeric");
        assertThat(FieldUses.problems(events, List.of(new Use("exchange.mfa.authorised", "search", "t"))))
                .singleElement().asString().contains("does not map");

        assertThat(FieldUses.kqlFields("exchange.mfa.authorized : false and not event.action : \"a: b\" or x.y:*"))
                .containsExactly("exchange.mfa.authorized", "event.action", "x.y");

        List<String> problems = new ArrayList<>();
        FieldUses.ofRequest(SavedObjects.JSON.createObjectNode().set("aggs", SavedObjects.JSON.createObjectNode()
                .set("x", SavedObjects.JSON.createObjectNode().set("geohash_grid", SavedObjects.JSON.createObjectNode()))),
                problems);
        assertThat(problems).as("an aggregation the check does not know is reported").hasSize(1);
    }

    @Test
    void aBrokenLensIsCaughtByTheChecks() throws Exception {
        SavedObject good = SavedObjects.ofType(SavedObjects.LENS).stream()
                .filter(o -> o.id().equals("tourniquet-lens-unauthorized-by-version")).findFirst().orElseThrow();
        assertThat(lensFieldProblems(good)).isEmpty();
        assertThat(lensStructure(good)).isEmpty();

        String text = good.line().text()
                .replace("\"sourceField\":\"exchange.withdrawal.approval_service_version\"",
                        "\"sourceField\":\"exchange.withdrawal.approval_service_versoin\"")
                .replace("\"xAccessor\":\"time\"", "\"xAccessor\":\"tme\"")
                .replace("exchange.mfa.authorized : false", "exchange.mfa.authorized : false and summary : x");
        SavedObject bad = new SavedObject(good.line(), SavedObjects.JSON.readTree(text));
        assertThat(lensFieldProblems(bad)).hasSize(2)
                .anySatisfy(p -> assertThat(p).contains("approval_service_versoin"))
                .anySatisfy(p -> assertThat(p).contains("summary"));
        assertThat(lensStructure(bad)).singleElement().asString().contains("tme");
        assertThatThrownBy(() -> kindOf("other-events")).isInstanceOf(AssertionError.class);
    }
}
