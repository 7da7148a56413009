package io.tourniquet.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import com.sun.net.httpserver.HttpServer;
import io.tourniquet.config.ClusterArgs;
import io.tourniquet.config.Settings;
import io.tourniquet.config.TourniquetConfig;
import io.tourniquet.detect.job.DetectJobRunner;
import io.tourniquet.index.IndexJobRunner;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** 'deploy' argument handling, what it sends to the JobManager, and its errors before any job is submitted. */
class DeployCommandTest {
    static final String KEY = "an-operators-own-signing-key-0123456789abcdef";
    static final String CONTROL = "an-operators-own-control-key-0123456789abcdef";

    static DeployCommand parse(String... args) {
        DeployCommand cmd = new DeployCommand();
        new CommandLine(cmd).parseArgs(args);
        return cmd;
    }

    /** Runs {@code tourniquet deploy ...} as the launcher does; returns the exit code and stderr. */
    static Map.Entry<Integer, String> execute(String... args) {
        StringWriter err = new StringWriter();
        CommandLine cl = Main.commandLine();
        cl.setErr(new PrintWriter(err, true));
        int code = cl.execute(args);
        return Map.entry(code, err.toString());
    }

    @Test
    void defaultsAreBothJobsOnTheLocalClusterResumingTheLatestState() {
        DeployCommand cmd = parse();
        TourniquetConfig cfg = cmd.resolve();
        assertThat(cmd.job).isEqualTo(DeployCommand.Jobs.all);
        assertThat(cmd.start.fresh).isFalse();
        assertThat(cmd.start.from).isNull();
        assertThat(cfg.get(Settings.DEPLOY_JOBMANAGER)).isEqualTo("http://127.0.0.1:8081");
        assertThat(cfg.get(Settings.CHECKPOINT_DIR)).as("durable by default, like run").startsWith("file:");
        DeployCommand withKeys = parse("--set", "signing.key=" + KEY, "--set", "signing.control-key=" + CONTROL);
        assertThat(withKeys.plan(withKeys.resolve()))
                .extracting(DeployCommand.Submission::entryClass, DeployCommand.Submission::jobName,
                        DeployCommand.Submission::stateName)
                .containsExactly(
                        org.assertj.core.groups.Tuple.tuple(DetectJobRunner.class.getName(), "tourniquet-detect", "detect"),
                        org.assertj.core.groups.Tuple.tuple(IndexJobRunner.class.getName(), "tourniquet-index", "index"));
    }

    @Test
    void jobmanagerAndJarFlagsOverrideTheSettings() {
        TourniquetConfig cfg = parse("--jobmanager", "http://flink-jm:8081/", "--jar", "/x/y.jar",
                "--set", "deploy.jobmanager=http://other:1").resolve();
        assertThat(cfg.get(Settings.DEPLOY_JOBMANAGER)).isEqualTo("http://flink-jm:8081/");
        assertThat(cfg.get(Settings.DEPLOY_JAR)).isEqualTo("/x/y.jar");
        assertThatThrownBy(() -> parse("--jobmanager", "flink-jm:8081").resolve())
                .hasMessageContaining("deploy.jobmanager");
    }

    @Test
    void refusesWhatCannotWorkBeforeTouchingTheNetwork() {
        assertThatThrownBy(() -> {
            DeployCommand c = parse("--from", "/some/chk-3");
            c.plan(c.resolve());
        }).hasMessageContaining("--from restores one job's state");
        assertThatThrownBy(() -> {
            DeployCommand c = parse("--bounded");
            c.plan(c.resolve());
        }).hasMessageContaining("--bounded replays one job at a time");
        assertThatThrownBy(() -> parse("--fresh", "--from", "/some/chk-3"))
                .isInstanceOf(CommandLine.ParameterException.class).hasMessageContaining("mutually exclusive");
        assertThatThrownBy(() -> parse("--job", "both")).isInstanceOf(CommandLine.ParameterException.class);
        // The public demo keys are refused as by 'run'.
        assertThatThrownBy(() -> {
            DeployCommand c = parse("--job", "detect", "--set", "signing.key=" + DemoCommand.DEMO_SIGNING_KEY,
                    "--set", "signing.control-key=" + CONTROL);
            c.plan(c.resolve());
        }).hasMessageContaining("public demo key");
        DeployCommand index = parse("--job", "index", "--bounded", "--from", "/cp/chk-7");
        assertThat(index.plan(index.resolve())).extracting(DeployCommand.Submission::stateName)
                .containsExactly("index-replay");
    }

