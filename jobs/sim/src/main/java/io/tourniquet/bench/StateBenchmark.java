package io.tourniquet.bench;

import io.tourniquet.detect.AnomalyProfile;
import io.tourniquet.detect.WhitelistEntry;
import io.tourniquet.notify.AntiPhishingCode;
import io.tourniquet.notify.CodeHistory;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.flink.api.common.JobID;
import org.apache.flink.api.common.JobStatus;
import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.api.common.state.MapState;
import org.apache.flink.api.common.state.MapStateDescriptor;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.api.connector.source.lib.NumberSequenceSource;
import org.apache.flink.api.connector.source.util.ratelimit.RateLimiter;
import org.apache.flink.api.connector.source.util.ratelimit.RateLimiterStrategy;
import org.apache.flink.configuration.CheckpointingOptions;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.ExternalizedCheckpointRetention;
import org.apache.flink.configuration.MemorySize;
import org.apache.flink.configuration.RestartStrategyOptions;
import org.apache.flink.configuration.StateBackendOptions;
import org.apache.flink.configuration.TaskManagerOptions;
import org.apache.flink.connector.datagen.source.DataGeneratorSource;
import org.apache.flink.core.execution.CheckpointType;
import org.apache.flink.runtime.checkpoint.AbstractCheckpointStats;
import org.apache.flink.runtime.checkpoint.CheckpointStatsStatus;
import org.apache.flink.runtime.checkpoint.CompletedCheckpointStats;
import org.apache.flink.runtime.jobgraph.SavepointRestoreSettings;
import org.apache.flink.runtime.minicluster.MiniCluster;
import org.apache.flink.runtime.minicluster.MiniClusterConfiguration;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.streaming.api.functions.KeyedProcessFunction;
import org.apache.flink.streaming.api.functions.sink.v2.DiscardingSink;
import org.apache.flink.streaming.api.graph.StreamGraph;
import org.apache.flink.util.Collector;

/**
 * How big the detect job's lasting per-user state gets and what checkpointing and restoring it
 * costs, heap against RocksDB, in one run on one embedded cluster configuration.
 *
 * <p>Each simulated user gets what a long-lived account leaves in the detect job for good: an
 * anomaly profile (past withdrawals, known devices, IPs, countries), an anti-phishing code history
 * and whitelisted addresses, in the job's own state types. Then: one full checkpoint of all users;
 * rounds in which a share of the users change (a withdrawal, a new address) followed each by a
 * checkpoint (incremental where the backend can); restores from the last checkpoint, each timed
 * from submission to the first record processed against restored state. After each restore the
 * changed users' state is checked to be there, so a restore that lost state cannot look fast.
 *
 * <p>The input is a number sequence behind a gate the benchmark opens: records flow only when a
 * phase asks for them, while the job keeps running (and checkpointing) between phases. The gate
 * is in-JVM state, which is why this runs on a MiniCluster in this process and nowhere else.
 */
public final class StateBenchmark {
    public record Options(int users, double changedShare, int rounds, int restores, int parallelism, Path workDir,
                          List<String> backends, boolean snapshotCompression, Duration deadline) {
        public Options {
            if (users < 1) throw new IllegalArgumentException("users must be at least 1: " + users);
            if (!(changedShare > 0 && changedShare <= 1)) throw new IllegalArgumentException("changed share must be in (0, 1]: " + changedShare);
            if (rounds < 1 || restores < 1) throw new IllegalArgumentException("rounds and restores must be at least 1");
            for (String b : backends) {
                if (!b.equals("hashmap") && !b.equals("rocksdb")) throw new IllegalArgumentException("unknown state backend: " + b);
            }
        }

        int changedPerRound() {
            return Math.max(1, (int) Math.round(users * changedShare));
        }
    }

    /** One backend's figures. Durations in milliseconds, sizes in bytes. */
    public record Figures(String backend, int users, long loadMillis, long fullStateBytes, long fullCheckpointedBytes,
                          long fullCheckpointMillis, List<Long> roundCheckpointedBytes, List<Long> roundStateBytes,
                          List<Long> roundCheckpointMillis, List<Long> restoreMillis, long verifiedAfterRestore,
                          long missingAfterRestore) {
        public long medianRoundMillis() { return median(roundCheckpointMillis); }
        public long medianRoundCheckpointedBytes() { return median(roundCheckpointedBytes); }
        public long medianRestoreMillis() { return median(restoreMillis); }
    }

