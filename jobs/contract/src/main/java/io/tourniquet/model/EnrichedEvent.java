package io.tourniquet.model;

import com.fasterxml.jackson.annotation.JsonInclude;
import java.util.ArrayList;
import java.util.List;

/**
 * A valid input event with what the detect job learned about it. The detect job publishes these
 * to a Kafka topic; the index job turns them into {@code tourniquet-events} documents. This hop
 * is what keeps containment independent of Elasticsearch.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class EnrichedEvent {
    public Event event;
    /** On approvals only: whether a valid 2FA verification backed it (contract section 2). */
    public Boolean mfaAuthorized;
    /** On unauthorized approvals: why (e.g. {@code no_challenge}); null otherwise. */
    public String mfaDecisionReason;
    public List<String> alertIds = new ArrayList<>();
    public String incidentId;
    /** Arrived behind the watermark: still processed and indexed, and counted. */
    public boolean late;
    /**
     * On approvals only, set by the anomaly detector: the withdrawal's features (always, they are
     * the training data) and, when a model is active, its score and version.
     */
    public Anomaly anomaly;

    public EnrichedEvent() {}

    public static EnrichedEvent of(Event event) {
        EnrichedEvent e = new EnrichedEvent();
        e.event = event;
        e.late = event.late;
        return e;
    }

    /**
     * A record of its own, for a step that changes it later while another step changes the
     * original: the lists are copied, the event (never changed after de-duplication) is shared.
     */
    public EnrichedEvent copy() {
        EnrichedEvent c = new EnrichedEvent();
        c.event = event;
        c.mfaAuthorized = mfaAuthorized;
        c.mfaDecisionReason = mfaDecisionReason;
        c.alertIds = new ArrayList<>(alertIds);
        c.incidentId = incidentId;
        c.late = late;
        c.anomaly = anomaly;
        return c;
    }

    @Override
    public String toString() {
        return "Enriched{" + event + " authorized=" + mfaAuthorized + " alerts=" + alertIds + "}";
    }
}
