package io.tourniquet.detect;

/** What the detector remembers of one 2FA challenge of a user (a Flink POJO in keyed state). */
public class Challenge {
    public static final String ISSUED = "issued";
    public static final String FAILED = "failed";
    public static final String VERIFIED = "verified";

    public String challengeId;
    public String status;
    public String purpose;
    public String withdrawalId;
    /** Event time of the latest event that set {@link #status}; for VERIFIED, the verification time. */
    public long eventTime;
    public String eventId;
    /** Event id of the approval this challenge authorized; a challenge authorizes once. */
    public String usedByApproval;

    public Challenge() {}
}
