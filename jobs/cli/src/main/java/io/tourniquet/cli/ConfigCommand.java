package io.tourniquet.cli;

import io.tourniquet.config.Setting;
import io.tourniquet.config.Settings;
import io.tourniquet.config.TourniquetConfig;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "config", mixinStandardHelpOptions = true,
        description = "List every setting: key, environment variable, default and effective value.")
public final class ConfigCommand implements Callable<Integer> {
    @Mixin
    ConfigOptions options;

    @Option(names = "--markdown", description = "Print a Markdown table (for the README).")
    boolean markdown;

    @Override
    public Integer call() {
        TourniquetConfig cfg = options.resolve();
        Map<String, String> effective = cfg.describe();
        if (markdown) {
            System.out.println("| setting | environment variable | default | meaning |");
            System.out.println("|---|---|---|---|");
        }
        for (Setting<?> s : Settings.ALL) {
            String def = s.defaultText() == null ? "(none)" : s.defaultText();
            if (markdown) {
                System.out.printf("| `%s` | `%s` | `%s` | %s |%n", s.key(), s.envName(), def, s.description());
            } else {
                System.out.printf("%-50s %-12s %s%n    %s (env %s, default %s)%n", s.key(),
                        "", effective.get(s.key()), s.description(), s.envName(), def);
            }
        }
        return 0;
    }
}
