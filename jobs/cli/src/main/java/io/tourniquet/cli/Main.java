package io.tourniquet.cli;

import io.tourniquet.cli.SimulateCommand;
import java.nio.file.Path;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The launcher's Java entry point: {@code ./tourniquet <command>}. */
@Command(name = "tourniquet", mixinStandardHelpOptions = true, version = "tourniquet 0.1.0",
        description = "Streaming security pipeline: detect 2FA-bypass withdrawals, freeze, index for forensics.",
        subcommands = {DemoCommand.class, RunCommand.class, DeployCommand.class, SavepointCommand.class, StatusCommand.class, SimulateCommand.class, BenchCommand.class, StateBenchCommand.class, ForensicsBenchCommand.class,
                SetupCommand.class, ConfigCommand.class, ControlCommand.class, ForensicsCommand.class,
                ModelsCommand.class, BacktestCommand.class, CommandLine.HelpCommand.class},
        footer = {"", "Launcher-only commands: './tourniquet test' runs every test; "
                + "'./tourniquet infra up|down|status' manages the local Kafka and Elasticsearch."})
public final class Main {
    /** The file the libraries' logs go to (log4j2.properties reads it); the launcher sets it per command. */
    static final String LOG_FILE_PROPERTY = "tourniquet.log.file";
    /** Level of failed-checkpoint messages on the console (log4j2.properties); OFF unless set. */
    static final String CHECKPOINT_CONSOLE_PROPERTY = "tourniquet.console.checkpoints";

    public static void main(String[] args) {
        // Before anything logs: log4j2 reads the property when it configures itself, and the commands
        // that run jobs print it, so both must see the same path when Main is started without the launcher.
        if (System.getProperty(LOG_FILE_PROPERTY) == null) {
            System.setProperty(LOG_FILE_PROPERTY,
                    Path.of(System.getProperty("java.io.tmpdir"), "tourniquet.log").toString());
        }
        // Likewise before anything logs: a long-running 'run' shows failed checkpoints on the console.
        if (args.length > 0 && args[0].equals("run") && !java.util.Arrays.asList(args).contains("--bounded")
                && System.getProperty(CHECKPOINT_CONSOLE_PROPERTY) == null) {
            System.setProperty(CHECKPOINT_CONSOLE_PROPERTY, "WARN");
        }
        System.exit(commandLine().execute(args));
    }

    /** One console line naming the library log file, for commands that run Flink jobs. */
    static String logFileLine() {
        return "Flink, Kafka and Elasticsearch client logs: " + System.getProperty(LOG_FILE_PROPERTY, "(not set)");
    }

    public static CommandLine commandLine() {
        CommandLine cl = new CommandLine(new Main());
        // Clear one-line errors for operators; the stack trace only with TOURNIQUET_DEBUG=1.
        cl.setExecutionExceptionHandler((ex, commandLine, parseResult) -> {
            if (System.getenv("TOURNIQUET_DEBUG") != null) ex.printStackTrace();
            commandLine.getErr().println("error: " + rootMessage(ex));
            // 2, unless the command declares its own code (status: 3, since its 2 means "down").
            int own = commandLine.getCommandSpec().exitCodeOnExecutionException();
            return own == CommandLine.ExitCode.SOFTWARE ? 2 : own;
        });
        return cl;
    }

    static String rootMessage(Throwable t) {
        Throwable cur = t;
        String msg = t.getMessage();
        while (cur.getCause() != null && cur.getCause() != cur) {
            cur = cur.getCause();
            if (cur.getMessage() != null) msg = cur.getMessage();
        }
        // A message that already quotes its root cause (one that names the service) stands alone.
        return msg == null ? t.toString() : (t.getMessage() != null && !t.getMessage().contains(msg)
                ? t.getMessage() + " (cause: " + msg + ")" : t.getMessage() != null ? t.getMessage() : msg);
    }
}
