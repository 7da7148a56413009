package io.tourniquet.sim;

import com.fasterxml.jackson.annotation.JsonValue;
import java.util.Locale;

/** Why an approval in the simulation is unauthorized under the contract's definition. */
public enum UnauthorizedKind {
    /** {@code mfa_challenge_id} is null: the January 2022 pattern, most attack victims. */
    NO_CHALLENGE,
    /** The claimed challenge was never issued. */
    UNKNOWN_CHALLENGE,
    /** The claimed challenge was issued, and its only outcome is {@code challenge_failed}. */
    FAILED_CHALLENGE,
    /** The claimed challenge was verified by another user, for that user's own withdrawal. */
    OTHER_USERS_CHALLENGE,
    /** The claimed challenge already authorized an earlier approved withdrawal of the same user. */
    REUSED_CHALLENGE,
    /** The claimed challenge was verified for another (never approved) withdrawal of the same user. */
    OTHER_WITHDRAWAL_CHALLENGE,
    /** The claimed challenge was verified 11 min before the approval (validity 10 min). */
    VERIFICATION_TOO_OLD,
    /** The claimed challenge was verified 8 s after the approval (skew tolerance 5 s). */
    VERIFICATION_AFTER_SKEW;

    @JsonValue
    public String wireName() {
        return name().toLowerCase(Locale.ROOT);
    }
}
