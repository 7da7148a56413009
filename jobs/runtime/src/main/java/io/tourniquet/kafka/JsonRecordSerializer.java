package io.tourniquet.kafka;

import java.io.Serializable;
import java.nio.charset.StandardCharsets;
import org.apache.flink.connector.kafka.sink.KafkaRecordSerializationSchema;
import org.apache.kafka.clients.producer.ProducerRecord;

/**
 * Writes one output record: the key the contract names for the topic and the JSON value. The
 * Kafka timestamp is left to the producer (append-side wall clock), not the event time, so
 * topic retention and latency measurements work on real time.
 *
 * @param <T> the record type
 */
public final class JsonRecordSerializer<T> implements KafkaRecordSerializationSchema<T> {
    private static final long serialVersionUID = 1L;

    /** Extracts the record key. */
    @FunctionalInterface
    public interface KeyOf<T> extends Serializable {
        String key(T value);
    }

    /** Produces the record value. */
    @FunctionalInterface
    public interface ValueOf<T> extends Serializable {
        byte[] value(T value);
    }

    private final String topic;
    private final KeyOf<T> keyOf;
    private final ValueOf<T> valueOf;

    public JsonRecordSerializer(String topic, KeyOf<T> keyOf, ValueOf<T> valueOf) {
        this.topic = topic;
        this.keyOf = keyOf;
        this.valueOf = valueOf;
    }

    @Override
    public ProducerRecord<byte[], byte[]> serialize(T element, KafkaSinkContext context, Long timestamp) {
        String key = keyOf.key(element);
        return new ProducerRecord<>(topic, null, null,
                key == null ? null : key.getBytes(StandardCharsets.UTF_8), valueOf.value(element));
    }
}
