/**
 * The forensic indexes in Elasticsearch (contract section 4), and the Flink sink that fills them.
 *
 * <h2>What is written</h2>
 * <ul>
 *   <li>{@code tourniquet-events}: one document per input event, from the enriched events the
 *       detect job publishes ({@link io.tourniquet.index.EcsDocuments#event}). ECS names
 *       ({@code @timestamp}, {@code event.*}, {@code user.id}, {@code source.ip}, ...), exchange
 *       fields under {@code exchange.*}, with the detect job's verdict
 *       ({@code exchange.mfa.authorized}, {@code exchange.alert_ids}, {@code exchange.incident_id}).
 *       Unauthorized approvals per approving backend are one terms aggregation on
 *       {@code exchange.withdrawal.approval_service_version} filtered by
 *       {@code exchange.mfa.authorized: false}.</li>
 *   <li>{@code tourniquet-alerts} and {@code tourniquet-actions}: the Kafka records as they are,
 *       plus {@code @timestamp} (their event time) and a few ECS copies. The actions index is the
 *       audit trail of every command, signature included.</li>
 *   <li>{@code tourniquet-incidents}: one document per incident, updated in place in the single
 *       index {@code <alias>-v1}.</li>
 *   <li>{@code tourniquet-claims}: one document per Account Protection Programme claim (id = claim
 *       id), updated in place in the single index {@code <alias>-v1}
 *       ({@link io.tourniquet.index.EcsDocuments#claim}).</li>
 * </ul>
 * Mappings come from composable index templates ({@link io.tourniquet.index.IndexTemplates},
 * resources {@code index-templates/*.json}), applied idempotently at job start and by the setup
 * command. Events go to monthly indices {@code <alias>-yyyy.MM} of their ingestion (the input
 * record's Kafka timestamp), alerts and actions to those they were raised and issued in (UTC); everything is
 * read through the alias, and queries filter on {@code @timestamp} (event time). The anti-phishing code is never indexed.
 *
 * <h2>Idempotency</h2>
 * Every document has a deterministic id (the event, alert or action id) and a deterministic index
 * (events: the UTC month their input record was ingested in, a Kafka timestamp a replay keeps;
 * alerts and actions: the month they were raised or issued), and is written with an {@code index}
 * operation: writing it again, after a retry or a replay from a checkpoint, overwrites the same
 * document. At-least-once delivery therefore yields exactly one document per record. Documents
 * updated in place (incidents, claims) carry an increasing {@link io.tourniquet.index.IndexDoc#version},
 * sent as an external version, so a late re-send of an older state never overwrites a newer one.
 *
 * <h2>Retries</h2>
 * {@link io.tourniquet.index.ElasticsearchSinkWriter} batches with elasticsearch-java's
 * {@code BulkIngester}. Documents that fail transiently (429, 5xx, or the whole request failing
 * because Elasticsearch is unreachable) are re-sent individually with exponential, jittered
 * backoff ({@code elasticsearch.retry.initial-backoff} to {@code elasticsearch.retry.max-backoff}),
 * without limit: nothing may be lost. Documents Elasticsearch rejects for what they are (other 4xx,
 * e.g. a mapping conflict) are logged with id and reason, counted ({@code esPermanentFailures}), and
 * not retried. Metrics: {@code esDocsIndexed}, {@code esRetries}, {@code esPermanentFailures},
 * {@code esSuperseded}, {@code esPendingDocs}.
 *
 * <h2>Checkpoints</h2>
 * Before each checkpoint Flink calls {@code flush}, which returns only when every document written
 * so far has been acknowledged (or permanently rejected). A completed checkpoint thus means
 * everything before it is in Elasticsearch; on failure, the job restarts from the last checkpoint
 * and replays the rest, which the deterministic ids make harmless. While Elasticsearch is down,
 * flush waits and logs why, checkpoints stall, and {@code write} applies backpressure; containment
 * does not depend on any of this, because the detect job never waits for Elasticsearch.
 */
package io.tourniquet.index;
