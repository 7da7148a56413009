package io.tourniquet.cli;

import io.tourniquet.sim.SimulationConfig;
import io.tourniquet.sim.GroundTruth;
import static org.assertj.core.api.Assertions.assertThat;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

class SimulateCommandTest {

    private final StringWriter out = new StringWriter();
    private final StringWriter err = new StringWriter();

    private int run(String... args) {
        CommandLine cl = new CommandLine(new SimulateCommand());
        cl.setOut(new PrintWriter(out, true));
        cl.setErr(new PrintWriter(err, true));
        return cl.execute(args);
    }

    @Test
    void writesFilesAndPrintsASummary(@TempDir Path dir) {
        int code = run("--out-dir", dir.toString(), "--seed", "7", "--benign-users", "12", "--victims", "9",
                "--malformed", "6", "--max-delay", "15s", "--start", "2022-01-17T09:00:00+08:00");
        assertThat(code).as(err.toString()).isZero();
        assertThat(dir.resolve("exchange.wallet.withdrawals.ndjson")).exists();
        assertThat(dir.resolve("ground-truth.json")).exists();
        assertThat(out.toString()).contains("exchange.auth.logins", "9 unauthorized approvals", "2.14.0-rc1", "total");

        GroundTruth gt = GroundTruth.fromJson(readString(dir.resolve("ground-truth.json")));
        assertThat(gt.seed()).isEqualTo(7);
        assertThat(gt.start()).isEqualTo(java.time.Instant.parse("2022-01-17T01:00:00Z"));
        assertThat(gt.malformedEmitted()).isEqualTo(6);
    }

    @Test
    void scenarioOptionsReachTheConfigAndDefaultToIt() {
        SimulateCommand defaults = new SimulateCommand();
        new CommandLine(defaults).parseArgs("--out-dir", "x");
        assertThat(defaults.config()).isEqualTo(SimulationConfig.defaults());

        SimulateCommand cmd = new SimulateCommand();
        new CommandLine(cmd).parseArgs("--out-dir", "x", "--legit-drainers", "4", "--new-address-users", "0",
                "--popular-address-users", "12", "--anti-phishing-changes", "7", "--without-anti-phishing", "9");
        SimulationConfig c = cmd.config();
        assertThat(c.legitimateDrainers()).isEqualTo(4);
        assertThat(c.newAddressUsers()).isZero();
        assertThat(c.popularAddressUsers()).isEqualTo(12);
        assertThat(c.antiPhishingChanges()).isEqualTo(7);
        assertThat(c.withoutAntiPhishingCode()).isEqualTo(9);
        assertThat(c.benignUsers()).isEqualTo(SimulationConfig.DEFAULT_BENIGN_USERS);
    }

    @Test
    void helpListsTheScenarioOptions() {
        String usage = new CommandLine(new SimulateCommand()).getUsageMessage();
        assertThat(usage).contains("--new-address-users", "--anti-phishing-changes", "--without-anti-phishing");
        assertThat(usage).containsPattern("(?s)--legit-drainers[^-]*\\(default: 2\\)")
                .containsPattern("(?s)--popular-address-users[^-]*\\(default: 8\\)");
    }

    @Test
    void summaryNamesTheExpectedAlertsAndContainment(@TempDir Path dir) {
        int code = run("--out-dir", dir.toString(), "--benign-users", "10", "--popular-address-users", "6");
        assertThat(code).as(err.toString()).isZero();
        GroundTruth gt = GroundTruth.fromJson(readString(dir.resolve("ground-truth.json")));
        assertThat(gt.sharedDestination().users()).hasSize(6);
        assertThat(out.toString()).contains("account_drain 22", "destination_concentration 2", "bulk_drain 1",
                "contained " + gt.incident().containedAt());
    }

    @Test
    void rejectsANegativeScenarioCount(@TempDir Path dir) {
        assertThat(run("--out-dir", dir.toString(), "--legit-drainers", "-1")).isEqualTo(2);
        assertThat(err.toString()).contains("legitimateDrainers");
    }

    @Test
    void requiresExactlyOneTarget(@TempDir Path dir) {
        assertThat(run("--seed", "1")).isEqualTo(2);
        assertThat(run("--out-dir", dir.toString(), "--bootstrap", "localhost:9092")).isEqualTo(2);
    }

    @Test
    void rejectsAnInvalidConfig(@TempDir Path dir) {
        assertThat(run("--out-dir", dir.toString(), "--attack-channel", "carrier-pigeon")).isEqualTo(2);
        assertThat(err.toString()).contains("attackChannel");
    }

    @Test
    void parsesDurations() {
        SimulateCommand.DurationConverter c = new SimulateCommand.DurationConverter();
        assertThat(c.convert("500ms")).isEqualTo(Duration.ofMillis(500));
        assertThat(c.convert("20s")).isEqualTo(Duration.ofSeconds(20));
        assertThat(c.convert("5m")).isEqualTo(Duration.ofMinutes(5));
        assertThat(c.convert("2h")).isEqualTo(Duration.ofHours(2));
        assertThat(c.convert("PT90S")).isEqualTo(Duration.ofSeconds(90));
    }

    private static String readString(Path p) {
        try {
            return Files.readString(p);
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }
}
