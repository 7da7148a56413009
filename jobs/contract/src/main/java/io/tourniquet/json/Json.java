package io.tourniquet.json;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.module.SimpleModule;
import io.tourniquet.model.Action;
import io.tourniquet.model.Alert;
import io.tourniquet.model.DeadLetter;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import org.erdtman.jcs.JsonCanonicalizer;

/**
 * The one JSON configuration of the project: contract field names are snake_case, output times
 * are RFC 3339 strings, and unknown input fields are tolerated (producers may extend the contract).
 */
public final class Json {
    public static final ObjectMapper MAPPER = JsonMapper.builder()
            .propertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE)
            .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            .disable(SerializationFeature.FAIL_ON_EMPTY_BEANS)
            .addModule(timeModule())
            .build();

    private Json() {}

    private static SimpleModule timeModule() {
        SimpleModule m = new SimpleModule("tourniquet-times");
        // Alert and action times are epoch millis in memory and RFC 3339 on the wire.
        m.setMixInAnnotation(Alert.class, TimeMixins.AlertTimes.class);
        m.setMixInAnnotation(Action.class, TimeMixins.ActionTimes.class);
        m.setMixInAnnotation(io.tourniquet.model.Verdict.class, TimeMixins.VerdictTimes.class);
        m.setMixInAnnotation(io.tourniquet.model.Suppression.class, TimeMixins.SuppressionTimes.class);
        m.setMixInAnnotation(DeadLetter.class, TimeMixins.DeadLetterTimes.class);
        m.setMixInAnnotation(io.tourniquet.model.Incident.class, TimeMixins.IncidentTimes.class);
        m.setMixInAnnotation(io.tourniquet.model.Notification.class, TimeMixins.NotificationTimes.class);
        return m;
    }

    public static byte[] toBytes(Object value) {
        try {
            return MAPPER.writeValueAsBytes(value);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot serialize " + value.getClass().getSimpleName(), e);
        }
    }

    public static String toString(Object value) {
        return new String(toBytes(value), StandardCharsets.UTF_8);
    }

    public static <T> T fromBytes(byte[] bytes, Class<T> type) {
        try {
            return MAPPER.readValue(bytes, type);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + type.getSimpleName(), e);
        }
    }

    public static JsonNode tree(Object value) {
        return MAPPER.valueToTree(value);
    }

    /**
     * The contract's canonical form, as RFC 8785 (JSON Canonicalization Scheme) defines it: object
     * keys sorted by their UTF-16 code units, recursively; no whitespace; strings escaped only where
     * JSON requires (\b \f \n \r \t, other control characters as lowercase \\u00xx, quote and
     * backslash); numbers as ECMAScript prints doubles (so integers must stay below 2^53); UTF-8.
     * Signatures are computed over exactly these bytes, so an enforcer in any language with a JCS
     * implementation (or the 40 lines of {@code enforcer/verify_command.py}) can verify them.
     */
    public static byte[] canonicalBytes(JsonNode node) {
        try {
            return new JsonCanonicalizer(MAPPER.writeValueAsBytes(node)).getEncodedUTF8();
        } catch (java.io.IOException e) {
            throw new IllegalStateException("cannot canonicalize: " + e.getMessage(), e);
        }
    }

    @SuppressWarnings("unchecked")
    public static Map<String, Object> toMap(Object value) {
        return MAPPER.convertValue(value, Map.class);
    }
}
