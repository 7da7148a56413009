package io.tourniquet.detect;

import io.tourniquet.detect.job.ActionPlanner;
import io.tourniquet.signing.ActionExpiry;
import io.tourniquet.signing.SignedAction;
import io.tourniquet.signing.CommandSigner;
import io.tourniquet.util.SerializableClock;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanContext;
import io.opentelemetry.api.trace.propagation.W3CTraceContextPropagator;
import io.opentelemetry.context.Context;
import io.opentelemetry.context.propagation.TextMapGetter;
import io.opentelemetry.sdk.testing.exporter.InMemorySpanExporter;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import io.opentelemetry.sdk.trace.data.SpanData;
import io.opentelemetry.sdk.trace.export.SimpleSpanProcessor;
import io.tourniquet.json.Json;
import io.tourniquet.model.Alert;
import io.tourniquet.model.Notification;
import io.tourniquet.notify.NotificationComposer;
import io.tourniquet.model.NotificationRequest;
import io.tourniquet.util.TraceParents;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.flink.streaming.api.operators.StreamFlatMap;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.util.OneInputStreamOperatorTestHarness;
import org.junit.jupiter.api.Test;

/**
 * An alert starts a W3C trace; its commands and notifications are spans of it, so an enforcer that
 * uses OpenTelemetry continues the alert's trace. Checked with OpenTelemetry's own propagator and
 * the SDK's in-memory exporter, not with our parsing.
 */
class TraceContextTest {
    static final String KEY = "trace-test-key-0123456789-0123456789-0123";
    static final long ISSUED = 1_700_000_000_000L;

    static final TextMapGetter<Map<String, String>> MAP = new TextMapGetter<>() {
        @Override
        public Iterable<String> keys(Map<String, String> carrier) {
            return carrier.keySet();
        }

        @Override
        public String get(Map<String, String> carrier, String key) {
            return carrier == null ? null : carrier.get(key);
        }
    };

    /** What an OpenTelemetry consumer extracts from a record's traceparent. */
    static SpanContext extract(String traceparent) {
        Context ctx = W3CTraceContextPropagator.getInstance().extract(Context.root(),
                Map.of("traceparent", traceparent), MAP);
        return Span.fromContext(ctx).getSpanContext();
    }

    static Alert alert() {
        Alert a = io.tourniquet.testing.TestAlerts.unauthorized("0123456789abcdef0123456789abcdef", "u1",
                java.time.Instant.parse("2022-01-17T10:00:00Z").toEpochMilli());
        a.traceparent = TraceParents.forAlert(a.alertId);
        return a;
    }

    static List<SignedAction> plan(Alert alert) throws Exception {
        ActionPlanner planner = new ActionPlanner(new CommandSigner(KEY), ActionExpiry.defaults(),
                SerializableClock.fixed(ISSUED));
        try (var h = new OneInputStreamOperatorTestHarness<>(new StreamFlatMap<>(planner))) {
            h.open();
            h.processElement(new StreamRecord<>(alert, alert.eventTime));
            return new ArrayList<>(h.extractOutputValues());
        }
    }

    @Test
    void commandsAndNotificationsAreSpansOfTheAlertsTraceTheSameOnEveryReplay() throws Exception {
        Alert alert = alert();
        SpanContext alertSpan = extract(alert.traceparent);
        assertThat(alertSpan.isValid()).isTrue();
        assertThat(alertSpan.isRemote()).isTrue();
        assertThat(alertSpan.isSampled()).isTrue();

        List<SignedAction> commands = plan(alert);
        assertThat(commands).hasSize(3);
        List<String> spans = new ArrayList<>();
        for (SignedAction c : commands) {
            JsonNode published = Json.MAPPER.readTree(c.json);
            SpanContext s = extract(published.path("traceparent").asText());
            assertThat(s.isValid()).isTrue();
            assertThat(s.getTraceId()).isEqualTo(alertSpan.getTraceId());
            spans.add(s.getSpanId());
        }
        assertThat(spans).doesNotHaveDuplicates().doesNotContain(alertSpan.getSpanId());
        // A replay re-issues the same action ids, and the same trace.
        assertThat(plan(alert()).stream().map(c -> c.action.traceparent).toList())
                .isEqualTo(commands.stream().map(c -> c.action.traceparent).toList());

        Notification n = new NotificationComposer().compose(new NotificationRequest("u1", alert.rule, alert), "CODE-1",
                List.of("email"), ISSUED);
        assertThat(extract(n.traceparent).getTraceId()).isEqualTo(alertSpan.getTraceId());
        assertThat(extract(n.traceparent).getSpanId()).isNotIn(spans);
    }

    @Test
    void theTraceparentIsSignedWithTheRestOfTheCommand() throws Exception {
        SignedAction c = plan(alert()).get(0);
        CommandSigner signer = new CommandSigner(KEY);
        ObjectNode published = (ObjectNode) Json.MAPPER.readTree(c.json);
        assertThat(signer.verify(published)).isTrue();
        published.put("traceparent", TraceParents.forAlert("another alert"));
        assertThat(signer.verify(published)).as("a moved trace breaks the signature").isFalse();
    }

    @Test
    void anEnforcerUsingOpenTelemetryContinuesTheCommandsTrace() throws Exception {
        SignedAction freeze = plan(alert()).stream().filter(c -> c.action.action.equals("freeze_account"))
                .findFirst().orElseThrow();
        InMemorySpanExporter exported = InMemorySpanExporter.create();
        SpanData span;
        try (SdkTracerProvider tracing = SdkTracerProvider.builder()
                .addSpanProcessor(SimpleSpanProcessor.create(exported)).build()) {
            // What an enforcer written with OpenTelemetry does with a command it receives.
            Context parent = W3CTraceContextPropagator.getInstance().extract(Context.root(),
                    Map.of("traceparent", freeze.action.traceparent), MAP);
            tracing.get("enforcer").spanBuilder("freeze account").setParent(parent).startSpan().end();
            // (read before closing: shutting the exporter down empties it)
            assertThat(exported.getFinishedSpanItems()).hasSize(1);
            span = exported.getFinishedSpanItems().get(0);
        }
        SpanContext command = extract(freeze.action.traceparent);
        assertThat(span.getTraceId()).isEqualTo(extract(alert().traceparent).getTraceId());
        assertThat(span.getParentSpanId()).isEqualTo(command.getSpanId());
    }

    @Test
    void onlyWellFormedParentsAreContinued() {
        assertThatThrownBy(() -> TraceParents.child("not-a-traceparent", "action", "a1"))
                .isInstanceOf(IllegalArgumentException.class);
        assertThat(TraceParents.forAlert("a1")).matches("00-[0-9a-f]{32}-[0-9a-f]{16}-01")
                .isEqualTo(TraceParents.forAlert("a1")).isNotEqualTo(TraceParents.forAlert("a2"));
    }
}
