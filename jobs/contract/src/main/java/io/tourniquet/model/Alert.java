package io.tourniquet.model;

import com.fasterxml.jackson.annotation.JsonIgnore;
import com.fasterxml.jackson.annotation.JsonInclude;

/** One alert ({@code tourniquet.alerts}, contract section 3). */
@JsonInclude(JsonInclude.Include.ALWAYS)
public class Alert {
    public String alertId;
    public String rule;
    /** Version of the rule's thresholds that produced it (see {@code RuleVersion}). */
    public int ruleVersion;
    public String severity;
    /** Event time (ms) of the triggering event. */
    public long eventTime;
    /** Wall-clock time (ms) the pipeline raised it. */
    public long detectedAt;
    public String userId;
    public String withdrawalId;
    public String incidentId;
    public String summary;
    /**
     * W3C Trace Context of the alert's span (extension of the contract): its commands and
     * notifications carry spans of the same trace, so consumers that use OpenTelemetry continue it.
     */
    public String traceparent;
    public AlertEvidence evidence = new AlertEvidence();
    /**
     * Set when an analyst's false-positive verdict on an earlier alert of the same rule and user
     * suppresses this one (extension of the contract): raised and published, but no command and
     * no notification. Absent otherwise.
     */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public Suppression suppressedBy;
    /**
     * True on an alert of a shadow rule version (extension of the contract): a candidate evaluated
     * beside the version in force on live traffic. Published and indexed, never acted on: no
     * command, no notification, no incident. Consumers acting on alerts must skip it. Absent on
     * every other alert.
     */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public Boolean shadow;
    /**
     * On a shadow alert: when (wall clock, ms) its shadow version was accepted, the start of its
     * evaluation, from which {@code forensics shadow} compares it with the version in force.
     */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public Long shadowSince;
    /**
     * Inside the job only: the triggering event, when the event must leave with the incident id
     * the incident tracker assigns (unauthorized approvals). Never published with the alert.
     */
    @JsonIgnore
    public EnrichedEvent trigger;
    /**
     * Inside the job only: when the triggering input record was appended to Kafka (its record
     * timestamp, ms; 0 when unknown or when no single record triggered the alert). The start of
     * the freeze latency metric. Never published.
     */
    @JsonIgnore
    public long triggerAppendedAt;

    public Alert() {}

    @Override
    public String toString() {
        return "Alert{" + rule + " " + alertId + " user=" + userId + " withdrawal=" + withdrawalId
                + " reason=" + (evidence == null ? null : evidence.reason) + "}";
    }
}
