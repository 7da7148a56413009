package io.tourniquet.control;

import io.tourniquet.model.RawRecord;
import io.tourniquet.rules.RuleVersion;
/** Inside the job: an accepted (verified, fresh, valid) control request. */
public class ControlSignal {
    public String type;
    public String requestId;
    public String requestedBy;
    /** Wall-clock time (ms) the analyst signed it. */
    public long requestedAt;
    public String reason;
    /** The second analyst who approved it, when it needed one ({@code control.two-person}); else null. */
    public String approvedBy;
    public String userId;
    public String incidentId;
    /** For claim requests: the document received, or the decision. */
    public String document;
    public String decision;
    /** For {@code verdict}: the alert judged, its label, rule and event time (ms). */
    public String alertId;
    public String label;
    public String rule;
    public long alertTime;
    /** For {@code verdict}: the judged alert is a shadow rule version's. */
    public boolean alertShadow;
    /**
     * For {@code update_rule}: the new version (already validated and numbered; a shadow version
     * when the request asked for one); for {@code promote_rule}: the version now in force.
     */
    public RuleVersion ruleVersion;
    /** For {@code promote_rule} and {@code drop_shadow}: the shadow version, ended. */
    public RuleVersion endedShadow;
    /** The request as received, so a later step that refuses it can dead-letter the original. */
    public RawRecord raw;

    public ControlSignal() {}

    @Override
    public String toString() {
        return "ControlSignal{" + type + " " + requestId + " by " + requestedBy + "}";
    }
}
