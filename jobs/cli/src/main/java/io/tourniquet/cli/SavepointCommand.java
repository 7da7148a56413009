package io.tourniquet.cli;

import com.fasterxml.jackson.databind.JsonNode;
import io.tourniquet.config.Settings;
import io.tourniquet.config.TourniquetConfig;
import io.tourniquet.detect.job.DetectJobRunner;
import io.tourniquet.detect.migrate.PerUserStateMigration;
import io.tourniquet.index.IndexJobRunner;
import io.tourniquet.json.Json;
import io.tourniquet.runtime.JobEnvironments;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * Takes a savepoint of the running detect and/or index job through Flink's REST API: of a running
 * {@code tourniquet run} (found on 127.0.0.1 in {@code job.rest-ports}) or of any JobManager given
 * with {@code --rest} ({@link FlinkRest}). Savepoints go where {@code run} looks for them, so the
 * next start resumes from the newest one.
 */
@Command(name = "savepoint", mixinStandardHelpOptions = true,
        description = {"Take a savepoint of the running detect and index jobs (for an upgrade, a move, a backup).",
                "Finds a running 'tourniquet run' on 127.0.0.1 (job.rest-ports), or use --rest for a cluster's "
                        + "JobManager. Savepoints go to job.savepoint-dir (default: 'savepoints' beside the "
                        + "checkpoint directory), where the next 'run' resumes from the newest.",
                "--stop stops the jobs after the savepoint (sources first, so nothing is half processed).",
                "'savepoint migrate' moves a detect-job savepoint of an earlier layout to this build's."},
        subcommands = {SavepointCommand.Migrate.class})
public final class SavepointCommand implements Callable<Integer> {
    @Mixin
    ConfigOptions options;

    @Option(names = "--job", description = "Which job: ${COMPLETION-CANDIDATES} (default: ${DEFAULT-VALUE}).")
    RunCommand.Jobs job = RunCommand.Jobs.both;

    @Option(names = "--rest", paramLabel = "URL", description = "A JobManager's REST address, e.g. http://flink-jm:8081 "
            + "(default: look for a running 'run' on 127.0.0.1).")
    String rest;

    @Option(names = "--stop", description = "Stop each job once its savepoint is written.")
    boolean stop;

    @Option(names = "--live", defaultValue = "true", negatable = true, description = "Savepoint the live jobs "
            + "(default) or, with --no-live, a running bounded replay ('run --bounded').")
    boolean live;

    @Option(names = "--timeout", paramLabel = "DURATION", defaultValue = "5 min",
            description = "Longest to wait for each savepoint (default: ${DEFAULT-VALUE}).")
    String timeout;

    @Override
    public Integer call() throws Exception {
        TourniquetConfig cfg = options.resolve(RunCommand.localDefaults());
        Duration wait = org.apache.flink.util.TimeUtils.parseDuration(timeout);
        HttpClient http = FlinkRest.client();
        Map<String, String> stateNames = new LinkedHashMap<>();
        if (job != RunCommand.Jobs.index) stateNames.put("tourniquet-detect", DetectJobRunner.stateName(!live));
        if (job != RunCommand.Jobs.detect) stateNames.put("tourniquet-index", IndexJobRunner.stateName(!live));

        int done = 0;
        List<String> missing = new ArrayList<>(stateNames.keySet());
        for (FlinkRest.FoundJob j : FlinkRest.scan(http, FlinkRest.endpoints(cfg, rest)).jobs()) {
            if (!stateNames.containsKey(j.name()) || !j.running()) continue;
            String target = JobEnvironments.savepointDir(cfg, stateNames.get(j.name())).orElseThrow(() ->
                    new IllegalArgumentException("no savepoint directory: set job.savepoint-dir or job.checkpoint-dir"));
            String location = savepoint(http, j.endpoint(), j.jid(), target, wait);
            System.out.println(j.name() + (stop ? ": stopped with savepoint " : ": savepoint ") + location);
            missing.remove(j.name());
            done++;
        }
        if (!missing.isEmpty()) {
            throw new IllegalStateException("no running " + String.join(" or ", missing) + " found at "
                    + FlinkRest.where(cfg, rest)
                    + (done > 0 ? " (the others were saved)" : "") + "; is 'tourniquet run' running"
                    + (live ? "" : " --bounded") + "?");
        }
        return 0;
    }

