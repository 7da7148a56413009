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
            MiniClusterResource r = new MiniClusterResource(new MiniClusterResourceConfiguration.Builder()
                    .setConfiguration(new Configuration())
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
