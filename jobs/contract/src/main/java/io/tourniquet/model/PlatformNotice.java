package io.tourniquet.model;

/**
 * Inside the job: withdrawals were suspended on the platform for an incident, or resumed. Broadcast
 * to every user's withdrawal watch, which tells users with a pending or held withdrawal.
 */
public class PlatformNotice {
    public static final String SUSPENDED = "suspended";
    public static final String RESUMED = "resumed";

    public String type;
    public String incidentId;
    /** Event time (ms) of the suspension (its bulk-drain alert), or of the resumption's notices. */
    public long eventTime;
    /**
     * Whom the tracker tells itself: the incident's victims as listed on the incident record, and
     * on a suspension also the users its bulk-drain alert counted.
     */
    public java.util.List<String> victims = new java.util.ArrayList<>();

    public PlatformNotice() {}

    public PlatformNotice(String type, String incidentId, long eventTime, java.util.List<String> victims) {
        this.type = type;
        this.incidentId = incidentId;
        this.eventTime = eventTime;
        this.victims = new java.util.ArrayList<>(victims);
    }

    @Override
    public String toString() {
        return "PlatformNotice{" + type + " " + incidentId + " at " + eventTime + "}";
    }
}
