package io.tourniquet.cli;

import static org.assertj.core.api.Assertions.assertThat;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** {@code tourniquet savepoint migrate}: its place under {@code savepoint}, its paths, its errors. */
class SavepointMigrateCommandTest {
    static Map.Entry<Integer, String> execute(String... args) {
        StringWriter err = new StringWriter();
        CommandLine cl = Main.commandLine();
        cl.setErr(new PrintWriter(err, true));
        cl.getSubcommands().get("savepoint").setErr(new PrintWriter(err, true));
        cl.getSubcommands().get("savepoint").getSubcommands().get("migrate").setErr(new PrintWriter(err, true));
        return Map.entry(cl.execute(args), err.toString());
    }

    @Test
    void itIsASubcommandOfSavepoint() {
        assertThat(Main.commandLine().getSubcommands().get("savepoint").getSubcommands()).containsOnlyKeys("migrate");
    }

    @Test
    void bothDirectoriesAreRequired() {
        var result = execute("savepoint", "migrate", "--from", "somewhere");
        assertThat(result.getKey()).isEqualTo(CommandLine.ExitCode.USAGE);
        assertThat(result.getValue()).contains("Missing required option: '--to=NEW_SAVEPOINT_DIR'");
    }

    @Test
    void aMissingSavepointIsNamedInOneLine(@TempDir Path dir) {
        Path missing = dir.resolve("no-savepoint-here");
        var result = execute("savepoint", "migrate", "--from", missing.toString(), "--to", dir.resolve("new").toString());
        assertThat(result.getKey()).isEqualTo(2);
        assertThat(result.getValue()).startsWith("error: cannot read a savepoint at " + missing.toUri())
                .hasLineCount(1);
        assertThat(dir.resolve("new")).doesNotExist();
    }

    @Test
    void localPathsBecomeAbsoluteFileUrisAndUrisStayAsGiven() {
        assertThat(SavepointCommand.Migrate.location("sp/old"))
                .isEqualTo(Path.of("sp/old").toAbsolutePath().toUri().toString());
        assertThat(SavepointCommand.Migrate.location("s3://bucket/savepoints/savepoint-1"))
                .isEqualTo("s3://bucket/savepoints/savepoint-1");
        assertThat(SavepointCommand.Migrate.location("file:///x/sp")).isEqualTo("file:///x/sp");
    }
}