    private StateBenchmark() {}

    public static List<Figures> run(Options o, java.io.PrintStream out) throws Exception {
        List<Figures> all = new ArrayList<>();
        for (String backend : o.backends()) all.add(runOne(o, backend, out));
        return all;
    }

    static Figures runOne(Options o, String backend, java.io.PrintStream out) throws Exception {
        Path dir = o.workDir().resolve(backend).toAbsolutePath();
        Configuration conf = new Configuration();
        conf.set(StateBackendOptions.STATE_BACKEND, backend);
        conf.set(CheckpointingOptions.INCREMENTAL_CHECKPOINTS, true); // ignored by the heap backend
        conf.set(CheckpointingOptions.CHECKPOINTS_DIRECTORY, dir.resolve("checkpoints").toUri().toString());
        conf.set(CheckpointingOptions.EXTERNALIZED_CHECKPOINT_RETENTION, ExternalizedCheckpointRetention.RETAIN_ON_CANCELLATION);
        conf.set(CheckpointingOptions.MAX_RETAINED_CHECKPOINTS, 2);
        conf.set(org.apache.flink.configuration.ExecutionOptions.SNAPSHOT_COMPRESSION, o.snapshotCompression());
        // What 'run' gets by default on the same machine: RocksDB's block cache and write buffers
        // come from managed memory.
        conf.set(TaskManagerOptions.MANAGED_MEMORY_SIZE, MemorySize.ofMebiBytes(512));
        conf.set(RestartStrategyOptions.RESTART_STRATEGY, "none"); // a failure is a failed benchmark, not a retry
        MiniCluster cluster = new MiniCluster(new MiniClusterConfiguration.Builder().setConfiguration(conf)
                .setNumTaskManagers(1).setNumSlotsPerTaskManager(o.parallelism()).build());
        cluster.start();
        try {
            Gate.reset();
            Counters.reset();
            long deadline = System.nanoTime() + o.deadline().toNanos();
            JobID job = cluster.submitJob(graph(conf, o, null)).get().getJobID();
            awaitRunning(cluster, job, deadline);

            long t0 = System.nanoTime();
            Gate.open(o.users());
            Counters.await(o.users(), deadline);
            long load = millisSince(t0);
            gc();
            CompletedCheckpointStats full = checkpoint(cluster, job, CheckpointType.FULL, deadline);
            out.printf(Locale.ROOT, "  %-8s loaded %,d users in %,d ms; full checkpoint: state %s, written %s, %,d ms%n",
                    backend, o.users(), load, bytes(full.getStateSize()), bytes(full.getCheckpointedSize()),
                    full.getEndToEndDuration());

            List<Long> roundBytes = new ArrayList<>();
            List<Long> roundState = new ArrayList<>();
            List<Long> roundMillis = new ArrayList<>();
            long sent = o.users();
            CompletedCheckpointStats last = full;
            for (int r = 0; r < o.rounds(); r++) {
                sent += o.changedPerRound();
                Gate.open(sent);
                Counters.await(sent, deadline);
                last = checkpoint(cluster, job, CheckpointType.CONFIGURED, deadline);
                roundBytes.add(last.getCheckpointedSize());
                roundState.add(last.getStateSize());
                roundMillis.add(last.getEndToEndDuration());
            }
            out.printf(Locale.ROOT, "  %-8s %d rounds of %,d changed users: checkpoint written %s (median; state %s), %,d ms (median; runs %s)%n",
                    backend, o.rounds(), o.changedPerRound(), bytes(median(roundBytes)), bytes(median(roundState)),
                    median(roundMillis), roundMillis);
            cluster.cancelJob(job).get(1, TimeUnit.MINUTES);
            awaitTerminal(cluster, job, deadline);

            List<Long> restores = new ArrayList<>();
            long verified = 0;
            long missing = 0;
            for (int i = 0; i < o.restores(); i++) {
                Counters.reset();
                Gate.hold(sent);
                long start = System.nanoTime();
                JobID restored = cluster.submitJob(graph(conf, o, last.getExternalPath())).get().getJobID();
                // A task turns RUNNING once its state is restored (it is INITIALIZING meanwhile).
                awaitAllTasksRunning(cluster, restored, deadline);
                restores.add(millisSince(start));
                // Then as many users change again as in a round: each must find its state.
                long more = o.changedPerRound();
                Gate.open(sent + more);
                Counters.await(more, deadline);
                verified += Counters.FOUND.get();
                missing += Counters.MISSING.get();
                cluster.cancelJob(restored).get(1, TimeUnit.MINUTES);
                awaitTerminal(cluster, restored, deadline);
            }
            out.printf(Locale.ROOT, "  %-8s restore of %,d users: %,d ms (median; runs %s); state found for %,d of %,d records after restore%n",
                    backend, o.users(), median(restores), restores, verified, verified + missing);
            return new Figures(backend, o.users(), load, full.getStateSize(), full.getCheckpointedSize(),
                    full.getEndToEndDuration(), roundBytes, roundState, roundMillis, restores, verified, missing);
        } finally {
            cluster.closeAsync().get(1, TimeUnit.MINUTES);
        }
    }

