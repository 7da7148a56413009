package io.tourniquet.detect;

import io.tourniquet.model.RawRecord;
import java.time.Duration;
import java.util.Collections;
import java.util.Set;
import java.util.WeakHashMap;
import org.apache.flink.api.common.eventtime.Watermark;
import org.apache.flink.api.common.eventtime.WatermarkGenerator;
import org.apache.flink.api.common.eventtime.WatermarkGeneratorSupplier;
import org.apache.flink.api.common.eventtime.WatermarkOutput;
import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.util.clock.RelativeClock;

/**
 * Per-partition watermarks (bounded out-of-orderness) where a silent partition stops holding back
 * event time only when it is really caught up, never while it may still hold unread records.
 *
 * <p><b>Why not Flink's {@code withIdleness}.</b> That marks a split idle after it has emitted
 * nothing for the timeout, whatever the reader is doing. Reading a backlog (every start, after
 * every outage, whenever the job lags) the Kafka consumer serves partitions in turns, and a
 * partition that was idle before new data came is idle until its first new record is emitted:
 * meanwhile event time runs ahead on the other partitions, and what that partition then delivers
 * is late. Seen: 2FA verifications read after the watermark had passed their approvals (1,156
 * benign approvals flagged {@code unknown_challenge} in one replay of 3,500 users, 400 of 400
 * new-address holds in one run and 395 in the next over the same input).
 *
 * <p><b>The rule here.</b> A partition is idle when either
 * <ul>
 *   <li>the whole reader (every partition this source subtask reads) has emitted nothing for
 *       {@code idleness} after having emitted something: then it has read everything there is,
 *       so it is caught up (a reader that has read nothing yet may still be connecting: seen, one
 *       reader declared idle before its first fetch, the other ran ahead and everything the first
 *       then read was late); or</li>
 *   <li>the partition alone has emitted nothing for {@code quietTimeout} (much longer), counted
 *       from its last record or from the moment the reader last woke up, whichever is later: a
 *       genuinely quiet partition among busy ones must not stall event time for ever.</li>
 * </ul>
 * When the reader wakes up (any partition emits after the reader was idle), every idle partition
 * becomes active again at its old watermark, so it holds event time back until it has had the
 * chance to deliver what arrived meanwhile. Silence is measured on Flink's input activity clock,
 * which stops while the source is back-pressured, so a partition waiting behind a slow pipeline
 * is not silent; and it grows by at most {@link #MAX_SILENCE_STEP_MS} between two periodic checks,
 * so a task thread that got no CPU for seconds (a busy machine) does not take the time it could not
 * read as time there was nothing to read (seen: a starved reader declared caught up mid-backlog).
 *
 * <p>The generators of one source subtask are all created from its own deserialized copy of this
 * strategy and called from its task thread, which is how they share {@link ReaderActivity}.
 */
public final class CaughtUpIdleness implements WatermarkStrategy<RawRecord> {
    private static final long serialVersionUID = 1L;

    /**
     * The most silence one periodic check can add (the checks come every 200 ms by default): a
     * longer gap between checks means the task thread was not running, not that input was quiet.
     */
    static final long MAX_SILENCE_STEP_MS = 250;

    private final long outOfOrdernessMillis;
    private final long idlenessMillis;
    private final long quietTimeoutMillis;
    private final RawEventTime timestamps;
    private transient ReaderActivity reader;

    public CaughtUpIdleness(Duration outOfOrderness, Duration idleness, Duration quietTimeout, RawEventTime timestamps) {
        if (outOfOrderness.isNegative() || idleness.isNegative() || idleness.isZero() || quietTimeout.isNegative()
                || quietTimeout.isZero()) {
            throw new IllegalArgumentException("out-of-orderness must be >= 0, idleness and quiet timeout > 0");
        }
        this.outOfOrdernessMillis = outOfOrderness.toMillis();
        this.idlenessMillis = idleness.toMillis();
        this.quietTimeoutMillis = Math.max(quietTimeout.toMillis(), idleness.toMillis());
        this.timestamps = timestamps;
    }

