package io.tourniquet.model;

import io.tourniquet.util.Durations;
import io.tourniquet.util.SerializableClock;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.google.common.net.InetAddresses;
import io.tourniquet.config.TourniquetConfig;
import io.tourniquet.model.Event;
import io.tourniquet.model.RawRecord;
import io.tourniquet.util.Times;
import java.io.IOException;
import java.io.Serializable;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Validates one input record against the contract (section 1) and turns it into an {@link Event}.
 * Every rejection names the field and the rule it broke, so a producer team can fix its side from
 * the DLQ record alone. Unknown extra fields are accepted: producers may extend the contract.
 */
public final class EventParser implements Serializable {
    private static final long serialVersionUID = 1L;

    public static final String NOT_JSON = "not_json";
    public static final String OVERSIZED = "oversized";
    public static final String MISSING_FIELD = "missing_field";
    public static final String WRONG_TYPE = "wrong_type";
    public static final String INVALID_VALUE = "invalid_value";
    public static final String UNKNOWN_TOPIC = "unknown_topic";
    /** event_time too far ahead of the wall clock ({@code input.max-future}). */
    public static final String FROM_FUTURE = "from_future";
    /** event_time older than {@code input.max-age}. */
    public static final String TOO_OLD = "too_old";

    private static final int MAX_ID = 128;
    private static final Pattern DECIMAL = Pattern.compile("(0|[1-9][0-9]{0,29})(\\.[0-9]{1,18})?");
    private static final Pattern COUNTRY = Pattern.compile("[A-Z]{2}");
    // Rejects duplicate keys: "which user_id did they mean" must never be guessed.
    private static final ObjectMapper STRICT = JsonMapper.builder()
            .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION)
            .enable(StreamReadFeature.INCLUDE_SOURCE_IN_LOCATION)
            .build();

    private static final Set<String> LOGIN_OUTCOMES = Set.of("success", "failure");
    private static final Set<String> AUTH_METHODS = Set.of("password", "sso", "api_key");
    private static final Set<String> MFA_ACTIONS = Set.of("challenge_issued", "challenge_verified",
            "challenge_failed", "token_enrolled", "token_reset", "token_revoked");
    private static final Set<String> MFA_METHODS = Set.of("totp", "sms", "email", "webauthn");
    private static final Set<String> MFA_PURPOSES = Set.of("login", "withdrawal", "whitelist_address", "settings");
    private static final Set<String> WITHDRAWAL_STATUSES = Set.of("requested", "approved", "rejected", "held",
            "broadcast", "completed", "cancelled");
    private static final Set<String> APPROVAL_CHANNELS = Set.of("web", "app", "api", "internal");
    private static final Set<String> ACCOUNT_ACTIONS = Set.of("account_created", "whitelist_address_added",
            "whitelist_address_removed", "anti_phishing_code_set", "mfa_policy_changed", "password_changed",
            "email_changed");

    private final Map<String, Event.Kind> kindByTopic;
    private final int maxRecordBytes;
    private final long maxFutureMillis;
    /** 0: no bound. */
    private final long maxAgeMillis;
    private final SerializableClock clock;

    /**
     * Without bounds on event time (tools that read records as they are).
     *
     * @param kindByTopic which configured topic carries which kind of event
     * @param maxRecordBytes larger records are rejected before parsing
     */
    public EventParser(Map<String, Event.Kind> kindByTopic, int maxRecordBytes) {
        this(kindByTopic, maxRecordBytes, Long.MAX_VALUE, 0L, SerializableClock.SYSTEM);
    }

    /**
     * @param maxFutureMillis an event_time further ahead of {@code clock} is refused ({@link #FROM_FUTURE})
     * @param maxAgeMillis    an event_time older than this before {@code clock} is refused
     *                        ({@link #TOO_OLD}); 0: no bound
     */
    public EventParser(Map<String, Event.Kind> kindByTopic, int maxRecordBytes, long maxFutureMillis,
                       long maxAgeMillis, SerializableClock clock) {
        if (maxFutureMillis < 0 || maxAgeMillis < 0) throw new IllegalArgumentException("bounds must be >= 0");
        this.kindByTopic = Map.copyOf(kindByTopic);
        this.maxRecordBytes = maxRecordBytes;
        this.maxFutureMillis = maxFutureMillis;
        this.maxAgeMillis = maxAgeMillis;
        this.clock = clock;
    }

    /** The detect job's parser: the contract's validation and the configured bounds on event time. */
    public static EventParser from(io.tourniquet.config.TourniquetConfig cfg, SerializableClock clock) {
        return new EventParser(kindByTopic(cfg), cfg.get(io.tourniquet.config.Settings.MAX_RECORD_BYTES),
                cfg.get(io.tourniquet.config.Settings.MAX_FUTURE).toMillis(),
                cfg.get(io.tourniquet.config.Settings.MAX_AGE).toMillis(), clock);
    }

    /**
     * Event time an attacker who can write one record must not be able to move: far ahead of the
     * wall clock (every timer would fire at once) or, when bounded, far behind it.
     */
    private void checkEventTimeBounds(long eventTime) throws InvalidEventException {
        if (maxFutureMillis == Long.MAX_VALUE && maxAgeMillis == 0) return;
        long now = clock.getAsLong();
        if (maxFutureMillis != Long.MAX_VALUE && eventTime - now > maxFutureMillis) {
            throw new InvalidEventException(FROM_FUTURE, "event_time " + Times.format(eventTime) + " is more than "
                    + Durations.describe(maxFutureMillis) + " ahead of the clock (" + Times.format(now) + ")");
        }
        if (maxAgeMillis > 0 && now - eventTime > maxAgeMillis) {
            throw new InvalidEventException(TOO_OLD, "event_time " + Times.format(eventTime) + " is more than "
                    + Durations.describe(maxAgeMillis) + " before the clock (" + Times.format(now) + ")");
        }
    }

    public Event parse(String topic, int partition, long offset, byte[] value) throws InvalidEventException {
        long[] eventTime = {Long.MIN_VALUE};
        try {
            Event ev = read(topic, partition, offset, value, eventTime);
            checkEventTimeBounds(ev.eventTime);
            return ev;
        } catch (InvalidEventException e) {
            // The bounds come right after event_time is read: a record both out of bounds and
            // invalid further on is reported out of bounds, as when the checks ran in one pass.
            if (eventTime[0] != Long.MIN_VALUE) checkEventTimeBounds(eventTime[0]);
            throw e;
        }
    }

    /** Whether records of this topic are events this parser reads (the configured input topics). */
    public boolean reads(String topic) {
        return kindByTopic.containsKey(topic);
    }

    /**
     * Parses the record once, at the source, and keeps the outcome on it ({@link RawRecord#parsed}):
     * the event, or why it breaks the contract, and its event time when that was read. Leaves out
     * the bounds on event time, which depend on the clock of whoever asks ({@link #parse(RawRecord)}
     * applies them). Never throws.
     */
    public void parseAtSource(RawRecord r) {
        long[] eventTime = {Long.MIN_VALUE};
        try {
            r.event = read(r.topic, r.partition, r.offset, r.value, eventTime);
        } catch (InvalidEventException e) {
            r.invalidCode = e.code();
            r.invalidMessage = e.getMessage();
        } catch (RuntimeException e) {
            // Not expected from the checks; the parse step will parse again and report it.
            r.event = null;
            return;
        }
        r.parsedEventTime = eventTime[0];
    }

    /**
     * {@link #parse(String, int, long, byte[])} of the record, from what the source made of it when
     * it was parsed there (the same outcome, bounds on event time applied on this parser's clock),
     * else from its bytes.
     */
    public Event parse(RawRecord r) throws InvalidEventException {
        if (!r.parsed()) return parse(r.topic, r.partition, r.offset, r.value);
        if (r.parsedEventTime != Long.MIN_VALUE) checkEventTimeBounds(r.parsedEventTime);
        if (r.invalidCode != null) throw new InvalidEventException(r.invalidCode, r.invalidMessage);
        return r.event;
    }

    /** The contract's checks, without the bounds on event time; {@code eventTime[0]} once read. */
    private Event read(String topic, int partition, long offset, byte[] value, long[] eventTime)
            throws InvalidEventException {
        Event.Kind kind = kindByTopic.get(topic);
        if (kind == null) throw new InvalidEventException(UNKNOWN_TOPIC, "record from unconfigured topic " + topic);
        if (value == null || value.length == 0) throw new InvalidEventException(NOT_JSON, "empty record");
        if (value.length > maxRecordBytes) {
            throw new InvalidEventException(OVERSIZED, "record of " + value.length + " bytes exceeds the limit of "
                    + maxRecordBytes);
        }
        JsonNode root;
        try {
            root = STRICT.readTree(value);
        } catch (IOException e) {
            throw new InvalidEventException(NOT_JSON, "not valid JSON: " + firstLine(e.getMessage()));
        }
        if (root == null || !root.isObject()) throw new InvalidEventException(NOT_JSON, "not a JSON object");

        Event ev = new Event();
        ev.kind = kind;
        ev.sourceTopic = topic;
        ev.sourcePartition = partition;
        ev.sourceOffset = offset;
        ev.eventId = id(root, "event_id");
        ev.eventTimeRaw = requiredString(root, "event_time");
        try {
            ev.eventTime = Times.parseMillis(ev.eventTimeRaw);
        } catch (IllegalArgumentException e) {
            throw new InvalidEventException(INVALID_VALUE, "event_time: " + e.getMessage());
        }
        eventTime[0] = ev.eventTime;
        ev.userId = id(root, "user_id");
        ev.sessionId = optionalString(root, "session_id");
        ev.ip = optionalString(root, "ip");
        if (ev.ip != null && !InetAddresses.isInetAddress(ev.ip)) {
            throw new InvalidEventException(INVALID_VALUE, "ip: not an IPv4 or IPv6 address: " + ev.ip);
        }
        ev.deviceId = optionalString(root, "device_id");

        switch (kind) {
            case LOGIN -> login(root, ev);
            case MFA -> mfa(root, ev);
            case WITHDRAWAL -> withdrawal(root, ev);
            case ACCOUNT_CHANGE -> accountChange(root, ev);
            default -> throw new IllegalStateException("unhandled kind " + kind);
        }
        return ev;
    }

    private static void login(JsonNode n, Event ev) throws InvalidEventException {
        ev.outcome = oneOf(n, "outcome", LOGIN_OUTCOMES);
        ev.authMethod = oneOf(n, "auth_method", AUTH_METHODS);
        ev.deviceJailbroken = requiredBoolean(n, "device_jailbroken");
        ev.userAgent = optionalString(n, "user_agent");
        JsonNode geo = n.get("geo");
        if (geo != null && !geo.isNull()) {
            if (!geo.isObject()) throw new InvalidEventException(WRONG_TYPE, "geo: expected an object or null");
            String country = requiredString(geo, "country", "geo.country");
            if (!COUNTRY.matcher(country).matches()) {
                throw new InvalidEventException(INVALID_VALUE, "geo.country: not an ISO-3166 alpha-2 code: " + country);
            }
            ev.geoCountry = country;
            ev.geoLat = number(geo, "lat", "geo.lat", -90, 90);
            ev.geoLon = number(geo, "lon", "geo.lon", -180, 180);
        }
    }

    private static void mfa(JsonNode n, Event ev) throws InvalidEventException {
        ev.action = oneOf(n, "action", MFA_ACTIONS);
        boolean challenge = ev.action.startsWith("challenge_");
        if (challenge) {
            ev.challengeId = id(n, "challenge_id");
            ev.method = oneOf(n, "method", MFA_METHODS);
            ev.purpose = oneOf(n, "purpose", MFA_PURPOSES);
        } else {
            ev.challengeId = optionalString(n, "challenge_id");
            ev.method = optionalOneOf(n, "method", MFA_METHODS);
            ev.purpose = optionalOneOf(n, "purpose", MFA_PURPOSES);
        }
        if ("withdrawal".equals(ev.purpose)) {
            ev.withdrawalId = id(n, "withdrawal_id");
        } else {
            ev.withdrawalId = optionalString(n, "withdrawal_id");
        }
    }

    private static void withdrawal(JsonNode n, Event ev) throws InvalidEventException {
        ev.withdrawalId = id(n, "withdrawal_id");
        ev.status = oneOf(n, "status", WITHDRAWAL_STATUSES);
        ev.asset = requiredString(n, "asset");
        ev.network = requiredString(n, "network");
        ev.amount = decimal(n, "amount");
        ev.usdValue = number(n, "usd_value", "usd_value", 0, Double.MAX_VALUE);
        ev.destinationAddress = requiredString(n, "destination_address");
        switch (ev.status) {
            case "requested" -> ev.accountBalanceUsd = number(n, "account_balance_usd", "account_balance_usd",
                    0, Double.MAX_VALUE);
            case "approved" -> {
                // A null or absent challenge id is valid input: it is exactly what the detector looks for.
                ev.mfaChallengeId = optionalString(n, "mfa_challenge_id");
                ev.approvalChannel = oneOf(n, "approval_channel", APPROVAL_CHANNELS);
                ev.approvalService = requiredString(n, "approval_service");
                ev.approvalServiceVersion = requiredString(n, "approval_service_version");
            }
            case "broadcast", "completed" -> ev.txHash = requiredString(n, "tx_hash");
            default -> { }
        }
    }

    private static void accountChange(JsonNode n, Event ev) throws InvalidEventException {
        ev.action = oneOf(n, "action", ACCOUNT_ACTIONS);
        switch (ev.action) {
            case "whitelist_address_added", "whitelist_address_removed" -> {
                ev.address = requiredString(n, "address");
                ev.asset = requiredString(n, "asset");
                ev.network = requiredString(n, "network");
            }
            case "anti_phishing_code_set" -> ev.antiPhishingCode = requiredString(n, "anti_phishing_code");
            case "mfa_policy_changed" -> {
                JsonNode p = n.get("mfa_policy");
                if (p == null || p.isNull()) throw new InvalidEventException(MISSING_FIELD, "mfa_policy: required");
                if (!p.isObject()) throw new InvalidEventException(WRONG_TYPE, "mfa_policy: expected an object");
                ev.mfaPolicyLogin = requiredBoolean(p, "login", "mfa_policy.login");
                ev.mfaPolicyWithdrawal = requiredBoolean(p, "withdrawal", "mfa_policy.withdrawal");
                ev.mfaPolicyWhitelistAddress = requiredBoolean(p, "whitelist_address", "mfa_policy.whitelist_address");
                ev.mfaPolicySettings = requiredBoolean(p, "settings", "mfa_policy.settings");
            }
            default -> { }
        }
    }

    // ---- field helpers: each names the field in its message ----

    private static String id(JsonNode n, String field) throws InvalidEventException {
        String v = requiredString(n, field);
        if (v.length() > MAX_ID) {
            throw new InvalidEventException(INVALID_VALUE, field + ": longer than " + MAX_ID + " characters");
        }
        return v;
    }

    private static String requiredString(JsonNode n, String field) throws InvalidEventException {
        return requiredString(n, field, field);
    }

    private static String requiredString(JsonNode n, String field, String path) throws InvalidEventException {
        JsonNode v = n.get(field);
        if (v == null || v.isNull()) throw new InvalidEventException(MISSING_FIELD, path + ": required");
        if (!v.isTextual()) throw new InvalidEventException(WRONG_TYPE, path + ": expected a string, got " + v.getNodeType());
        if (v.asText().isEmpty()) throw new InvalidEventException(MISSING_FIELD, path + ": must not be empty");
        return v.asText();
    }

    private static String optionalString(JsonNode n, String field) throws InvalidEventException {
        JsonNode v = n.get(field);
        if (v == null || v.isNull()) return null;
        if (!v.isTextual()) throw new InvalidEventException(WRONG_TYPE, field + ": expected a string or null, got " + v.getNodeType());
        return v.asText().isEmpty() ? null : v.asText();
    }

    private static String oneOf(JsonNode n, String field, Set<String> allowed) throws InvalidEventException {
        String v = requiredString(n, field);
        if (!allowed.contains(v)) {
            throw new InvalidEventException(INVALID_VALUE, field + ": unknown value '" + v + "' (expected one of "
                    + allowed.stream().sorted().toList() + ")");
        }
        return v;
    }

    private static String optionalOneOf(JsonNode n, String field, Set<String> allowed) throws InvalidEventException {
        String v = optionalString(n, field);
        if (v != null && !allowed.contains(v)) {
            throw new InvalidEventException(INVALID_VALUE, field + ": unknown value '" + v + "'");
        }
        return v;
    }

    private static Boolean requiredBoolean(JsonNode n, String field) throws InvalidEventException {
        return requiredBoolean(n, field, field);
    }

    private static Boolean requiredBoolean(JsonNode n, String field, String path) throws InvalidEventException {
        JsonNode v = n.get(field);
        if (v == null || v.isNull()) throw new InvalidEventException(MISSING_FIELD, path + ": required");
        if (!v.isBoolean()) throw new InvalidEventException(WRONG_TYPE, path + ": expected true or false, got " + v.getNodeType());
        return v.booleanValue();
    }

    private static Double number(JsonNode n, String field, String path, double min, double max)
            throws InvalidEventException {
        JsonNode v = n.get(field);
        if (v == null || v.isNull()) throw new InvalidEventException(MISSING_FIELD, path + ": required");
        if (!v.isNumber()) throw new InvalidEventException(WRONG_TYPE, path + ": expected a number, got " + v.getNodeType());
        double d = v.doubleValue();
        if (!Double.isFinite(d) || d < min || d > max) {
            throw new InvalidEventException(INVALID_VALUE, path + ": " + v.asText() + " is out of range [" + min + ", " + max + "]");
        }
        return d;
    }

    private static String decimal(JsonNode n, String field) throws InvalidEventException {
        JsonNode v = n.get(field);
        if (v == null || v.isNull()) throw new InvalidEventException(MISSING_FIELD, field + ": required");
        if (!v.isTextual()) {
            throw new InvalidEventException(WRONG_TYPE, field + ": expected a decimal string (never a JSON number), got "
                    + v.getNodeType());
        }
        String s = v.asText();
        if (s.startsWith("-")) throw new InvalidEventException(INVALID_VALUE, field + ": negative amount " + s);
        if (!DECIMAL.matcher(s).matches()) {
            throw new InvalidEventException(INVALID_VALUE, field + ": not a decimal with at most 18 fraction digits: " + s);
        }
        return s;
    }

    private static String firstLine(String s) {
        if (s == null) return "";
        int nl = s.indexOf('\n');
        return nl < 0 ? s : s.substring(0, nl);
    }

    /** Which kind of event each input topic carries. */
    public static Map<String, Event.Kind> kindByTopic(TourniquetConfig cfg) {
        return Map.of(
                cfg.get(io.tourniquet.config.Settings.TOPIC_LOGINS), Event.Kind.LOGIN,
                cfg.get(io.tourniquet.config.Settings.TOPIC_MFA), Event.Kind.MFA,
                cfg.get(io.tourniquet.config.Settings.TOPIC_WITHDRAWALS), Event.Kind.WITHDRAWAL,
                cfg.get(io.tourniquet.config.Settings.TOPIC_ACCOUNT_CHANGES), Event.Kind.ACCOUNT_CHANGE);
    }
}
