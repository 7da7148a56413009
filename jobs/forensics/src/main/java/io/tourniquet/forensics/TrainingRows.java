package io.tourniquet.forensics;

import co.elastic.clients.elasticsearch._types.query_dsl.Query;
import com.fasterxml.jackson.databind.JsonNode;
import io.tourniquet.models.FeatureRow;
import io.tourniquet.models.FeatureRows;
import io.tourniquet.models.WithdrawalFeatures;
import io.tourniquet.util.Times;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.UncheckedIOException;
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
public final class TrainingRows extends ForensicsQuery {
    static final int PAGE = 1_000;
    /** Approvals the detect job featured (their features carry a schema hash). */
    private static final Query FEATURED_APPROVALS = and(term("event.action", "withdrawal_approved"),
            Query.of(q -> q.exists(e -> e.field("exchange.anomaly.schema_hash"))));

    private final Verdicts judged;

    TrainingRows(Context context, Verdicts judged) {
        super(context);
        this.judged = judged;
    }

    /** What an export wrote. */
    public record Written(int rows, int skipped, int labeledAttacks, int unjudged) {}

    /**
     * Writes one NDJSON feature row per logged approval to {@code out}, by time then event id, a
     * page at a time.
     *
     * @param attacks  the ground truth's attack withdrawal ids to label by, or null
     * @param verdicts label by analysts' verdicts instead (an approval with an alert nobody judged is left out)
     */
    public Written export(Path out, Set<String> attacks, boolean verdicts) throws IOException {
        Tally tally = new Tally();
        try (BufferedWriter w = Files.newBufferedWriter(out, StandardCharsets.UTF_8)) {
            call("refresh", () -> es.indices().refresh(r -> r.index(events)));
            forEachPageOf(events, PAGE, FEATURED_APPROVALS, List.of(byTime("@timestamp"), byKeyword("event.id")), page -> {
                Map<String, String> labels = verdicts ? latestLabels(page) : Map.of();
                for (JsonNode doc : page) {
                    FeatureRow row;
                    if (verdicts) {
                        Optional<Boolean> label = verdictLabel(alertIdsOf(doc), labels);
                        if (label.isEmpty()) {
                            tally.unjudged++;
                            continue;
                        }
                        row = rowOf(doc, label.get());
                    } else {
                        row = rowOf(doc, attacks);
                    }
                    if (row == null) {
                        tally.skipped++;
                        continue;
                    }
                    if (row.isAttack()) tally.labeledAttacks++;
                    try {
                        w.write(FeatureRows.toJson(row));
                        w.write('\n');
                    } catch (IOException e) {
                        throw new UncheckedIOException(e); // out of the page callback, unwrapped below
                    }
                    tally.rows++;
                }
            });
        } catch (UncheckedIOException e) {
            throw e.getCause();
        }
        return new Written(tally.rows, tally.skipped, tally.labeledAttacks, tally.unjudged);
    }

    /** The counts an export adds up, page by page. */
    private static final class Tally {
        int rows;
        int skipped;
        int labeledAttacks;
        int unjudged;
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
    private Map<String, String> latestLabels(List<JsonNode> page) {
        List<String> ids = new ArrayList<>();
        for (JsonNode doc : page) ids.addAll(alertIdsOf(doc));
        Map<String, String> labels = new java.util.HashMap<>();
        judged.latestVerdicts(ids).forEach((id, v) -> labels.put(id, v.path("label").asText()));
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
