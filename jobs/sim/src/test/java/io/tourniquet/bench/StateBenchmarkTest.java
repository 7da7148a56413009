package io.tourniquet.bench;

import static org.assertj.core.api.Assertions.assertThat;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The state benchmark measures what it claims: every changed user finds its state after each
 * restore, RocksDB's checkpoints after a change round are incremental and the heap's are full.
 * Small and fixed (2,000 users); figures are printed by {@code ./tourniquet bench-state}, never
 * asserted against time.
 */
class StateBenchmarkTest {
    @TempDir
    Path dir;

    @Test
    void restoresEveryUsersStateAndRocksDbCheckpointsOnlyWhatChanged() throws Exception {
        ByteArrayOutputStream console = new ByteArrayOutputStream();
        StateBenchmark.Options o = new StateBenchmark.Options(2_000, 0.05, 2, 2, 2, dir,
                List.of("hashmap", "rocksdb"), true, Duration.ofMinutes(3));
        List<StateBenchmark.Figures> all = StateBenchmark.run(o, new PrintStream(console, true, StandardCharsets.UTF_8));

        assertThat(all).extracting(StateBenchmark.Figures::backend).containsExactly("hashmap", "rocksdb");
        for (StateBenchmark.Figures f : all) {
            assertThat(f.missingAfterRestore()).as(f.backend() + ": users without state after a restore").isZero();
            assertThat(f.verifiedAfterRestore()).as(f.backend()).isEqualTo(2L * 100);
            assertThat(f.restoreMillis()).hasSize(2);
            assertThat(f.roundCheckpointedBytes()).hasSize(2);
            assertThat(f.fullStateBytes()).as(f.backend()).isPositive();
        }
        StateBenchmark.Figures heap = all.get(0);
        StateBenchmark.Figures rocks = all.get(1);
        // The heap backend writes everything each time; RocksDB only the files of the changes.
        assertThat(heap.medianRoundCheckpointedBytes()).isGreaterThanOrEqualTo(heap.fullCheckpointedBytes() / 2);
        assertThat(rocks.medianRoundCheckpointedBytes()).isLessThan(rocks.fullCheckpointedBytes() / 2);
        assertThat(console.toString(StandardCharsets.UTF_8)).contains("restore of 2,000 users", "rocksdb", "hashmap");
    }

    @Test
    void changesAreSpreadOverTheWholeKeySpace() {
        int users = 1_000;
        java.util.Set<Integer> hit = new java.util.HashSet<>();
        for (long i = users; i < users + 500; i++) {
            int u = StateBenchmark.userOf(i, users);
            assertThat(u).isBetween(0, users - 1);
            hit.add(u);
        }
        assertThat(hit.size()).as("distinct users among 500 changes").isGreaterThan(350);
        assertThat(StateBenchmark.userOf(7, users)).isEqualTo(7);
    }
}
