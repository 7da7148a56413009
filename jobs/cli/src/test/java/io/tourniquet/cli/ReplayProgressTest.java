package io.tourniquet.cli;

import static org.assertj.core.api.Assertions.assertThat;
import io.tourniquet.config.TourniquetConfig;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import javax.management.Attribute;
import javax.management.AttributeList;
import javax.management.AttributeNotFoundException;
import javax.management.DynamicMBean;
import javax.management.MBeanAttributeInfo;
import javax.management.MBeanInfo;
import javax.management.MBeanServer;
import javax.management.MBeanServerFactory;
import javax.management.ObjectName;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Test;

/**
 * The progress line from per-partition consumer metrics, registered here under the names a Kafka
 * consumer's JmxReporter uses, on a private MBean server.
 */
class ReplayProgressTest {
    private final MBeanServer mbeans = MBeanServerFactory.newMBeanServer();
    private final ByteArrayOutputStream printed = new ByteArrayOutputStream();

    private ReplayProgress progress() {
        Map<String, String> labels = new LinkedHashMap<>();
        labels.put("exchange.auth.logins", "logins");
        labels.put("exchange.account.changes", "account changes");
        Map<TopicPartition, Long> totals = Map.of(
                new TopicPartition("exchange.auth.logins", 0), 1_000L,
                new TopicPartition("exchange.auth.logins", 1), 500L,
                new TopicPartition("exchange.account.changes", 0), 20L);
        return new ReplayProgress("replay, detect job", labels, totals, mbeans,
                new PrintStream(printed, true, StandardCharsets.UTF_8));
    }

    @Test
    void beforeAnyFetchEveryTopicIsAtZeroOfItsTotal() {
        assertThat(progress().line()).isEqualTo(
                "replay, detect job: 0 / 1,520 records (logins 0/1,500, account changes 0/20)");
    }

    @Test
    void sumsThePositionsOfEachTopicsPartitionsAndIgnoresOtherTopics() throws Exception {
        ReplayProgress p = progress();
        lead("detect-0", "exchange.auth.logins", 0, 400);
        lead("detect-1", "exchange.auth.logins", 1, 250);
        lead("detect-1", "exchange.account.changes", 0, 7);
        lead("detect-0", "tourniquet.control", 0, 3);

        assertThat(p.line()).isEqualTo(
                "replay, detect job: 657 / 1,520 records (logins 650/1,500, account changes 7/20)");
    }

    @Test
    void aPartitionsFigureStaysWhenItsConsumerDropsItsMetrics() throws Exception {
        ReplayProgress p = progress();
        ObjectName finished = lead("detect-0", "exchange.account.changes", 0, 20);
        assertThat(p.line()).contains("account changes 20/20");

        mbeans.unregisterMBean(finished);

        assertThat(p.line()).contains("account changes 20/20").startsWith("replay, detect job: 20 / 1,520 records");
    }

    @Test
    void readsAreCappedAtTheTotalTakenAtStart() throws Exception {
        lead("detect-0", "exchange.account.changes", 0, 35);

        assertThat(progress().line()).contains("account changes 20/20");
    }

    @Test
    void finishedPrintsEveryTopicReadToItsEnd() throws Exception {
        ReplayProgress p = progress();
        lead("detect-0", "exchange.auth.logins", 0, 400);

        p.finished();

        assertThat(printed.toString(StandardCharsets.UTF_8)).matches(
                "replay, detect job: 1,520 / 1,520 records \\(logins 1,500/1,500, account changes 20/20\\), "
                        + "done in \\d+\\.\\d s\\R");
    }

    @Test
    void labelsAreTheTopicsSettingNames() {
        TourniquetConfig cfg = TourniquetConfig.defaults().with(Map.of("topic.account-changes", "acct"));

        assertThat(ReplayProgress.labels(cfg, List.of("exchange.auth.logins", "acct", "not.a.setting")))
                .containsExactly(Map.entry("exchange.auth.logins", "logins"), Map.entry("acct", "account changes"),
                        Map.entry("not.a.setting", "not.a.setting"));
    }

    private ObjectName lead(String clientId, String topic, int partition, double lead) throws Exception {
        ObjectName name = new ObjectName("kafka.consumer:type=consumer-fetch-manager-metrics,client-id=" + clientId
                + ",topic=" + topic + ",partition=" + partition);
        mbeans.registerMBean(new Metric("records-lead", lead), name);
        return name;
    }

    /** One read-only attribute, as Kafka's JmxReporter exposes a metric. */
    private record Metric(String attribute, double value) implements DynamicMBean {
        @Override
        public Object getAttribute(String name) throws AttributeNotFoundException {
            if (!name.equals(attribute)) throw new AttributeNotFoundException(name);
            return value;
        }

        @Override
        public void setAttribute(Attribute a) {
            throw new UnsupportedOperationException();
        }

        @Override
        public AttributeList getAttributes(String[] names) {
            return new AttributeList(List.of(new Attribute(attribute, value)));
        }

        @Override
        public AttributeList setAttributes(AttributeList list) {
            return new AttributeList();
        }

        @Override
        public Object invoke(String action, Object[] params, String[] signature) {
            throw new UnsupportedOperationException();
        }

        @Override
        public MBeanInfo getMBeanInfo() {
            return new MBeanInfo(Metric.class.getName(), "a metric", new MBeanAttributeInfo[] {
                    new MBeanAttributeInfo(attribute, "double", attribute, true, false, false)}, null, null, null);
        }
    }
}
