package io.tourniquet.config;

import java.util.ArrayList;
import java.util.List;

/**
 * The keys a detect job may sign with. Checked wherever a detect job starts for real ('run',
 * 'deploy', and the cluster entry point that Kubernetes runs), so a manifest copied from the demo
 * cannot put the public keys into production.
 */
public final class SigningKeys {
    /** Public (it is in this repository): the demo's and the benchmark's commands are signed with it. */
    public static final String DEMO_SIGNING_KEY = "tourniquet-demo-key-PUBLIC-never-use-in-production";
    /** Likewise public: analysts' requests in the demo are signed with it. */
    public static final String DEMO_CONTROL_KEY = "tourniquet-demo-control-key-PUBLIC-never-use-in-production";

    private SigningKeys() {}

    /**
     * Outside the demo, keys anyone can read in this repository would let anyone forge commands or
     * analysts' requests, and one key for both would let a command signer pass as an analyst.
     */
    public static void requireOwn(TourniquetConfig cfg) {
        String signing = cfg.find(Settings.SIGNING_KEY).orElse(null);
        String control = cfg.find(Settings.CONTROL_KEY).orElse(null);
        List<String> problems = new ArrayList<>();
        if (signing == null) problems.add("TOURNIQUET_SIGNING_KEY is not set (enforcers ignore unsigned commands)");
        // With analysts' own keys (validated when the job reads them) the shared control key is not needed.
        boolean perAnalyst = cfg.find(Settings.ANALYST_KEYS_FILE).isPresent();
        if (control == null && !perAnalyst) {
            problems.add("TOURNIQUET_SIGNING_CONTROL_KEY is not set (analysts' requests are verified with it)");
        }
        if (signing == null || (control == null && !perAnalyst)) {
            throw new IllegalArgumentException(String.join("; ", problems) + ".");
        }
        if (signing.equals(DEMO_SIGNING_KEY) || signing.equals(DEMO_CONTROL_KEY)) {
            problems.add("TOURNIQUET_SIGNING_KEY is the public demo key");
        }
        if (control != null && (control.equals(DEMO_SIGNING_KEY) || control.equals(DEMO_CONTROL_KEY))) {
            problems.add("TOURNIQUET_SIGNING_CONTROL_KEY is the public demo key");
        }
        if (control != null && signing.equals(control)) {
            problems.add("TOURNIQUET_SIGNING_CONTROL_KEY equals TOURNIQUET_SIGNING_KEY: analysts' requests need their own key");
        }
        if (!problems.isEmpty()) {
            throw new IllegalArgumentException(String.join("; ", problems) + ". Use the demo for the public keys; "
                    + "a detect job needs keys of your own.");
        }
    }
}
