package io.tourniquet.detect;

import io.tourniquet.rules.platform.BulkDrainDetector;
import io.tourniquet.util.SerializableClock;
import static io.tourniquet.testing.TestAlerts.accountDrain;
import static io.tourniquet.testing.TestAlerts.newAddress;
import static io.tourniquet.testing.TestAlerts.unauthorized;
import static io.tourniquet.testing.TestEvents.T0;
import static org.assertj.core.api.Assertions.assertThat;
import io.tourniquet.config.TourniquetConfig;
import io.tourniquet.model.Alert;
import io.tourniquet.rules.catalog.RuleCatalog;
import io.tourniquet.rules.RuleVersion;
import io.tourniquet.testing.CollectingSink;
import io.tourniquet.testing.SharedMiniCluster;
import java.time.Duration;
import java.util.List;
import java.util.stream.Collectors;
import org.apache.flink.api.common.eventtime.SerializableTimestampAssigner;
import org.apache.flink.api.common.eventtime.Watermark;
import org.apache.flink.api.common.eventtime.WatermarkGenerator;
import org.apache.flink.api.common.eventtime.WatermarkGeneratorSupplier;
import org.apache.flink.api.common.eventtime.WatermarkOutput;
import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.java.functions.KeySelector;
import org.apache.flink.runtime.state.KeyGroupRangeAssignment;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.streaming.api.functions.KeyedProcessFunction;
import org.apache.flink.util.Collector;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Bulk draining must count across subtasks: alerts of users whose per-user detectors run on
 * different subtasks meet on the one platform key. Runs on the shared MiniCluster at parallelism
 * 2, with no Kafka or Elasticsearch.
 */
@ExtendWith(SharedMiniCluster.class)
class BulkDrainParallelismITCase {
    private static final long MIN = 60_000L;
    private static final int MAX_PARALLELISM = 128;
    private static final List<String> USERS = List.of("user-1", "user-2", "user-3", "user-4", "user-5");

    @Test
    void fiveUsersRaisedOnDifferentSubtasksMakeExactlyOneBulkDrainAlert() throws Exception {
        assertThat(USERS.stream().map(u -> KeyGroupRangeAssignment.assignKeyToParallelOperator(
                u, MAX_PARALLELISM, SharedMiniCluster.PARALLELISM)).collect(Collectors.toSet()))
                .as("keyed by user, these users land on both subtasks").hasSize(2);
        List<Alert> input = List.of(
                accountDrain("d3", "user-3", T0 + 2 * MIN),
                unauthorized("a1", "user-1", T0),
                newAddress("n1", "user-9", "bc1qattacker", T0 + MIN),   // another rule: not counted
                unauthorized("a5", "user-5", T0 + 4 * MIN),
                unauthorized("a2", "user-2", T0 + MIN),
                unauthorized("a1b", "user-1", T0 + 3 * MIN),            // the same user again
                unauthorized("a4", "user-4", T0 + 3 * MIN));

        CollectingSink<Alert> raisedOn = CollectingSink.named("bulk-drain-par-raised");
        CollectingSink<Alert> bulk = CollectingSink.named("bulk-drain-par-out");
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
        env.setParallelism(SharedMiniCluster.PARALLELISM);
        env.setMaxParallelism(MAX_PARALLELISM);

        var rules = env.fromData(RuleCatalog.initial(RuleCatalog.BULK_DRAIN, TourniquetConfig.defaults()))
                .assignTimestampsAndWatermarks(new RulesNeverHoldBackEventTime()).uid("test-rules-watermarks")
                .broadcast(RuleCatalog.BROADCAST);
        // As the per-user detectors do: each alert leaves from the subtask that owns its user.
        var raised = env.fromData(input, TypeInformation.of(Alert.class)).uid("test-alerts")
                .assignTimestampsAndWatermarks(WatermarkStrategy.<Alert>forBoundedOutOfOrderness(Duration.ofMinutes(1))
                        .withTimestampAssigner(new AlertTime())).uid("test-alert-watermarks")
                .keyBy(new ByAlertUser())
                .process(new RaisedOnSubtask()).uid("test-per-user");
        raised.sinkTo(raisedOn).uid("test-raised-sink");
        raised.keyBy(EventKeys.<Alert>platform())
                .connect(rules)
                .process(new BulkDrainDetector(RuleCatalog.initial(RuleCatalog.BULK_DRAIN, TourniquetConfig.defaults()),
                        SerializableClock.fixed(1_700_000_000_000L))).uid("detect-bulk-drain")
                .sinkTo(bulk).uid("test-bulk-sink");
        env.execute("bulk-drain-parallelism-test");

        assertThat(raisedOn.results()).extracting(a -> a.evidence.reason).as("raised on both subtasks")
                .containsOnly("subtask-0", "subtask-1").contains("subtask-0", "subtask-1");
        assertThat(bulk.results()).hasSize(1);
        Alert a = bulk.results().get(0);
        assertThat(a.rule).isEqualTo("bulk_drain");
        assertThat(a.severity).isEqualTo("critical");
        assertThat(a.userId).isNull();
        assertThat(a.evidence.userIds).containsExactly("user-1", "user-2", "user-3", "user-4", "user-5");
        assertThat(a.evidence.distinctUsers).isEqualTo(5);
        assertThat(a.evidence.alertIds).doesNotContain("n1").contains("a1", "a2", "d3", "a4", "a5");
    }

    /** The event time of an alert is its triggering event's. */
    private static final class AlertTime implements SerializableTimestampAssigner<Alert> {
        private static final long serialVersionUID = 1L;

        @Override
        public long extractTimestamp(Alert a, long recordTimestamp) {
            return a.eventTime;
        }
    }

    private static final class ByAlertUser implements KeySelector<Alert, String> {
        private static final long serialVersionUID = 1L;

        @Override
        public String getKey(Alert a) {
            return a.userId;
        }
    }

    /** Passes each alert on, marking the subtask it left from (the test checks both were used). */
    private static final class RaisedOnSubtask extends KeyedProcessFunction<String, Alert, Alert> {
        private static final long serialVersionUID = 1L;

        @Override
        public void processElement(Alert a, Context ctx, Collector<Alert> out) {
            a.evidence.reason = "subtask-" + getRuntimeContext().getTaskInfo().getIndexOfThisSubtask();
            out.collect(a);
        }
    }

    /** The rules input's watermark is the end of time: only the alerts move event time. */
    private static final class RulesNeverHoldBackEventTime implements WatermarkStrategy<RuleVersion> {
        private static final long serialVersionUID = 1L;

        @Override
        public WatermarkGenerator<RuleVersion> createWatermarkGenerator(WatermarkGeneratorSupplier.Context context) {
            return new WatermarkGenerator<>() {
                @Override
                public void onEvent(RuleVersion rule, long eventTimestamp, WatermarkOutput output) {
                    output.emitWatermark(new Watermark(Long.MAX_VALUE));
                }

                @Override
                public void onPeriodicEmit(WatermarkOutput output) {
                    output.emitWatermark(new Watermark(Long.MAX_VALUE));
                }
            };
        }
    }
}