    private static StreamGraph graph(Configuration conf, Options o, String restoreFrom) {
        StreamExecutionEnvironment env = new StreamExecutionEnvironment(conf);
        env.setParallelism(o.parallelism());
        // Checkpoints are triggered by the benchmark only (a huge interval keeps checkpointing on).
        env.enableCheckpointing(Duration.ofDays(1).toMillis());
        DataGeneratorSource<Long> source = new DataGeneratorSource<>(StateBenchmark::generate, Long.MAX_VALUE, new GateStrategy(), Types.LONG);
        int users = o.users();
        env.fromSource(source, WatermarkStrategy.noWatermarks(), "gated-sequence").uid("bench-state-source")
                .setParallelism(1)
                .keyBy(i -> userId(userOf(i, users)))
                .process(new Loader(users)).uid("bench-state-loader").name("lasting-user-state")
                .sinkTo(new DiscardingSink<>()).uid("bench-state-sink").name("discard");
        StreamGraph graph = env.getStreamGraph();
        graph.setJobName("tourniquet-bench-state");
        if (restoreFrom != null) graph.setSavepointRestoreSettings(SavepointRestoreSettings.forPath(restoreFrom));
        return graph;
    }

    private static Long generate(Long i) {
        Gate.emitted(i);
        return i;
    }

    /** Record i: for the first {@code users} records, user i is created; after that, user i's change. */
    static int userOf(long i, int users) {
        if (i < users) return (int) i;
        // Spread the changes over the whole key space (a multiplicative hash), as real activity is.
        return (int) Math.floorMod((i - users) * 2654435761L, (long) users);
    }

    static String userId(int user) {
        return String.format(Locale.ROOT, "usr_%08d", user);
    }

    /**
     * Writes a user's lasting state as the detect job's own types, with the sizes an active
     * account has: 10 past withdrawals, 3 devices, 4 IPs, 2 countries, 2 code changes, 3 addresses.
     */
    static final class Loader extends KeyedProcessFunction<String, Long, Long> {
        private final int users;
        private transient ValueState<AnomalyProfile> profile;
        private transient ValueState<CodeHistory> codes;
        private transient MapState<String, WhitelistEntry> whitelist;

        Loader(int users) {
            this.users = users;
        }

        @Override
        public void open(org.apache.flink.api.common.functions.OpenContext ctx) {
            profile = getRuntimeContext().getState(new ValueStateDescriptor<>("anomaly-profile", AnomalyProfile.class));
            codes = getRuntimeContext().getState(new ValueStateDescriptor<>("anti-phishing-codes", CodeHistory.class));
            whitelist = getRuntimeContext().getMapState(
                    new MapStateDescriptor<>("whitelisted-addresses", String.class, WhitelistEntry.class));
        }

