package io.tourniquet.models;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * Command line for the offline part (what {@code ./tourniquet models ...} is meant to call):
 *
 * <pre>
 * train    --rows FILE.ndjson --out DIR [--trees 100] [--subsample 256] [--extension-level 0]
 *          [--seed 1] [--target-fpr 0.01] [--version NAME]
 * evaluate --model DIR/VERSION --rows LABELED.ndjson
 * info     --model DIR/VERSION
 * </pre>
 *
 * Exit codes: 0 done; 1 error (unreadable rows, rejected model); 2 usage; 3 evaluated, but the
 * model does not beat the amount-only baseline on AUC (such a model is not done).
 */
public final class ModelsCli {
    static final String USAGE = """
            usage: models train    --rows FILE.ndjson --out DIR [--trees N] [--subsample N] [--extension-level N]
                                   [--seed N] [--target-fpr F] [--version NAME]
                   models evaluate --model DIR --rows LABELED.ndjson
                   models info     --model DIR""";

    private ModelsCli() {}

    public static void main(String[] args) {
        System.exit(run(args, System.out, System.err));
    }

    public static int run(String[] args, PrintStream out, PrintStream err) {
        if (args.length == 0) {
            err.println(USAGE);
            return 2;
        }
        try {
            switch (args[0]) {
                case "train": {
                    Map<String, String> o = options(args, Set.of("rows", "out", "trees", "subsample",
                            "extension-level", "seed", "target-fpr", "version"), Set.of("rows", "out"));
                    TrainingParams d = TrainingParams.defaults();
                    TrainingParams p = new TrainingParams(
                            Integer.parseInt(o.getOrDefault("trees", "" + d.trees())),
                            Integer.parseInt(o.getOrDefault("subsample", "" + d.subsample())),
                            Integer.parseInt(o.getOrDefault("extension-level", "" + d.extensionLevel())),
                            Long.parseLong(o.getOrDefault("seed", "" + d.seed())),
                            Double.parseDouble(o.getOrDefault("target-fpr", "" + d.targetFpr())));
                    List<FeatureRow> rows = FeatureRows.read(Path.of(o.get("rows")));
                    TrainedModel m = Trainer.train(rows, p);
                    Path dir = ModelArtifact.write(m, Path.of(o.get("out")), o.get("version"), Instant.now());
                    out.printf(Locale.ROOT, "trained on %d of %d rows (%s .. %s), %s%n", m.rowsUsed(), m.rowsTotal(),
                            FeatureRows.formatTime(m.windowStart()), FeatureRows.formatTime(m.windowEnd()), p);
                    out.printf(Locale.ROOT, "threshold %.6f for target FPR %.4f (training FPR %.4f)%n", m.threshold(),
                            p.targetFpr(), m.trainingFpr());
                    out.println("wrote " + dir);
                    return 0;
                }
                case "evaluate": {
                    Map<String, String> o = options(args, Set.of("model", "rows"), Set.of("model", "rows"));
                    ModelArtifact a = ModelArtifact.load(Path.of(o.get("model")));
                    EvaluationReport r = Evaluator.evaluate(a.scorer(), a.baseline(),
                            FeatureRows.read(Path.of(o.get("rows"))));
                    out.println("model " + a.modelVersion());
                    out.println(r);
                    return r.beatsBaseline() ? 0 : 3;
                }
                case "info": {
                    Map<String, String> o = options(args, Set.of("model"), Set.of("model"));
                    ModelArtifact a = ModelArtifact.load(Path.of(o.get("model")));
                    out.println(ModelArtifact.MAPPER.writeValueAsString(a.metadata()));
                    return 0;
                }
                default:
                    err.println("unknown command " + args[0] + "\n" + USAGE);
                    return 2;
            }
        } catch (UsageException e) {
            err.println(e.getMessage() + "\n" + USAGE);
            return 2;
        } catch (ModelRejectedException e) {
            err.println("model rejected: " + e.getMessage());
            return 1;
        } catch (IOException | IllegalArgumentException e) {
            err.println("error: " + e.getMessage());
            return 1;
        }
    }

    private static Map<String, String> options(String[] args, Set<String> known, Set<String> required) {
        Map<String, String> o = new HashMap<>();
        for (int i = 1; i < args.length; i++) {
            String a = args[i];
            if (!a.startsWith("--") || !known.contains(a.substring(2))) {
                throw new UsageException("unknown option " + a);
            }
            if (i + 1 >= args.length) {
                throw new UsageException("option " + a + " needs a value");
            }
            o.put(a.substring(2), args[++i]);
        }
        for (String r : required) {
            if (!o.containsKey(r)) {
                throw new UsageException("missing --" + r);
            }
        }
        return o;
    }

    private static final class UsageException extends IllegalArgumentException {
        UsageException(String message) {
            super(message);
        }
    }
}
