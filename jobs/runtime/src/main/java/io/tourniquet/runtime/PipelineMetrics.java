package io.tourniquet.runtime;

import java.util.HashMap;
import java.util.Map;
import org.apache.flink.metrics.Counter;
import org.apache.flink.metrics.Histogram;
import org.apache.flink.metrics.MetricGroup;
import org.apache.flink.runtime.metrics.DescriptiveStatisticsHistogram;

/**
 * Where Tourniquet's own metrics live and how they are named: under one user group
 * {@code tourniquet}, snake_case names, and labels as Flink key-value groups. Flink's Prometheus
 * reporter puts a label's key into the name and its value into the label (with '.', '-' and the
 * like turned into '_'): {@code alerts} labelled by rule and severity is exported as
 * {@code flink_taskmanager_job_task_operator_tourniquet_rule_severity_alerts{rule="...",severity="..."}}.
 * The names are a contract with the alert rules in {@code infra/prometheus/} (listed in
 * {@code infra/prometheus/metrics.txt}, checked by {@code PrometheusMetricsITCase}).
 */
public final class PipelineMetrics {
    public static final String GROUP = "tourniquet";
    /** Samples a latency histogram keeps: enough for a stable p99 over the last minutes of commands. */
    static final int HISTOGRAM_WINDOW = 10_000;

    private PipelineMetrics() {}

    /** The operator's {@code tourniquet} group. */
    public static MetricGroup of(MetricGroup operator) {
        return operator.addGroup(GROUP);
    }

    public static Histogram histogram(MetricGroup group, String name) {
        return group.histogram(name, new DescriptiveStatisticsHistogram(HISTOGRAM_WINDOW));
    }

    /** Counters of one name, one per value of one label (made on first use: the values are few). */
    public static final class Labelled {
        private final MetricGroup group;
        private final String label;
        private final String name;
        private final Map<String, Counter> byValue = new HashMap<>();

        public Labelled(MetricGroup group, String label, String name) {
            this.group = group;
            this.label = label;
            this.name = name;
        }

        public Counter get(String value) {
            return byValue.computeIfAbsent(value == null ? "none" : value, v -> group.addGroup(label, v).counter(name));
        }
    }

    /** Counters of one name per pair of label values. */
    public static final class Labelled2 {
        private final MetricGroup group;
        private final String label1;
        private final String label2;
        private final String name;
        private final Map<String, Counter> byValues = new HashMap<>();

        public Labelled2(MetricGroup group, String label1, String label2, String name) {
            this.group = group;
            this.label1 = label1;
            this.label2 = label2;
            this.name = name;
        }

        public Counter get(String value1, String value2) {
            String v1 = value1 == null ? "none" : value1;
            String v2 = value2 == null ? "none" : value2;
            return byValues.computeIfAbsent(v1 + '\u0000' + v2,
                    k -> group.addGroup(label1, v1).addGroup(label2, v2).counter(name));
        }
    }
}
