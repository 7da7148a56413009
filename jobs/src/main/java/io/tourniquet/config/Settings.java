package io.tourniquet.config;

import java.time.Duration;
import java.util.List;

/**
 * Every setting of the pipeline, with its documented default. This is the one place thresholds
 * and names are declared; {@link TourniquetConfig} resolves and validates them all at start-up.
 */
public final class Settings {
    private Settings() {}

    // Connections.
    public static final Setting<String> KAFKA_BOOTSTRAP = Setting.string("kafka.bootstrap", "127.0.0.1:9092",
            "Kafka bootstrap servers.");
    public static final Setting<String> ES_URL = Setting.string("elasticsearch.url", "http://127.0.0.1:9200",
            "Elasticsearch HTTP URL (comma-separate several nodes).");
    public static final Setting<String> KAFKA_GROUP_PREFIX = Setting.string("kafka.group-prefix", "tourniquet",
            "Consumer group prefix; the jobs use <prefix>-detect and <prefix>-index.");

    // Topics (contract defaults).
    public static final Setting<String> TOPIC_LOGINS = Setting.string("topic.logins", "exchange.auth.logins",
            "Input: login events.");
    public static final Setting<String> TOPIC_MFA = Setting.string("topic.mfa", "exchange.auth.mfa",
            "Input: 2FA events.");
    public static final Setting<String> TOPIC_WITHDRAWALS = Setting.string("topic.withdrawals",
            "exchange.wallet.withdrawals", "Input: withdrawal status changes.");
    public static final Setting<String> TOPIC_ACCOUNT_CHANGES = Setting.string("topic.account-changes",
            "exchange.account.changes", "Input: account changes.");
    public static final Setting<String> TOPIC_ALERTS = Setting.string("topic.alerts", "tourniquet.alerts",
            "Output: alerts (written exactly once).");
    public static final Setting<String> TOPIC_ACTIONS = Setting.string("topic.actions", "tourniquet.actions",
            "Output: signed commands for enforcers (at least once; ids are deterministic).");
    public static final Setting<String> TOPIC_NOTIFICATIONS = Setting.string("topic.notifications",
            "tourniquet.notifications", "Output: messages to users.");
    public static final Setting<String> TOPIC_DLQ = Setting.string("topic.dlq", "tourniquet.dlq",
            "Output: rejected input with its coordinates and a reason.");
    public static final Setting<String> TOPIC_ENRICHED = Setting.string("topic.enriched",
            "tourniquet.events.enriched", "Internal: enriched events, from the detect job to the index job.");
    public static final Setting<Integer> TOPIC_PARTITIONS = Setting.integer("topic.partitions", 2, 1, 10_000,
            "Partitions for topics that 'setup' creates.");

    // Indices (aliases; daily indices behind them are <alias>-yyyy.MM.dd).
    public static final Setting<String> INDEX_EVENTS = Setting.string("index.events", "tourniquet-events",
            "Alias of the enriched-event indices.");
    public static final Setting<String> INDEX_ALERTS = Setting.string("index.alerts", "tourniquet-alerts",
            "Alias of the alert indices.");
    public static final Setting<String> INDEX_ACTIONS = Setting.string("index.actions", "tourniquet-actions",
            "Alias of the action (audit trail) indices.");
    public static final Setting<String> INDEX_INCIDENTS = Setting.string("index.incidents", "tourniquet-incidents",
            "Alias of the incident index.");

    // Input handling.
    public static final Setting<Integer> MAX_RECORD_BYTES = Setting.integer("input.max-record-bytes", 65_536,
            256, 16 * 1024 * 1024, "Larger input records go to the DLQ as oversized.");
    public static final Setting<Duration> OUT_OF_ORDERNESS = Setting.duration("input.max-out-of-orderness", "30 s",
            Duration.ZERO, "How far out of order events may arrive within a partition before they count as late.");
    public static final Setting<Duration> IDLENESS = Setting.duration("input.idleness", "5 s", Duration.ofMillis(1),
            "A source split silent this long (wall clock) stops holding back event time.");
    public static final Setting<Duration> DEDUP_RETENTION = Setting.duration("input.dedup-retention", "1 h",
            Duration.ofSeconds(1), "How long (event time) an event id is remembered to drop redelivered duplicates.");

