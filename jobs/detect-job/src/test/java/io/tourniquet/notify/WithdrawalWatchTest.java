package io.tourniquet.notify;

import static io.tourniquet.testing.TestEvents.T0;
import static org.assertj.core.api.Assertions.assertThat;
import io.tourniquet.detect.EventKeys;
import io.tourniquet.model.Event;
import io.tourniquet.model.NotificationRequest;
import io.tourniquet.model.PlatformNotice;
import io.tourniquet.testing.BroadcastHarnesses;
import io.tourniquet.testing.TestEvents;
import java.util.List;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.util.KeyedBroadcastOperatorTestHarness;
import org.apache.flink.streaming.util.ProcessFunctionTestHarnesses;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class WithdrawalWatchTest {
    private static final long MIN = 60_000L;
    private static final long DAY = 24 * 60 * MIN;
    private static final long RETENTION = 7 * DAY;

    private KeyedBroadcastOperatorTestHarness<String, Event, PlatformNotice, NotificationRequest> harness;

    @BeforeEach
    void open() throws Exception {
        harness = ProcessFunctionTestHarnesses.forKeyedBroadcastProcessFunction(new WithdrawalWatch(RETENTION),
                EventKeys.USER_ID, Types.STRING, WithdrawalWatch.SUSPENSIONS);
        harness.setProcessingTime(0);
        BroadcastHarnesses.rulesNeverHoldBackEventTime(harness);
    }

    @AfterEach
    void close() throws Exception {
        harness.close();
    }

    private void push(Event e) throws Exception {
        harness.processElement(new StreamRecord<>(e, e.eventTime));
    }

    private void push(PlatformNotice n) throws Exception {
        harness.processBroadcastElement(new StreamRecord<>(n, n.eventTime));
    }

    private List<String> told() {
        return harness.extractOutputValues().stream()
                .map(r -> r.userId + "/" + r.kind + "/" + r.alert.incidentId).toList();
    }

    @Test
    void usersWithAPendingOrHeldWithdrawalAreToldOfTheSuspensionAndTheResumptionVictimsAreNot() throws Exception {
        push(TestEvents.withdrawal("e1", "pending", "w1", "requested", T0 - 5 * MIN));
        push(TestEvents.withdrawal("e2", "held", "w2", "requested", T0 - 5 * MIN));
        push(TestEvents.withdrawal("e3", "held", "w2", "held", T0 - 4 * MIN));
        push(TestEvents.withdrawal("e4", "done", "w3", "requested", T0 - 5 * MIN));
        push(TestEvents.withdrawal("e5", "done", "w3", "completed", T0 - 4 * MIN));
        push(TestEvents.withdrawal("e6", "victim", "w4", "approved", T0 - 3 * MIN));
        push(new PlatformNotice(PlatformNotice.SUSPENDED, "inc-1", T0, List.of("victim")));
        // Seen while the suspension is in force: told as well, whichever was read first.
        push(TestEvents.withdrawal("e7", "latecomer", "w5", "requested", T0 - MIN));
        push(TestEvents.withdrawal("e8", "after", "w6", "completed", T0 + MIN)); // finished: nothing pending
        assertThat(told()).containsExactlyInAnyOrder("pending/withdrawals_suspended/inc-1",
                "held/withdrawals_suspended/inc-1", "latecomer/withdrawals_suspended/inc-1");

        push(TestEvents.withdrawal("e9", "pending", "w1", "cancelled", T0 + 2 * MIN));
        push(new PlatformNotice(PlatformNotice.RESUMED, "inc-1", T0 + 60 * MIN, List.of("victim")));
        assertThat(told()).filteredOn(t -> t.contains("resumed"))
                .containsExactlyInAnyOrder("held/withdrawals_resumed/inc-1", "latecomer/withdrawals_resumed/inc-1");

        // Resumed: a new pending withdrawal is news to nobody.
        push(TestEvents.withdrawal("e10", "new", "w7", "requested", T0 + 61 * MIN));
        assertThat(told()).hasSize(5);
    }

    @Test
    void pendingWithdrawalsWhoseEndNeverArrivesAreForgottenAfterTheRetention() throws Exception {
        push(TestEvents.withdrawal("e1", "u1", "w1", "requested", T0));
        push(TestEvents.withdrawal("e2", "u1", "w1", "approved", T0 + MIN));
        push(TestEvents.withdrawal("e3", "u2", "w2", "requested", T0));
        push(TestEvents.withdrawal("e4", "u2", "w2", "broadcast", T0 + MIN));
        assertThat(BroadcastHarnesses.numKeyedStateEntries(harness)).isEqualTo(1);
        harness.processWatermark(T0 + MIN + RETENTION - 1);
        assertThat(BroadcastHarnesses.numKeyedStateEntries(harness)).isEqualTo(1);
        harness.processWatermark(T0 + MIN + RETENTION);
        BroadcastHarnesses.assertDrained(harness);
    }
}