    @Test
    void theClusterResolvesExactlyTheConfigurationDeployResolved() {
        DeployCommand cmd = parse("--kafka", "k1:9092", "--set", "rule.bulk-drain.min-users=7",
                "--set", "signing.key=" + KEY, "--jobmanager", "http://jm:8081", "--bounded", "--job", "detect");
        TourniquetConfig here = cmd.resolve();
        List<String> args = DeployCommand.programArgs(here, true);
        assertThat(args).contains("kafka.bootstrap=k1:9092", "rule.bulk-drain.min-users=7", "signing.key=" + KEY,
                ClusterArgs.BOUNDED);
        assertThat(args).noneMatch(a -> a.startsWith("deploy."));
        assertThat(args).anyMatch(a -> a.startsWith(Settings.CHECKPOINT_DIR.key() + "=file:"));

        // What DetectJobRunner.main does with them, in a JobManager whose environment sets nothing.
        ClusterArgs.Parsed onCluster = ClusterArgs.parseAll(args.toArray(String[]::new));
        assertThat(onCluster.bounded()).isTrue();
        Map<String, String> expected = new java.util.LinkedHashMap<>(here.nonDefaults());
        expected.remove(Settings.DEPLOY_JOBMANAGER.key());
        assertThat(TourniquetConfig.load(Map.of(), onCluster.settings()).nonDefaults()).isEqualTo(expected);
        assertThat(ClusterArgs.parseAll(DeployCommand.programArgs(here, false).toArray(String[]::new)).bounded())
                .isFalse();
    }

    @Test
    void theRunRequestRestoresOnlyWhenThereIsStateAndNeverDropsState() {
        var s = new DeployCommand.Submission(DetectJobRunner.class.getName(), "tourniquet-detect", "detect");
        Map<String, Object> fresh = DeployCommand.runRequest(s, List.of("a=b"), Optional.empty());
        assertThat(fresh).containsEntry("entryClass", DetectJobRunner.class.getName())
                .containsEntry("programArgsList", List.of("a=b"))
                .containsEntry("allowNonRestoredState", false)
                .doesNotContainKey("savepointPath");
        assertThat(DeployCommand.runRequest(s, List.of(), Optional.of("file:/cp/detect/j/chk-4")))
                .containsEntry("savepointPath", "file:/cp/detect/j/chk-4");
    }

    @Test
    void aMissingJarIsNamedWithHowToBuildIt(@TempDir Path dir) {
        TourniquetConfig cfg = TourniquetConfig.defaults().with(Settings.DEPLOY_JAR, dir.resolve("no.jar").toString());
        assertThatThrownBy(() -> DeployCommand.jarPath(cfg)).hasMessageContaining("no job jar at " + dir.resolve("no.jar"));
        assertThat(DeployCommand.builtJar().getFileName().toString()).isEqualTo("tourniquet-jobs.jar");
    }

    @Test
    void anUnreachableJobManagerIsAClearError(@TempDir Path dir) throws IOException {
        Path jar = Files.writeString(dir.resolve("jobs.jar"), "not used");
        int port;
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            port = s.getLocalPort(); // closed again: nothing listens there
        }
        var r = execute("deploy", "--jobmanager", "http://127.0.0.1:" + port, "--jar", jar.toString(),
                "--job", "index");
        assertThat(r.getKey()).isEqualTo(2);
        assertThat(r.getValue()).contains("error: cannot reach the Flink JobManager at http://127.0.0.1:" + port)
                .contains("infra/local/up --flink");
    }

    @Test
    void somethingElseOnThePortIsNotTakenForAJobManager(@TempDir Path dir) throws IOException {
        Path jar = Files.writeString(dir.resolve("jobs.jar"), "not used");
        HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.createContext("/", exchange -> {
            byte[] body = "{\"status\":\"green\"}".getBytes();
            exchange.sendResponseHeaders(200, body.length);
            exchange.getResponseBody().write(body);
            exchange.close();
        });
        server.start();
        try {
            var r = execute("deploy", "--jobmanager", "http://127.0.0.1:" + server.getAddress().getPort(),
                    "--jar", jar.toString(), "--job", "index");
            assertThat(r.getKey()).isEqualTo(2);
            assertThat(r.getValue()).contains("no Flink JobManager at http://127.0.0.1:" + server.getAddress().getPort());
        } finally {
            server.stop(0);
        }
    }
}
