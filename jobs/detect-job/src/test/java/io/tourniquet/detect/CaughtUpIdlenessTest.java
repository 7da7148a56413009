package io.tourniquet.detect;

import io.tourniquet.model.EventParser;
import io.tourniquet.detect.job.DetectJob;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import io.tourniquet.model.RawRecord;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import org.apache.flink.api.common.eventtime.Watermark;
import org.apache.flink.api.common.eventtime.WatermarkGenerator;
import org.apache.flink.api.common.eventtime.WatermarkGeneratorSupplier;
import org.apache.flink.api.common.eventtime.WatermarkOutput;
import org.apache.flink.metrics.MetricGroup;
import org.apache.flink.metrics.groups.UnregisteredMetricsGroup;
import org.apache.flink.util.clock.RelativeClock;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The partitions of one source subtask, driven by hand: records, periodic emits and a manual
 * activity clock, in the orders that broke Flink's {@code withIdleness} while reading a backlog.
 */
class CaughtUpIdlenessTest {
    static final long T0 = 1_642_377_600_000L; // 2022-01-17T00:00:00Z
    static final Duration OOO = Duration.ofSeconds(30);
    static final Duration IDLE = Duration.ofSeconds(5);
    static final Duration QUIET = Duration.ofSeconds(30);

    ManualClock clock;
    WatermarkGenerator<RawRecord> a;
    WatermarkGenerator<RawRecord> b;
    Out outA;
    Out outB;

    @BeforeEach
    void twoPartitionsOfOneReader() {
        clock = new ManualClock();
        CaughtUpIdleness strategy = new CaughtUpIdleness(OOO, IDLE, QUIET, new RawEventTime(
                new EventParser(EventParser.kindByTopic(io.tourniquet.config.TourniquetConfig.defaults()), 65_536)));
        a = strategy.createWatermarkGenerator(context(clock));
        b = strategy.createWatermarkGenerator(context(clock));
        outA = new Out();
        outB = new Out();
    }

    @Test
    void aPartitionThatWasIdleHoldsEventTimeBackAgainWhenTheReaderWakesUp() {
        event(a, outA, T0);
        event(b, outB, T0 + 1_000);
        emit();
        assertEquals(T0 - OOO.toMillis() - 1, outA.watermark);
        assertEquals(T0 + 1_000 - OOO.toMillis() - 1, outB.watermark);

        // Caught up: nothing anywhere for the idleness (each partition sees the others' silence as of
        // their last check, so one more check).
        pass(IDLE.toMillis() + 200);
        assertTrue(outA.idle && outB.idle, "a reader silent for the idleness is caught up");

        // New data arrives; partition a is served first and runs far ahead in event time.
        event(a, outA, T0 + 3_600_000);
        pass(200);
        assertEquals(T0 + 3_600_000 - OOO.toMillis() - 1, outA.watermark);
        assertFalse(outB.idle, "b may hold unread records: it must hold event time back, not stay idle");
        assertEquals(T0 + 1_000 - OOO.toMillis() - 1, outB.watermark, "b holds its old watermark");

        // b delivers what came meanwhile: nothing of it is late.
        event(b, outB, T0 + 2_000);
        emit();
        assertEquals(T0 + 2_000 - OOO.toMillis() - 1, outB.watermark);
    }

    @Test
    void whileThePartitionsAreReadInTurnsNoneIsIdle() {
        // A backlog served partition by partition: a long run of a while b waits its turn, for
        // longer than the idleness but less than the quiet timeout.
        for (int i = 0; i < 25; i++) {
            event(a, outA, T0 + i * 1_000L);
            pass(1_000);
            assertFalse(outB.idle, "b is silent only because a is being read: the reader is not caught up");
        }
        event(b, outB, T0);
        emit();
        assertEquals(T0 - OOO.toMillis() - 1, outB.watermark);
    }

