package io.tourniquet.runtime;

import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.api.common.AttributesBuilder;
import io.opentelemetry.exporter.otlp.http.metrics.OtlpHttpMetricExporter;
import io.opentelemetry.sdk.metrics.SdkMeterProvider;
import io.opentelemetry.sdk.metrics.export.PeriodicMetricReader;
import io.opentelemetry.sdk.resources.Resource;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.flink.metrics.Counter;
import org.apache.flink.metrics.Gauge;
import org.apache.flink.metrics.Histogram;
import org.apache.flink.metrics.HistogramStatistics;
import org.apache.flink.metrics.LogicalScopeProvider;
import org.apache.flink.metrics.Meter;
import org.apache.flink.metrics.Metric;
import org.apache.flink.metrics.MetricConfig;
import org.apache.flink.metrics.MetricGroup;
import org.apache.flink.metrics.reporter.MetricReporter;
import org.apache.flink.util.TimeUtils;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Exports Flink's metrics and Tourniquet's over OTLP (HTTP/protobuf) with the OpenTelemetry Java
 * SDK. Written here because {@code flink-metrics-otel} is not published for Flink 2.2.x; it is a
 * thin bridge: each Flink metric becomes an observation of an asynchronous SDK instrument, read
 * when the SDK's periodic reader collects, so nothing is sampled twice and nothing blocks a task.
 *
 * <p>Names: Tourniquet's metrics (the {@code tourniquet} group, {@link PipelineMetrics}) are
 * {@code tourniquet.<name>} with their labels (topic, reason, rule, severity, action, kind) and
 * the job, task and operator names as attributes; Flink's own are {@code flink.<logical scope>.<name>}
 * (e.g. {@code flink.jobmanager.job.numberOfCompletedCheckpoints}). Counters are monotonic sums,
 * gauges gauges, meters a {@code .rate} gauge, and histograms (which OTLP cannot receive as
 * pre-computed quantiles except as a deprecated summary) a gauge per quantile (attribute
 * {@code quantile}) plus a {@code .count} sum.
 *
 * <p>Configuration (Flink's {@code metrics.reporter.otlp.*}): {@code endpoint} (e.g.
 * {@code http://collector:4318/v1/metrics}), {@code interval} (default 10 s), {@code service.name},
 * {@code service.version}, {@code deployment.environment}. The SDK flushes once more on close.
 */
public final class OtlpMetricReporter implements MetricReporter {
    private static final Logger LOG = LoggerFactory.getLogger(OtlpMetricReporter.class);
    /** Flink variables that change on every restart or attempt: as attributes they would multiply series. */
    static final Set<String> DROPPED = Set.of("task_attempt_id", "task_attempt_num", "task_id", "operator_id",
            "job_id", "tm_id", "host");
    static final double[] QUANTILES = {0.5, 0.95, 0.99};

    private final Map<String, Instrument> instruments = new ConcurrentHashMap<>();
    private SdkMeterProvider provider;
    private io.opentelemetry.api.metrics.Meter meter;

    /**
     * One Flink metric as one series of an instrument. {@code reportsLeft} is null while the metric
     * lives; once it is gone (its task ended) the series holds its final value and counts down the
     * callbacks still to report it (a histogram has two: quantiles and count), then is dropped.
     */
    record Series(Metric metric, Attributes attributes, AtomicInteger reportsLeft) {
        boolean reportedForTheLastTime() {
            return reportsLeft != null && reportsLeft.decrementAndGet() <= 0;
        }
    }

    /** An SDK instrument and the Flink metrics it reports. */
    static final class Instrument {
        final Class<?> kind;
        final List<Series> series = new CopyOnWriteArrayList<>();

        Instrument(Class<?> kind) {
            this.kind = kind;
        }
    }

    @Override
    public void open(MetricConfig config) {
        String endpoint = config.getString("endpoint", "http://127.0.0.1:4318/v1/metrics");
        Duration interval = TimeUtils.parseDuration(config.getString("interval", "10 s"));
        Resource resource = Resource.getDefault().merge(Resource.create(Attributes.builder()
                .put("service.name", config.getString("service.name", "tourniquet"))
                .put("service.version", config.getString("service.version", version()))
                .put("deployment.environment", config.getString("deployment.environment", "local"))
                .build()));
        provider = SdkMeterProvider.builder()
                .setResource(resource)
                .registerMetricReader(PeriodicMetricReader.builder(OtlpHttpMetricExporter.builder()
                        .setEndpoint(endpoint).setTimeout(Duration.ofSeconds(10)).build())
                        .setInterval(interval).build())
                .build();
        meter = provider.get("io.tourniquet");
        LOG.info("OTLP metrics to {} every {}", endpoint, TimeUtils.formatWithHighestUnit(interval));
    }

    /** The build's version (io/tourniquet/version.properties, filtered by Maven). */
    static String version() {
        try (var in = OtlpMetricReporter.class.getResourceAsStream("/io/tourniquet/version.properties")) {
            if (in == null) return "unknown";
            java.util.Properties p = new java.util.Properties();
            p.load(in);
            return p.getProperty("version", "unknown");
        } catch (java.io.IOException e) {
            return "unknown";
        }
    }

    @Override
    public void close() {
        if (provider != null) {
            // A last collection and export, so a job that ends (a replay) still reports its totals.
            provider.shutdown().join(15, TimeUnit.SECONDS);
        }
    }

    @Override
    public void notifyOfAddedMetric(Metric metric, String metricName, MetricGroup group) {
        String name = instrumentName(metricName, group);
        Class<?> kind = kindOf(metric);
        if (kind == null) return;
        Instrument instrument = instruments.computeIfAbsent(name, n -> register(n, kind));
        if (instrument.kind != kind) {
            LOG.debug("metric {} is a {} where {} is a {}: not exported", metricName, kind.getSimpleName(), name,
                    instrument.kind.getSimpleName());
            return;
        }
        instrument.series.add(new Series(metric, attributes(group), null));
    }

    /**
     * A metric goes when its task ends, before the SDK's next collection: its final value is kept
     * for exactly one more export, so a job that finishes (a replay) still reports its totals.
     */
    @Override
    public void notifyOfRemovedMetric(Metric metric, String metricName, MetricGroup group) {
        Instrument instrument = instruments.get(instrumentName(metricName, group));
        if (instrument == null) return;
        for (Series s : instrument.series) {
            if (s.metric() != metric) continue;
            instrument.series.remove(s);
            if (metric instanceof Counter c) {
                long last = c.getCount();
                instrument.series.add(new Series(new FinalCounter(last), s.attributes(), new AtomicInteger(1)));
            } else if (metric instanceof Gauge<?> g && g.getValue() instanceof Number n) {
                double last = n.doubleValue();
                instrument.series.add(new Series((Gauge<Double>) () -> last, s.attributes(), new AtomicInteger(1)));
            } else if (metric instanceof Histogram h) {
                instrument.series.add(new Series(new FinalHistogram(h.getCount(), h.getStatistics()), s.attributes(),
                        new AtomicInteger(2)));
            }
        }
    }

    /** A counter's value when its task ended. */
    private record FinalCounter(long count) implements Counter {
        @Override public void inc() {}
        @Override public void inc(long n) {}
        @Override public void dec() {}
        @Override public void dec(long n) {}
        @Override public long getCount() {
            return count;
        }
    }

    /** A histogram's count and statistics when its task ended. */
    private record FinalHistogram(long count, HistogramStatistics statistics) implements Histogram {
        @Override public void update(long value) {}
        @Override public long getCount() {
            return count;
        }
        @Override public HistogramStatistics getStatistics() {
            return statistics;
        }
    }

    /** Called at the end of each callback: drops the final values every callback has now reported. */
    private static void forgetReported(List<Series> series) {
        series.removeIf(Series::reportedForTheLastTime);
    }

    private static Class<?> kindOf(Metric metric) {
        if (metric instanceof Counter) return Counter.class;
        if (metric instanceof Gauge) return Gauge.class;
        if (metric instanceof Meter) return Meter.class;
        if (metric instanceof Histogram) return Histogram.class;
        return null;
    }

    private Instrument register(String name, Class<?> kind) {
        Instrument instrument = new Instrument(kind);
        List<Series> series = instrument.series;
        if (kind == Counter.class) {
            meter.counterBuilder(name).buildWithCallback(m -> {
                for (Series s : series) m.record(((Counter) s.metric()).getCount(), s.attributes());
                forgetReported(series);
            });
        } else if (kind == Gauge.class) {
            meter.gaugeBuilder(name).buildWithCallback(m -> {
                for (Series s : series) {
                    Object v = ((Gauge<?>) s.metric()).getValue();
                    if (v instanceof Number n) m.record(n.doubleValue(), s.attributes());
                }
                forgetReported(series);
            });
        } else if (kind == Meter.class) {
            meter.gaugeBuilder(name + ".rate").buildWithCallback(m -> {
                for (Series s : series) m.record(((Meter) s.metric()).getRate(), s.attributes());
            });
        } else {
            meter.gaugeBuilder(name).buildWithCallback(m -> {
                for (Series s : series) {
                    HistogramStatistics stats = ((Histogram) s.metric()).getStatistics();
                    if (stats.size() == 0) continue;
                    for (double q : QUANTILES) {
                        m.record(stats.getQuantile(q), s.attributes().toBuilder().put("quantile", q).build());
                    }
                }
                forgetReported(series);
            });
            meter.counterBuilder(name + ".count").buildWithCallback(m -> {
                for (Series s : series) m.record(((Histogram) s.metric()).getCount(), s.attributes());
                forgetReported(series);
            });
        }
        return instrument;
    }

    /**
     * {@code tourniquet.<name>} for ours (their label keys are in the logical scope and become
     * attributes), {@code flink.<logical scope>.<name>} for Flink's.
     */
    static String instrumentName(String metricName, MetricGroup group) {
        String scope = LogicalScopeProvider.castFrom(group).getLogicalScope(OtlpMetricReporter::clean, '.');
        if (("." + scope + ".").contains("." + PipelineMetrics.GROUP + ".")) {
            return PipelineMetrics.GROUP + "." + clean(metricName);
        }
        return "flink." + scope + "." + clean(metricName);
    }

    static Attributes attributes(MetricGroup group) {
        AttributesBuilder b = Attributes.builder();
        for (Map.Entry<String, String> v : group.getAllVariables().entrySet()) {
            String key = v.getKey().replace("<", "").replace(">", "");
            if (!DROPPED.contains(key)) b.put(key, v.getValue());
        }
        return b.build();
    }

    /** OpenTelemetry instrument names allow letters, digits and {@code _ . - /}. */
    static String clean(String s) {
        return s.replaceAll("[^A-Za-z0-9_.\\-/]", "_");
    }
}
