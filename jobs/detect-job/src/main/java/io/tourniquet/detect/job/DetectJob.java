package io.tourniquet.detect.job;

import io.tourniquet.detect.RawEventTime;
import io.tourniquet.detect.ParseFunction;
import io.tourniquet.model.EventParser;
import io.tourniquet.detect.EventKeys;
import io.tourniquet.detect.CaughtUpIdleness;
import io.tourniquet.rules.platform.DestinationConcentrationDetector;
import io.tourniquet.rules.platform.BulkDrainDetector;
import io.tourniquet.streams.Tags;
import io.tourniquet.signing.ActionExpiry;
import io.tourniquet.signing.CommandSigner;
import io.tourniquet.util.SerializableClock;
import io.tourniquet.claims.ClaimFunction;
import io.tourniquet.config.Settings;
import io.tourniquet.config.TourniquetConfig;
import io.tourniquet.control.ControlProcessor;
import io.tourniquet.control.RuleUpdates;
import io.tourniquet.incident.IncidentTracker;
import io.tourniquet.model.Alert;
import io.tourniquet.model.Claim;
import io.tourniquet.model.NotificationRequest;
import io.tourniquet.notify.WithdrawalWatch;
import io.tourniquet.control.ControlSignal;
import io.tourniquet.model.DeadLetter;
import io.tourniquet.model.EnrichedEvent;
import io.tourniquet.model.Event;
import io.tourniquet.model.Notification;
import io.tourniquet.model.RawRecord;
import io.tourniquet.model.wire.WireTypes;
import io.tourniquet.notify.NotificationFunction;
import io.tourniquet.rules.catalog.RuleCatalog;
import io.tourniquet.rules.RuleVersion;
import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.api.common.functions.FilterFunction;
import org.apache.flink.streaming.api.datastream.BroadcastStream;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.datastream.SingleOutputStreamOperator;

/**
 * The containment path: input topics (event time per partition, see {@link #watermarks}) → parse
 * (bad records to the DLQ) → per-user steps in one task (drop duplicates, per-user rules) → platform detectors → incident
 * tracker → alerts, signed commands, incidents and notifications. Analysts' signed requests come in
 * on the control topic: rule changes reach every detector as broadcast state, release and resume
 * become signed commands, resolve closes an incident. Nothing here talks to Elasticsearch;
 * enriched events and incidents leave on Kafka topics for the index job.
 */
public final class DetectJob {
    private DetectJob() {}

