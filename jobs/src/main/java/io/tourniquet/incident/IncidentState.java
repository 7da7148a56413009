package io.tourniquet.incident;

import io.tourniquet.model.Alert;
import io.tourniquet.model.Incident;
import java.util.ArrayList;
import java.util.List;

/** One incident in the tracker's keyed state: what is published, plus what its figures are computed from. */
public class IncidentState {
    public Incident incident;
    /** Its unauthorized approvals: the impact is recomputed from these, so it is exact at every step. */
    public List<ImpactEntry> approvals = new ArrayList<>();
    /** True while the platform suspension it caused is in force (until an analyst resumes). */
    public boolean suspensionActive;
    /** The bulk-drain alert that suspended withdrawals, to tell later victims why. */
    public Alert suspensionAlert;

    /** Lookups over the incident's id lists, rebuilt after a restore (not state of their own). */
    private transient java.util.Set<String> alertIds;
    private transient java.util.Set<String> userIds;

    public IncidentState() {}

    java.util.Set<String> alertIdSet() {
        if (alertIds == null) alertIds = new java.util.HashSet<>(incident.alertIds);
        return alertIds;
    }

    java.util.Set<String> userIdSet() {
        if (userIds == null) userIds = new java.util.HashSet<>(incident.userIds);
        return userIds;
    }

    /** One unauthorized approval's contribution. */
    public static class ImpactEntry {
        public String alertId;
        public String userId;
        public String withdrawalId;
        public String asset;
        /** Exact decimal string as received. */
        public String amount;
        public Double usdValue;
        public long eventTime;

        public ImpactEntry() {}
    }
}
