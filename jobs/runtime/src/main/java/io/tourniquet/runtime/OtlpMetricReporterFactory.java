package io.tourniquet.runtime;

import java.util.Properties;
import org.apache.flink.metrics.reporter.MetricReporter;
import org.apache.flink.metrics.reporter.MetricReporterFactory;

/** Flink finds {@link OtlpMetricReporter} through this (metrics.reporter.otlp.factory.class). */
public final class OtlpMetricReporterFactory implements MetricReporterFactory {
    @Override
    public MetricReporter createMetricReporter(Properties properties) {
        return new OtlpMetricReporter();
    }
}
