package io.tourniquet.kafka;

import io.tourniquet.config.Settings;
import io.tourniquet.config.TourniquetConfig;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;

/** Creates the pipeline's topics if they are missing; existing topics are left as they are. */
public final class KafkaTopics {
    private KafkaTopics() {}

    public static List<String> all(TourniquetConfig cfg) {
        return Settings.TOPICS.stream().map(cfg::get).toList();
    }

    /** Returns the topics it created. */
    public static List<String> ensure(TourniquetConfig cfg, List<String> topics, Map<String, String> topicConfig) {
        Properties client = KafkaClientConfig.base(cfg);
        Admin created;
        try {
            created = admin(client);
        } catch (RuntimeException e) {
            throw new IllegalStateException(KafkaClientConfig.explain(client, e), e);
        }
        try (Admin admin = created) {
            Set<String> existing = admin.listTopics().names().get(30, TimeUnit.SECONDS);
            List<NewTopic> missing = new ArrayList<>();
            for (String t : topics) {
                if (!existing.contains(t)) {
                    missing.add(new NewTopic(t, cfg.get(Settings.TOPIC_PARTITIONS), (short) 1).configs(topicConfig));
                }
            }
            if (!missing.isEmpty()) {
                try {
                    admin.createTopics(missing).all().get(30, TimeUnit.SECONDS);
                } catch (ExecutionException e) {
                    // Another process may have created one meanwhile; anything else is real.
                    if (!(e.getCause() instanceof org.apache.kafka.common.errors.TopicExistsException)) throw e;
                }
            }
            return missing.stream().map(NewTopic::name).toList();
        } catch (Exception e) {
            if (e instanceof InterruptedException) Thread.currentThread().interrupt();
            throw new IllegalStateException("cannot create topics: " + KafkaClientConfig.explain(client, e), e);
        }
    }

    public static Admin admin(TourniquetConfig cfg) {
        return admin(KafkaClientConfig.base(cfg));
    }

    private static Admin admin(Properties client) {
        Properties p = new Properties();
        p.putAll(client);
        p.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, "15000");
        p.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, "30000");
        return Admin.create(p);
    }
}
