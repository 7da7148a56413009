package io.tourniquet.testing;

import io.tourniquet.config.Setting;
import io.tourniquet.config.Settings;
import io.tourniquet.config.TourniquetConfig;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;

/**
 * {@code tourniquet <command>} in a JVM of its own, as an operator starts it: the test's classpath,
 * the module opens Flink needs, the product's logging (a file per process), settings as flags, and
 * no {@code TOURNIQUET_*} variable from the test's environment except the ones given. The console
 * goes to {@code <dir>/<name>.out}, the library log to {@code <dir>/<name>.log}; both are kept.
 */
public final class CliProcess {
    private final Process process;
    private final Path out;

    private CliProcess(Process process, Path out) {
        this.process = process;
        this.out = out;
    }

    /** The settings every test process shares with its test: namespaced topics, indices, group; services. */
    public static Map<String, String> settingsOf(TourniquetConfig cfg) {
        Map<String, String> settings = new LinkedHashMap<>();
        for (Setting<String> s : Settings.TOPICS) settings.put(s.key(), cfg.get(s));
        for (Setting<String> s : Settings.INDEX_ALIASES) settings.put(s.key(), cfg.get(s));
        settings.put(Settings.KAFKA_GROUP_PREFIX.key(), cfg.get(Settings.KAFKA_GROUP_PREFIX));
        settings.put(Settings.KAFKA_BOOTSTRAP.key(), cfg.get(Settings.KAFKA_BOOTSTRAP));
        settings.put(Settings.ES_URL.key(), cfg.get(Settings.ES_URL));
        return settings;
    }

    public static CliProcess start(Path dir, String name, List<String> command, Map<String, String> settings,
                                   Map<String, String> env) throws IOException {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        for (String arg : ManagementFactory.getRuntimeMXBean().getInputArguments()) {
            if (arg.startsWith("--add-") || arg.startsWith("-XX:+IgnoreUnrecognizedVMOptions")) cmd.add(arg);
        }
        // The product's logging (a file per run), not the test classpath's log4j2-test.properties.
        cmd.addAll(List.of("-Xmx1g", "-Dtourniquet.log.file=" + dir.resolve(name + ".log"),
                "-Dlog4j2.configurationFile=" + Path.of("target", "classes", "log4j2.properties").toAbsolutePath(),
                "-cp", System.getProperty("java.class.path"), "io.tourniquet.cli.Main"));
        cmd.addAll(command);
        settings.forEach((k, v) -> cmd.addAll(List.of("--set", k + "=" + v)));
        Path out = dir.resolve(name + ".out");
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(out.toFile());
        pb.environment().keySet().removeIf(k -> k.startsWith("TOURNIQUET_"));
        pb.environment().putAll(env);
        return new CliProcess(pb.start(), out);
    }

    public Process process() {
        return process;
    }

    public String console() throws IOException {
        return Files.exists(out) ? Files.readString(out) : "";
    }

    /** Waits (deadline, polling, no fixed sleep) until the console satisfies {@code condition}. */
    public String awaitConsole(Predicate<String> condition, Duration deadline, String what) throws Exception {
        long end = System.nanoTime() + deadline.toNanos();
        while (System.nanoTime() < end) {
            String text = console();
            if (condition.test(text)) return text;
            if (!process.isAlive()) {
                throw new AssertionError("process ended (exit " + process.exitValue() + ") before " + what + ":\n" + text);
            }
            Thread.sleep(50);
        }
        throw new AssertionError("not within " + deadline + ": " + what + ":\n" + console());
    }

    /** Ends it for good, whatever state it is in (for failures and clean-up). */
    public void kill() throws InterruptedException {
        process.destroyForcibly();
        process.waitFor();
    }

    public static void deleteRecursively(Path root) throws IOException {
        if (!Files.exists(root)) return;
        try (var all = Files.walk(root)) {
            for (Path p : all.sorted(java.util.Comparator.reverseOrder()).toList()) Files.deleteIfExists(p);
        }
    }
}
