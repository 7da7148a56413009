package io.tourniquet.testing;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.tourniquet.config.Setting;
import io.tourniquet.config.Settings;
import io.tourniquet.config.TourniquetConfig;
import io.tourniquet.json.Json;
import io.tourniquet.util.Times;
import java.time.Instant;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * Input events for an ITCase with the detect job live: contract-valid events written one key per
 * topic (one partition each, so read in the order written), and a tick that moves event time on
 * every input topic at once. Owns its producer ({@code acks=all}), which tests may also use for
 * other records.
 */
public final class LiveInput implements AutoCloseable {
    private final TourniquetConfig cfg;
    private final KafkaProducer<String, String> producer;
    private final String name;
    private int seq;

    private LiveInput(TourniquetConfig cfg, String name, KafkaProducer<String, String> producer) {
        this.cfg = cfg;
        this.name = name;
        this.producer = producer;
    }

    /** Events named {@code <name>-<n>}, written under the key {@code name} to {@code cfg}'s Kafka. */
    public static LiveInput open(TourniquetConfig cfg, String name) {
        return new LiveInput(cfg, name, new KafkaProducer<>(java.util.Map.of(
                "bootstrap.servers", cfg.get(Settings.KAFKA_BOOTSTRAP), "acks", "all",
                "key.serializer", StringSerializer.class.getName(),
                "value.serializer", StringSerializer.class.getName())));
    }

    /** The producer, for records other than input events (e.g. control requests). */
    public KafkaProducer<String, String> producer() {
        return producer;
    }

    @Override
    public void close() {
        producer.close();
    }

    /** The fields every input event has. */
    public ObjectNode event(String user, Instant at) {
        ObjectNode e = Json.MAPPER.createObjectNode();
        e.put("event_id", name + "-" + (seq++));
        e.put("event_time", Times.format(at.toEpochMilli()));
        e.put("user_id", user);
        e.put("session_id", "s-" + user);
        e.put("ip", "203.0.113.7");
        e.put("device_id", "d-" + user);
        return e;
    }

    /** Written and acknowledged, under the one key. */
    public void send(Setting<String> topic, ObjectNode e) throws Exception {
        producer.send(new ProducerRecord<>(cfg.get(topic), name, e.toString())).get();
    }

    /** An event of user {@code ticker} on every input topic, at {@code at}: event time moves on. */
    public void tick(Instant at) throws Exception {
        ObjectNode login = event("ticker", at);
        login.put("outcome", "success");
        login.put("auth_method", "password");
        login.put("device_jailbroken", false);
        send(Settings.TOPIC_LOGINS, login);
        ObjectNode change = event("ticker", at);
        change.put("action", "password_changed");
        send(Settings.TOPIC_ACCOUNT_CHANGES, change);
        ObjectNode w = event("ticker", at);
        w.put("withdrawal_id", "w-tick");
        w.put("status", "cancelled");
        w.put("asset", "ETH");
        w.put("network", "ethereum");
        w.put("amount", "0.1");
        w.put("usd_value", 300);
        w.put("destination_address", "0xattacker");
        send(Settings.TOPIC_WITHDRAWALS, w);
        ObjectNode m = event("ticker", at);
        m.put("action", "token_enrolled");
        m.put("method", "totp");
        send(Settings.TOPIC_MFA, m);
    }
}
