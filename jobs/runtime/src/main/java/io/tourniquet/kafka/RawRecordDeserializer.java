package io.tourniquet.kafka;

import io.tourniquet.model.EventParser;
import io.tourniquet.model.RawRecord;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.connector.kafka.source.reader.deserializer.KafkaRecordDeserializationSchema;
import org.apache.flink.util.Collector;
import org.apache.kafka.clients.consumer.ConsumerRecord;

/**
 * Wraps every Kafka record as it is; validation happens in the job, where rejects become DLQ
 * records. With a parser, records of the topics it reads are parsed here, once: the outcome
 * travels on the record ({@link EventParser#parseAtSource}) to the event-time assigner and the
 * parse step, which would otherwise each parse the bytes.
 */
public final class RawRecordDeserializer implements KafkaRecordDeserializationSchema<RawRecord> {
    private static final long serialVersionUID = 1L;

    private final EventParser parser;

    /** Records as they are, unparsed. */
    public RawRecordDeserializer() {
        this(null);
    }

    /** @param parser parses the records of the topics it reads; null: none */
    public RawRecordDeserializer(EventParser parser) {
        this.parser = parser;
    }

    @Override
    public void deserialize(ConsumerRecord<byte[], byte[]> r, Collector<RawRecord> out) {
        RawRecord raw = new RawRecord(r.topic(), r.partition(), r.offset(), r.key(), r.value(), r.timestamp());
        if (parser != null && parser.reads(raw.topic)) parser.parseAtSource(raw);
        out.collect(raw);
    }

    @Override
    public TypeInformation<RawRecord> getProducedType() {
        return TypeInformation.of(RawRecord.class);
    }
}
