package io.tourniquet.testing;

import static org.assertj.core.api.Assertions.assertThat;

import io.tourniquet.model.Anomaly;
import io.tourniquet.model.AnomalyContribution;
import io.tourniquet.model.EnrichedEvent;
import io.tourniquet.model.Event;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Records with every field set to a value of its own (found by reflection, so a field added to
 * the model is filled too), and a field-by-field comparison that covers every field (the model's
 * {@code equals}, where there is one, compares only identity fields).
 */
public final class FilledRecords {
    private FilledRecords() {}

    public static List<String> fieldNames(Class<?> type) {
        return instanceFields(type).stream().map(Field::getName).toList();
    }

    private static List<Field> instanceFields(Class<?> type) {
        return Arrays.stream(type.getDeclaredFields()).filter(f -> !Modifier.isStatic(f.getModifiers())).toList();
    }

    /** An event whose every field differs from its default and from every other field (salted). */
    public static Event event(int salt) {
        Event e = new Event();
        int i = salt * 100;
        for (Field f : instanceFields(Event.class)) {
            set(f, e, value(f, ++i));
        }
        return e;
    }

    public static EnrichedEvent enriched(int salt) {
        EnrichedEvent e = new EnrichedEvent();
        e.event = event(salt);
        e.mfaAuthorized = salt % 2 == 0;
        e.mfaDecisionReason = "reason-" + salt;
        e.alertIds = new ArrayList<>(List.of("alert-a-" + salt, "alert-b-" + salt));
        e.incidentId = "incident-" + salt;
        e.late = true;
        Anomaly a = new Anomaly();
        a.schemaVersion = 3 + salt;
        a.schemaHash = "hash-" + salt;
        a.features = new LinkedHashMap<>();
        a.features.put("z_first", 1.5 + salt);
        a.features.put("a_second", -2.25);
        a.features.put("missing", null);
        a.modelVersion = "model-" + salt;
        a.score = 0.75;
        a.threshold = 0.5;
        a.topContributions = new ArrayList<>(List.of(new AnomalyContribution("z_first", 1.5, 0.5, 0.2)));
        e.anomaly = a;
        // Every field of the three classes is set above; the coverage test checks the lists match.
        return e;
    }

    private static Object value(Field f, int i) {
        Class<?> t = f.getType();
        if (t == String.class) return f.getName() + "-" + i;
        if (t == long.class || t == Long.class) return 1_700_000_000_000L + i;
        if (t == int.class || t == Integer.class) return i;
        if (t == double.class || t == Double.class) return i + 0.125;
        if (t == boolean.class) return true;
        if (t == Boolean.class) return i % 2 == 0;
        if (t.isEnum()) return t.getEnumConstants()[i % t.getEnumConstants().length];
        throw new AssertionError("no test value for field " + f + " of type " + t);
    }

    private static void set(Field f, Object target, Object value) {
        try {
            f.set(target, value);
        } catch (IllegalAccessException e) {
            throw new AssertionError(e);
        }
    }

    /** Every field of the model's records equal, recursively; lists and maps in order. */
    public static void assertDeepEqual(String where, Object expected, Object actual) {
        if (expected == null || actual == null) {
            assertThat(actual).as(where).isEqualTo(expected);
            return;
        }
        if (expected instanceof List<?> l) {
            assertThat(actual).as(where).isInstanceOf(List.class);
            List<?> m = (List<?>) actual;
            assertThat(m).as(where + " size").hasSameSizeAs(l);
            for (int i = 0; i < l.size(); i++) assertDeepEqual(where + "[" + i + "]", l.get(i), m.get(i));
        } else if (expected instanceof Map<?, ?> map) {
            // Any map with the same entries in the same order: which Map class holds them is the
            // serializer's business (Flink's POJO serializer reads a HashMap).
            assertThat(actual).as(where).isInstanceOf(Map.class);
            Map<?, ?> other = (Map<?, ?>) actual;
            assertThat(new ArrayList<Object>(other.keySet())).as(where + " keys, in order").isEqualTo(new ArrayList<Object>(map.keySet()));
            Iterator<?> it = other.values().iterator();
            for (Object v : map.values()) assertDeepEqual(where + " value", v, it.next());
        } else if (expected.getClass().getPackageName().equals(Event.class.getPackageName()) && !expected.getClass().isEnum()) {
            assertThat(actual.getClass()).as(where).isEqualTo(expected.getClass());
            for (Field f : instanceFields(expected.getClass())) {
                try {
                    assertDeepEqual(where + "." + f.getName(), f.get(expected), f.get(actual));
                } catch (IllegalAccessException e) {
                    throw new AssertionError(e);
                }
            }
        } else {
            assertThat(actual).as(where).isEqualTo(expected);
        }
    }

    /** Field by field (the model's {@code equals}, where there is one, compares identity fields only). */
    public static org.apache.flink.testutils.DeeplyEqualsChecker checker() {
        return new org.apache.flink.testutils.DeeplyEqualsChecker().withCustomCheck(
                (a, b) -> a != null && a.getClass().getPackageName().equals(Event.class.getPackageName()),
                (a, b, c) -> {
                    try {
                        assertDeepEqual("record", a, b);
                        return true;
                    } catch (AssertionError e) {
                        return false;
                    }
                });
    }
}