    @Test
    void aQuietPartitionAmongBusyOnesStopsHoldingBackAfterTheQuietTimeout() {
        event(b, outB, T0);
        for (long t = 0; t < QUIET.toMillis(); t += 1_000) {
            event(a, outA, T0 + t);
            pass(1_000);
        }
        assertTrue(outB.idle, "b silent for the quiet timeout while a is read");
        assertFalse(outA.idle);
        event(b, outB, T0 + 40_000);
        emit();
        assertFalse(outB.idle, "a record makes it active again");
        assertEquals(T0 + 40_000 - OOO.toMillis() - 1, outB.watermark);
    }

    @Test
    void aPartitionNotReadYetHoldsEventTimeAtTheStart() {
        event(a, outA, T0);
        pass(IDLE.toMillis() - 1);
        assertFalse(outB.idle);
        assertEquals(Long.MIN_VALUE, outB.watermark, "nothing read from b: no watermark from it yet");
        assertTrue(outB.activeMarks > 0, "b is explicitly active so that it holds the combined watermark");
    }

    @Test
    void aTaskThreadStarvedOfCpuDoesNotTakeTheGapForSilence() {
        event(a, outA, T0);
        event(b, outB, T0);
        emit();
        clock.advance(10 * IDLE.toMillis()); // no check ran: the thread had no CPU, nothing was read
        emit();
        assertFalse(outA.idle || outB.idle, "a starved reader is not a caught-up reader");
        pass(IDLE.toMillis() + 200);
        assertTrue(outA.idle && outB.idle, "observed silence still counts");
    }

    @Test
    void aReaderThatHasReadNothingYetIsNotCaughtUpButAnEmptyOneStopsHoldingBackAfterTheQuietTimeout() {
        pass(QUIET.toMillis() - 1_000); // still connecting: its first fetch has not come back
        assertFalse(outA.idle || outB.idle, "a reader that has read nothing is not caught up");
        pass(1_200);
        assertTrue(outA.idle && outB.idle, "nothing at all to read: the quiet timeout releases it");
    }

    @Test
    void aRecordWithoutEventTimeNeverMovesEventTime() {
        event(a, outA, T0);
        event(a, outA, Long.MIN_VALUE); // RawEventTime's answer for a record it cannot read
        emit();
        assertEquals(T0 - OOO.toMillis() - 1, outA.watermark);
    }

    void event(WatermarkGenerator<RawRecord> g, Out out, long timestamp) {
        g.onEvent(new RawRecord("t", 0, 0, null, "{}".getBytes(StandardCharsets.UTF_8), 0L), timestamp, out);
    }

    void emit() {
        a.onPeriodicEmit(outA);
        b.onPeriodicEmit(outB);
    }

    /** Time passing with the task thread running: a periodic check every 200 ms (Flink's default). */
    void pass(long millis) {
        for (long t = 0; t < millis; t += 200) {
            clock.advance(Math.min(200, millis - t));
            emit();
        }
    }

    static WatermarkGeneratorSupplier.Context context(RelativeClock clock) {
        return new WatermarkGeneratorSupplier.Context() {
            @Override
            public MetricGroup getMetricGroup() {
                return new UnregisteredMetricsGroup();
            }

            @Override
            public RelativeClock getInputActivityClock() {
                return clock;
            }
        };
    }

    static final class ManualClock implements RelativeClock {
        long millis;

        void advance(long by) {
            millis += by;
        }

        @Override
        public long relativeTimeMillis() {
            return millis;
        }

        @Override
        public long relativeTimeNanos() {
            return millis * 1_000_000L;
        }
    }

    static final class Out implements WatermarkOutput {
        long watermark = Long.MIN_VALUE;
        boolean idle;
        int activeMarks;

        @Override
        public void emitWatermark(Watermark w) {
            watermark = w.getTimestamp();
            idle = false;
        }

        @Override
        public void markIdle() {
            idle = true;
        }

        @Override
        public void markActive() {
            idle = false;
            activeMarks++;
        }
    }
}
