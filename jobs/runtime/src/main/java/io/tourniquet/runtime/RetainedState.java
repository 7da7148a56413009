package io.tourniquet.runtime;

import io.tourniquet.config.TourniquetConfig;
import java.io.IOException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.regex.Pattern;
import org.apache.flink.core.fs.FileStatus;
import org.apache.flink.core.fs.FileSystem;
import org.apache.flink.core.fs.Path;

/**
 * Finds the newest complete checkpoint or savepoint a job left behind, so a restart resumes where
 * the last run stopped. Flink writes {@code <checkpoint dir>/<job id>/chk-<n>/_metadata} and
 * {@code <savepoint dir>/savepoint-<...>/_metadata}; {@code _metadata} is written last, so a
 * directory without it (a checkpoint interrupted by a crash) is never chosen. Runs of the same
 * job have different job ids, so "newest" is by the time {@code _metadata} was written.
 * Through Flink's file systems, so {@code s3://} works wherever the plugin is installed.
 */
public final class RetainedState {
    private static final Pattern CHECKPOINT = Pattern.compile("chk-\\d+");
    private static final String METADATA = "_metadata";

    /** One restorable snapshot. */
    public record Snapshot(String path, Instant written, boolean savepoint) {
        public String describe() {
            return (savepoint ? "savepoint " : "checkpoint ") + path + " (written " + written + ")";
        }
    }

    private RetainedState() {}

    /** The newest checkpoint or savepoint of this job (as named for {@link JobEnvironments}), if any. */
    public static Optional<Snapshot> latest(TourniquetConfig cfg, String jobName) throws IOException {
        List<Snapshot> found = new ArrayList<>();
        Optional<String> checkpoints = JobEnvironments.checkpointDir(cfg, jobName);
        if (checkpoints.isPresent()) {
            for (FileStatus run : list(new Path(checkpoints.get()))) {
                if (!run.isDir()) continue;
                for (FileStatus chk : list(run.getPath())) {
                    if (chk.isDir() && CHECKPOINT.matcher(chk.getPath().getName()).matches()) {
                        metadata(chk.getPath(), false).ifPresent(found::add);
                    }
                }
            }
        }
        Optional<String> savepoints = JobEnvironments.savepointDir(cfg, jobName);
        if (savepoints.isPresent()) {
            for (FileStatus sp : list(new Path(savepoints.get()))) {
                if (sp.isDir() && sp.getPath().getName().startsWith("savepoint-")) {
                    metadata(sp.getPath(), true).ifPresent(found::add);
                }
            }
        }
        return found.stream().max(Comparator.comparing(Snapshot::written));
    }

    private static Optional<Snapshot> metadata(Path dir, boolean savepoint) throws IOException {
        Path meta = new Path(dir, METADATA);
        FileSystem fs = meta.getFileSystem();
        if (!fs.exists(meta)) return Optional.empty();
        FileStatus st = fs.getFileStatus(meta);
        if (st.getLen() == 0) return Optional.empty();
        return Optional.of(new Snapshot(dir.toString(), Instant.ofEpochMilli(st.getModificationTime()), savepoint));
    }

    private static FileStatus[] list(Path dir) throws IOException {
        FileSystem fs = dir.getFileSystem();
        if (!fs.exists(dir)) return new FileStatus[0];
        FileStatus[] st = fs.listStatus(dir);
        return st == null ? new FileStatus[0] : st;
    }
}
