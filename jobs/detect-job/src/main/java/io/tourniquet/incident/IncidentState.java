package io.tourniquet.incident;

import io.tourniquet.model.Alert;
import io.tourniquet.model.Incident;
import java.util.ArrayList;
import java.util.List;

/**
 * One incident in the tracker's keyed state: what is published, and what an alert needs to
 * update it. Read and written whole at every alert of the incident, so it holds no id lists:
 * its alert ids, user ids and unauthorized approvals are map-state entries of their own, and the
 * ids it publishes a {@link Listed} of their own ({@link IncidentTracker}); the incident's
 * {@code userIds} and {@code alertIds} are empty here.
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
     * Alert ids, user ids, approvals and the published ids in the tracker's map state. Layout 0
     * (state from before it) kept all of them here, whole: O(victims) to read and write per alert.
     */
    public static final int LAYOUT_SPLIT = 1;

    public IncidentState() {}

    /**
     * The ids an incident publishes (the first {@link IncidentTracker#MAX_LISTED} victims and
     * alerts): kept apart from the record, since they stop changing once full while the record
     * changes at every alert.
     */
    public static class Listed {
        public List<String> userIds = new ArrayList<>();
        public List<String> alertIds = new ArrayList<>();

        public Listed() {}
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
