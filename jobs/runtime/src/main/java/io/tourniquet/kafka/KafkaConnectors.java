package io.tourniquet.kafka;

import io.tourniquet.config.Settings;
import io.tourniquet.config.TourniquetConfig;
import io.tourniquet.signing.SignedAction;
import io.tourniquet.json.Json;
import io.tourniquet.model.Alert;
import io.tourniquet.model.Claim;
import io.tourniquet.config.Setting;
import io.tourniquet.model.DeadLetter;
import io.tourniquet.model.EnrichedEvent;
import io.tourniquet.model.Incident;
import io.tourniquet.model.Notification;
import io.tourniquet.model.RawRecord;
import java.util.List;
import org.apache.flink.connector.base.DeliveryGuarantee;
import org.apache.flink.connector.kafka.sink.KafkaSink;
import org.apache.flink.connector.kafka.source.KafkaSource;
import org.apache.flink.connector.kafka.source.KafkaSourceBuilder;
import org.apache.flink.connector.kafka.source.enumerator.initializer.OffsetsInitializer;
import org.apache.kafka.clients.consumer.OffsetResetStrategy;

/** Builds the real Kafka sources and sinks from configuration; the only place that knows Kafka settings. */
public final class KafkaConnectors {
    private KafkaConnectors() {}

    /**
     * A source over the given topics, resuming from committed offsets (earliest on first start);
     * bounded sources stop at the offsets that were latest when the job started (replay mode), also
     * when restored from a checkpoint ({@link ResumableBoundedSource}).
     */
    public static ResumableBoundedSource<RawRecord> rawSource(TourniquetConfig cfg, List<String> topics, String groupSuffix,
                                                   boolean bounded) {
        return rawSource(cfg, topics, groupSuffix, bounded, new RawRecordDeserializer());
    }

    /**
     * The same, with records deserialized by {@code deserializer} (the detect job's input source
     * parses events there, once: {@link RawRecordDeserializer#RawRecordDeserializer(io.tourniquet.model.EventParser)}).
     */
    public static ResumableBoundedSource<RawRecord> rawSource(TourniquetConfig cfg, List<String> topics, String groupSuffix,
                                                   boolean bounded, RawRecordDeserializer deserializer) {
        KafkaSourceBuilder<RawRecord> b = KafkaSource.<RawRecord>builder()
                .setProperties(KafkaClientConfig.base(cfg))
                .setBootstrapServers(cfg.get(Settings.KAFKA_BOOTSTRAP))
                .setTopics(topics)
                .setGroupId(cfg.get(Settings.KAFKA_GROUP_PREFIX) + "-" + groupSuffix)
                .setStartingOffsets(OffsetsInitializer.committedOffsets(OffsetResetStrategy.EARLIEST))
                .setDeserializer(deserializer)
                // Alerts are written in transactions: never read what a failed attempt left behind.
                .setProperty("isolation.level", "read_committed")
                .setProperty("partition.discovery.interval.ms", bounded ? "-1" : "30000")
                .setProperty("commit.offsets.on.checkpoint", "true");
        if (bounded) b.setBounded(OffsetsInitializer.latest());
        return new ResumableBoundedSource<>(b.build());
    }

    public static List<String> inputTopics(TourniquetConfig cfg) {
        return List.of(cfg.get(Settings.TOPIC_LOGINS), cfg.get(Settings.TOPIC_MFA),
                cfg.get(Settings.TOPIC_WITHDRAWALS), cfg.get(Settings.TOPIC_ACCOUNT_CHANGES));
    }

    /** Every change of an incident; the key keeps one incident's versions in order on one partition. */
    public static KafkaSink<Incident> incidentSink(TourniquetConfig cfg) {
        return atLeastOnce(cfg, new JsonRecordSerializer<>(cfg.get(Settings.TOPIC_INCIDENTS),
                new IncidentKey(), new JsonValue<>()));
    }

    /**
     * Exactly once: a user never gets the same update twice, even across restarts (a replay from
     * a checkpoint recomputes the update numbers, and only committed messages are read). Ids are
     * deterministic as well, for the messaging service. A message is visible at its checkpoint.
     */
    public static KafkaSink<Notification> notificationSink(TourniquetConfig cfg) {
        return exactlyOnce(cfg, "notifications", Settings.TOPIC_NOTIFICATIONS, new NotificationKey());
    }

    /** Exactly once, like notifications: every claim version once, in order per user (the key). */
    public static KafkaSink<Claim> claimSink(TourniquetConfig cfg) {
        return exactlyOnce(cfg, "claims", Settings.TOPIC_CLAIMS, new ClaimKey());
    }

    /** Exactly once, like claims: every accepted verdict once (key: the judged alert's id). */
    public static KafkaSink<io.tourniquet.model.Verdict> verdictSink(TourniquetConfig cfg) {
        return exactlyOnce(cfg, "verdicts", Settings.TOPIC_VERDICTS, new VerdictKey());
    }

    /** Exactly once: an alert becomes visible to read_committed readers when its checkpoint completes. */
    public static KafkaSink<Alert> alertSink(TourniquetConfig cfg) {
        return exactlyOnce(cfg, "alerts", Settings.TOPIC_ALERTS, new AlertKey());
    }

