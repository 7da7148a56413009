package io.tourniquet.cli;

import co.elastic.clients.elasticsearch._types.FieldValue;
import co.elastic.clients.elasticsearch._types.SortOrder;
import co.elastic.clients.elasticsearch.core.SearchResponse;
import co.elastic.clients.elasticsearch.core.search.Hit;
import com.fasterxml.jackson.databind.JsonNode;
import io.tourniquet.config.Settings;
import io.tourniquet.config.TourniquetConfig;
import io.tourniquet.index.EsClients;
import io.tourniquet.json.Json;
import io.tourniquet.models.FeatureRow;
import io.tourniquet.models.FeatureRows;
import io.tourniquet.models.ModelsCli;
import io.tourniquet.models.WithdrawalFeatures;
import io.tourniquet.util.Times;
import java.io.BufferedWriter;
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
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code ./tourniquet models ...}: the anomaly model's offline side. {@code export} reads the
 * features the detect job logged on approvals back from Elasticsearch (the training data);
 * {@code train}, {@code evaluate} and {@code info} are the models module's {@link ModelsCli}.
 * A trained model is activated in the running job by a signed rule change:
 * {@code ./tourniquet control rule --rule anomaly_score --param rule.anomaly-score.model-version=VERSION
 * --param rule.anomaly-score.model-sha256=SHA256} (the model_sha256 of its metadata.json).
 */
@Command(name = "models", mixinStandardHelpOptions = true,
        description = "Anomaly models: export logged features, train, evaluate, inspect.",
        subcommands = {ModelsCommand.Export.class, ModelsCommand.Train.class, ModelsCommand.Evaluate.class,
                ModelsCommand.Info.class})
public final class ModelsCommand implements Callable<Integer> {

    @Override
    public Integer call() {
        System.err.println("usage: tourniquet models export|train|evaluate|info (see --help)");
        return 2;
    }

    @Command(name = "train", mixinStandardHelpOptions = true,
            description = "Train an isolation forest on feature rows and write a versioned artifact under DIR."
                    + " Exit 0, or 1 on bad rows.")
    static final class Train implements Callable<Integer> {
        @Option(names = "--input", required = true, paramLabel = "ROWS.ndjson") Path input;
        @Option(names = "--out", required = true, paramLabel = "DIR", description = "models.dir, e.g. models-store")
        Path out;
        @Option(names = "--trees") Integer trees;
        @Option(names = "--subsample") Integer subsample;
        @Option(names = "--extension-level") Integer extensionLevel;
        @Option(names = "--seed") Long seed;
        @Option(names = "--target-fpr") Double targetFpr;
        @Option(names = "--version", description = "Model version (default iforest-<time>-<sha>)") String version;

        @Override
        public Integer call() {
            List<String> a = new ArrayList<>(List.of("train", "--rows", input.toString(), "--out", out.toString()));
            add(a, "--trees", trees);
            add(a, "--subsample", subsample);
            add(a, "--extension-level", extensionLevel);
            add(a, "--seed", seed);
            add(a, "--target-fpr", targetFpr);
            add(a, "--version", version);
            return ModelsCli.run(a.toArray(String[]::new), System.out, System.err);
        }
    }

    @Command(name = "evaluate", mixinStandardHelpOptions = true,
            description = "ROC AUC, precision, recall and FPR of a model and of the amount-only baseline on labeled"
                    + " rows. Exit 0, 1 on a rejected model, 3 when the model does not beat the baseline.")
    static final class Evaluate implements Callable<Integer> {
        @Option(names = "--model", required = true, paramLabel = "DIR/VERSION") Path model;
        @Option(names = "--input", required = true, paramLabel = "LABELED.ndjson") Path input;

        @Override
        public Integer call() {
            return ModelsCli.run(new String[] {"evaluate", "--model", model.toString(), "--rows", input.toString()},
                    System.out, System.err);
        }
    }