    /** The topology, independent of where records come from and go to. */
    public static void defineWorkflow(DataStream<RawRecord> raw, DataStream<RawRecord> controlRaw, DetectSinks sinks,
                                      TourniquetConfig cfg, SerializableClock clock) {
        CommandSigner commandSigner = new CommandSigner(cfg.get(Settings.SIGNING_KEY), cfg.get(Settings.SIGNING_KEY_ID));

        // Analysts' requests: verified, de-duplicated and numbered in one place.
        SingleOutputStreamOperator<ControlSignal> control = controlRaw
                .keyBy(EventKeys.platform())
                .process(new ControlProcessor(cfg.find(Settings.CONTROL_KEY).map(CommandSigner::new).orElse(null), commandSigner, cfg,
                        clock))
                .uid("control").name("Verify analysts' requests");
        BroadcastStream<RuleVersion> rules = control
                .flatMap(new RuleUpdates())
                .uid("rule-updates").name("Rule updates")
                .broadcast(RuleCatalog.BROADCAST);

        // Events between tasks (and between chained operators, which copy them) go by the
        // serializers written for them (WireTypes): Flink's reflective POJO serializer was the
        // largest single cost of the per-user task in a profile.
        EventParser parser = EventParser.from(cfg, clock);
        SingleOutputStreamOperator<Event> parsed = raw
                .process(new ParseFunction(parser, clock), WireTypes.EVENT)
                .uid("parse").name("Parse and validate");

        // Every per-user step in one task (see PerUserDetectors): de-duplication, then the rules
        // in a chain, each adding its alert ids to the event, with the anomaly scorer beside the
        // last. The scorer waits for event time (its facts come on other topics); no freeze waits
        // with it: FeatureJoin puts its features on the record the chain sends on.
        SingleOutputStreamOperator<EnrichedEvent> enriched = parsed
                .map(new ToEnriched(), WireTypes.ENRICHED_EVENT).uid("enrich").name("Enrich")
                .keyBy(EventKeys.ENRICHED_USER_ID)
                .connect(rules)
                .process(PerUserDetectors.from(cfg, clock), WireTypes.ENRICHED_EVENT)
                .uid("detect-per-user").name("Per-user rules");
        // Each kind on its own side output, straight to its consumers' shuffle: before, every event
        // was copied into three chained filters that kept a kind each (11 % of the per-user task
        // in a profile).
        DataStream<Event> withdrawalsSeen = enriched.getSideOutput(Tags.UNIQUE_WITHDRAWALS);
        DataStream<Event> loginsSeen = enriched.getSideOutput(Tags.UNIQUE_LOGINS);
        DataStream<Event> changesSeen = enriched.getSideOutput(Tags.UNIQUE_ACCOUNT_CHANGES);
        DataStream<EnrichedEvent> featured = enriched.getSideOutput(Tags.FEATURED_APPROVALS);
        DataStream<Alert> userAlerts = enriched.getSideOutput(Tags.ALERTS);

        // Platform-wide: one key each (or one per address), so counts are global at any parallelism.
        DataStream<Alert> concentration = userAlerts
                .filter(new RuleIs(RuleCatalog.NEW_ADDRESS_WITHDRAWAL)).uid("new-address-alerts").name("New-address alerts")
                .keyBy(EventKeys.ALERT_DESTINATION)
                .connect(rules)
                .process(new DestinationConcentrationDetector(initial(RuleCatalog.DESTINATION_CONCENTRATION, cfg), clock,
                        cfg.get(Settings.PLATFORM_MAX_LEAD).toMillis()))
                .uid("detect-destination-concentration").name("Detect destination concentration");
        DataStream<Alert> bulk = userAlerts
                .filter(new RuleIs(RuleCatalog.UNAUTHORIZED_APPROVAL, RuleCatalog.ACCOUNT_DRAIN))
                .uid("draining-alerts").name("Draining alerts")
                .keyBy(EventKeys.platform())
                .connect(rules)
                .process(new BulkDrainDetector(initial(RuleCatalog.BULK_DRAIN, cfg), clock,
                        cfg.get(Settings.PLATFORM_MAX_LEAD).toMillis(), cfg.get(Settings.UA_GRACE).toMillis()))
                .uid("detect-bulk-drain").name("Detect bulk draining");

        SingleOutputStreamOperator<Alert> alerts = userAlerts.union(concentration, bulk)
                .keyBy(EventKeys.platform())
                .connect(control.keyBy(EventKeys.platform()))
                .process(IncidentTracker.from(cfg, clock))
                .uid("incidents").name("Track incidents");

        // Shadow rule versions' alerts are published and indexed, and go nowhere else: no
        // incident, no command, no notification.
        alerts.union(enriched.getSideOutput(Tags.SHADOW_ALERTS))
                .sinkTo(sinks.alerts()).uid("sink-alerts").name("Alert sink");
        alerts.flatMap(new ActionPlanner(commandSigner, ActionExpiry.from(cfg), clock))
                .uid("plan-actions").name("Plan and sign commands")
                .union(control.getSideOutput(Tags.ANALYST_ACTIONS))
                .sinkTo(sinks.actions()).uid("sink-actions").name("Command sink");
        alerts.getSideOutput(Tags.INCIDENTS).sinkTo(sinks.incidents()).uid("sink-incidents").name("Incident sink");
        alerts.getSideOutput(Tags.VERDICTS).sinkTo(sinks.verdicts()).uid("sink-verdicts").name("Verdict sink");

        // After the alerts, until resolved: who has a withdrawal the platform suspension holds up,
        // and the Account Protection Programme's claims. Neither is on the path of a freeze.
        SingleOutputStreamOperator<NotificationRequest> suspended = withdrawalsSeen
                .keyBy(EventKeys.USER_ID)
                .connect(alerts.getSideOutput(Tags.PLATFORM_NOTICES).broadcast(WithdrawalWatch.SUSPENSIONS))
                .process(WithdrawalWatch.from(cfg))
                .uid("watch-withdrawals").name("Watch pending withdrawals");
        SingleOutputStreamOperator<Claim> claims = loginsSeen.union(changesSeen)
                .keyBy(EventKeys.USER_ID)
                .connect(alerts.getSideOutput(Tags.CLAIMS).keyBy(EventKeys.CLAIM_USER))
                .process(ClaimFunction.from(cfg, clock))
                .uid("claims").name("Account Protection Programme claims");
        claims.sinkTo(sinks.claims()).uid("sink-claims").name("Claim sink");

        DataStream<Notification> notifications = changesSeen
                .keyBy(EventKeys.USER_ID)
                .connect(alerts.getSideOutput(Tags.NOTIFY).union(suspended, claims.getSideOutput(Tags.NOTIFY))
                        .keyBy(EventKeys.NOTIFY_USER))
                .process(NotificationFunction.from(cfg, clock))
                .uid("notify").name("Compose notifications");
        notifications.sinkTo(sinks.notifications()).uid("sink-notifications").name("Notification sink");

        enriched.union(alerts.getSideOutput(Tags.INCIDENT_EVENTS))
                .keyBy(EventKeys.ENRICHED_USER_ID)
                .connect(featured.keyBy(EventKeys.ENRICHED_USER_ID))
                .process(new FeatureJoin(), WireTypes.ENRICHED_EVENT)
                .uid("join-anomaly-features").name("Join anomaly features")
                .sinkTo(sinks.enriched()).uid("sink-enriched").name("Enriched-event sink");

        DataStream<DeadLetter> deadLetters = parsed.getSideOutput(Tags.DEAD_LETTERS)
                .union(control.getSideOutput(Tags.DEAD_LETTERS), alerts.getSideOutput(Tags.DEAD_LETTERS),
                        claims.getSideOutput(Tags.DEAD_LETTERS));
        deadLetters.sinkTo(sinks.deadLetters()).uid("sink-dlq").name("Dead-letter sink");
    }

