package io.tourniquet.bench;

import com.sun.management.GarbageCollectionNotificationInfo;
import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import javax.management.ListenerNotFoundException;
import javax.management.NotificationEmitter;
import javax.management.NotificationListener;
import javax.management.openmbean.CompositeData;

/**
 * Garbage collection in this JVM (which runs the embedded cluster too) during one phase: count and
 * total time from the collectors' MXBeans, the longest single collection from their notifications.
 * With G1 (the default here) the beans count its stop-the-world young, mixed and full pauses; on
 * Java 17 the short Remark and Cleanup pauses of a concurrent cycle are in no bean (Java 20 added
 * one), so the total is a slight underestimate.
 */
public final class GcPauses implements AutoCloseable {

    /**
     * @param collections collections during the phase
     * @param totalMillis their accumulated time
     * @param maxMillis   the longest one
     */
    public record Window(long collections, long totalMillis, long maxMillis) {}

    private final List<GarbageCollectorMXBean> beans = ManagementFactory.getGarbageCollectorMXBeans();
    private final long countBefore;
    private final long millisBefore;
    private final AtomicLong max = new AtomicLong();
    private final NotificationListener listener = (notification, handback) -> {
        if (GarbageCollectionNotificationInfo.GARBAGE_COLLECTION_NOTIFICATION.equals(notification.getType())) {
            long d = GarbageCollectionNotificationInfo.from((CompositeData) notification.getUserData())
                    .getGcInfo().getDuration();
            max.accumulateAndGet(d, Math::max);
        }
    };
    private Window result;

    private GcPauses() {
        for (GarbageCollectorMXBean b : beans) {
            if (b instanceof NotificationEmitter e) e.addNotificationListener(listener, null, null);
        }
        countBefore = beans.stream().mapToLong(GarbageCollectorMXBean::getCollectionCount).sum();
        millisBefore = beans.stream().mapToLong(GarbageCollectorMXBean::getCollectionTime).sum();
    }

    /** Starts counting now. */
    public static GcPauses start() {
        return new GcPauses();
    }

    /** The collectors' names, for the report ("G1 Young Generation, G1 Old Generation"). */
    public static String collectors() {
        return String.join(", ", ManagementFactory.getGarbageCollectorMXBeans().stream()
                .map(GarbageCollectorMXBean::getName).toList());
    }

    /** Stops counting (once; later calls return the same window). */
    public Window stop() {
        if (result == null) {
            result = new Window(
                    beans.stream().mapToLong(GarbageCollectorMXBean::getCollectionCount).sum() - countBefore,
                    beans.stream().mapToLong(GarbageCollectorMXBean::getCollectionTime).sum() - millisBefore,
                    max.get());
            for (GarbageCollectorMXBean b : beans) {
                if (b instanceof NotificationEmitter e) {
                    try {
                        e.removeNotificationListener(listener);
                    } catch (ListenerNotFoundException ignored) {
                        // never added: nothing to remove
                    }
                }
            }
        }
        return result;
    }

    @Override
    public void close() {
        stop();
    }
}