    private static <T> KafkaSink<T> exactlyOnce(TourniquetConfig cfg, String name, Setting<String> topic,
                                                JsonRecordSerializer.KeyOf<T> key) {
        return KafkaSink.<T>builder()
                .setKafkaProducerConfig(KafkaClientConfig.base(cfg))
                .setBootstrapServers(cfg.get(Settings.KAFKA_BOOTSTRAP))
                .setRecordSerializer(new JsonRecordSerializer<>(cfg.get(topic), key, new JsonValue<>()))
                .setDeliveryGuarantee(DeliveryGuarantee.EXACTLY_ONCE)
                .setTransactionalIdPrefix(cfg.get(Settings.KAFKA_GROUP_PREFIX) + "-" + name + "-"
                        + Integer.toHexString(cfg.get(topic).hashCode()))
                .setProperty("transaction.timeout.ms",
                        Long.toString(cfg.get(Settings.KAFKA_TRANSACTION_TIMEOUT).toMillis()))
                .build();
    }

    /** At least once and unbuffered: a freeze must not wait for a checkpoint. Ids are deterministic. */
    public static KafkaSink<SignedAction> actionSink(TourniquetConfig cfg) {
        return atLeastOnce(cfg, new JsonRecordSerializer<>(cfg.get(Settings.TOPIC_ACTIONS),
                new ActionKey(), new SignedBytes()));
    }

    public static KafkaSink<EnrichedEvent> enrichedSink(TourniquetConfig cfg) {
        // The forensic path, every event: batched (it feeds the index job, never a freeze).
        return atLeastOnce(cfg, new JsonRecordSerializer<>(cfg.get(Settings.TOPIC_ENRICHED),
                new EnrichedKey(), new JsonValue<>()), cfg.get(Settings.KAFKA_BATCH_LINGER).toMillis());
    }

    public static KafkaSink<DeadLetter> deadLetterSink(TourniquetConfig cfg) {
        return atLeastOnce(cfg, new JsonRecordSerializer<>(cfg.get(Settings.TOPIC_DLQ),
                new DeadLetterKey(), new JsonValue<>()));
    }

    private static <T> KafkaSink<T> atLeastOnce(TourniquetConfig cfg, JsonRecordSerializer<T> serializer) {
        return atLeastOnce(cfg, serializer, 0L);
    }

    private static <T> KafkaSink<T> atLeastOnce(TourniquetConfig cfg, JsonRecordSerializer<T> serializer,
                                                long lingerMillis) {
        return KafkaSink.<T>builder()
                .setKafkaProducerConfig(KafkaClientConfig.base(cfg))
                .setBootstrapServers(cfg.get(Settings.KAFKA_BOOTSTRAP))
                .setRecordSerializer(serializer)
                .setDeliveryGuarantee(DeliveryGuarantee.AT_LEAST_ONCE)
                .setProperty("linger.ms", Long.toString(lingerMillis))
                .setProperty("acks", "all")
                .build();
    }

    static final class AlertKey implements JsonRecordSerializer.KeyOf<Alert> {
        private static final long serialVersionUID = 1L;

        @Override
        public String key(Alert a) {
            return a.userId != null ? a.userId : a.rule;
        }
    }

    static final class ActionKey implements JsonRecordSerializer.KeyOf<SignedAction> {
        private static final long serialVersionUID = 1L;

        @Override
        public String key(SignedAction a) {
            return a.action.scope.keyValue();
        }
    }

    static final class EnrichedKey implements JsonRecordSerializer.KeyOf<EnrichedEvent> {
        private static final long serialVersionUID = 1L;

        @Override
        public String key(EnrichedEvent e) {
            return e.event.userId;
        }
    }

    static final class VerdictKey implements JsonRecordSerializer.KeyOf<io.tourniquet.model.Verdict> {
        private static final long serialVersionUID = 1L;

        @Override
        public String key(io.tourniquet.model.Verdict v) {
            return v.alertId;
        }
    }

    static final class ClaimKey implements JsonRecordSerializer.KeyOf<Claim> {
        private static final long serialVersionUID = 1L;

        @Override
        public String key(Claim c) {
            return c.userId;
        }
    }

    static final class IncidentKey implements JsonRecordSerializer.KeyOf<Incident> {
        private static final long serialVersionUID = 1L;

        @Override
        public String key(Incident i) {
            return i.incidentId;
        }
    }

    static final class NotificationKey implements JsonRecordSerializer.KeyOf<Notification> {
        private static final long serialVersionUID = 1L;

        @Override
        public String key(Notification n) {
            return n.userId;
        }
    }

    static final class DeadLetterKey implements JsonRecordSerializer.KeyOf<DeadLetter> {
        private static final long serialVersionUID = 1L;

        @Override
        public String key(DeadLetter d) {
            return d.topic;
        }
    }

    static final class JsonValue<T> implements JsonRecordSerializer.ValueOf<T> {
        private static final long serialVersionUID = 1L;

        @Override
        public byte[] value(T v) {
            return Json.toBytes(v);
        }
    }

    static final class SignedBytes implements JsonRecordSerializer.ValueOf<SignedAction> {
        private static final long serialVersionUID = 1L;

        @Override
        public byte[] value(SignedAction a) {
            return a.json;
        }
    }
}
