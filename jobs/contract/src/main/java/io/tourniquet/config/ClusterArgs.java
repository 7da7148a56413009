package io.tourniquet.config;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The arguments a job's cluster entry point takes: settings as {@code key=value} (or {@code --set
 * key=value}), and {@code --bounded} for a replay of what the input topics hold ('deploy --bounded').
 */
public final class ClusterArgs {
    private ClusterArgs() {}

    /** The flag that makes a cluster entry point run the bounded (replay) form of its job. */
    public static final String BOUNDED = "--bounded";

    /** Parsed arguments: the settings, and whether the job is a bounded replay. */
    public record Parsed(Map<String, String> settings, boolean bounded) {}

    public static Map<String, String> parse(String... args) {
        return parseAll(args).settings();
    }

    public static Parsed parseAll(String... args) {
        Map<String, String> out = new LinkedHashMap<>();
        List<String> problems = new ArrayList<>();
        boolean bounded = false;
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            if (a.equals(BOUNDED)) {
                bounded = true;
                continue;
            }
            if (a.equals("--set") || a.equals("-s")) {
                if (i + 1 == args.length) {
                    problems.add(a + ": a key=value must follow");
                    break;
                }
                a = args[++i];
            }
            int eq = a.indexOf('=');
            if (eq <= 0) {
                problems.add("'" + a + "': expected key=value");
            } else {
                out.put(a.substring(0, eq).trim(), a.substring(eq + 1));
            }
        }
        if (!problems.isEmpty()) throw new IllegalArgumentException(String.join("; ", problems));
        return new Parsed(out, bounded);
    }
}
