package io.tourniquet.testing;

import static org.assertj.core.api.Assertions.fail;
import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/**
 * Debian's prometheus and promtool, unpacked by {@code infra/prometheus/fetch} (downloaded on first
 * use; without them the tests that need them fail, naming the reason, never skip).
 */
public final class PrometheusDistribution {
    private static Path bin;

    private PrometheusDistribution() {}

    /** {@code infra/prometheus} of this checkout. */
    public static Path infraDir() {
        for (Path p = Path.of("").toAbsolutePath(); p != null; p = p.getParent()) {
            if (Files.isRegularFile(p.resolve("infra/prometheus/alerts.yml"))) return p.resolve("infra/prometheus");
        }
        throw new IllegalStateException("infra/prometheus/alerts.yml not found above " + Path.of("").toAbsolutePath());
    }

    /** The directory holding {@code prometheus} and {@code promtool}. */
    public static synchronized Path bin() throws Exception {
        if (bin != null) return bin;
        Path out = Files.createTempFile("prometheus-fetch", ".out");
        Path err = Files.createTempFile("prometheus-fetch", ".err");
        try {
            Process p = new ProcessBuilder("bash", infraDir().resolve("fetch").toString())
                    .redirectOutput(out.toFile()).redirectError(err.toFile())
                    .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null"))).start();
            // A download of ~20 MB, and perhaps an 'apt-get update' first.
            if (!p.waitFor(10, TimeUnit.MINUTES)) {
                p.destroyForcibly();
                fail("infra/prometheus/fetch did not finish in 10 minutes:\n" + Files.readString(err));
            }
            String stdout = Files.readString(out).strip();
            if (p.exitValue() != 0 || stdout.isEmpty()) {
                fail("infra/prometheus/fetch could not provide Prometheus (exit " + p.exitValue() + "); this test "
                        + "needs Debian's 'prometheus' package through apt-get (see infra/prometheus/README.md):\n"
                        + Files.readString(err));
            }
            bin = Path.of(stdout.lines().reduce((a, b) -> b).orElseThrow());
            return bin;
        } finally {
            Files.deleteIfExists(out);
            Files.deleteIfExists(err);
        }
    }
}