    private static RuleVersion initial(String rule, TourniquetConfig cfg) {
        return RuleCatalog.initial(rule, cfg);
    }

    /**
     * Watermarks for the live raw input, to give to the source itself (per partition, see
     * {@link RawEventTime}). A silent partition stops holding back event time only once it is
     * caught up ({@link CaughtUpIdleness}), so one quiet partition cannot stall alerts, and one not
     * yet read while catching up on a backlog cannot be overtaken.
     */
    public static WatermarkStrategy<RawRecord> watermarks(TourniquetConfig cfg) {
        return new CaughtUpIdleness(cfg.get(Settings.OUT_OF_ORDERNESS), cfg.get(Settings.IDLENESS),
                cfg.get(Settings.QUIET_PARTITION_TIMEOUT), timestamps(cfg));
    }

    /**
     * For a bounded replay: the same, without idleness. Reading a backlog, a partition the reader
     * has not got round to for a few seconds is not idle, it is behind; declaring it idle would let
     * event time run past events it has not delivered yet (seen: whitelistings read after the
     * approvals they precede). A bounded replay ends, and its end releases event time anyway.
     */
    public static WatermarkStrategy<RawRecord> replayWatermarks(TourniquetConfig cfg) {
        return WatermarkStrategy.<RawRecord>forBoundedOutOfOrderness(cfg.get(Settings.OUT_OF_ORDERNESS))
                .withTimestampAssigner(timestamps(cfg));
    }

    /** Event time at the source, of records the parse step accepts (wall clock for the bounds). */
    static RawEventTime timestamps(TourniquetConfig cfg) {
        return new RawEventTime(EventParser.from(cfg, SerializableClock.SYSTEM));
    }


    /** Wraps each event for the detectors to enrich. */
    static final class ToEnriched implements org.apache.flink.api.common.functions.MapFunction<Event, EnrichedEvent> {
        private static final long serialVersionUID = 1L;

        @Override
        public EnrichedEvent map(Event e) {
            return EnrichedEvent.of(e);
        }
    }

    static final class RuleIs implements FilterFunction<Alert> {
        private static final long serialVersionUID = 1L;
        private final java.util.Set<String> rules;

        RuleIs(String... rules) {
            this.rules = java.util.Set.of(rules);
        }

        @Override
        public boolean filter(Alert a) {
            return rules.contains(a.rule);
        }
    }
}