        @Override
        public void processElement(Long i, Context ctx, Collector<Long> out) throws Exception {
            long t = 1_640_995_200_000L + i * 1000; // 2022-01-01 onwards
            String user = ctx.getCurrentKey();
            if (i < users) {
                profile.update(newProfile(user, t));
                CodeHistory h = new CodeHistory();
                h.changes.add(new AntiPhishingCode("Kx7" + user.substring(user.length() - 5), t - 90L * 86_400_000, eventId(user, 1)));
                h.changes.add(new AntiPhishingCode("Qm2" + user.substring(user.length() - 5), t - 30L * 86_400_000, eventId(user, 2)));
                codes.update(h);
                for (int a = 0; a < 3; a++) whitelist.put(address(user, a), entry(address(user, a), t - a * 86_400_000L, eventId(user, 10 + a)));
            } else {
                AnomalyProfile p = profile.value();
                if (p == null) {
                    Counters.MISSING.incrementAndGet();
                    p = newProfile(user, t);
                } else {
                    Counters.FOUND.incrementAndGet();
                }
                int n = Math.min(p.withdrawalTimes.length + 1, 50);
                long[] times = Arrays.copyOfRange(p.withdrawalTimes, p.withdrawalTimes.length - (n - 1), p.withdrawalTimes.length + 1);
                double[] usd = Arrays.copyOfRange(p.withdrawalUsd, p.withdrawalUsd.length - (n - 1), p.withdrawalUsd.length + 1);
                times[n - 1] = t;
                usd[n - 1] = 250.0 + (i % 1000);
                p.withdrawalTimes = times;
                p.withdrawalUsd = usd;
                profile.update(p);
                String a = address(user, 100 + (int) (i % 1000));
                whitelist.put(a, entry(a, t, eventId(user, (int) (i % 100_000))));
            }
            Counters.PROCESSED.incrementAndGet();
        }

        private static AnomalyProfile newProfile(String user, long t) {
            AnomalyProfile p = new AnomalyProfile();
            p.withdrawalTimes = new long[10];
            p.withdrawalUsd = new double[10];
            for (int k = 0; k < 10; k++) {
                p.withdrawalTimes[k] = t - (10 - k) * 7L * 86_400_000;
                p.withdrawalUsd[k] = 100.0 + k * 37.5;
            }
            p.devices = new String[] {"dev-" + user + "-a1f3c9", "dev-" + user + "-b72e01", "dev-" + user + "-c0d4aa"};
            p.ips = new String[] {"203.0.113.17", "198.51.100.42", "192.0.2.201", "2001:db8::1f:4a"};
            p.countries = new String[] {"SG", "MY"};
            return p;
        }

        private static String address(String user, int n) {
            return String.format(Locale.ROOT, "0x%016x%024x", user.hashCode() & 0xffffffffL, (long) n);
        }

        private static WhitelistEntry entry(String address, long at, String eventId) {
            WhitelistEntry e = new WhitelistEntry();
            e.address = address;
            e.addedAt = at;
            e.addedEventId = eventId;
            return e;
        }

        private static String eventId(String user, int n) {
            return String.format(Locale.ROOT, "evt-%s-%012d-4b1e-9c2d", user, n);
        }
    }

    /** What the loader saw, shared with the driver through this JVM. */
    static final class Counters {
        static final AtomicLong PROCESSED = new AtomicLong();
        static final AtomicLong FOUND = new AtomicLong();
        static final AtomicLong MISSING = new AtomicLong();

        static void reset() {
            PROCESSED.set(0);
            FOUND.set(0);
            MISSING.set(0);
        }

