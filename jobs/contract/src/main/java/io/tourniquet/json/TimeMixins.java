package io.tourniquet.json;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.databind.DeserializationContext;
import com.fasterxml.jackson.databind.JsonDeserializer;
import com.fasterxml.jackson.databind.JsonSerializer;
import com.fasterxml.jackson.databind.SerializerProvider;
import com.fasterxml.jackson.databind.annotation.JsonDeserialize;
import com.fasterxml.jackson.databind.annotation.JsonSerialize;
import io.tourniquet.util.Times;
import java.io.IOException;

/**
 * Jackson mix-ins: epoch-millis fields written and read as RFC 3339 UTC strings. The two converters
 * are public for types outside the contract (a rule's version) that annotate their own fields, so
 * this package never names them.
 */
public final class TimeMixins {
    private TimeMixins() {}

    public static final class Rfc3339Serializer extends JsonSerializer<Long> {
        @Override
        public void serialize(Long value, JsonGenerator gen, SerializerProvider serializers) throws IOException {
            gen.writeString(Times.format(value));
        }
    }

    public static final class Rfc3339Deserializer extends JsonDeserializer<Long> {
        @Override
        public Long deserialize(JsonParser p, DeserializationContext ctxt) throws IOException {
            return Times.parseMillis(p.getValueAsString());
        }
    }

    abstract static class AlertTimes {
        @JsonSerialize(using = Rfc3339Serializer.class)
        @JsonDeserialize(using = Rfc3339Deserializer.class)
        public long eventTime;

        @JsonSerialize(using = Rfc3339Serializer.class)
        @JsonDeserialize(using = Rfc3339Deserializer.class)
        public long detectedAt;

        @JsonSerialize(using = Rfc3339Serializer.class)
        @JsonDeserialize(using = Rfc3339Deserializer.class)
        public Long shadowSince;
    }

    abstract static class VerdictTimes {
        @JsonSerialize(using = Rfc3339Serializer.class)
        @JsonDeserialize(using = Rfc3339Deserializer.class)
        public long decidedAt;

        @JsonSerialize(using = Rfc3339Serializer.class)
        @JsonDeserialize(using = Rfc3339Deserializer.class)
        public long alertTime;

        @JsonSerialize(using = Rfc3339Serializer.class)
        @JsonDeserialize(using = Rfc3339Deserializer.class)
        public Long suppressesUntil;
    }

    abstract static class SuppressionTimes {
        @JsonSerialize(using = Rfc3339Serializer.class)
        @JsonDeserialize(using = Rfc3339Deserializer.class)
        public long from;

        @JsonSerialize(using = Rfc3339Serializer.class)
        @JsonDeserialize(using = Rfc3339Deserializer.class)
        public long until;
    }

    abstract static class ActionTimes {
        @JsonSerialize(using = Rfc3339Serializer.class)
        @JsonDeserialize(using = Rfc3339Deserializer.class)
        public long eventTime;

        @JsonSerialize(using = Rfc3339Serializer.class)
        @JsonDeserialize(using = Rfc3339Deserializer.class)
        public long issuedAt;

        @JsonSerialize(using = Rfc3339Serializer.class)
        @JsonDeserialize(using = Rfc3339Deserializer.class)
        public Long expiresAt;
    }

    abstract static class DeadLetterTimes {
        @JsonSerialize(using = Rfc3339Serializer.class)
        @JsonDeserialize(using = Rfc3339Deserializer.class)
        public long rejectedAt;
    }

    abstract static class IncidentTimes {
        @JsonSerialize(using = Rfc3339Serializer.class)
        @JsonDeserialize(using = Rfc3339Deserializer.class)
        public long startedAt;

        @JsonSerialize(using = Rfc3339Serializer.class)
        @JsonDeserialize(using = Rfc3339Deserializer.class)
        public long detectedAt;

        @JsonSerialize(using = Rfc3339Serializer.class)
        @JsonDeserialize(using = Rfc3339Deserializer.class)
        public Long containedAt;

        @JsonSerialize(using = Rfc3339Serializer.class)
        @JsonDeserialize(using = Rfc3339Deserializer.class)
        public Long resolvedAt;

        @JsonSerialize(using = Rfc3339Serializer.class)
        @JsonDeserialize(using = Rfc3339Deserializer.class)
        public long lastAlertAt;

        @JsonSerialize(using = Rfc3339Serializer.class)
        @JsonDeserialize(using = Rfc3339Deserializer.class)
        public long updatedAt;
    }

    abstract static class NotificationTimes {
        @JsonSerialize(using = Rfc3339Serializer.class)
        @JsonDeserialize(using = Rfc3339Deserializer.class)
        public long eventTime;

        @JsonSerialize(using = Rfc3339Serializer.class)
        @JsonDeserialize(using = Rfc3339Deserializer.class)
        public long createdAt;
    }
}
