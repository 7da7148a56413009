package io.tourniquet.rules.platform;

import static org.assertj.core.api.Assertions.assertThat;
import io.tourniquet.detect.AlertEpisode;
import io.tourniquet.detect.CountedAlert;
import io.tourniquet.testing.BroadcastHarnesses;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.java.tuple.Tuple2;
import org.apache.flink.streaming.api.functions.KeyedProcessFunction;
import org.apache.flink.streaming.util.KeyedOneInputStreamOperatorTestHarness;
import org.apache.flink.streaming.util.ProcessFunctionTestHarnesses;
import org.apache.flink.util.Collector;
import org.junit.jupiter.api.Test;

/**
 * {@link DistinctUserWindows#add} on real keyed state against {@link DistinctUserWindows#decide}
 * over every alert so far: the constant-time join of an arrival inside the episode in force must
 * give exactly what reading and sorting every counted alert gives, including across changes of
 * the window's width.
 */
class DistinctUserWindowsInStateTest {
    private static final long MIN = 60_000L;
    private static final int MIN_USERS = 5;
    /** Far enough that no crossing is put off: this test is about arrivals, not deferral. */
    private static final long MAX_LEAD = 365L * 24 * 60 * MIN;

    /** Input: (window width, alert); output: what add() did, as text. */
    static final class Adder extends KeyedProcessFunction<String, Tuple2<Long, CountedAlert>, String> {
        transient DistinctUserWindows windows;

        @Override
        public void open(OpenContext openContext) {
            windows = new DistinctUserWindows(getRuntimeContext());
        }

        @Override
        public void processElement(Tuple2<Long, CountedAlert> in, Context ctx, Collector<String> out) throws Exception {
            var o = windows.add(in.f1, in.f0, MIN_USERS, MAX_LEAD, ctx.timerService());
            out.collect(o.kind() + " " + o.episode());
        }

        @Override
        public void onTimer(long timestamp, OnTimerContext ctx, Collector<String> out) throws Exception {
            windows.forgetDue(timestamp);
        }
    }

    private static CountedAlert alert(int i, String user, long time) {
        CountedAlert a = new CountedAlert();
        a.alertId = "a" + i;
        a.userId = user;
        a.eventTime = time;
        a.eventIds.add("e" + i);
        return a;
    }

    @Test
    void joiningInPlaceGivesWhatDecidingOverEveryAlertGives() throws Exception {
        Random random = new Random(20261207L);
        List<Tuple2<Long, CountedAlert>> input = new ArrayList<>();
        long clock = 10 * MIN;
        for (int i = 0; i < 3_000; i++) {
            // Bursts (episodes) out of order by up to 4 minutes, quiet gaps longer than any
            // window between them, a few redeliveries, and the width changed twice mid-burst.
            if (i % 500 == 499) clock += 40 * MIN;
            clock += random.nextInt(3_000);
            long width = i < 1_200 ? 10 * MIN : i < 2_100 ? 15 * MIN : 5 * MIN;
            int id = random.nextInt(50) == 0 && i > 0 ? random.nextInt(i) : i;
            long time = id == i ? clock - random.nextInt(240_000) : input.get(id).f1.eventTime;
            String user = id == i ? "u" + random.nextInt(400) : input.get(id).f1.userId;
            input.add(Tuple2.of(width, alert(id, user, time)));
        }

        List<String> expected = new ArrayList<>();
        List<CountedAlert> all = new ArrayList<>();
        java.util.Set<String> seen = new java.util.HashSet<>();
        AlertEpisode episode = null;
        for (var in : input) {
            if (!seen.add(in.f1.alertId)) {
                expected.add(DistinctUserWindows.Kind.DUPLICATE + " " + episode);
                continue;
            }
            all.add(in.f1);
            var o = DistinctUserWindows.decide(all, in.f1, episode, in.f0, MIN_USERS);
            if (o.episode() != null) episode = o.episode();
            expected.add(o.kind() + " " + episode);
        }

        Adder adder = new Adder();
        KeyedOneInputStreamOperatorTestHarness<String, Tuple2<Long, CountedAlert>, String> harness =
                ProcessFunctionTestHarnesses.forKeyedProcessFunction(adder, in -> "platform",
                        org.apache.flink.api.common.typeinfo.Types.STRING);
        try {
            harness.processWatermark(0L); // nothing is forgotten until the end: decide() sees every alert
            for (var in : input) harness.processElement(copy(in), in.f1.eventTime);
            assertThat(harness.extractOutputValues()).isEqualTo(expected);
            long joined = expected.stream().filter(e -> e.startsWith("JOINED")).count();
            assertThat(joined).as("arrivals that joined an episode").isGreaterThan(1_000);
            assertThat(adder.windows.joinedInPlace()).as("of which in place")
                    .isGreaterThan(joined / 2).isLessThanOrEqualTo(joined);
            long first = input.stream().mapToLong(in -> in.f1.eventTime).min().orElseThrow();
            long last = input.stream().mapToLong(in -> DistinctUserWindows.keepUntil(in.f1.eventTime, in.f0)
                    + in.f0).max().orElseThrow(); // an episode is dropped at most a window after its alerts are
            long minutes = (last - first) / MIN + 2;
            assertThat(harness.numEventTimeTimers()).as("timers for 3,000 arrivals over %d minutes", minutes)
                    .isLessThanOrEqualTo((int) minutes);
            harness.processWatermark(Long.MAX_VALUE);
            BroadcastHarnesses.assertNoTimers(harness);
            assertThat(BroadcastHarnesses.numKeyedStateEntries(harness)).as("keyed state left").isZero();
        } finally {
            harness.close();
        }
    }

    /** The harness keeps the objects it is given: each arrival is a fresh one, as off the wire. */
    private static Tuple2<Long, CountedAlert> copy(Tuple2<Long, CountedAlert> in) {
        CountedAlert a = alert(0, in.f1.userId, in.f1.eventTime);
        a.alertId = in.f1.alertId;
        a.eventIds = new ArrayList<>(in.f1.eventIds);
        return Tuple2.of(in.f0, a);
    }
}
