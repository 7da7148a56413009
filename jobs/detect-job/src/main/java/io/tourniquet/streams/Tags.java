package io.tourniquet.streams;

import io.tourniquet.signing.SignedAction;
import io.tourniquet.model.Alert;
import io.tourniquet.model.DeadLetter;
import io.tourniquet.model.EnrichedEvent;
import io.tourniquet.model.Incident;
import io.tourniquet.model.NotificationRequest;
import io.tourniquet.model.wire.WireTypes;
import org.apache.flink.util.OutputTag;

/**
 * Side outputs of the detect job, declared once. Those that carry events name their type
 * information ({@link WireTypes}), so events cross to the next task by the serializers written
 * for them rather than by reflection.
 */
public final class Tags {
    private Tags() {}

    public static final OutputTag<DeadLetter> DEAD_LETTERS = new OutputTag<>("dead-letters") {};
    /** Alerts raised by a detector (before the incident tracker). */
    public static final OutputTag<Alert> ALERTS = new OutputTag<>("alerts") {};
    /**
     * Alerts of shadow rule versions (from {@link PerUserDetectors}): straight to the alert sink,
     * past the incident tracker, the planner and the notifications.
     */
    public static final OutputTag<Alert> SHADOW_ALERTS = new OutputTag<>("shadow-alerts") {};
    /**
     * Each withdrawal event once, after de-duplication (from {@link PerUserDetectors}), for the
     * withdrawal watch. One tag per consumer, so no event is copied for a consumer that drops it.
     */
    public static final OutputTag<io.tourniquet.model.Event> UNIQUE_WITHDRAWALS = new OutputTag<>("unique-withdrawals", WireTypes.EVENT);
    /** Each login once, after de-duplication: for the claims' conditions. */
    public static final OutputTag<io.tourniquet.model.Event> UNIQUE_LOGINS = new OutputTag<>("unique-logins", WireTypes.EVENT);
    /** Each account change once, after de-duplication: for the claims and the notifications. */
    public static final OutputTag<io.tourniquet.model.Event> UNIQUE_ACCOUNT_CHANGES = new OutputTag<>("unique-account-changes", WireTypes.EVENT);
    /** Approvals as the anomaly scorer featured them (from {@link PerUserDetectors}), for {@link FeatureJoin}. */
    public static final OutputTag<EnrichedEvent> FEATURED_APPROVALS = new OutputTag<>("featured-approvals", WireTypes.ENRICHED_EVENT);
    /** Signed commands issued outside the playbook: analysts' release and resume. */
    public static final OutputTag<SignedAction> ANALYST_ACTIONS = new OutputTag<>("analyst-actions") {};
    /** Incident changes, from the incident tracker. */
    public static final OutputTag<Incident> INCIDENTS = new OutputTag<>("incidents") {};
    /** Triggering events that leave with their incident id, from the incident tracker. */
    public static final OutputTag<EnrichedEvent> INCIDENT_EVENTS = new OutputTag<>("incident-events", WireTypes.ENRICHED_EVENT);
    /** Users to tell about an alert, from the incident tracker. */
    public static final OutputTag<NotificationRequest> NOTIFY = new OutputTag<>("notify") {};
    /** Claims to open and analysts' claim requests, from the incident tracker. */
    public static final OutputTag<io.tourniquet.model.ClaimSignal> CLAIMS = new OutputTag<>("claims") {};
    /** Analysts' accepted verdicts on alerts, from the incident tracker. */
    public static final OutputTag<io.tourniquet.model.Verdict> VERDICTS = new OutputTag<>("verdicts") {};
    /** Platform suspensions and resumptions, from the incident tracker. */
    public static final OutputTag<io.tourniquet.model.PlatformNotice> PLATFORM_NOTICES =
            new OutputTag<>("platform-notices") {};
}
