package io.tourniquet.forensics;

import co.elastic.clients.elasticsearch.ElasticsearchClient;
import co.elastic.clients.elasticsearch._types.FieldValue;
import co.elastic.clients.elasticsearch._types.SortOrder;
import co.elastic.clients.elasticsearch.core.SearchResponse;
import co.elastic.clients.elasticsearch.core.search.Hit;
import com.fasterxml.jackson.databind.JsonNode;
import io.tourniquet.config.Settings;
import io.tourniquet.config.TourniquetConfig;
import io.tourniquet.models.FeatureRow;
import io.tourniquet.models.FeatureRows;
import io.tourniquet.models.WithdrawalFeatures;
import io.tourniquet.util.Times;
import java.io.BufferedWriter;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * The anomaly model's training data: the features the detect job logged on approvals, read back
 * from the events index page by page ({@code search_after}) into feature rows, labeled by a
 * simulation's ground truth, by analysts' verdicts, or not at all ({@code models export}).
 */
public final class TrainingRows {
    static final int PAGE = 1_000;

    private TrainingRows() {}

    /** What an export wrote. */
    public record Written(int rows, int skipped, int labeledAttacks, int unjudged) {}

    /**
     * Writes one NDJSON feature row per logged approval to {@code out}.
     *
     * @param attacks  the ground truth's attack withdrawal ids to label by, or null
     * @param verdicts label by analysts' verdicts instead (an approval with an alert nobody judged is left out)
     */
    public static Written export(ElasticsearchClient client, TourniquetConfig cfg, Path out, Set<String> attacks,
                                 boolean verdicts) throws IOException {
        String index = cfg.get(Settings.INDEX_EVENTS);
        Forensics judged = new Forensics(client, cfg);
        int written = 0;
        int skipped = 0;
        int labeledAttacks = 0;
        int unjudged = 0;
        try (BufferedWriter w = Files.newBufferedWriter(out, StandardCharsets.UTF_8)) {
            client.indices().refresh(r -> r.index(index));
            List<FieldValue> after = null;
            while (true) {
                final List<FieldValue> from = after;
                SearchResponse<JsonNode> page = client.search(s -> {
                    s.index(index).size(PAGE)
                            .query(q -> q.bool(b -> b
                                    .filter(f -> f.term(t -> t.field("event.action").value("withdrawal_approved")))
                                    .filter(f -> f.exists(e -> e.field("exchange.anomaly.schema_hash")))))
                            .sort(o -> o.field(f -> f.field("@timestamp").order(SortOrder.Asc)))
                            .sort(o -> o.field(f -> f.field("event.id").order(SortOrder.Asc)));
                    if (from != null) s.searchAfter(from);
                    return s;
                }, JsonNode.class);
                List<Hit<JsonNode>> hits = page.hits().hits();
                Map<String, String> labels = verdicts ? latestLabels(judged, hits) : Map.of();
                for (Hit<JsonNode> h : hits) {
                    FeatureRow row;
                    if (verdicts) {
                        Optional<Boolean> label = verdictLabel(alertIdsOf(h.source()), labels);
                        if (label.isEmpty()) {
                            unjudged++;
                            continue;
                        }
                        row = rowOf(h.source(), label.get());
                    } else {
                        row = rowOf(h.source(), attacks);
                    }
                    if (row == null) {
                        skipped++;
                        continue;
                    }
                    if (row.isAttack()) labeledAttacks++;
                    w.write(FeatureRows.toJson(row));
                    w.write('\n');
                    written++;
                }
                if (hits.size() < PAGE) break;
                after = hits.get(hits.size() - 1).sort();
            }
        }
        return new Written(written, skipped, labeledAttacks, unjudged);
    }

    /** The withdrawal ids of the ground truth's unauthorized approvals. */
    public static Set<String> attackWithdrawalIds(JsonNode groundTruth) {
        JsonNode list = groundTruth.path("unauthorized_approvals");
        if (!list.isArray()) throw new IllegalArgumentException("ground truth has no unauthorized_approvals list");
        Set<String> ids = new HashSet<>();
        for (JsonNode a : list) ids.add(a.path("withdrawal_id").asText());
        return ids;
    }

    /**
     * One {@code tourniquet-events} approval document as a feature row, or null when its features
     * are of another schema than this code's (a model must not train on two meanings of a feature).
     * Labeled when {@code attacks} is given: true for an attack's withdrawal, else false.
     */
    public static FeatureRow rowOf(JsonNode doc, Set<String> attacks) {
        return rowOf(doc, attacks == null ? null : attacks.contains(withdrawalIdOf(doc)));
    }

    static String withdrawalIdOf(JsonNode doc) {
        return doc.path("exchange").path("withdrawal").path("id").asText(null);
    }

    /** The alert ids an indexed event carries ({@code exchange.alert_ids}). */
    static List<String> alertIdsOf(JsonNode doc) {
        List<String> ids = new ArrayList<>();
        for (JsonNode id : doc.path("exchange").path("alert_ids")) ids.add(id.asText());
        return ids;
    }

    /** The latest verdict's label of every alert the page's approvals carry that has one. */
    private static Map<String, String> latestLabels(Forensics f, List<Hit<JsonNode>> hits) {
        List<String> ids = new ArrayList<>();
        for (Hit<JsonNode> h : hits) ids.addAll(alertIdsOf(h.source()));
        Map<String, String> labels = new java.util.HashMap<>();
        f.latestVerdicts(ids).forEach((id, v) -> labels.put(id, v.path("label").asText()));
        return labels;
    }

    /**
     * An approval's label from its alerts' verdicts: attack (true) if any was judged a true positive;
     * benign (false) if every one was judged otherwise, or it has none; empty (leave the row out)
     * if an alert of it was never judged and none was judged true.
     */
    public static Optional<Boolean> verdictLabel(List<String> alertIds, Map<String, String> latestLabel) {
        boolean unjudged = false;
        for (String id : alertIds) {
            String label = latestLabel.get(id);
            if (label == null) unjudged = true;
            else if (io.tourniquet.model.ControlRequest.TRUE_POSITIVE.equals(label)) return Optional.of(true);
        }
        return unjudged ? Optional.empty() : Optional.of(false);
    }

    /** As {@link #rowOf(JsonNode, Set)}, with the label given (null: unlabeled). */
    public static FeatureRow rowOf(JsonNode doc, Boolean label) {
        JsonNode an = doc.path("exchange").path("anomaly");
        if (an.path("schema_version").asInt(-1) != WithdrawalFeatures.SCHEMA_VERSION
                || !WithdrawalFeatures.SCHEMA_HASH.equals(an.path("schema_hash").asText())) {
            return null;
        }
        Map<String, Double> features = new LinkedHashMap<>();
        an.path("features").fields().forEachRemaining(e -> features.put(e.getKey(), e.getValue().asDouble()));
        return FeatureRow.of(withdrawalIdOf(doc), doc.path("user").path("id").asText(null),
                Times.parse(doc.path("@timestamp").asText()).toEpochMilli(), WithdrawalFeatures.fromMap(features),
                label);
    }
}
