package io.tourniquet.model;

import com.fasterxml.jackson.annotation.JsonInclude;

/**
 * An analyst's verdict on an alert ({@code tourniquet.verdicts}, an extension of the contract), as
 * the detect job accepted it from a signed {@code verdict} control request. One record per
 * request: a later verdict on the same alert (an analyst who changes their mind) is a new record,
 * and the latest {@link #decidedAt} is the alert's verdict.
 */
@JsonInclude(JsonInclude.Include.ALWAYS)
public class Verdict {
    /** Deterministic: the same request always yields the same id. */
    public String verdictId;
    /** The control request that carried it. */
    public String requestId;
    public String alertId;
    public String rule;
    /** Null for platform alerts. */
    public String userId;
    /** {@code true_positive}, {@code false_positive} or {@code benign_true_positive}. */
    public String label;
    /** Who judged (the request's {@code requested_by}). */
    public String by;
    /** The analyst's note (the request's {@code reason}). */
    public String note;
    /** Wall-clock time (ms) the analyst signed it. */
    public long decidedAt;
    /** Event time (ms) of the judged alert. */
    public long alertTime;
    /**
     * For a false positive of a rule that may be suppressed: the user's alerts of this rule with an
     * event time after {@link #alertTime} and up to this time (ms) are raised but suppressed (no
     * commands, no notification); null when the verdict suppresses nothing.
     */
    public Long suppressesUntil;
    /**
     * True when the judged alert is a shadow rule version's: recorded, counted in the shadow's
     * comparison, never a suppression and not in the rule's precision. Absent otherwise.
     */
    @com.fasterxml.jackson.annotation.JsonInclude(com.fasterxml.jackson.annotation.JsonInclude.Include.NON_NULL)
    public Boolean alertShadow;

    public Verdict() {}

    @Override
    public String toString() {
        return "Verdict{" + label + " on " + alertId + " (" + rule + ", user " + userId + ") by " + by + "}";
    }
}
