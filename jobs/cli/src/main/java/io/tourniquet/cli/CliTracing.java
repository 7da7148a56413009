package io.tourniquet.cli;

import io.opentelemetry.api.OpenTelemetry;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.context.Scope;
import io.opentelemetry.exporter.otlp.http.trace.OtlpHttpSpanExporter;
import io.opentelemetry.sdk.OpenTelemetrySdk;
import io.opentelemetry.sdk.resources.Resource;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import io.opentelemetry.sdk.trace.export.BatchSpanProcessor;
import io.tourniquet.config.Settings;
import io.tourniquet.config.TourniquetConfig;
import java.util.concurrent.TimeUnit;

/**
 * A CLI command as one trace when {@code forensics.otlp-traces-endpoint} is set: a root span named
 * after the command, under which the command's Elasticsearch requests are client spans; exported
 * over OTLP/HTTP and flushed when the command ends. Without the setting, a no-op.
 */
final class CliTracing implements AutoCloseable {
    private final SdkTracerProvider provider;
    private final OpenTelemetry openTelemetry;
    private final Span root;
    private final Scope scope;

    private CliTracing(SdkTracerProvider provider, OpenTelemetry openTelemetry, String command) {
        this.provider = provider;
        this.openTelemetry = openTelemetry;
        this.root = openTelemetry.getTracer("io.tourniquet.cli").spanBuilder(command).startSpan();
        this.scope = root.makeCurrent();
    }

    static CliTracing start(TourniquetConfig cfg, String command) {
        return cfg.find(Settings.FORENSICS_TRACES_ENDPOINT).map(endpoint -> {
            SdkTracerProvider provider = SdkTracerProvider.builder()
                    .setResource(Resource.getDefault().merge(Resource.create(Attributes.builder()
                            .put("service.name", "tourniquet-cli")
                            .put("deployment.environment", cfg.get(Settings.DEPLOYMENT_ENVIRONMENT)).build())))
                    .addSpanProcessor(BatchSpanProcessor.builder(OtlpHttpSpanExporter.builder()
                            .setEndpoint(endpoint).build()).build())
                    .build();
            return new CliTracing(provider, OpenTelemetrySdk.builder().setTracerProvider(provider).build(), command);
        }).orElseGet(() -> new CliTracing(null, OpenTelemetry.noop(), command));
    }

    OpenTelemetry openTelemetry() {
        return openTelemetry;
    }

    void failed(Throwable t) {
        root.recordException(t);
        root.setStatus(io.opentelemetry.api.trace.StatusCode.ERROR);
    }

    @Override
    public void close() {
        scope.close();
        root.end();
        if (provider != null) provider.shutdown().join(10, TimeUnit.SECONDS);
    }
}
