package io.tourniquet.json;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.module.SimpleModule;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.tourniquet.model.Action;
import io.tourniquet.model.Alert;
import io.tourniquet.model.DeadLetter;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

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
        m.setMixInAnnotation(DeadLetter.class, TimeMixins.DeadLetterTimes.class);
        m.setMixInAnnotation(io.tourniquet.model.Incident.class, TimeMixins.IncidentTimes.class);
        m.setMixInAnnotation(io.tourniquet.model.Notification.class, TimeMixins.NotificationTimes.class);
        m.setMixInAnnotation(io.tourniquet.rules.RuleVersion.class, TimeMixins.RuleVersionTimes.class);
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
     * The contract's canonical form: keys sorted (by Java string order, recursively), no
     * whitespace, UTF-8. Signatures are computed over exactly these bytes.
     */
    public static byte[] canonicalBytes(JsonNode node) {
        try {
            return MAPPER.writeValueAsBytes(sorted(node));
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    private static JsonNode sorted(JsonNode node) {
        if (node.isObject()) {
            List<String> names = new ArrayList<>();
            node.fieldNames().forEachRemaining(names::add);
            Collections.sort(names);
            ObjectNode out = JsonNodeFactory.instance.objectNode();
            for (String name : names) {
                out.set(name, sorted(node.get(name)));
            }
            return out;
        }
        if (node.isArray()) {
            ArrayNode out = JsonNodeFactory.instance.arrayNode();
            for (Iterator<JsonNode> it = node.elements(); it.hasNext(); ) {
                out.add(sorted(it.next()));
            }
            return out;
        }
        return node;
    }

    @SuppressWarnings("unchecked")
    public static Map<String, Object> toMap(Object value) {
        return MAPPER.convertValue(value, Map.class);
    }
}
