package io.tourniquet.util;

/**
 * W3C Trace Context {@code traceparent} values for what the pipeline publishes, so an enforcer or a
 * notifier that uses OpenTelemetry continues the alert's trace: an alert starts a trace, and its
 * commands and notifications are spans of that same trace.
 *
 * <p>Deterministic, like every id the pipeline makes: the trace id derives from the alert id and
 * a span id from what the span is, so a replay or a redelivery carries the same values and
 * enforcers that de-duplicate by action id see one trace, not one per delivery. Sampled flag set:
 * the decision to record is the consumer's tracer's.
 */
public final class TraceParents {
    private TraceParents() {}

    /** The alert's own span in a trace of its own. */
    public static String forAlert(String alertId) {
        return format(Ids.of("trace", alertId), spanId("alert", alertId));
    }

    /** A span of {@code parent}'s trace: a command or a notification answering the alert. */
    public static String child(String parent, String kind, String id) {
        return format(traceId(parent), spanId(kind, id));
    }

    /** The 32 hex digits of a traceparent's trace id. */
    public static String traceId(String traceparent) {
        if (traceparent == null || !traceparent.matches("00-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}")) {
            throw new IllegalArgumentException("not a version-00 traceparent: " + traceparent);
        }
        return traceparent.substring(3, 35);
    }

    private static String spanId(String kind, String id) {
        return Ids.of("span", kind, id).substring(0, 16);
    }

    private static String format(String traceId, String spanId) {
        // All-zero ids are invalid in W3C Trace Context; a SHA-256 prefix of 64 zero bits is not a
        // practical concern, but the check keeps a value that would be ignored from ever leaving.
        if (traceId.chars().allMatch(c -> c == '0') || spanId.chars().allMatch(c -> c == '0')) {
            throw new IllegalStateException("all-zero trace or span id");
        }
        return "00-" + traceId + "-" + spanId + "-01";
    }
}