    // Unauthorized approval (contract section 2).
    public static final Setting<Duration> UA_GRACE = Setting.duration("rule.unauthorized-approval.grace", "5 s",
            Duration.ZERO, "Event time an undecided approval waits for its verification.");
    public static final Setting<Duration> UA_SKEW = Setting.duration("rule.unauthorized-approval.skew", "5 s",
            Duration.ZERO, "How far after the approval a verification may be stamped and still count.");
    public static final Setting<Duration> UA_VALIDITY = Setting.duration("rule.unauthorized-approval.validity",
            "10 min", Duration.ofSeconds(1), "How long before the approval a verification stays valid.");
    public static final Setting<Duration> UA_MAX_WAIT = Setting.duration("rule.unauthorized-approval.max-wait",
            "15 s", Duration.ofMillis(1),
            "Wall-clock bound on waiting for a decision when event time stalls (idle or lagging partitions).");
    public static final Setting<Integer> UA_MAX_CHALLENGES = Setting.integer(
            "rule.unauthorized-approval.max-challenges-per-user", 1_000, 1, 1_000_000,
            "Bound on remembered 2FA challenges per user; the oldest are forgotten first.");

    // Commands.
    public static final Setting<String> SIGNING_KEY = Setting.optionalString("signing.key",
            "HMAC-SHA256 key for commands (required outside the demo). Set it through the environment.");

    // Runtime.
    public static final Setting<Integer> PARALLELISM = Setting.integer("job.parallelism", 2, 1, 1024,
            "Parallelism of each job.");
    public static final Setting<Duration> CHECKPOINT_INTERVAL = Setting.duration("job.checkpoint-interval", "5 s",
            Duration.ofMillis(100), "Checkpoint interval; alerts become visible to read_committed readers on each.");
    public static final Setting<String> CHECKPOINT_DIR = Setting.optionalString("job.checkpoint-dir",
            "Checkpoint storage URI (e.g. file:///var/lib/tourniquet/checkpoints); in memory when unset.");
    public static final Setting<Duration> KAFKA_TRANSACTION_TIMEOUT = Setting.duration("kafka.transaction-timeout",
            "10 min", Duration.ofSeconds(10), "Transaction timeout of the exactly-once alert sink.");

    // Elasticsearch sink.
    public static final Setting<Integer> ES_BULK_ACTIONS = Setting.integer("elasticsearch.bulk.max-actions", 1_000,
            1, 100_000, "Documents per bulk request.");
    public static final Setting<Duration> ES_BULK_FLUSH = Setting.duration("elasticsearch.bulk.flush-interval", "1 s",
            Duration.ofMillis(10), "A partly filled bulk request is sent after this long.");
    public static final Setting<Integer> ES_BULK_CONCURRENCY = Setting.integer("elasticsearch.bulk.max-concurrent", 2,
            1, 64, "Bulk requests in flight at once.");
    public static final Setting<Duration> ES_RETRY_INITIAL = Setting.duration("elasticsearch.retry.initial-backoff",
            "100 ms", Duration.ofMillis(1), "First wait before retrying failed bulk items.");
    public static final Setting<Duration> ES_RETRY_MAX = Setting.duration("elasticsearch.retry.max-backoff", "30 s",
            Duration.ofMillis(1), "Longest wait between retries (retries never give up on transient errors).");

    /** Every topic the pipeline reads or writes. */
    public static final List<Setting<String>> TOPICS = List.of(TOPIC_LOGINS, TOPIC_MFA, TOPIC_WITHDRAWALS,
            TOPIC_ACCOUNT_CHANGES, TOPIC_ALERTS, TOPIC_ACTIONS, TOPIC_NOTIFICATIONS, TOPIC_DLQ, TOPIC_ENRICHED);

    /** Every index alias the pipeline writes. */
    public static final List<Setting<String>> INDEX_ALIASES = List.of(INDEX_EVENTS, INDEX_ALERTS, INDEX_ACTIONS,
            INDEX_INCIDENTS);

    public static final List<Setting<?>> ALL = List.of(
            KAFKA_BOOTSTRAP, ES_URL, KAFKA_GROUP_PREFIX,
            TOPIC_LOGINS, TOPIC_MFA, TOPIC_WITHDRAWALS, TOPIC_ACCOUNT_CHANGES,
            TOPIC_ALERTS, TOPIC_ACTIONS, TOPIC_NOTIFICATIONS, TOPIC_DLQ, TOPIC_ENRICHED, TOPIC_PARTITIONS,
            INDEX_EVENTS, INDEX_ALERTS, INDEX_ACTIONS, INDEX_INCIDENTS,
            MAX_RECORD_BYTES, OUT_OF_ORDERNESS, IDLENESS, DEDUP_RETENTION,
            UA_GRACE, UA_SKEW, UA_VALIDITY, UA_MAX_WAIT, UA_MAX_CHALLENGES,
            SIGNING_KEY,
            PARALLELISM, CHECKPOINT_INTERVAL, CHECKPOINT_DIR, KAFKA_TRANSACTION_TIMEOUT,
            ES_BULK_ACTIONS, ES_BULK_FLUSH, ES_BULK_CONCURRENCY, ES_RETRY_INITIAL, ES_RETRY_MAX);
}
