package io.tourniquet.cli;

import io.tourniquet.forensics.Forensics;
import io.tourniquet.forensics.TrainingRows;
import io.tourniquet.config.TourniquetConfig;
import io.tourniquet.index.EsClients;
import io.tourniquet.json.Json;
import io.tourniquet.models.ModelsCli;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
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
        @Mixin ConfigOptions options;
        @Option(names = "--out", required = true, paramLabel = "ROWS.ndjson") Path out;
        @Option(names = "--truth", paramLabel = "ground-truth.json") Path truth;
        @Option(names = "--verdicts", description = "Label rows from analysts' verdicts (see above).") boolean verdicts;

        @Override
        public Integer call() throws Exception {
            TourniquetConfig cfg = options.resolve();
            if (verdicts && truth != null) {
                throw new IllegalArgumentException("--truth and --verdicts both label the rows: give one");
            }
            Set<String> attacks = truth == null ? null : TrainingRows.attackWithdrawalIds(Json.MAPPER.readTree(truth.toFile()));
            if (out.toAbsolutePath().getParent() != null) Files.createDirectories(out.toAbsolutePath().getParent());
            // EsClients.with: refused credentials, TLS or an unreachable node end in one sentence.
            TrainingRows.Written result = EsClients.with(cfg, client ->
                    new Forensics(client, cfg).exportTrainingRows(out, attacks, verdicts));
            String labelled = verdicts ? " (" + result.labeledAttacks() + " labeled attack by analysts' verdicts)"
                    : attacks == null ? " (unlabeled)" : " (" + result.labeledAttacks() + " labeled attack)";
            System.out.printf("wrote %d rows to %s%s; skipped %d of another feature schema%s%n", result.rows(), out,
                    labelled, result.skipped(),
                    verdicts ? ", " + result.unjudged() + " with an alert nobody judged" : "");
            return 0;
        }
    }

    private static void add(List<String> args, String name, Object value) {
        if (value != null) {
            args.add(name);
            args.add(value.toString());
        }
    }
}
