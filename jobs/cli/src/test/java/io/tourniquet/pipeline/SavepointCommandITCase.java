package io.tourniquet.pipeline;

import static org.assertj.core.api.Assertions.assertThat;
import io.tourniquet.config.Settings;
import io.tourniquet.config.TourniquetConfig;
import io.tourniquet.sim.SimulationWriter;
import io.tourniquet.testing.CliProcess;
import io.tourniquet.testing.LocalServices;
import io.tourniquet.testing.ReplayedIncident;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The upgrade path an operator takes with the embedded runtime, in separate JVMs as they would:
 * {@code tourniquet run} is running; {@code tourniquet savepoint} (another process) finds it on
 * loopback and writes a savepoint of each job while they keep running; Ctrl-C (SIGTERM here) stops
 * both jobs with savepoints; the next {@code run} says it resumes from exactly those.
 */
@ExtendWith(LocalServices.class)
class SavepointCommandITCase {
    static final String KEY = "savepoint-itcase-signing-key-0123456789abcdef";
    static final String CONTROL_KEY = "savepoint-itcase-control-key-0123456789abcdef";
    static final Duration DEADLINE = Duration.ofMinutes(3);
    /** Away from a developer's own 'run' on the default range. */
    static final String REST_PORTS = "18181-18280";
    static final Path dir = Path.of("target", "savepoint-command").toAbsolutePath();
    static final Pattern STOPPED = Pattern.compile("(detect|index) job stopped with savepoint (\\S+)");

    CliProcess running;

    @AfterEach
    void cleanUp() throws InterruptedException {
        if (running != null && running.process().isAlive()) running.kill();
    }

    @Test
    void savepointWhileRunningThenStopWithSavepointThenResumeFromIt() throws Exception {
        CliProcess.deleteRecursively(dir);
        Files.createDirectories(dir);
        TourniquetConfig cfg = ReplayedIncident.config("savepoint", KEY, CONTROL_KEY);
        SimulationWriter.writeToKafka(ReplayedIncident.simulate(cfg, 20220117), cfg.get(Settings.KAFKA_BOOTSTRAP));
        Map<String, String> settings = CliProcess.settingsOf(cfg);
        settings.put(Settings.CHECKPOINT_DIR.key(), dir.resolve("checkpoints").toUri().toString());
        settings.put(Settings.CHECKPOINT_INTERVAL.key(), "500 ms");
        settings.put(Settings.REST_PORTS.key(), REST_PORTS);
        Map<String, String> env = new HashMap<>(Map.of("TOURNIQUET_SIGNING_KEY", KEY,
                "TOURNIQUET_SIGNING_CONTROL_KEY", CONTROL_KEY, "TOURNIQUET_LOCAL_DIR", dir.toString()));

        running = CliProcess.start(dir, "first", List.of("run"), settings, env);
        running.awaitConsole(c -> c.contains("running; Ctrl-C stops both jobs with a savepoint"), DEADLINE, "running");
        // A savepoint needs every task running; a completed checkpoint of each job says they are.
        awaitCheckpoint(running, dir.resolve("checkpoints/detect"));
        awaitCheckpoint(running, dir.resolve("checkpoints/index"));

        CliProcess savepoint = CliProcess.start(dir, "savepoint", List.of("savepoint"), settings, env);
        assertThat(savepoint.process().waitFor(DEADLINE.toSeconds(), TimeUnit.SECONDS)).isTrue();
        String taken = savepoint.console();
        assertThat(savepoint.process().exitValue()).as(taken).isZero();
        for (String job : List.of("detect", "index")) {
            Matcher m = Pattern.compile("tourniquet-" + job + ": savepoint (\\S+)").matcher(taken);
            assertThat(m.find()).as(taken).isTrue();
            Path location = Path.of(URI.create(m.group(1)));
            assertThat(location.resolve("_metadata")).exists();
            assertThat(location.getParent()).isEqualTo(dir.resolve("savepoints").resolve(job));
        }
        assertThat(running.process().isAlive()).as("the jobs keep running after a savepoint").isTrue();

        running.process().destroy(); // SIGTERM, as Ctrl-C or a service manager's stop
        assertThat(running.process().waitFor(DEADLINE.toSeconds(), TimeUnit.SECONDS)).isTrue();
        String stopped = running.console();
        Map<String, String> stopSavepoints = new HashMap<>();
        Matcher m = STOPPED.matcher(stopped);
        while (m.find()) stopSavepoints.put(m.group(1), m.group(2));
        assertThat(stopSavepoints).as(stopped).containsOnlyKeys("detect", "index");

        running = CliProcess.start(dir, "second", List.of("run"), settings, env);
        String resumed = running.awaitConsole(c -> c.contains("running; Ctrl-C"), DEADLINE, "running again");
        for (String job : List.of("detect", "index")) {
            String name = Path.of(URI.create(stopSavepoints.get(job))).getFileName().toString();
            assertThat(resumed).containsPattern(job + " job: resuming from savepoint \\S*/savepoints/" + job + "/"
                    + Pattern.quote(name) + " ");
        }
    }

    private static void awaitCheckpoint(CliProcess p, Path jobDir) throws Exception {
        long end = System.nanoTime() + DEADLINE.toNanos();
        while (System.nanoTime() < end) {
            assertThat(p.process().isAlive()).as(p.console()).isTrue();
            if (Files.isDirectory(jobDir)) {
                try (var jobs = Files.list(jobDir)) {
                    for (Path job : jobs.toList()) {
                        try (var chks = Files.list(job)) {
                            if (chks.anyMatch(c -> c.getFileName().toString().startsWith("chk-")
                                    && Files.exists(c.resolve("_metadata")))) return;
                        } catch (java.nio.file.NoSuchFileException ignored) {
                            // subsumed and deleted while listing
                        }
                    }
                }
            }
            Thread.sleep(50);
        }
        throw new AssertionError("no completed checkpoint under " + jobDir);
    }
}
