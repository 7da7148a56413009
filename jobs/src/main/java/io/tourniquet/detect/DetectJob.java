package io.tourniquet.detect;

import io.tourniquet.config.Settings;
import io.tourniquet.config.TourniquetConfig;
import io.tourniquet.model.Alert;
import io.tourniquet.model.EnrichedEvent;
import io.tourniquet.model.Event;
import io.tourniquet.model.RawRecord;
import java.util.Map;
import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.datastream.SingleOutputStreamOperator;

/**
 * The containment path: input topics (event time per partition, see {@link #watermarks}) → parse
 * (bad records to the DLQ) → drop duplicates → detectors → alerts and signed commands. Nothing here talks to Elasticsearch;
 * enriched events leave on a Kafka topic for the index job.
 */
public final class DetectJob {
    private DetectJob() {}

    /** The topology, independent of where records come from and go to. */
    public static void defineWorkflow(DataStream<RawRecord> raw, DetectSinks sinks, TourniquetConfig cfg,
                                      SerializableClock clock) {
        EventParser parser = new EventParser(kindByTopic(cfg), cfg.get(Settings.MAX_RECORD_BYTES));
        SingleOutputStreamOperator<Event> parsed = raw
                .process(new ParseFunction(parser, clock))
                .uid("parse").name("Parse and validate");
        parsed.getSideOutput(Tags.DEAD_LETTERS)
                .sinkTo(sinks.deadLetters()).uid("sink-dlq").name("Dead-letter sink");

        DataStream<Event> unique = parsed
                .keyBy(EventKeys.EVENT_ID)
                .process(new DeduplicateFunction(cfg.get(Settings.DEDUP_RETENTION).toMillis()))
                .uid("dedup").name("Drop redelivered duplicates");

        var rules = unique.getExecutionEnvironment()
                .fromData(java.util.List.of(io.tourniquet.rules.RuleCatalog.initial(
                        io.tourniquet.rules.RuleCatalog.UNAUTHORIZED_APPROVAL, cfg)))
                .broadcast(io.tourniquet.rules.RuleCatalog.BROADCAST);
        SingleOutputStreamOperator<EnrichedEvent> enriched = unique
                .map(EnrichedEvent::of)
                .keyBy(EventKeys.ENRICHED_USER_ID)
                .connect(rules)
                .process(new UnauthorizedApprovalDetector(io.tourniquet.rules.RuleCatalog.initial(
                        io.tourniquet.rules.RuleCatalog.UNAUTHORIZED_APPROVAL, cfg), clock))
                .uid("detect-unauthorized-approval").name("Detect unauthorized approvals");

        DataStream<Alert> alerts = enriched.getSideOutput(Tags.ALERTS);
        alerts.sinkTo(sinks.alerts()).uid("sink-alerts").name("Alert sink");
        alerts.flatMap(new ActionPlanner(new CommandSigner(cfg.get(Settings.SIGNING_KEY)), clock))
                .uid("plan-actions").name("Plan and sign commands")
                .sinkTo(sinks.actions()).uid("sink-actions").name("Command sink");
        enriched.sinkTo(sinks.enriched()).uid("sink-enriched").name("Enriched-event sink");
    }

    /**
     * Watermarks for the raw input, to give to the source itself (per partition, see
     * {@link RawEventTime}), with idleness so one quiet partition cannot stall alerts.
     */
    public static WatermarkStrategy<RawRecord> watermarks(TourniquetConfig cfg) {
        return WatermarkStrategy.<RawRecord>forBoundedOutOfOrderness(cfg.get(Settings.OUT_OF_ORDERNESS))
                .withTimestampAssigner(new RawEventTime())
                .withIdleness(cfg.get(Settings.IDLENESS));
    }

    public static Map<String, Event.Kind> kindByTopic(TourniquetConfig cfg) {
        return Map.of(
                cfg.get(Settings.TOPIC_LOGINS), Event.Kind.LOGIN,
                cfg.get(Settings.TOPIC_MFA), Event.Kind.MFA,
                cfg.get(Settings.TOPIC_WITHDRAWALS), Event.Kind.WITHDRAWAL,
                cfg.get(Settings.TOPIC_ACCOUNT_CHANGES), Event.Kind.ACCOUNT_CHANGE);
    }
}
