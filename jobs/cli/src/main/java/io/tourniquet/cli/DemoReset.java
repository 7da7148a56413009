package io.tourniquet.cli;

import co.elastic.clients.elasticsearch.ElasticsearchClient;
import co.elastic.clients.elasticsearch._types.ElasticsearchException;
import io.tourniquet.config.Settings;
import io.tourniquet.config.TourniquetConfig;
import io.tourniquet.index.EsClients;
import io.tourniquet.kafka.KafkaTopics;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;

/** Empties the pipeline's topics and indices so a demo run reports on itself only. */
final class DemoReset {
    private DemoReset() {}

    static void reset(TourniquetConfig cfg) throws Exception {
        deleteTopics(cfg, KafkaTopics.all(cfg));
        deleteIndices(cfg);
    }

    /** Deletes those of {@code topics} that exist, and waits until the broker no longer lists them. */
    static void deleteTopics(TourniquetConfig cfg, List<String> topics) throws Exception {
        try (Admin admin = KafkaTopics.admin(cfg)) {
            Set<String> existing = admin.listTopics().names().get(30, TimeUnit.SECONDS);
            List<String> toDelete = topics.stream().filter(existing::contains).toList();
            if (!toDelete.isEmpty()) {
                admin.deleteTopics(toDelete).all().get(60, TimeUnit.SECONDS);
                // Deletion is accepted before it is visible everywhere: wait until listing agrees.
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
                while (admin.listTopics().names().get(30, TimeUnit.SECONDS).stream().anyMatch(toDelete::contains)) {
                    if (System.nanoTime() > deadline) throw new IllegalStateException("topics not deleted: " + toDelete);
                }
            }
        }
    }

    /** Deletes every index behind the configured aliases. */
    static void deleteIndices(TourniquetConfig cfg) throws Exception {
        try (ElasticsearchClient client = EsClients.create(cfg)) {
            for (String alias : Settings.INDEX_ALIASES.stream().map(cfg::get).toList()) {
                List<String> indices = new ArrayList<>();
                try {
                    indices.addAll(client.indices().getAlias(g -> g.name(alias)).result().keySet());
                } catch (ElasticsearchException e) {
                    if (e.status() != 404) throw e;
                }
                for (String index : indices) client.indices().delete(d -> d.index(index));
            }
        }
    }
}
