package io.tourniquet.bench;

import io.tourniquet.kafka.TopicReader;
import java.time.Duration;
import java.util.Arrays;
import java.util.Properties;
import java.util.stream.LongStream;
import org.apache.kafka.common.record.TimestampType;

/**
 * Every record's broker append time on one topic, as it is now, sorted. Only the timestamps are
 * kept (a million enriched events would not fit the heap beside the cluster), and it is read after
 * the measured run, so reading never competes with what it measures.
 */
public final class AppendTimes {
    private AppendTimes() {}

    /**
     * @throws IllegalStateException if a record's timestamp is not the broker's append time (the
     *                               figures would mix producers' clocks), or the end is not
     *                               reached within {@code timeout}
     */
    public static long[] read(Properties client, String topic, Duration timeout) {
        LongStream.Builder times = LongStream.builder();
        TopicReader.forEach(client, topic, timeout, Long.MAX_VALUE, r -> {
            if (r.timestampType() != TimestampType.LOG_APPEND_TIME) {
                throw new IllegalStateException(topic + " has " + r.timestampType()
                        + " timestamps; the bench needs message.timestamp.type=LogAppendTime");
            }
            times.add(r.timestamp());
        });
        long[] sorted = times.build().toArray();
        Arrays.sort(sorted);
        return sorted;
    }
}
