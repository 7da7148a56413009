package io.tourniquet.sim;

import com.fasterxml.jackson.annotation.JsonValue;
import java.util.Locale;

/** Authorized approvals that a careless detector would flag. */
public enum TrickyKind {
    /** The verification happened before the approval but arrives after it. */
    LATE_VERIFICATION,
    /** The verification is stamped 3 s after the approval: inside the 5 s skew tolerance. */
    VERIFIED_WITHIN_SKEW,
    /** A first challenge failed; a second one was issued and verified, and the approval claims it. */
    FAILED_THEN_VERIFIED,
    /** The approval is redelivered with the same bytes: one approval, not two. */
    DUPLICATE;

    @JsonValue
    public String wireName() {
        return name().toLowerCase(Locale.ROOT);
    }
}
