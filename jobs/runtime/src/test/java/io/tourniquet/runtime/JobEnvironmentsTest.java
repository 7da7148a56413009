package io.tourniquet.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import io.tourniquet.config.Settings;
import io.tourniquet.config.TourniquetConfig;
import java.util.Map;
import java.util.Optional;
import org.apache.flink.configuration.MemorySize;
import org.apache.flink.configuration.TaskManagerOptions;
import org.junit.jupiter.api.Test;

class JobEnvironmentsTest {
    @Test
    void theEmbeddedClusterGetsTheManagedMemorySetNotFlinksLocalDefault() {
        var defaults = JobEnvironments.configuration(TourniquetConfig.defaults(), "detect", Optional.empty());
        assertThat(defaults.get(TaskManagerOptions.MANAGED_MEMORY_SIZE)).isEqualTo(MemorySize.ofMebiBytes(512));

        var set = TourniquetConfig.load(Map.of(), Map.of(Settings.MANAGED_MEMORY_MB.key(), "128"));
        assertThat(JobEnvironments.configuration(set, "detect", Optional.empty()).get(TaskManagerOptions.MANAGED_MEMORY_SIZE))
                .isEqualTo(MemorySize.ofMebiBytes(128));
    }
}
