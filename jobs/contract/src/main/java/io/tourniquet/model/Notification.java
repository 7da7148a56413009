package io.tourniquet.model;

import com.fasterxml.jackson.annotation.JsonInclude;
import java.util.ArrayList;
import java.util.List;

/** A message to a user ({@code tourniquet.notifications}, contract section 3). */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class Notification {
    /** Deterministic: one per user, incident (or alert, outside incidents) and kind. */
    public String notificationId;
    public String userId;
    /** The rule that affected the user, or {@code whitelist_address_added}. */
    public String kind;
    public List<String> channels = new ArrayList<>();
    public String title;
    public String body;
    /** Exactly as the user last set it; absent if never set. */
    public String antiPhishingCode;
    public String incidentId;
    public String alertId;
    /**
     * The how-manieth update this user has had about this incident (1, 2, ...), so a client can show
     * "update 3 of this incident"; absent outside incidents. Kept in the job's state, so a restart
     * neither repeats nor skips a number.
     */
    public Integer updateSequence;
    /** For claim notices: the claim. */
    public String claimId;
    /** W3C Trace Context: a span of the alert's trace (absent for notices no alert caused). */
    public String traceparent;
    /** Event time (ms) of what it is about, and wall-clock time (ms) it was composed. */
    public long eventTime;
    public long createdAt;

    public Notification() {}

    @Override
    public String toString() {
        return "Notification{" + kind + " user=" + userId + " incident=" + incidentId + " id=" + notificationId + "}";
    }
}
