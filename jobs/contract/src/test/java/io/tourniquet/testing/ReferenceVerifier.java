package io.tourniquet.testing;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/** Runs {@code enforcer/verify_command.py}, the enforcers' reference verifier, as an enforcer would. */
public final class ReferenceVerifier {
    public static final Path ENFORCER = LocalServices.findRepoRoot().resolve("enforcer");

    public record Result(int exit, String output) {
        public List<String> lines() {
            return output.lines().toList();
        }
    }

    private ReferenceVerifier() {}

    /** Feeds {@code stdin} to the script with {@code args}; {@code env} is added to its environment. */
    public static Result run(Path workDir, String stdin, Map<String, String> env, String... args)
            throws IOException, InterruptedException {
        Path in = Files.createTempFile(workDir, "verifier-in-", ".ndjson");
        Files.writeString(in, stdin, StandardCharsets.UTF_8);
        List<String> cmd = new ArrayList<>(List.of("python3", ENFORCER.resolve("verify_command.py").toString()));
        cmd.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectInput(in.toFile()).redirectErrorStream(true);
        pb.environment().putAll(env);
        pb.environment().put("PYTHONIOENCODING", "utf-8");
        Process p;
        try {
            p = pb.start();
        } catch (IOException e) {
            throw new AssertionError("python3 is needed for the enforcer check (every machine of this project's kind has it)", e);
        }
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(60, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError("verify_command.py did not finish");
        }
        return new Result(p.exitValue(), out);
    }
}
