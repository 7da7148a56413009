package io.tourniquet.model;

import com.fasterxml.jackson.annotation.JsonInclude;
import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * An incident as published on {@code tourniquet.incidents} after every change and indexed into
 * {@code tourniquet-incidents} (updated in place; {@link #version} orders the updates).
 * Contract section 2 defines what joins it and how its impact is counted.
 */
@JsonInclude(JsonInclude.Include.ALWAYS)
public class Incident {
    public static final String OPEN = "open";
    public static final String CONTAINED = "contained";
    public static final String RESOLVED = "resolved";

    public String incidentId;
    public String status;
    /** Event time (ms) of its first alert's triggering event. */
    public long startedAt;
    /** Wall-clock time (ms) the first alert was raised. */
    public long detectedAt;
    /** Event time (ms) of the first {@code suspend_withdrawals} it caused; null until then. */
    public Long containedAt;
    /** Wall-clock time (ms) an analyst resolved it, and who. */
    public Long resolvedAt;
    public String resolvedBy;
    /** Event time (ms) of its latest alert: alerts within the gap after this join it. */
    public long lastAlertAt;
    public int usersAffected;
    public List<String> userIds = new ArrayList<>();
    /** Per asset, sorted by asset. */
    public List<AssetImpact> impact = new ArrayList<>();
    public BigDecimal usdTotal = BigDecimal.ZERO;
    /** What was approved after containment (event time): what holds and the suspension were for. */
    public List<AssetImpact> impactAfterContainment = new ArrayList<>();
    public BigDecimal usdAfterContainment = BigDecimal.ZERO;
    public List<String> alertIds = new ArrayList<>();
    /**
     * True when the published {@link #alertIds} and {@link #userIds} hold only their first
     * {@code MAX_LISTED} entries (a record must stay publishable however large the incident;
     * {@link #alertsByRule} and {@link #usersAffected} keep the full counts).
     */
    public boolean idListsTruncated;
    public Map<String, Integer> alertsByRule = new LinkedHashMap<>();
    /** The one {@code suspend_withdrawals} command issued for it, if any. */
    public String suspensionActionId;
    /** Increases with every change; Elasticsearch keeps the highest (external versioning). */
    public long version;
    /** Wall-clock time (ms) of this change. */
    public long updatedAt;

    public Incident() {}

    @Override
    public String toString() {
        return "Incident{" + incidentId + " " + status + " users=" + usersAffected + " impact=" + impact
                + " v" + version + "}";
    }
}
