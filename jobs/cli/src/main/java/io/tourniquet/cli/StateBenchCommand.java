package io.tourniquet.cli;

import io.tourniquet.bench.StateBenchmark;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "bench-state", mixinStandardHelpOptions = true,
        description = {"Measure checkpoint and restore costs of per-user state, heap vs RocksDB.",
                "Each user gets the detect job's lasting state (anomaly profile, anti-phishing",
                "code history, whitelisted addresses, in the job's own types); then a full",
                "checkpoint, rounds of changed users each followed by a checkpoint, and timed",
                "restores after which every changed user is checked to find its state.",
                "Embedded cluster, local disk; needs no services. Heap state lives in this JVM:",
                "give it room (TOURNIQUET_JAVA_OPTS=-Xmx8g for 1 M users)."})
public final class StateBenchCommand implements Callable<Integer> {
    @Option(names = "--users", description = "Users whose state is loaded (default: ${DEFAULT-VALUE}).")
    int users = 1_000_000;

    @Option(names = "--changed", description = "Share of users changed between checkpoints (default: ${DEFAULT-VALUE}).")
    double changed = 0.01;

    @Option(names = "--rounds", description = "Checkpoints after changes (default: ${DEFAULT-VALUE}).")
    int rounds = 5;

    @Option(names = "--restores", description = "Restores timed per backend (default: ${DEFAULT-VALUE}).")
    int restores = 3;

    @Option(names = "--parallelism", description = "Parallelism of the stateful operator (default: ${DEFAULT-VALUE}).")
    int parallelism = 2;

    @Option(names = "--backends", split = ",", description = "State backends, in order (default: ${DEFAULT-VALUE}).")
    List<String> backends = List.of("hashmap", "rocksdb");

    @Option(names = "--snapshot-compression", negatable = true, defaultValue = "true",
            description = "Compress snapshot data, as the jobs do by default (job.snapshot-compression;"
                    + " default: ${DEFAULT-VALUE}).")
    boolean snapshotCompression;

    @Option(names = "--work-dir", description = "Where checkpoints are written (default: a new temporary directory).")
    Path workDir;

    @Option(names = "--deadline", description = "Give up on a backend after this long (default: ${DEFAULT-VALUE}).")
    String deadline = "20 min";

    @Override
    public Integer call() throws Exception {
        Path dir = workDir != null ? workDir : Files.createTempDirectory("tourniquet-bench-state-");
        StateBenchmark.Options o = new StateBenchmark.Options(users, changed, rounds, restores, parallelism, dir,
                backends, snapshotCompression, org.apache.flink.util.TimeUtils.parseDuration(deadline));
        Runtime rt = Runtime.getRuntime();
        System.out.printf(Locale.ROOT, "bench-state: %,d users, %.1f %% changed per round, %d rounds, %d restores, parallelism %d,"
                        + " %d cores, max heap %s, checkpoints under %s%n", users, changed * 100, rounds, restores,
                parallelism, rt.availableProcessors(), StateBenchmark.bytes(rt.maxMemory()), dir);
        System.out.println(Main.logFileLine());
        List<StateBenchmark.Figures> all = StateBenchmark.run(o, System.out);
        System.out.println();
        System.out.println("| backend | full checkpoint: state / written / ms | after a change round: written / ms (median) | restore ms (median) | state found after restore |");
        System.out.println("|---|---|---|---|---|");
        for (StateBenchmark.Figures f : all) {
            System.out.printf(Locale.ROOT, "| %s | %s / %s / %,d | %s / %,d | %,d | %,d of %,d |%n", f.backend(),
                    StateBenchmark.bytes(f.fullStateBytes()), StateBenchmark.bytes(f.fullCheckpointedBytes()),
                    f.fullCheckpointMillis(), StateBenchmark.bytes(f.medianRoundCheckpointedBytes()), f.medianRoundMillis(),
                    f.medianRestoreMillis(), f.verifiedAfterRestore(), f.verifiedAfterRestore() + f.missingAfterRestore());
        }
        if (all.size() == 2) {
            StateBenchmark.Figures a = all.get(0);
            StateBenchmark.Figures b = all.get(1);
            System.out.printf(Locale.ROOT, "%nratios %s/%s: change-round checkpoint written %.2f, duration %.2f; restore %.2f%n",
                    b.backend(), a.backend(), ratio(b.medianRoundCheckpointedBytes(), a.medianRoundCheckpointedBytes()),
                    ratio(b.medianRoundMillis(), a.medianRoundMillis()), ratio(b.medianRestoreMillis(), a.medianRestoreMillis()));
        }
        boolean lost = all.stream().anyMatch(f -> f.missingAfterRestore() > 0);
        if (lost) System.err.println("error: state missing after a restore (see the table)");
        return lost ? 1 : 0;
    }

    private static double ratio(long x, long y) {
        return y == 0 ? Double.NaN : x / (double) y;
    }
}