        static void await(long processed, long deadline) throws InterruptedException {
            while (PROCESSED.get() < processed) {
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException("the job processed " + PROCESSED.get() + " of " + processed + " records before the deadline");
                }
                Thread.sleep(2);
            }
        }
    }

    /**
     * Lets the source emit record numbers below a limit the driver raises. The reader waits on the
     * returned stage without blocking its task thread, so checkpoints pass while the gate is shut.
     * It grants by the number of the next record (which the generator reports), not by counting
     * permits: a reader also asks for a permit on polls that emit nothing (before its split arrives).
     */
    static final class Gate {
        private static long allowed;
        private static long next;
        private static final List<CompletableFuture<Void>> waiting = new ArrayList<>();

        static synchronized void reset() {
            hold(0);
        }

        /** After a restore the source resumes at {@code position}: nothing flows until opened further. */
        static synchronized void hold(long position) {
            allowed = position;
            next = position;
            waiting.clear();
        }

        static void open(long upTo) {
            List<CompletableFuture<Void>> wake;
            synchronized (Gate.class) {
                allowed = Math.max(allowed, upTo);
                wake = new ArrayList<>(waiting);
                waiting.clear();
            }
            // Completed outside the lock: a reader re-asks at once, from its own thread.
            wake.forEach(f -> f.complete(null));
        }

        static synchronized void emitted(long index) {
            next = Math.max(next, index + 1);
        }

        static synchronized CompletionStage<Void> acquire(int permits) {
            if (next < allowed) return CompletableFuture.completedFuture(null);
            // Woken when the gate opens; the reader then polls and asks again for its next record.
            CompletableFuture<Void> f = new CompletableFuture<>();
            waiting.add(f);
            return f;
        }
    }

    static final class GateStrategy implements RateLimiterStrategy<NumberSequenceSource.NumberSequenceSplit> {
        @Override
        public RateLimiter<NumberSequenceSource.NumberSequenceSplit> createRateLimiter(int parallelism) {
            return Gate::acquire;
        }
    }

    private static CompletedCheckpointStats checkpoint(MiniCluster cluster, JobID job, CheckpointType type, long deadline)
            throws Exception {
        long id = cluster.triggerCheckpoint(job, type).get(Math.max(1, (deadline - System.nanoTime()) / 1_000_000), TimeUnit.MILLISECONDS);
        while (true) {
            AbstractCheckpointStats s = cluster.getExecutionGraph(job).get().getCheckpointStatsSnapshot().getHistory()
                    .getCheckpointById(id);
            if (s instanceof CompletedCheckpointStats c && c.getStatus() == CheckpointStatsStatus.COMPLETED) return c;
            if (s != null && s.getStatus() == CheckpointStatsStatus.FAILED) throw new IllegalStateException("checkpoint " + id + " failed");
            if (System.nanoTime() > deadline) throw new IllegalStateException("no statistics for checkpoint " + id);
            Thread.sleep(10);
        }
    }

    private static void awaitRunning(MiniCluster cluster, JobID job, long deadline) throws Exception {
        while (cluster.getJobStatus(job).get() != JobStatus.RUNNING) {
            if (System.nanoTime() > deadline) throw new IllegalStateException("job " + job + " did not start");
            Thread.sleep(10);
        }
    }

    private static void awaitAllTasksRunning(MiniCluster cluster, JobID job, long deadline) throws Exception {
        while (true) {
            var graph = cluster.getExecutionGraph(job).get();
            boolean all = graph.getState() == JobStatus.RUNNING;
            for (var v : graph.getAllExecutionVertices()) {
                all &= v.getExecutionState() == org.apache.flink.runtime.execution.ExecutionState.RUNNING;
            }
            if (all) return;
            if (graph.getState().isGloballyTerminalState()) throw new IllegalStateException("job " + job + " ended: " + graph.getState());
            if (System.nanoTime() > deadline) throw new IllegalStateException("job " + job + " did not restore in time");
            Thread.sleep(2);
        }
    }

    private static void awaitTerminal(MiniCluster cluster, JobID job, long deadline) throws Exception {
        while (!cluster.getJobStatus(job).get().isGloballyTerminalState()) {
            if (System.nanoTime() > deadline) throw new IllegalStateException("job " + job + " did not end");
            Thread.sleep(10);
        }
    }

    private static void gc() {
        System.gc();
    }

    private static long millisSince(long start) {
        return (System.nanoTime() - start) / 1_000_000;
    }

    static long median(List<Long> xs) {
        long[] a = xs.stream().mapToLong(Long::longValue).sorted().toArray();
        if (a.length == 0) return 0;
        return a.length % 2 == 1 ? a[a.length / 2] : (a[a.length / 2 - 1] + a[a.length / 2]) / 2;
    }

    public static String bytes(long b) {
        if (b >= 1L << 30) return String.format(Locale.ROOT, "%.2f GiB", b / (double) (1L << 30));
        if (b >= 1L << 20) return String.format(Locale.ROOT, "%.1f MiB", b / (double) (1L << 20));
        if (b >= 1L << 10) return String.format(Locale.ROOT, "%.1f KiB", b / 1024.0);
        return b + " B";
    }
}
