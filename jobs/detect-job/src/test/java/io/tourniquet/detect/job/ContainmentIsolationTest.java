package io.tourniquet.detect.job;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The containment path never waits on the forensic path because it cannot reach it: this module
 * is built without an Elasticsearch client or the index and forensics modules. Its test classpath
 * holds everything its compile classpath does, so a class missing here cannot be compiled against
 * either. Fails the day someone adds such a dependency to detect-job.
 */
class ContainmentIsolationTest {

    @ParameterizedTest
    @ValueSource(strings = {
            "co.elastic.clients.elasticsearch.ElasticsearchClient", // the Java API client
            "org.elasticsearch.client.RestClient",                  // its low-level REST client
            "io.tourniquet.index.IndexJob",                         // the index job's module
            "io.tourniquet.forensics.Forensics"})                   // the forensics module
    void isNotOnTheDetectJobsClasspath(String className) {
        ClassLoader loader = ContainmentIsolationTest.class.getClassLoader();
        assertThatThrownBy(() -> Class.forName(className, false, loader))
                .isInstanceOf(ClassNotFoundException.class);
    }

    @ParameterizedTest
    @ValueSource(strings = {"io.tourniquet.detect.job.DetectJob", "io.tourniquet.kafka.KafkaConnectors",
            "io.tourniquet.model.Event"})
    void theLookupFindsWhatIsThere(String className) throws ClassNotFoundException {
        // The same lookup succeeds for what the module does hold: the test above is not vacuous.
        assertThat(Class.forName(className, false, ContainmentIsolationTest.class.getClassLoader())).isNotNull();
    }
}
