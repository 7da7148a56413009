package io.tourniquet.model;

import java.util.Arrays;
import java.util.Objects;

/**
 * A record exactly as it came off an input topic. The Kafka deserializer never fails: it wraps
 * the bytes, so every malformed record reaches {@code ParseFunction} and can be dead-lettered
 * with its coordinates instead of failing the source.
 */
public class RawRecord {
    public String topic;
    public int partition;
    public long offset;
    public byte[] key;
    public byte[] value;
    /** Kafka record timestamp (ms), or -1 when the source gave none. */
    public long timestamp = -1L;

    // Parse once: the source's deserializer parses an input record and keeps the outcome here, so
    // that the event-time assigner at the source and the parse step use it instead of parsing the
    // bytes again (EventParser.parseAtSource). Left empty for records not parsed there (control
    // requests, records a test hands the job).
    /** The event, when the record keeps the contract (bounds on event time not yet applied). */
    public Event event;
    /** When it does not: the reason's code and sentence. */
    public String invalidCode;
    public String invalidMessage;
    /** Its event time, when that could be read, else {@link Long#MIN_VALUE}. */
    public long parsedEventTime = Long.MIN_VALUE;

    public RawRecord() {}

    public RawRecord(String topic, int partition, long offset, byte[] key, byte[] value, long timestamp) {
        this.topic = topic;
        this.partition = partition;
        this.offset = offset;
        this.key = key;
        this.value = value;
        this.timestamp = timestamp;
    }

    /** Whether the source parsed this record (see {@link #event}). */
    public boolean parsed() {
        return event != null || invalidCode != null;
    }

    @Override
    public boolean equals(Object o) {
        if (!(o instanceof RawRecord r)) return false;
        return partition == r.partition && offset == r.offset && timestamp == r.timestamp
                && Objects.equals(topic, r.topic) && Arrays.equals(key, r.key) && Arrays.equals(value, r.value);
    }

    @Override
    public int hashCode() {
        return Objects.hash(topic, partition, offset);
    }

    @Override
    public String toString() {
        return topic + "/" + partition + "@" + offset;
    }
}
