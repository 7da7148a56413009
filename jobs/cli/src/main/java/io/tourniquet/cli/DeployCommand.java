package io.tourniquet.cli;

import com.fasterxml.jackson.databind.JsonNode;
import io.tourniquet.config.ClusterArgs;
import io.tourniquet.config.Settings;
import io.tourniquet.config.TourniquetConfig;
import io.tourniquet.detect.job.DetectJobRunner;
import io.tourniquet.index.IndexJobRunner;
import io.tourniquet.json.Json;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.ConnectException;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.http.HttpClient;
import java.net.http.HttpConnectTimeoutException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.Callable;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * Submits the detect and/or index job to a Flink JobManager over its REST API: uploads the job jar
 * ({@code jobs/cli/target/tourniquet-jobs.jar}) and runs each job's entry point
 * ({@link DetectJobRunner#main}, {@link IndexJobRunner#main}) with this command's effective
 * settings as {@code key=value} arguments, restoring from the job's newest retained checkpoint or
 * savepoint as {@code run} does.
 *
 * <p>Why REST jar upload + run and not a remote environment or {@code RestClusterClient}: the job's
 * graph is then built by the same entry point, on the cluster's classpath, as in Kubernetes
 * (application mode runs that main too), so 'deploy' tests the path production takes; the launcher
 * needs no Flink client version matching the cluster's, only the JDK's HTTP client and Jackson (like
 * {@code savepoint}); and the jar uploaded is the very file the image ships.
 */
@Command(name = "deploy", mixinStandardHelpOptions = true,
        description = {"Submit the detect and/or index job to a Flink cluster's JobManager (REST), e.g. the local "
                        + "one of 'infra/local/up --flink'.",
                "Uploads jobs/cli/target/tourniquet-jobs.jar and runs each job with this command's settings (the same "
                        + "flags and TOURNIQUET_* variables as 'run'). Each job resumes from its newest retained "
                        + "checkpoint or savepoint (job.checkpoint-dir, which the cluster must reach at the same "
                        + "path) and says which; --fresh starts over, --from restores a given one. Prints the job ids.",
                "The settings, keys included, travel to the JobManager in the request: use a loopback or TLS "
                        + "address, or leave the keys out here and give them to the JobManager's environment.",
                "Stop the jobs with a savepoint: 'tourniquet savepoint --rest URL --stop'."})
public final class DeployCommand implements Callable<Integer> {
    enum Jobs { all, detect, index }

    static final Duration CONNECT = Duration.ofSeconds(3);
    /** A job's main builds its graph on the JobManager (the index job's applies index templates first). */
    static final Duration RUN_TIMEOUT = Duration.ofMinutes(3);

    @Mixin
    ConfigOptions options;

    @Option(names = "--job", description = "Which job: ${COMPLETION-CANDIDATES} (default: ${DEFAULT-VALUE}).")
    Jobs job = Jobs.all;

    @Option(names = "--jobmanager", paramLabel = "URL", description = "The JobManager's REST address "
            + "(deploy.jobmanager, default http://127.0.0.1:8081).")
    String jobmanager;

    @Option(names = "--jar", paramLabel = "PATH", description = "The job jar (deploy.jar; default: "
            + "jobs/cli/target/tourniquet-jobs.jar of this build).")
    String jar;

    @Option(names = "--bounded", description = "Replay what the input topics hold, then end (one job at a time: "
            + "--job detect, then --job index once it has finished).")
    boolean bounded;

    @ArgGroup(exclusive = true)
    RunCommand.Start start = new RunCommand.Start();

    @Override
    public Integer call() throws Exception {
        TourniquetConfig cfg = resolve();
        List<Submission> submissions = plan(cfg);
        String endpoint = cfg.get(Settings.DEPLOY_JOBMANAGER).replaceAll("/+$", "");
        Path jarFile = jarPath(cfg);
        HttpClient http = HttpClient.newBuilder().connectTimeout(CONNECT).build();
        JobManager jm = new JobManager(http, endpoint);
        jm.requireReachable();
        jm.refuseRunning(submissions);
        // Topics exist before any job reads them (as 'run' does); index templates are the index job's.
        SetupCommand.applyTopics(cfg);
        RunCommand.Restore restore = start.fresh ? RunCommand.Restore.FRESH
                : start.from != null ? RunCommand.Restore.given(start.from) : RunCommand.Restore.LATEST;
        System.out.println("uploading " + jarFile + " to " + endpoint);
        String jarId = jm.upload(jarFile);
        try {
            for (Submission s : submissions) {
                Optional<String> from = restore.resolve(cfg, s.stateName());
                String jobId = jm.run(jarId, runRequest(s, programArgs(cfg, bounded), from));
                System.out.println(s.stateName() + " job: submitted as " + jobId + " (" + s.jobName() + ") on "
                        + endpoint);
            }
        } finally {
            jm.deleteJar(jarId); // the submitted jobs keep their own copy in the blob server
        }
        return 0;
    }

    /** Settings: defaults, environment, flags, and the command's own flags over them. */
    TourniquetConfig resolve() {
        TourniquetConfig cfg = options.resolve(RunCommand.localDefaults());
        Map<String, String> own = new LinkedHashMap<>();
        if (jobmanager != null) own.put(Settings.DEPLOY_JOBMANAGER.key(), jobmanager);
        if (jar != null) own.put(Settings.DEPLOY_JAR.key(), jar);
        return own.isEmpty() ? cfg : cfg.with(own);
    }

    /** One job to submit: its entry point, the name it runs under and the name its state is kept under. */
    record Submission(String entryClass, String jobName, String stateName) {}

    /** What to submit, after every check that needs no network (so a mistake costs no upload). */
    List<Submission> plan(TourniquetConfig cfg) {
        if (start.from != null && job == Jobs.all) {
            throw new IllegalArgumentException("--from restores one job's state: add --job detect or --job index");
        }
        if (bounded && job == Jobs.all) {
            throw new IllegalArgumentException("--bounded replays one job at a time: --job detect, then --job index "
                    + "once the detect job has finished");
        }
        if (job != Jobs.index) {
            // Keys may instead be in the JobManager's environment; if they are not there either, the
            // detect job's main fails on the cluster and the error comes back in the run response.
            if (cfg.find(Settings.SIGNING_KEY).isPresent() && cfg.find(Settings.CONTROL_KEY).isPresent()) {
                RunCommand.checkKeys(cfg);
            } else {
                System.out.println("note: TOURNIQUET_SIGNING_KEY / TOURNIQUET_SIGNING_CONTROL_KEY not both set here: "
                        + "the JobManager's environment must provide them");
            }
        }
        List<Submission> out = new ArrayList<>();
        if (job != Jobs.index) {
            out.add(new Submission(DetectJobRunner.class.getName(), "tourniquet-detect",
                    DetectJobRunner.stateName(bounded)));
        }
        if (job != Jobs.detect) {
            out.add(new Submission(IndexJobRunner.class.getName(), "tourniquet-index",
                    IndexJobRunner.stateName(bounded)));
        }
        return out;
    }

    /**
     * The entry point's arguments: every setting that differs from its default (from flags, the
     * environment or the local defaults such as the checkpoint directory) as {@code key=value}, so
     * the job on the cluster resolves exactly the configuration resolved here; {@code --bounded}
     * for a replay.
     */
    static List<String> programArgs(TourniquetConfig cfg, boolean bounded) {
        List<String> args = new ArrayList<>();
        cfg.nonDefaults().forEach((k, v) -> {
            // The launcher's own settings mean nothing to the job.
            if (!k.equals(Settings.DEPLOY_JOBMANAGER.key()) && !k.equals(Settings.DEPLOY_JAR.key())) {
                args.add(k + "=" + v);
            }
        });
        if (bounded) args.add(ClusterArgs.BOUNDED);
        return args;
    }

    /** The body of {@code POST /jars/:jarid/run}. */
    static Map<String, Object> runRequest(Submission s, List<String> programArgs, Optional<String> restoreFrom) {
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("entryClass", s.entryClass());
        body.put("programArgsList", programArgs);
        // A checkpoint of this job restores every operator (uids are stable); a state that does not
        // fit must fail loudly, never be dropped in silence.
        body.put("allowNonRestoredState", false);
        restoreFrom.ifPresent(path -> body.put("savepointPath", path));
        return body;
    }

    /** The jar to upload: deploy.jar, or tourniquet-jobs.jar beside this build's classes. */
    static Path jarPath(TourniquetConfig cfg) {
        Optional<String> given = cfg.find(Settings.DEPLOY_JAR);
        Path p = given.map(Path::of).orElseGet(DeployCommand::builtJar);
        if (!Files.isRegularFile(p)) {
            throw new IllegalArgumentException("no job jar at " + p + (given.isPresent() ? ""
                    : ": build it with 'mvn -DskipTests package' (the launcher's build does)"));
        }
        return p.toAbsolutePath();
    }

    /**
     * {@code jobs/cli/target/tourniquet-jobs.jar}, found from where this class was loaded: the
     * launcher and the tests load it from {@code jobs/cli/target/classes}, a packaged launcher from
     * the plain jar in {@code jobs/cli/target}; either way the job jar is in that {@code target}.
     */
    static Path builtJar() {
        try {
            Path loadedFrom = Path.of(DeployCommand.class.getProtectionDomain().getCodeSource().getLocation().toURI());
            return loadedFrom.getParent().resolve("tourniquet-jobs.jar");
        } catch (URISyntaxException | SecurityException | NullPointerException e) {
            return Path.of("jobs", "cli", "target", "tourniquet-jobs.jar");
        }
    }

    /** The few JobManager REST calls 'deploy' makes. */
    static final class JobManager {
        private final HttpClient http;
        private final String endpoint;

        JobManager(HttpClient http, String endpoint) {
            this.http = http;
            this.endpoint = endpoint;
        }

        /** Fails with what to do when nothing (or something other than Flink) answers. */
        void requireReachable() throws IOException, InterruptedException {
            HttpResponse<String> r = send(HttpRequest.newBuilder(uri("/overview")).timeout(Duration.ofSeconds(10))
                    .GET().build(), "report on");
            if (r.statusCode() != 200 || !r.body().contains("flink-version")) {
                throw new IllegalStateException("no Flink JobManager at " + endpoint + " (GET /overview: HTTP "
                        + r.statusCode() + ")");
            }
        }

        /** Two copies of a job would fight over its transactional ids and consumer group: refuse. */
        void refuseRunning(List<Submission> submissions) throws IOException, InterruptedException {
            HttpResponse<String> r = send(HttpRequest.newBuilder(uri("/jobs/overview"))
                    .timeout(Duration.ofSeconds(10)).GET().build(), "list the jobs of");
            JsonNode jobs = Json.MAPPER.readTree(r.body()).path("jobs");
            for (Submission s : submissions) {
                for (JsonNode j : jobs) {
                    String state = j.path("state").asText();
                    if (j.path("name").asText().equals(s.jobName()) && !isTerminal(state)) {
                        throw new IllegalStateException(s.jobName() + " is already " + state + " on " + endpoint
                                + " as job " + j.path("jid").asText() + "; stop it first ('tourniquet savepoint --rest "
                                + endpoint + " --stop')");
                    }
                }
            }
        }

        private static boolean isTerminal(String state) {
            return state.equals("FINISHED") || state.equals("CANCELED") || state.equals("FAILED");
        }

        /** {@code POST /jars/upload} (multipart, field {@code jarfile}); returns the jar id. */
        String upload(Path jar) throws IOException, InterruptedException {
            String boundary = "tourniquet-" + UUID.randomUUID();
            ByteArrayOutputStream body = new ByteArrayOutputStream();
            body.write(("--" + boundary + "\r\nContent-Disposition: form-data; name=\"jarfile\"; filename=\""
                    + jar.getFileName() + "\"\r\nContent-Type: application/x-java-archive\r\n\r\n")
                    .getBytes(StandardCharsets.UTF_8));
            body.write(Files.readAllBytes(jar));
            body.write(("\r\n--" + boundary + "--\r\n").getBytes(StandardCharsets.UTF_8));
            HttpResponse<String> r = send(HttpRequest.newBuilder(uri("/jars/upload"))
                    .timeout(Duration.ofMinutes(2))
                    .header("Content-Type", "multipart/form-data; boundary=" + boundary)
                    .POST(HttpRequest.BodyPublishers.ofByteArray(body.toByteArray())).build(), "upload the jar to");
            JsonNode json = ok(r, "jar upload");
            String filename = json.path("filename").asText();
            if (filename.isEmpty()) throw new IllegalStateException("jar upload: no file name in " + r.body());
            return filename.substring(filename.lastIndexOf('/') + 1);
        }

        /** {@code POST /jars/:jarid/run}; returns the job id. The job's main runs on the JobManager. */
        String run(String jarId, Map<String, Object> request) throws IOException, InterruptedException {
            HttpResponse<String> r = send(HttpRequest.newBuilder(uri("/jars/" + jarId + "/run"))
                    .timeout(RUN_TIMEOUT).header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofString(Json.MAPPER.writeValueAsString(request))).build(),
                    "submit the job to");
            return ok(r, "run " + request.get("entryClass")).path("jobid").asText();
        }

        void deleteJar(String jarId) {
            try {
                http.send(HttpRequest.newBuilder(uri("/jars/" + jarId)).timeout(Duration.ofSeconds(10)).DELETE().build(),
                        HttpResponse.BodyHandlers.discarding());
            } catch (IOException | InterruptedException e) {
                // Only disk space on the JobManager: the jobs do not need the uploaded file any more.
                System.out.println("note: could not delete the uploaded jar " + jarId + " (" + e + ")");
            }
        }

        private HttpResponse<String> send(HttpRequest request, String what) throws IOException, InterruptedException {
            try {
                return http.send(request, HttpResponse.BodyHandlers.ofString());
            } catch (ConnectException | HttpConnectTimeoutException e) {
                throw new IllegalStateException("cannot reach the Flink JobManager at " + endpoint + " ("
                        + (e.getMessage() == null ? "connection refused" : e.getMessage())
                        + "); is the cluster up? ('infra/local/up --flink', or give --jobmanager URL)");
            } catch (HttpTimeoutException e) {
                throw new IllegalStateException("the Flink JobManager at " + endpoint + " did not answer in time when "
                        + "asked to " + what + " it");
            }
        }

        /** The JSON of a 2xx response, or the JobManager's own error (e.g. the job's main failed). */
        private static JsonNode ok(HttpResponse<String> r, String what) throws IOException {
            if (r.statusCode() / 100 == 2) return Json.MAPPER.readTree(r.body());
            String detail = r.body();
            try {
                JsonNode errors = Json.MAPPER.readTree(r.body()).path("errors");
                if (errors.isArray() && !errors.isEmpty()) {
                    List<String> lines = new ArrayList<>();
                    for (JsonNode e : errors) lines.add(e.asText().lines().findFirst().orElse(""));
                    // Flink nests the main's exception in a stack trace: its "Caused by" lines say why.
                    for (JsonNode e : errors) {
                        e.asText().lines().filter(l -> l.startsWith("Caused by:")).reduce((a, b) -> b)
                                .ifPresent(lines::add);
                    }
                    detail = String.join(" | ", lines);
                }
            } catch (IOException notJson) {
                // keep the raw body
            }
            throw new IllegalStateException(what + " failed: HTTP " + r.statusCode() + ": " + detail);
        }

        private URI uri(String path) {
            return URI.create(endpoint + path);
        }
    }
}
