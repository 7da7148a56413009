package io.tourniquet.config;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** The arguments a job's cluster entry point takes: settings as {@code key=value} (or {@code --set key=value}). */
public final class ClusterArgs {
    private ClusterArgs() {}

    public static Map<String, String> parse(String... args) {
        Map<String, String> out = new LinkedHashMap<>();
        List<String> problems = new java.util.ArrayList<>();
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
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
        return out;
    }
}
