package io.tourniquet.pipeline;

import java.io.IOException;
import org.junit.jupiter.api.Test;

/**
 * The outcome checks every restart test runs, once each, under the same names: a test class
 * implements this and says where its replay's outcome is ({@link #outcome()}).
 */
interface EqualsAnUninterruptedRun {
    ReplayOutcome outcome();

    @Test
    default void everyUnauthorizedApprovalIsAlertedExactlyOnceWithItsReason() throws IOException {
        outcome().everyUnauthorizedApprovalIsAlertedExactlyOnceWithItsReason();
    }

    @Test
    default void noRuleAlertsMoreOrLessThanAnUninterruptedRun() throws IOException {
        outcome().noRuleAlertsMoreOrLessThanAnUninterruptedRun();
    }

    @Test
    default void noInnocentUserIsFrozenAndEveryCommandIsSignedOncePerTrigger() throws IOException {
        outcome().noInnocentUserIsFrozenAndEveryCommandIsSignedOncePerTrigger();
    }
}
