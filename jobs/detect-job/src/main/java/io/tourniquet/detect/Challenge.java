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
    /** Event time and id of its {@code challenge_issued} event, if one was seen (null otherwise). */
    public Long issuedAt;
    public String issuedEventId;

    public Challenge() {}

    /**
     * This challenge as it stood at {@code time} in event time: itself if its status is that old;
     * issued (not yet verified or failed) if only its issue is; null if nothing of it is. So a
     * decision taken when event time reaches {@code time} rests on the same facts whatever order
     * the 2FA events were read in.
     */
    public Challenge asOf(long time) {
        if (eventTime <= time) return this;
        if (issuedAt == null || issuedAt > time) return null;
        Challenge then = new Challenge();
        then.challengeId = challengeId;
        then.status = ISSUED;
        then.purpose = purpose;
        then.withdrawalId = withdrawalId;
        then.eventTime = issuedAt;
        then.eventId = issuedEventId;
        then.usedByApproval = usedByApproval;
        then.issuedAt = issuedAt;
        then.issuedEventId = issuedEventId;
        return then;
    }
}
