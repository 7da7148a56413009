package io.tourniquet.detect;

import io.tourniquet.model.InvalidEventException;
import io.tourniquet.model.EventParser;
import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import io.tourniquet.model.RawRecord;
import io.tourniquet.util.Times;
import org.apache.flink.api.common.eventtime.SerializableTimestampAssigner;

/**
 * Event time of a raw record, at the source, so that Flink's Kafka source keeps one watermark per
 * partition. That matters on replay: the source reads some partitions (whole
 * topics) far ahead of others, and a single watermark assigned after parsing would race to the
 * fastest one and make every other topic late. Per partition, the slowest one holds event time
 * back, as it should.
 *
 * <p>Only a record that passes the same validation as the parse step (the contract, and the bounds
 * on event time: {@code input.max-future}, {@code input.max-age}) has a timestamp; any other gets
 * the minimum, which never moves a watermark, and the parse step dead-letters it. Reading
 * {@code event_time} from any JSON object let one record dated 9999 per partition fire every
 * timer at once (challenges forgotten, legitimate approvals flagged, users frozen en masse).
 */
public final class RawEventTime implements SerializableTimestampAssigner<RawRecord> {
    private static final long serialVersionUID = 1L;
    private static final JsonFactory JSON = new JsonFactory();

    private final EventParser parser;

    /** @param parser the parse step's own validation (one definition of a valid record) */
    public RawEventTime(EventParser parser) {
        this.parser = parser;
    }

    @Override
    public long extractTimestamp(RawRecord r, long recordTimestamp) {
        try {
            return parser.parse(r).eventTime;
        } catch (InvalidEventException | RuntimeException e) {
            return Long.MIN_VALUE;
        }
    }

    /**
     * The record's {@code event_time} in epoch millis, read without any validation, or
     * {@link Long#MIN_VALUE} if it has none readable (for tools and tests that order records).
     */
    public static long of(byte[] value) {
        if (value == null) return Long.MIN_VALUE;
        try (JsonParser p = JSON.createParser(value)) {
            if (p.nextToken() != JsonToken.START_OBJECT) return Long.MIN_VALUE;
            JsonToken t;
            while ((t = p.nextToken()) == JsonToken.FIELD_NAME) {
                String name = p.currentName();
                JsonToken v = p.nextToken();
                if ("event_time".equals(name)) {
                    return v == JsonToken.VALUE_STRING ? Times.parseMillis(p.getText()) : Long.MIN_VALUE;
                }
                if (v == JsonToken.START_OBJECT || v == JsonToken.START_ARRAY) p.skipChildren();
            }
            return Long.MIN_VALUE;
        } catch (Exception e) {
            return Long.MIN_VALUE;
        }
    }
}
