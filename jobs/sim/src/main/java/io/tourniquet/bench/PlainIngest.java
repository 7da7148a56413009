package io.tourniquet.bench;

import io.tourniquet.kafka.TopicReader;
import co.elastic.clients.elasticsearch.ElasticsearchClient;
import co.elastic.clients.elasticsearch._helpers.bulk.BulkIngester;
import co.elastic.clients.elasticsearch._helpers.bulk.BulkListener;
import co.elastic.clients.elasticsearch.core.BulkRequest;
import co.elastic.clients.elasticsearch.core.BulkResponse;
import co.elastic.clients.elasticsearch.core.bulk.BulkOperation;
import co.elastic.clients.elasticsearch.core.bulk.BulkResponseItem;
import co.elastic.clients.util.BinaryData;
import co.elastic.clients.util.ContentType;
import io.tourniquet.config.TourniquetConfig;
import io.tourniquet.index.EcsDocuments;
import io.tourniquet.index.EsClients;
import io.tourniquet.index.EsSinkSettings;
import io.tourniquet.index.IndexDoc;
import io.tourniquet.json.Json;
import io.tourniquet.kafka.KafkaClientConfig;
import io.tourniquet.model.EnrichedEvent;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The limit the index job is compared with: one thread that reads the enriched events from Kafka,
 * maps each to the same {@code tourniquet-events} document the index job makes
 * ({@link EcsDocuments#event}) and hands it to a plain elasticsearch-java {@link BulkIngester} with
 * the job's batch settings ({@code elasticsearch.bulk.*}): no checkpoints, no retries, no
 * {@code event.ingested}, no dead letters. What it cannot do faster, the job cannot either.
 */
public final class PlainIngest {
    private PlainIngest() {}

    /**
     * @param documents documents Elasticsearch acknowledged
     * @param failed    documents it refused (the figure is void if any)
     * @param seconds   from the first read to the last acknowledgement
     */
    public record Result(long documents, long failed, double seconds) {
        public double perSecond() {
            return documents / seconds;
        }
    }

    public static Result run(TourniquetConfig cfg, String topic, String alias, Duration timeout) throws Exception {
        AtomicLong acknowledged = new AtomicLong();
        AtomicLong failed = new AtomicLong();
        long start = System.nanoTime();
        EsSinkSettings batches = EsSinkSettings.from(cfg); // the index job's own batch settings
        try (ElasticsearchClient client = EsClients.create(cfg)) {
            BulkIngester<Void> ingester = BulkIngester.of(b -> b.client(client)
                    .maxOperations(batches.maxActions())
                    .maxConcurrentRequests(batches.maxConcurrentRequests())
                    .flushInterval(batches.flushInterval().toMillis(), TimeUnit.MILLISECONDS)
                    .listener(new BulkListener<>() {
                        @Override
                        public void beforeBulk(long id, BulkRequest request, List<Void> contexts) {}

                        @Override
                        public void afterBulk(long id, BulkRequest request, List<Void> contexts, BulkResponse response) {
                            for (BulkResponseItem item : response.items()) {
                                if (item.error() == null) acknowledged.incrementAndGet();
                                else failed.incrementAndGet();
                            }
                        }

                        @Override
                        public void afterBulk(long id, BulkRequest request, List<Void> contexts, Throwable failure) {
                            failed.addAndGet(request.operations().size());
                        }
                    }));
            try {
                TopicReader.forEach(KafkaClientConfig.base(cfg), topic, timeout, Long.MAX_VALUE, r -> {
                    IndexDoc doc = EcsDocuments.event(Json.fromBytes(r.value(), EnrichedEvent.class), alias);
                    BinaryData source = BinaryData.of(doc.source.getBytes(StandardCharsets.UTF_8),
                            ContentType.APPLICATION_JSON);
                    ingester.add(BulkOperation.of(o -> o.index(i -> i.index(doc.index).id(doc.id).document(source))));
                });
            } finally {
                ingester.close(); // flushes and waits for every request in flight
            }
        }
        return new Result(acknowledged.get(), failed.get(), (System.nanoTime() - start) / 1e9);
    }
}
