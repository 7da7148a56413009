package io.tourniquet.testing;

import io.tourniquet.cli.Main;
import io.tourniquet.config.Settings;
import io.tourniquet.config.TourniquetConfig;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine;

/** The launcher's commands run in this JVM, on a test's namespaced Elasticsearch aliases. */
public final class InProcessCli {
    private InProcessCli() {}

    /** Exit code and what the command printed. */
    public record Run(int code, String out, String err) {}

    /** {@code args} with {@code --es} and every index alias of {@code cfg}, through the real entry point. */
    public static Run onIndices(TourniquetConfig cfg, String... args) {
        List<String> all = new ArrayList<>(List.of(args));
        all.addAll(List.of("--es", cfg.get(Settings.ES_URL)));
        for (var s : Settings.INDEX_ALIASES) all.addAll(List.of("--set", s.key() + "=" + cfg.get(s)));
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        CommandLine cl = Main.commandLine();
        cl.setOut(new PrintWriter(out));
        cl.setErr(new PrintWriter(err));
        int code = cl.execute(all.toArray(String[]::new));
        return new Run(code, out.toString(), err.toString());
    }
}
