package io.tourniquet.incident;

import io.tourniquet.model.Alert;
import io.tourniquet.model.Incident;
import java.util.ArrayList;
import java.util.List;

/**
 * One incident in the tracker's keyed state: what is published, and what an alert needs to
 * update it. Read and written whole at every alert of the incident, so it must not grow with the
 * incident: its alert ids, user ids and unauthorized approvals are map-state entries of their own
 * ({@link IncidentTracker}), and the incident's id lists hold only the first
 * {@link IncidentTracker#MAX_LISTED}, as published.
 */
public class IncidentState {
    /** This record's layout: {@link #LAYOUT_SPLIT}, or 0 when written by a build before it. */
    public int layout;
    public Incident incident;
    /**
     * Only in a record of layout 0 (the incident's approvals, read whole at every alert), moved
     * into the tracker's map state the first time the record is read; empty otherwise.
     */
    public List<ImpactEntry> approvals = new ArrayList<>();
    /** How many distinct alerts the incident holds (its alert id list stops at the listed ones). */
    public int alertCount;
    /** True while the platform suspension it caused is in force (until an analyst resumes). */
    public boolean suspensionActive;
    /** The bulk-drain alert that suspended withdrawals, to tell later victims why. */
    public Alert suspensionAlert;

    /**
     * Alert ids, user ids and approvals in the tracker's map state, id lists capped. Layout 0
     * (state from before it) kept all three here, whole: O(victims) to read and write per alert.
     */
    public static final int LAYOUT_SPLIT = 1;

    public IncidentState() {}

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