    @Override
    public WatermarkGenerator<RawRecord> createWatermarkGenerator(WatermarkGeneratorSupplier.Context context) {
        if (reader == null) reader = new ReaderActivity();
        return new PartitionWatermarks(reader, context.getInputActivityClock(), outOfOrdernessMillis, idlenessMillis,
                quietTimeoutMillis);
    }

    @Override
    public org.apache.flink.api.common.eventtime.TimestampAssigner<RawRecord> createTimestampAssigner(
            org.apache.flink.api.common.eventtime.TimestampAssignerSupplier.Context context) {
        return timestamps;
    }

    /** What the partitions of one source subtask know of each other. */
    static final class ReaderActivity {
        /** Weak: a finished split's generator is dropped by Flink and must not pin the reader awake. */
        final Set<PartitionWatermarks> partitions = Collections.newSetFromMap(new WeakHashMap<>());
        /** The reader was found idle at the last periodic check. */
        boolean idle;
        /** Some partition of the reader has emitted a record: only then can it be caught up. */
        boolean readSomething;
        /** Counts the reader's wake-ups, so each partition can notice one since it last looked. */
        long wakeUps;

        boolean everyPartitionSilentFor(long millis) {
            if (!readSomething) return false;
            for (PartitionWatermarks p : partitions) {
                if (p.silentFor() < millis) return false;
            }
            return true;
        }
    }

    /** One partition's generator (also used, record-less, for the reader's main output). */
    static final class PartitionWatermarks implements WatermarkGenerator<RawRecord> {
        private final ReaderActivity reader;
        private final RelativeClock clock;
        private final long outOfOrdernessMillis;
        private final long idlenessMillis;
        private final long quietTimeoutMillis;
        private long maxTimestamp = Long.MIN_VALUE;
        /** Silence observed since the last record (or wake-up), in steps of at most MAX_SILENCE_STEP_MS. */
        private long silence;
        private long lastCheck;
        private long wakeUpsSeen;
        private boolean idle;

        PartitionWatermarks(ReaderActivity reader, RelativeClock clock, long outOfOrdernessMillis, long idlenessMillis,
                            long quietTimeoutMillis) {
            this.reader = reader;
            this.clock = clock;
            this.outOfOrdernessMillis = outOfOrdernessMillis;
            this.idlenessMillis = idlenessMillis;
            this.quietTimeoutMillis = quietTimeoutMillis;
            this.lastCheck = clock.relativeTimeMillis();
            this.wakeUpsSeen = reader.wakeUps;
            reader.partitions.add(this);
        }

        long silentFor() {
            return silence;
        }

        @Override
        public void onEvent(RawRecord event, long eventTimestamp, WatermarkOutput output) {
            silence = 0;
            lastCheck = clock.relativeTimeMillis();
            reader.readSomething = true;
            if (reader.idle) {
                reader.idle = false;
                reader.wakeUps++;
            }
            wakeUpsSeen = reader.wakeUps;
            // A record without a readable event time (Long.MIN_VALUE) never moves event time.
            if (eventTimestamp > maxTimestamp) maxTimestamp = eventTimestamp;
        }

        @Override
        public void onPeriodicEmit(WatermarkOutput output) {
            long now = clock.relativeTimeMillis();
            silence += Math.min(Math.max(0, now - lastCheck), MAX_SILENCE_STEP_MS);
            lastCheck = now;
            if (wakeUpsSeen != reader.wakeUps) {
                // The reader woke up: this partition may have new records too; give it its turn.
                wakeUpsSeen = reader.wakeUps;
                silence = 0;
            }
            boolean readerIdle = reader.everyPartitionSilentFor(idlenessMillis);
            reader.idle = readerIdle;
            boolean nowIdle = readerIdle || silentFor() >= quietTimeoutMillis;
            if (nowIdle) {
                if (!idle) output.markIdle();
                idle = true;
                return;
            }
            idle = false;
            if (maxTimestamp == Long.MIN_VALUE) {
                // Nothing read yet: hold event time back (an active output at the lowest watermark).
                output.markActive();
                return;
            }
            output.emitWatermark(new Watermark(maxTimestamp - outOfOrdernessMillis - 1));
        }
    }
}
