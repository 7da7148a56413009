package io.tourniquet.detect.job;

import io.tourniquet.signing.SignedAction;
import io.tourniquet.model.Alert;
import io.tourniquet.model.Claim;
import io.tourniquet.model.DeadLetter;
import io.tourniquet.model.EnrichedEvent;
import io.tourniquet.model.Incident;
import io.tourniquet.model.Notification;
import io.tourniquet.model.Verdict;
import org.apache.flink.api.connector.sink2.Sink;

/** Where the detect job writes: real Kafka sinks in production, collecting sinks in tests. */
public record DetectSinks(Sink<Alert> alerts, Sink<SignedAction> actions, Sink<EnrichedEvent> enriched,
                          Sink<DeadLetter> deadLetters, Sink<Incident> incidents,
                          Sink<Notification> notifications, Sink<Claim> claims, Sink<Verdict> verdicts) {

    /** For tests that do not look at verdicts: they are discarded. */
    public DetectSinks(Sink<Alert> alerts, Sink<SignedAction> actions, Sink<EnrichedEvent> enriched,
                       Sink<DeadLetter> deadLetters, Sink<Incident> incidents, Sink<Notification> notifications,
                       Sink<Claim> claims) {
        this(alerts, actions, enriched, deadLetters, incidents, notifications, claims,
                new org.apache.flink.streaming.api.functions.sink.v2.DiscardingSink<>());
    }

    /** For tests that do not look at claims: they are discarded. */
    public DetectSinks(Sink<Alert> alerts, Sink<SignedAction> actions, Sink<EnrichedEvent> enriched,
                       Sink<DeadLetter> deadLetters, Sink<Incident> incidents, Sink<Notification> notifications) {
        this(alerts, actions, enriched, deadLetters, incidents, notifications,
                new org.apache.flink.streaming.api.functions.sink.v2.DiscardingSink<>());
    }
}