    /** Triggers the savepoint (or stop-with-savepoint) and waits for its location. */
    String savepoint(HttpClient http, String endpoint, String jobId, String target, Duration wait)
            throws IOException, InterruptedException {
        String path = stop ? "/stop" : "/savepoints";
        Map<String, Object> body = stop
                ? Map.of("targetDirectory", target, "drain", false, "formatType", "CANONICAL")
                : Map.of("target-directory", target, "cancel-job", false, "formatType", "CANONICAL");
        HttpResponse<String> triggered = http.send(HttpRequest.newBuilder(URI.create(endpoint + "/jobs/" + jobId + path))
                        .timeout(Duration.ofSeconds(30)).header("Content-Type", "application/json")
                        .POST(HttpRequest.BodyPublishers.ofString(Json.MAPPER.writeValueAsString(body))).build(),
                HttpResponse.BodyHandlers.ofString());
        if (triggered.statusCode() / 100 != 2) {
            throw new IllegalStateException("JobManager refused the savepoint of job " + jobId + ": HTTP "
                    + triggered.statusCode() + " " + triggered.body());
        }
        String requestId = Json.MAPPER.readTree(triggered.body()).path("request-id").asText();
        long deadline = System.nanoTime() + wait.toNanos();
        while (System.nanoTime() < deadline) {
            JsonNode status = FlinkRest.get(http, endpoint + "/jobs/" + jobId + "/savepoints/" + requestId).orElseThrow(() ->
                    new IllegalStateException("lost the JobManager at " + endpoint + " while job " + jobId
                            + " took its savepoint"));
            if (status.path("status").path("id").asText().equals("COMPLETED")) {
                JsonNode op = status.path("operation");
                if (op.has("location")) return op.path("location").asText();
                throw new IllegalStateException("savepoint of job " + jobId + " failed: "
                        + op.path("failure-cause").path("stack-trace").asText("(no cause given)").lines().findFirst()
                        .orElse(""));
            }
            Thread.sleep(200);
        }
        throw new IllegalStateException("savepoint of job " + jobId + " not complete within " + wait);
    }

    /**
     * {@code savepoint migrate}: a detect-job savepoint of the layout before the per-user steps
     * became one operator, moved to {@code detect-per-user} ({@link PerUserStateMigration}) on an
     * embedded Flink, so this build restores it. Offline: no job needs to run, nothing else is read.
     */
    @Command(name = "migrate", mixinStandardHelpOptions = true,
            description = {"Move a detect-job savepoint taken by a build before the per-user steps were one operator "
                    + "(operators dedup, detect-new-address-withdrawal, detect-account-drain, "
                    + "detect-unauthorized-approval, detect-anomaly-score) to this build's operator detect-per-user: "
                    + "every user's state and timers, and the rule versions. Every other operator's state is kept "
                    + "as it is. Runs on an embedded Flink; --from is only read.",
                    "Then: ./tourniquet run --job detect --from NEW_SAVEPOINT_DIR. A savepoint that already has the "
                            + "new layout is left alone (nothing is written)."})
    static final class Migrate implements Callable<Integer> {
        @Mixin
        ConfigOptions options;

        @Option(names = "--from", required = true, paramLabel = "OLD_SAVEPOINT_DIR",
                description = "The savepoint (or retained checkpoint) to migrate: the directory holding _metadata.")
        String from;

        @Option(names = "--to", required = true, paramLabel = "NEW_SAVEPOINT_DIR",
                description = "Where to write the migrated savepoint: a new (or empty) directory.")
        String to;

        @Override
        public Integer call() throws Exception {
            TourniquetConfig cfg = options.resolve(RunCommand.localDefaults());
            System.out.println(Main.logFileLine());
            PerUserStateMigration.Report report = PerUserStateMigration.migrate(location(from), location(to),
                    cfg.get(Settings.STATE_BACKEND), cfg.get(Settings.PARALLELISM));
            report.lines().forEach(System.out::println);
            if (!report.alreadyMigrated()) {
                System.out.println("next: ./tourniquet run --job detect --from " + report.to());
            }
            return 0;
        }

        /** A local path as an absolute file URI (so the result does not depend on Flink's working directory). */
        static String location(String path) {
            if (path.contains("://") || path.startsWith("file:")) return path;
            return Path.of(path).toAbsolutePath().normalize().toUri().toString();
        }
    }
}
