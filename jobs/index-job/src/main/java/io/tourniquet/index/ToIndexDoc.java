package io.tourniquet.index;

import io.tourniquet.util.SerializableClock;
import io.tourniquet.json.Json;
import io.tourniquet.model.Action;
import io.tourniquet.model.Alert;
import io.tourniquet.model.Claim;
import io.tourniquet.model.DeadLetter;
import io.tourniquet.model.EnrichedEvent;
import io.tourniquet.model.Incident;
import io.tourniquet.model.RawRecord;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.metrics.Counter;
import org.apache.flink.streaming.api.functions.ProcessFunction;
import org.apache.flink.util.Collector;
import org.apache.flink.util.OutputTag;

/**
 * Turns a record of one of the detect job's output topics into its forensic document. The topics
 * are ours, so a record that does not read is a bug somewhere upstream: it goes to the DLQ with
 * the reason, never silently away, and never fails the job.
 */
public final class ToIndexDoc extends ProcessFunction<RawRecord, IndexDoc> {
    private static final long serialVersionUID = 1L;

    public static final OutputTag<DeadLetter> UNREADABLE = new OutputTag<>("unreadable") {};

    private final IndexTargets targets;
    private final SerializableClock clock;
    private transient Counter unreadable;

    public ToIndexDoc(IndexTargets targets, SerializableClock clock) {
        this.targets = targets;
        this.clock = clock;
    }

    @Override
    public void open(OpenContext openContext) {
        unreadable = getRuntimeContext().getMetricGroup().counter("unreadableRecords");
    }

    @Override
    public void processElement(RawRecord r, Context ctx, Collector<IndexDoc> out) {
        try {
            if (r.topic.equals(targets.enrichedTopic())) {
                out.collect(EcsDocuments.event(Json.fromBytes(r.value, EnrichedEvent.class), targets.eventsAlias()));
            } else if (r.topic.equals(targets.alertsTopic())) {
                out.collect(EcsDocuments.alert(Json.fromBytes(r.value, Alert.class), targets.alertsAlias()));
            } else if (r.topic.equals(targets.actionsTopic())) {
                out.collect(EcsDocuments.action(Json.fromBytes(r.value, Action.class), targets.actionsAlias()));
            } else if (r.topic.equals(targets.incidentsTopic())) {
                out.collect(EcsDocuments.incident(Json.fromBytes(r.value, Incident.class), targets.incidentsAlias()));
            } else if (r.topic.equals(targets.claimsTopic())) {
                out.collect(EcsDocuments.claim(Json.fromBytes(r.value, Claim.class), targets.claimsAlias()));
            } else if (r.topic.equals(targets.verdictsTopic())) {
                out.collect(EcsDocuments.verdict(Json.fromBytes(r.value, io.tourniquet.model.Verdict.class),
                        targets.verdictsAlias()));
            } else {
                throw new IllegalArgumentException("record from unconfigured topic " + r.topic);
            }
        } catch (RuntimeException e) {
            unreadable.inc();
            ctx.output(UNREADABLE, DeadLetter.of(r, "unreadable_internal_record",
                    "index job cannot read this record: " + e.getMessage(), clock.getAsLong()));
        }
    }
}
