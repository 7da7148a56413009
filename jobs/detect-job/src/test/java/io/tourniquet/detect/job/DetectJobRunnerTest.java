package io.tourniquet.detect.job;

import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import io.tourniquet.config.SigningKeys;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/**
 * The cluster entry point (what Kubernetes' application mode and 'deploy' run) refuses the public
 * demo keys before it builds anything, as 'run' does: a manifest copied from the demo must not
 * sign production commands with a key anyone can read.
 */
class DetectJobRunnerTest {
    private static final String OWN = "an-operator-generated-key-of-at-least-32-bytes";

    @Test
    void theClusterEntryPointRefusesTheDemoKeys() {
        // Preemptive: without the check, main would go on to connect to Kafka; fail, don't hang.
        assertTimeoutPreemptively(Duration.ofSeconds(30), () -> assertThatThrownBy(() -> DetectJobRunner.main(new String[] {
                "signing.key=" + SigningKeys.DEMO_SIGNING_KEY, "signing.control-key=" + OWN,
                "kafka.bootstrap=127.0.0.1:1"}))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("TOURNIQUET_SIGNING_KEY is the public demo key"));
    }

    @Test
    void andOneKeyForBoth() {
        assertTimeoutPreemptively(Duration.ofSeconds(30), () -> assertThatThrownBy(() -> DetectJobRunner.main(new String[] {
                "signing.key=" + OWN, "signing.control-key=" + OWN, "kafka.bootstrap=127.0.0.1:1"}))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("equals TOURNIQUET_SIGNING_KEY"));
    }

    @Test
    void andMissingKeysAreNamedNotANullPointer() {
        // Checked on a configuration of its own: the test must not depend on the caller's environment.
        io.tourniquet.config.TourniquetConfig cfg = io.tourniquet.config.TourniquetConfig.load(java.util.Map.of(),
                java.util.Map.of("signing.key", OWN));
        assertThatThrownBy(() -> SigningKeys.requireOwn(cfg))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("TOURNIQUET_SIGNING_CONTROL_KEY is not set (analysts' requests are verified with it).");
    }
}
