package io.tourniquet.testing;

import io.tourniquet.sim.UnauthorizedKind;
import java.util.Map;

/** The reason each kind of simulated unauthorized approval is to be reported with. */
public final class ExpectedReasons {
    private ExpectedReasons() {}

    public static final Map<UnauthorizedKind, String> BY_KIND = Map.of(
            UnauthorizedKind.NO_CHALLENGE, "no_challenge",
            UnauthorizedKind.UNKNOWN_CHALLENGE, "unknown_challenge",
            UnauthorizedKind.FAILED_CHALLENGE, "challenge_failed",
            // Keyed per user, another user's challenge is simply unknown to this account.
            UnauthorizedKind.OTHER_USERS_CHALLENGE, "unknown_challenge",
            UnauthorizedKind.REUSED_CHALLENGE, "challenge_reused",
            UnauthorizedKind.OTHER_WITHDRAWAL_CHALLENGE, "other_withdrawal_challenge",
            UnauthorizedKind.VERIFICATION_TOO_OLD, "verification_too_old",
            // Judged when event time passes the approval by the grace, on the 2FA facts up to then: the
            // verification stamped after that is not one of them, whichever order it was read in.
            UnauthorizedKind.VERIFICATION_AFTER_SKEW, "challenge_not_verified");
}
