package io.tourniquet.testing;

import org.apache.flink.configuration.Configuration;
import org.apache.flink.runtime.testutils.MiniClusterResource;
import org.apache.flink.runtime.testutils.MiniClusterResourceConfiguration;
import org.apache.flink.streaming.util.TestStreamEnvironment;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * One Flink MiniCluster for every integration test class in the JVM (parallelism 2), installed
 * as the context environment: {@code StreamExecutionEnvironment.getExecutionEnvironment()} submits
 * to it. Started on first use, closed when the test JVM's root context closes.
 */
public final class SharedMiniCluster implements BeforeAllCallback {
    public static final int PARALLELISM = 2;

    @Override
    public void beforeAll(ExtensionContext context) {
        Holder holder = context.getRoot().getStore(ExtensionContext.Namespace.GLOBAL)
                .getOrComputeIfAbsent(Holder.class, k -> Holder.start(), Holder.class);
        TestStreamEnvironment.setAsContext(holder.resource.getMiniCluster(), PARALLELISM);
    }

    static final class Holder implements ExtensionContext.Store.CloseableResource {
        final MiniClusterResource resource;

        private Holder(MiniClusterResource resource) {
            this.resource = resource;
        }

        static Holder start() {
            // Four slots: a detect job and an index job at parallelism 2 can run side by side.
            // Managed memory as the launcher's embedded cluster has it (job.managed-memory-mb): with
            // the local default of 128 MiB for four slots, RocksDB warned over a thousand times a
            // suite that it would flush memtables constantly.
            Configuration conf = new Configuration();
            conf.set(org.apache.flink.configuration.TaskManagerOptions.MANAGED_MEMORY_SIZE,
                    org.apache.flink.configuration.MemorySize.ofMebiBytes(io.tourniquet.config.TourniquetConfig
                            .defaults().get(io.tourniquet.config.Settings.MANAGED_MEMORY_MB)));
            MiniClusterResource r = new MiniClusterResource(new MiniClusterResourceConfiguration.Builder()
                    .setConfiguration(conf)
                    .setNumberTaskManagers(1)
                    .setNumberSlotsPerTaskManager(2 * PARALLELISM)
                    .build());
            try {
                r.before();
            } catch (Exception e) {
                throw new IllegalStateException("cannot start the Flink MiniCluster", e);
            }
            return new Holder(r);
        }

        @Override
        public void close() {
            TestStreamEnvironment.unsetAsContext();
            resource.after();
        }
    }
}
