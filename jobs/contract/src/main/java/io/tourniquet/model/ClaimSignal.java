package io.tourniquet.model;

import java.util.ArrayList;
import java.util.List;

/**
 * Inside the job: a change to one user's claim, from the incident tracker to the claims operator
 * (keyed by {@link #userId}). {@code open} carries what the tracker knows of the user's part in
 * the incident; {@code document} and {@code decision} are analysts' verified requests passed on.
 */
public class ClaimSignal {
    public static final String OPEN = "open";
    public static final String DOCUMENT = "document";
    public static final String DECISION = "decision";
    /** {@link #by} of a claim that opened itself when its incident was resolved. */
    public static final String BY_TOURNIQUET = "tourniquet";

    public String type;
    public String userId;
    public String incidentId;
    /** Who: the analyst, or {@code tourniquet} for a claim opened at resolution. */
    public String by;
    public String approvedBy;
    /** Wall-clock time (ms): the request's signing time, or the resolution's. */
    public long at;
    public String requestId;
    public String reason;
    public String document;
    public String decision;
    /** For {@code open}: the user's unauthorized withdrawals in the incident. */
    public List<Claim.ClaimWithdrawal> withdrawals = new ArrayList<>();
    /** For {@code open}: the incident's event-time window (ms) in which a jailbroken login fails the claim. */
    public long windowStart;
    public long windowEnd;
    /** Event time (ms) its notices are about (the incident's latest alert, or the tracker's watermark). */
    public long eventTime;
    /** The analyst's request as received, to dead-letter if the claims operator refuses it. */
    public RawRecord raw;

    public ClaimSignal() {}

    @Override
    public String toString() {
        return "ClaimSignal{" + type + " " + userId + " " + incidentId + " by " + by + "}";
    }
}