    @Command(name = "info", mixinStandardHelpOptions = true,
            description = "Verify an artifact (schema, checksum, allow-list) and print its metadata.")
    static final class Info implements Callable<Integer> {
        @Parameters(paramLabel = "DIR/VERSION") Path model;

        @Override
        public Integer call() {
            return ModelsCli.run(new String[] {"info", "--model", model.toString()}, System.out, System.err);
        }
    }

    @Command(name = "export", mixinStandardHelpOptions = true,
            description = {"Write the features logged on approvals (tourniquet-events, exchange.anomaly.features) as"
                    + " feature rows (NDJSON); with --truth, label each row: attack = an unauthorized approval of"
                    + " the simulator's ground truth, else benign.",
                    "With --verdicts instead, label each row from analysts' verdicts (tourniquet-verdicts, each "
                            + "alert's latest): attack when an alert of the approval was judged true_positive, benign when "
                            + "its alerts were judged false_positive or benign_true_positive, or when it has no alert; an "
                            + "approval with an alert nobody judged is left out (counted): it is evidence of neither."})
    static final class Export implements Callable<Integer> {
        static final int PAGE = 1_000;

        @Mixin ConfigOptions options;
        @Option(names = "--out", required = true, paramLabel = "ROWS.ndjson") Path out;
        @Option(names = "--truth", paramLabel = "ground-truth.json") Path truth;
        @Option(names = "--verdicts", description = "Label rows from analysts' verdicts (see above).") boolean verdicts;

        /** What an export wrote. */
        private record Written(int rows, int skipped, int labeledAttacks, int unjudged) {}

        @Override
        public Integer call() throws Exception {
            TourniquetConfig cfg = options.resolve();
            if (verdicts && truth != null) {
                throw new IllegalArgumentException("--truth and --verdicts both label the rows: give one");
            }
            Set<String> attacks = truth == null ? null : attackWithdrawalIds(Json.MAPPER.readTree(truth.toFile()));
            String index = cfg.get(Settings.INDEX_EVENTS);
            if (out.toAbsolutePath().getParent() != null) Files.createDirectories(out.toAbsolutePath().getParent());
            // EsClients.with: refused credentials, TLS or an unreachable node end in one sentence.
            Written result = EsClients.with(cfg, client -> {
                int written = 0;
                int skipped = 0;
                int labeledAttacks = 0;
                int unjudged = 0;
                io.tourniquet.forensics.Forensics judged = new io.tourniquet.forensics.Forensics(client, cfg);
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
            });
            String labelled = verdicts ? " (" + result.labeledAttacks() + " labeled attack by analysts' verdicts)"
                    : attacks == null ? " (unlabeled)" : " (" + result.labeledAttacks() + " labeled attack)";
            System.out.printf("wrote %d rows to %s%s; skipped %d of another feature schema%s%n", result.rows(), out,
                    labelled, result.skipped(),
                    verdicts ? ", " + result.unjudged() + " with an alert nobody judged" : "");
            return 0;
        }
    }

    /** The withdrawal ids of the ground truth's unauthorized approvals. */
    static Set<String> attackWithdrawalIds(JsonNode groundTruth) {
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
    static FeatureRow rowOf(JsonNode doc, Set<String> attacks) {
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
    private static Map<String, String> latestLabels(io.tourniquet.forensics.Forensics f, List<Hit<JsonNode>> hits) {
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
    static Optional<Boolean> verdictLabel(List<String> alertIds, Map<String, String> latestLabel) {
        boolean unjudged = false;
        for (String id : alertIds) {
            String label = latestLabel.get(id);
            if (label == null) unjudged = true;
            else if (io.tourniquet.model.ControlRequest.TRUE_POSITIVE.equals(label)) return Optional.of(true);
        }
        return unjudged ? Optional.empty() : Optional.of(false);
    }

    /** As {@link #rowOf(JsonNode, Set)}, with the label given (null: unlabeled). */
    static FeatureRow rowOf(JsonNode doc, Boolean label) {
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

    private static void add(List<String> args, String name, Object value) {
        if (value != null) {
            args.add(name);
            args.add(value.toString());
        }
    }
}
