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
    public static final Setting<String> KAFKA_PROPERTIES_FILE = Setting.optionalString("kafka.properties-file",
            "A Kafka client properties file given to every Kafka client (job sources and sinks, admin, CLI): "
            + "security.protocol, sasl.*, ssl.* (PKCS12 or PEM stores), config.providers. Keep passwords out of it "
            + "with Kafka's config providers (${env:VAR}, ${file:path:key}). Keys Tourniquet sets itself are refused.");
    public static final Setting<String> ES_API_KEY = Setting.optionalString("elasticsearch.api-key",
            "Elasticsearch API key (the base64 'encoded' form), sent as 'Authorization: ApiKey'. A secret: set it "
            + "through the environment. Not with elasticsearch.username.");
    public static final Setting<String> ES_USERNAME = Setting.optionalString("elasticsearch.username",
            "Elasticsearch user for basic authentication (with elasticsearch.password).");
    public static final Setting<String> ES_PASSWORD = Setting.optionalString("elasticsearch.password",
            "Password of elasticsearch.username. A secret: set it through the environment.");
    public static final Setting<String> ES_CA_FILE = Setting.optionalString("elasticsearch.ca-file",
            "PEM file of the CA certificate(s) that sign Elasticsearch's HTTPS certificate (instead of the JVM's "
            + "trust store).");
    public static final Setting<String> ES_CA_FINGERPRINT = Setting.optionalString("elasticsearch.ca-fingerprint",
            "SHA-256 fingerprint (hex, colons allowed) of the CA certificate Elasticsearch prints at first start; "
            + "trusted instead of the JVM's trust store. Not with elasticsearch.ca-file.");
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
    public static final Setting<String> TOPIC_INCIDENTS = Setting.string("topic.incidents", "tourniquet.incidents",
            "Output: incidents, one record per change (key: incident id; the highest version is current).");
    public static final Setting<String> TOPIC_CONTROL = Setting.string("topic.control", "tourniquet.control",
            "Input: analysts' signed requests (release, resume, resolve, rule changes, approvals).");
    public static final Setting<String> TOPIC_CLAIMS = Setting.string("topic.claims", "tourniquet.claims",
            "Output: Account Protection Programme claims, one record per change (key: user id; the highest version is current).");
    public static final Setting<String> TOPIC_VERDICTS = Setting.string("topic.verdicts", "tourniquet.verdicts",
            "Output: analysts' verdicts on alerts, as the detect job accepted them (one record per verdict request).");
    public static final Setting<String> TOPIC_ENRICHED = Setting.string("topic.enriched",
            "tourniquet.events.enriched", "Internal: enriched events, from the detect job to the index job.");
    public static final Setting<Integer> TOPIC_PARTITIONS = Setting.integer("topic.partitions", 2, 1, 10_000,
            "Partitions for topics that 'setup' creates.");

    // Indices (aliases; monthly indices behind them are <alias>-yyyy.MM, see EcsDocuments).
    public static final Setting<String> INDEX_EVENTS = Setting.string("index.events", "tourniquet-events",
            "Alias of the enriched-event indices.");
    public static final Setting<String> INDEX_ALERTS = Setting.string("index.alerts", "tourniquet-alerts",
            "Alias of the alert indices.");
    public static final Setting<String> INDEX_ACTIONS = Setting.string("index.actions", "tourniquet-actions",
            "Alias of the action (audit trail) indices.");
    public static final Setting<String> INDEX_INCIDENTS = Setting.string("index.incidents", "tourniquet-incidents",
            "Alias of the incident index.");
    public static final Setting<String> INDEX_CLAIMS = Setting.string("index.claims", "tourniquet-claims",
            "Alias of the claim index (one document per claim, updated in place).");
    public static final Setting<String> INDEX_VERDICTS = Setting.string("index.verdicts", "tourniquet-verdicts",
            "Alias of the verdict index (one document per verdict).");
    public static final Setting<String> INDEX_DEAD_LETTERS = Setting.string("index.dead-letters",
            "tourniquet-dead-letters", "Alias of the index of documents Elasticsearch refused for good (with why).");

    // Input handling.
    public static final Setting<Integer> MAX_RECORD_BYTES = Setting.integer("input.max-record-bytes", 65_536,
            256, 16 * 1024 * 1024, "Larger input records go to the DLQ as oversized.");
    public static final Setting<Duration> OUT_OF_ORDERNESS = Setting.duration("input.max-out-of-orderness", "30 s",
            Duration.ZERO, "How far out of order events may arrive within a partition before they count as late.");
    public static final Setting<Duration> IDLENESS = Setting.duration("input.idleness", "5 s", Duration.ofMillis(1),
            "Live input: when every partition a source subtask reads has been silent this long (wall clock, time "
                    + "spent back-pressured excluded), it is caught up, and its partitions stop holding back event time.");
    public static final Setting<Duration> MAX_FUTURE = Setting.duration("input.max-future", "5 min", Duration.ZERO,
            "An event_time further ahead of the wall clock than this is refused (DLQ: from_future) and never "
                    + "moves event time: one record dated 9999 would otherwise fire every timer at once.");
    public static final Setting<Duration> MAX_AGE = Setting.duration("input.max-age", "0 s", Duration.ZERO,
            "An event_time older than this (wall clock) is refused (DLQ: too_old) and never moves event time; "
                    + "0 s: no bound (replays of history). Set it for live input (e.g. 7 d).");
    public static final Setting<Duration> QUIET_PARTITION_TIMEOUT = Setting.duration("input.quiet-partition-timeout",
            "30 s", Duration.ofMillis(1), "Live input: one partition silent this long while others are read stops "
                    + "holding back event time (a partition with unread records is never silent that long).");
    public static final Setting<Duration> DEDUP_RETENTION = Setting.duration("input.dedup-retention", "1 h",
            Duration.ofSeconds(1), "How long (event time) an event id is remembered to drop redelivered duplicates.");

    // Every rule setting below (those RuleCatalog assigns to a rule) declares which change of it
    // weakens detection, i.e. makes its rule fire less often or later, or act less (the comment
    // above each says why that direction): under control.two-person such a change waits for a
    // second analyst's approval. RuleCatalog refuses to start with a rule setting that declares none.

    // Unauthorized approval (contract section 2).
    /** Raising: decisions come later, and a late verification has longer to arrive and authorize. */
    public static final Setting<Duration> UA_GRACE = Setting.duration("rule.unauthorized-approval.grace", "5 s",
            Duration.ZERO, "Event time an undecided approval waits for its verification.")
            .weakenedBy(Weakening.raising());
    /** Raising: more verifications count, so fewer approvals are unauthorized. */
    public static final Setting<Duration> UA_SKEW = Setting.duration("rule.unauthorized-approval.skew", "5 s",
            Duration.ZERO, "How far after the approval a verification may be stamped and still count.")
            .weakenedBy(Weakening.raising());
    /** Raising: older verifications still count, so fewer approvals are unauthorized. */
    public static final Setting<Duration> UA_VALIDITY = Setting.duration("rule.unauthorized-approval.validity",
            "10 min", Duration.ofSeconds(1), "How long before the approval a verification stays valid.")
            .weakenedBy(Weakening.raising());
    /** Raising: when event time stalls, the freeze comes later. */
    public static final Setting<Duration> UA_MAX_WAIT = Setting.duration("rule.unauthorized-approval.max-wait",
            "15 s", Duration.ofMillis(1),
            "Wall-clock bound on waiting for a decision when event time stalls (idle or lagging partitions).")
            .weakenedBy(Weakening.raising());
    /**
     * Raising: an approval whose challenge was forgotten is unauthorized (unknown challenge), so
     * remembering more can only make fewer approvals unauthorized; lowering can only add alerts.
     */
    public static final Setting<Integer> UA_MAX_CHALLENGES = Setting.integer(
            "rule.unauthorized-approval.max-challenges-per-user", 1_000, 1, 1_000_000,
            "Bound on remembered 2FA challenges per user; the oldest are forgotten first.")
            .weakenedBy(Weakening.raising());

    // Account drain (contract section 2).
    /** Lowering: fewer approvals share a window, so fewer sums reach the share. */
    public static final Setting<Duration> DRAIN_WINDOW = Setting.duration("rule.account-drain.window", "1 h",
            Duration.ofSeconds(1), "Sliding window (event time) over a user's approved withdrawals.")
            .weakenedBy(Weakening.lowering());
    /** Raising: a larger part of the balance must leave before it is a drain. */
    public static final Setting<java.math.BigDecimal> DRAIN_SHARE = Setting.decimal("rule.account-drain.share",
            "0.8", "0.01", "100", "Share of the balance seen at the window's first approval that the window's "
                    + "approved usd_value must reach.")
            .weakenedBy(Weakening.raising());
    /** Raising: larger drains only. */
    public static final Setting<java.math.BigDecimal> DRAIN_FLOOR = Setting.decimal("rule.account-drain.floor-usd",
            "1000", "0", "1000000000000", "Smallest approved US$ sum that can count as a drain.")
            .weakenedBy(Weakening.raising());
    /** Lowering: an approval whose request (and balance) was forgotten cannot be judged. */
    public static final Setting<Duration> DRAIN_REQUEST_RETENTION = Setting.duration(
            "rule.account-drain.request-retention", "24 h", Duration.ofMinutes(1),
            "How long (event time) a request's balance is kept waiting for its approval.")
            .weakenedBy(Weakening.lowering());

    // New-address withdrawal (contract section 2).
    /** Lowering: fewer addresses count as new, and holds end sooner. */
    public static final Setting<Duration> NEW_ADDRESS_AGE = Setting.duration("rule.new-address-withdrawal.min-age",
            "24 h", Duration.ofMinutes(1), "A withdrawal to an address whitelisted less than this before the "
                    + "request is held; the hold lasts until the address is this old.")
            .weakenedBy(Weakening.lowering());

    // Bulk draining (contract section 2, platform-wide).
    /** Lowering: fewer victims share a window. */
    public static final Setting<Duration> BULK_WINDOW = Setting.duration("rule.bulk-drain.window", "10 min",
            Duration.ofSeconds(1), "Sliding window (event time) for counting affected users platform-wide.")
            .weakenedBy(Weakening.lowering());
    /** Raising: more victims before withdrawals are suspended. */
    public static final Setting<Integer> BULK_MIN_USERS = Setting.integer("rule.bulk-drain.min-users", 5, 2, 1_000_000,
            "Distinct users with an unauthorized approval or account drain in one window that suspend withdrawals.")
            .weakenedBy(Weakening.raising());
    public static final Setting<Duration> PLATFORM_MAX_LEAD = Setting.duration("rule.platform.max-lead", "0 s",
            Duration.ZERO, "How far ahead of event time a platform rule (bulk_drain, destination_concentration) may "
                    + "fire on the arrival that completes its window. 0: it always waits for event time and judges "
                    + "victims in the order they fell, whatever order topics are read in (exact, costs the "
                    + "out-of-orderness in latency); larger: faster live, but the alert may depend on reading order.");

    // Destination concentration (contract section 2).
    /** Lowering: fewer users share a window. */
    public static final Setting<Duration> CONCENTRATION_WINDOW = Setting.duration(
            "rule.destination-concentration.window", "10 min", Duration.ofSeconds(1),
            "Sliding window (event time) for new-address withdrawals to one destination.")
            .weakenedBy(Weakening.lowering());
    /** Raising: more users before the address is blocked. */
    public static final Setting<Integer> CONCENTRATION_MIN_USERS = Setting.integer(
            "rule.destination-concentration.min-users", 5, 2, 1_000_000,
            "Distinct users making new-address withdrawals to one address in one window that block it.")
            .weakenedBy(Weakening.raising());

    // Incidents (contract section 2).
    /**
     * Raising: later alerts join an older incident, and a bulk drain joining one whose suspension
     * is still in force issues no suspend_withdrawals of its own; lowering only makes more incidents.
     */
    public static final Setting<Duration> INCIDENT_GAP = Setting.duration("rule.incident.gap", "1 h",
            Duration.ofSeconds(1), "Alerts closer than this (event time) join the same incident.")
            .weakenedBy(Weakening.raising());

    // Anomaly scoring (models module; not in the contract's table, an extension).
    public static final Setting<String> MODELS_DIR = Setting.string("models.dir", "models-store",
            "Where model artifacts live, one directory per version (<dir>/<version>/), as 'models train' writes them."
                    + " Every task manager reads it: use an absolute path on shared storage outside one machine.");
    /** The value of {@link #ANOMALY_MODEL_VERSION} that turns scoring off. */
    public static final String NO_MODEL = "none";
    public static final Setting<String> ANOMALY_MODEL_VERSION = Setting.matching("rule.anomaly-score.model-version",
            NO_MODEL, "[A-Za-z0-9][A-Za-z0-9._-]{0,127}", "a model version name (letters, digits, '.', '_', '-';"
                    + " no path), or 'none'",
            "Model version (a directory under models.dir) that scores approvals; 'none' logs features only."
                    + " Activate a model with a signed rule change; the job checks the artifact first.")
            .weakenedBy(Weakening.replacingAnythingBut(NO_MODEL));
    public static final Setting<String> ANOMALY_MODEL_SHA256 = Setting.matching("rule.anomaly-score.model-sha256",
            NO_MODEL, "none|[0-9a-f]{64}", "64 lowercase hex digits, or 'none'",
            "The sha256 of the active model's file (model_sha256 in its metadata.json; 'models info' shows it)."
                    + " Required with a model version: the detector loads only a file with exactly this hash.")
            .weakenedBy(Weakening.replacingAnythingBut(NO_MODEL));
    /** Alert severities, lowest first. */
    private static final List<String> SEVERITIES = List.of("low", "medium", "high", "critical");
    /** Lowering: its alerts ask for less attention. */
    public static final Setting<String> ANOMALY_SEVERITY = Setting.oneOf("rule.anomaly-score.severity", "medium",
            SEVERITIES, "Severity of anomaly_score alerts.")
            .weakenedBy(Weakening.loweringIn(SEVERITIES));
    /** Turning it off: its alerts no longer freeze. */
    public static final Setting<Boolean> ANOMALY_FREEZE = Setting.bool("rule.anomaly-score.freeze", false,
            "Whether an anomaly_score alert also freezes the account (by default it only alerts).")
            .weakenedBy(Weakening.turningOff());

    // Notifications.
    public static final Setting<String> NOTIFY_CHANNELS = Setting.string("notify.channels", "email,push",
            "Channels named on every notification (comma-separated), for the messaging service.");
    public static final Setting<Duration> VERDICT_SUPPRESS_FOR = Setting.duration("verdict.suppress-for", "30 d",
            Duration.ZERO, "After an analyst's false-positive verdict on an alert, how long (event time, from that "
            + "alert's) the same user's alerts of the same rule are raised but suppressed: no command, no notification, "
            + "marked suppressed_by. Never for unauthorized_approval or the platform rules; 0 turns suppression off.");
    public static final Setting<Duration> NOTIFY_RETENTION = Setting.duration("notify.dedup-retention", "7 d",
            Duration.ofMinutes(1), "How long (event time) a sent notification is remembered so it is never repeated.");
    public static final Setting<Duration> NOTIFY_UPDATE_RETENTION = Setting.duration("notify.update-count-retention",
            "180 d", Duration.ofMinutes(1), "How long (event time) after a user's last update about an incident the "
                    + "count is kept, so the next update continues the numbering (an APP claim can take months).");

    // Analysts' control requests.
    public static final Setting<String> CONTROL_KEY = Setting.optionalString("signing.control-key",
            "HMAC-SHA256 key analysts sign control requests with (its own key, not the command key).");
    public static final Setting<String> CONTROL_KEY_ID = Setting.optionalString("signing.control-key-id",
            "'control' only: the key_id of the analyst's own key (given as signing.control-key), written into every"
                    + " request, for a detect job that verifies each analyst's key (signing.analyst-keys-file).");
    public static final Setting<String> ANALYST_KEYS_FILE = Setting.optionalString("signing.analyst-keys-file",
            "Detect job: a JSON file of analysts' own keys, {\"<key id>\": {\"analyst\": \"<requested_by>\", \"key\":"
                    + " \"<at least 32 bytes>\"}} (mount it as a secret). When set, a control request must carry the"
                    + " key_id of one of them, verify under that key and name that key's analyst as requested_by;"
                    + " the shared signing.control-key no longer verifies requests.");
    public static final Setting<Duration> CONTROL_MAX_AGE = Setting.duration("control.max-age", "15 min",
            Duration.ofSeconds(1), "A control request older than this (its requested_at, wall clock) is refused.");
    public static final Setting<Duration> CONTROL_MAX_FUTURE = Setting.duration("control.max-future", "1 min",
            Duration.ZERO, "A control request dated further ahead than this is refused (clock skew tolerance).");
    public static final Setting<Boolean> CONTROL_TWO_PERSON = Setting.bool("control.two-person", true,
            "Detect job: a resume_withdrawals and a rule change that weakens a rule (the rule settings say which"
                    + " direction does) take effect only once a second analyst approves them ('control approve');"
                    + " false: at once, as every other request. Use with signing.analyst-keys-file: one shared key"
                    + " cannot prove two people.");
    public static final Setting<Duration> CONTROL_APPROVAL_WINDOW = Setting.duration("control.approval-window",
            "15 min", Duration.ofSeconds(1), "How long (wall clock) a request held for a second analyst's approval"
                    + " waits for it; then it is dropped to the DLQ (approval_expired) and never takes effect.");

    // Commands.
    public static final Setting<String> SIGNING_KEY = Setting.optionalString("signing.key",
            "HMAC-SHA256 key for commands (required outside the demo). Set it through the environment.");
    public static final Setting<String> SIGNING_KEY_ID = Setting.matching("signing.key-id", "1", "[A-Za-z0-9._-]{1,64}",
            "1 to 64 letters, digits, '.', '_' or '-'", "Names the command key in every command (key_id), so"
                    + " enforcers can hold the old and the new key while keys are rotated and pick the right one.");

    // How long after issue an enforcer may still act on a command (expires_at): long enough for a
    // slow enforcer, short enough that a command replayed or redelivered days later is refused, and
    // the window in which an enforcer must remember action ids to de-duplicate.
    public static final Setting<Duration> EXPIRE_FREEZE = expiry("freeze_account", "1 h");
    public static final Setting<Duration> EXPIRE_HOLD = expiry("hold_withdrawal", "1 h");
    public static final Setting<Duration> EXPIRE_REVOKE = expiry("revoke_mfa_tokens", "1 h");
    public static final Setting<Duration> EXPIRE_BLOCK = expiry("block_address", "1 h");
    public static final Setting<Duration> EXPIRE_SUSPEND = expiry("suspend_withdrawals", "1 h");
    public static final Setting<Duration> EXPIRE_RELEASE = expiry("release_account", "15 min");
    public static final Setting<Duration> EXPIRE_RESUME = expiry("resume_withdrawals", "15 min");
    /** Action kind (contract section 3) -> how long after issue it expires. */
    public static final java.util.Map<String, Setting<Duration>> ACTION_EXPIRY = java.util.Map.of(
            "freeze_account", EXPIRE_FREEZE, "hold_withdrawal", EXPIRE_HOLD, "revoke_mfa_tokens", EXPIRE_REVOKE,
            "block_address", EXPIRE_BLOCK, "suspend_withdrawals", EXPIRE_SUSPEND,
            "release_account", EXPIRE_RELEASE, "resume_withdrawals", EXPIRE_RESUME);

    private static Setting<Duration> expiry(String action, String def) {
        return Setting.duration("action." + action.replace('_', '-') + ".expire-after", def, Duration.ofSeconds(1),
                "A " + action + " command's expires_at: this long after issued_at. Enforcers refuse it later.");
    }

    // Runtime.
    public static final Setting<Integer> PARALLELISM = Setting.integer("job.parallelism", 2, 1, 1024,
            "Parallelism of each job.");
    public static final Setting<Duration> BUFFER_TIMEOUT = Setting.duration("job.buffer-timeout", "5 ms",
            Duration.ZERO, "Longest a partly filled network buffer waits before it is sent (latency vs throughput).");
    public static final Setting<Duration> CHECKPOINT_INTERVAL = Setting.duration("job.checkpoint-interval", "5 s",
            Duration.ofMillis(100), "Checkpoint interval; alerts become visible to read_committed readers on each.");
    public static final Setting<String> CHECKPOINT_DIR = Setting.optionalString("job.checkpoint-dir",
            "Durable checkpoint storage, any Flink filesystem URI (file:///var/lib/tourniquet/checkpoints, s3://... "
                    + "where the S3 plugin is present). Each job keeps its own subdirectory. When unset, 'run' and "
                    + "'demo' use <local dir>/checkpoints (TOURNIQUET_LOCAL_DIR, default ./.local); a cluster "
                    + "deployment must set it.");
    public static final Setting<String> SAVEPOINT_DIR = Setting.optionalString("job.savepoint-dir",
            "Where savepoints go (stop on Ctrl-C, 'savepoint', 'deploy'); default: 'savepoints' beside the "
                    + "checkpoint directory.");
    public static final Setting<Integer> CHECKPOINTS_RETAINED = Setting.integer("job.checkpoints-retained", 3, 1, 100,
            "Completed checkpoints kept per job (also kept when a job is cancelled, so a restart resumes).");
    public static final Setting<Integer> CHECKPOINT_TOLERABLE_FAILURES = Setting.integer(
            "job.checkpoint-tolerable-failures", 3, 0, 1_000,
            "Consecutive failed checkpoints tolerated before the job restarts from its last completed one; "
                    + "each failure is logged with its cause and counted (metric numberOfFailedCheckpoints).");
    public static final Setting<Duration> CHECKPOINT_TIMEOUT = Setting.duration("job.checkpoint-timeout", "10 min",
            Duration.ofSeconds(1), "A checkpoint not complete after this long fails (and counts as a failure).");
    public static final Setting<String> STATE_BACKEND = Setting.oneOf("job.state-backend", "rocksdb",
            List.of("rocksdb", "hashmap"), "Where keyed state lives: rocksdb (on local disk, bounded by disk, "
                    + "incremental checkpoints) or hashmap (on the JVM heap; small deployments and tests).");
    public static final Setting<Integer> MANAGED_MEMORY_MB = Setting.integer("job.managed-memory-mb", 512, 16,
            1_048_576, "Embedded 'run', 'demo' and 'bench' only: managed memory of the job's embedded cluster (MiB, "
                    + "shared by its slots), where RocksDB keeps its block cache and write buffers, off the JVM heap. "
                    + "Flink's local default (128) leaves each RocksDB state a few MiB, below one write buffer: it "
                    + "flushes memtables constantly. On a cluster, the TaskManagers' own configuration decides.");
    public static final Setting<String> PROMETHEUS_PORTS = Setting.matching("metrics.prometheus-ports", "9249-9259",
            "none|[0-9]{1,5}(-[0-9]{1,5})?", "'none', a port or a range such as 9249-9259",
            "Embedded 'run' only: the port (range) where each job's Flink Prometheus reporter serves /metrics "
                    + "(every interface: firewall it); 'none' turns it off. On a cluster, Flink's own configuration "
                    + "decides (see infra/prometheus).");
    public static final Setting<String> OTLP_ENDPOINT = Setting.optionalString("metrics.otlp-endpoint",
            "Embedded 'run' only: an OTLP/HTTP metrics endpoint (e.g. http://collector:4318/v1/metrics) the jobs "
                    + "export Flink's metrics and Tourniquet's to (runtime/OtlpMetricReporter); unset, no OTLP export.");
    public static final Setting<Duration> OTLP_INTERVAL = Setting.duration("metrics.otlp-interval", "10 s",
            Duration.ofSeconds(1), "How often the OTLP export sends.");
    public static final Setting<String> DEPLOYMENT_ENVIRONMENT = Setting.string("metrics.environment", "local",
            "The deployment.environment resource attribute of exported metrics (e.g. staging, production).");
    public static final Setting<String> FORENSICS_TRACES_ENDPOINT = Setting.optionalString(
            "forensics.otlp-traces-endpoint", "An OTLP/HTTP traces endpoint (e.g. http://collector:4318/v1/traces): "
                    + "each forensics command is then a trace whose Elasticsearch requests are client spans.");
    public static final Setting<String> REST_PORTS = Setting.matching("job.rest-ports", "8081-8180",
            "[0-9]{1,5}(-[0-9]{1,5})?", "a port or a range such as 8081-8180",
            "Embedded 'run' only: the port (range) of its Flink REST endpoint on 127.0.0.1, which 'savepoint' "
                    + "and 'status' find it on (the first free port of the range is taken).");
    public static final Setting<Duration> STATUS_CHECKPOINT_MAX_AGE = Setting.duration("status.checkpoint-max-age",
            "1 min", Duration.ofSeconds(1), "'status': a running job whose last completed checkpoint is older than "
                    + "this, or that has completed none this long after it started, is degraded: alerts become "
                    + "visible and input offsets are committed only on checkpoints (12 intervals of the default 5 s).");
    public static final Setting<Integer> STATUS_CONSUMER_LAG_MAX = Setting.integer("status.consumer-lag-max", 10_000,
            0, Integer.MAX_VALUE, "'status': a job's consumer group more records than this behind on any of its "
                    + "input topics is degraded.");
    public static final Setting<Duration> STATUS_WATERMARK_LAG_MAX = Setting.duration("status.watermark-lag-max",
            "2 min", Duration.ofSeconds(1), "'status': the detect job's event time (watermark) further behind the "
                    + "wall clock than this is degraded: decisions that wait for event time wait as long. The normal "
                    + "lag includes input.max-out-of-orderness (30 s): keep this well above it.");
    public static final Setting<String> DEPLOY_JOBMANAGER = Setting.matching("deploy.jobmanager",
            "http://127.0.0.1:8081", "https?://[^\\s/]+(/.*)?", "an http(s) URL such as http://127.0.0.1:8081",
            "'deploy' only: the REST address of the Flink JobManager it submits the jobs to (infra/local/up --flink "
                    + "starts one on http://127.0.0.1:8081).");
    public static final Setting<String> DEPLOY_JAR = Setting.optionalString("deploy.jar",
            "'deploy' only: the job jar to upload; default: jobs/cli/target/tourniquet-jobs.jar of this build (mvn package).");
    public static final Setting<Boolean> CHECKPOINT_INCREMENTAL = Setting.bool("job.checkpoint-incremental", true,
            "RocksDB only: a checkpoint uploads only the files changed since the previous one.");
    public static final Setting<Boolean> SNAPSHOT_COMPRESSION = Setting.bool("job.snapshot-compression", true,
            "Compress heap-state checkpoints and savepoints (Snappy). Measured ('bench-state'): 4-5x smaller,"
                    + " and a heap restore 20x faster, since Flink reads uncompressed heap snapshots unbuffered.");
    public static final Setting<Duration> KAFKA_BATCH_LINGER = Setting.duration("kafka.enriched-linger", "20 ms",
            Duration.ZERO, "How long the enriched-event producer waits to batch records (commands never wait).");
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

    // Forensics (the 'tourniquet forensics' query tool).
    public static final Setting<Duration> FORENSICS_LOOKBACK = Setting.duration("forensics.lookback", "24 h",
            Duration.ZERO, "An incident's window for attacker infrastructure, export and eligibility: from this long "
                    + "before its first alert to this long after its last.");
    public static final Setting<Duration> APP_CODE_MIN_AGE = Setting.duration("forensics.app.code-min-age", "21 d",
            Duration.ZERO, "Account Protection Program: the anti-phishing code must have been set this long before "
                    + "the user's first unauthorized withdrawal.");
    public static final Setting<String> APP_MFA_TYPES = Setting.string("forensics.app.mfa-types",
            "withdrawal,whitelist_address,settings,login", "Account Protection Program: transaction types whose 2FA "
                    + "the account's policy must require (comma-separated: login, withdrawal, whitelist_address, settings).");

    // Account Protection Programme claims (opened in the detect job; conditions as forensics.app.*).
    public static final Setting<java.math.BigDecimal> CLAIMS_LIMIT_USD = Setting.decimal("claims.limit-usd", "250000",
            "0", "1000000000", "Account Protection Programme: the most one claim pays, in US$ (the loss above it is not paid).");
    public static final Setting<Duration> CLAIMS_LOGIN_RETENTION = Setting.duration("claims.jailbroken-login-retention",
            "90 d", Duration.ofHours(1), "How long (event time) a login from a jailbroken device is remembered for a "
                    + "later claim's no_jailbroken_device condition; older ones leave that condition to manual review.");

    /** Every topic the pipeline reads or writes. */
    public static final List<Setting<String>> TOPICS = List.of(TOPIC_LOGINS, TOPIC_MFA, TOPIC_WITHDRAWALS,
            TOPIC_ACCOUNT_CHANGES, TOPIC_ALERTS, TOPIC_ACTIONS, TOPIC_NOTIFICATIONS, TOPIC_DLQ, TOPIC_ENRICHED,
            TOPIC_INCIDENTS, TOPIC_CONTROL, TOPIC_CLAIMS, TOPIC_VERDICTS);

    /** Every index alias the pipeline writes. */
    public static final List<Setting<String>> INDEX_ALIASES = List.of(INDEX_EVENTS, INDEX_ALERTS, INDEX_ACTIONS,
            INDEX_INCIDENTS, INDEX_CLAIMS, INDEX_VERDICTS, INDEX_DEAD_LETTERS);

    /** Settings whose values are secrets: {@code config} and the logs show only that they are set. */
    public static final java.util.Set<Setting<?>> SECRETS = java.util.Set.of(SIGNING_KEY, CONTROL_KEY, ES_API_KEY,
            ES_PASSWORD);

    public static final List<Setting<?>> ALL = List.of(
            KAFKA_BOOTSTRAP, ES_URL, KAFKA_PROPERTIES_FILE, ES_API_KEY, ES_USERNAME, ES_PASSWORD, ES_CA_FILE,
            ES_CA_FINGERPRINT, KAFKA_GROUP_PREFIX,
            TOPIC_LOGINS, TOPIC_MFA, TOPIC_WITHDRAWALS, TOPIC_ACCOUNT_CHANGES,
            TOPIC_ALERTS, TOPIC_ACTIONS, TOPIC_NOTIFICATIONS, TOPIC_DLQ, TOPIC_ENRICHED, TOPIC_INCIDENTS,
            TOPIC_CONTROL, TOPIC_CLAIMS, TOPIC_VERDICTS, TOPIC_PARTITIONS,
            INDEX_EVENTS, INDEX_ALERTS, INDEX_ACTIONS, INDEX_INCIDENTS, INDEX_CLAIMS, INDEX_VERDICTS, INDEX_DEAD_LETTERS,
            MAX_RECORD_BYTES, MAX_FUTURE, MAX_AGE, OUT_OF_ORDERNESS, IDLENESS, QUIET_PARTITION_TIMEOUT, DEDUP_RETENTION,
            UA_GRACE, UA_SKEW, UA_VALIDITY, UA_MAX_WAIT, UA_MAX_CHALLENGES,
            DRAIN_WINDOW, DRAIN_SHARE, DRAIN_FLOOR, DRAIN_REQUEST_RETENTION, NEW_ADDRESS_AGE,
            BULK_WINDOW, BULK_MIN_USERS, PLATFORM_MAX_LEAD, CONCENTRATION_WINDOW, CONCENTRATION_MIN_USERS, INCIDENT_GAP,
            MODELS_DIR, ANOMALY_MODEL_VERSION, ANOMALY_MODEL_SHA256, ANOMALY_SEVERITY, ANOMALY_FREEZE,
            VERDICT_SUPPRESS_FOR, NOTIFY_CHANNELS, NOTIFY_RETENTION, NOTIFY_UPDATE_RETENTION, CONTROL_KEY, CONTROL_KEY_ID, ANALYST_KEYS_FILE, CONTROL_MAX_AGE, CONTROL_MAX_FUTURE,
            CONTROL_TWO_PERSON, CONTROL_APPROVAL_WINDOW, SIGNING_KEY, SIGNING_KEY_ID, EXPIRE_FREEZE, EXPIRE_HOLD, EXPIRE_REVOKE, EXPIRE_BLOCK, EXPIRE_SUSPEND,
            EXPIRE_RELEASE, EXPIRE_RESUME,
            PARALLELISM, BUFFER_TIMEOUT, CHECKPOINT_INTERVAL, CHECKPOINT_DIR, SAVEPOINT_DIR, CHECKPOINTS_RETAINED,
            CHECKPOINT_TOLERABLE_FAILURES, CHECKPOINT_TIMEOUT, STATE_BACKEND, CHECKPOINT_INCREMENTAL, SNAPSHOT_COMPRESSION, MANAGED_MEMORY_MB, REST_PORTS,
            PROMETHEUS_PORTS, OTLP_ENDPOINT, OTLP_INTERVAL, DEPLOYMENT_ENVIRONMENT, FORENSICS_TRACES_ENDPOINT,
            STATUS_CHECKPOINT_MAX_AGE, STATUS_CONSUMER_LAG_MAX, STATUS_WATERMARK_LAG_MAX,
            DEPLOY_JOBMANAGER, DEPLOY_JAR, KAFKA_BATCH_LINGER,
            KAFKA_TRANSACTION_TIMEOUT,
            ES_BULK_ACTIONS, ES_BULK_FLUSH, ES_BULK_CONCURRENCY, ES_RETRY_INITIAL, ES_RETRY_MAX,
            FORENSICS_LOOKBACK, APP_CODE_MIN_AGE, APP_MFA_TYPES, CLAIMS_LIMIT_USD, CLAIMS_LOGIN_RETENTION);
}
