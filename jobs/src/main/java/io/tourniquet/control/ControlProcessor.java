package io.tourniquet.control;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectReader;
import io.tourniquet.config.Settings;
import io.tourniquet.config.TourniquetConfig;
import io.tourniquet.detect.CommandSigner;
import io.tourniquet.detect.EventKeys;
import io.tourniquet.detect.SerializableClock;
import io.tourniquet.detect.SignedAction;
import io.tourniquet.detect.Tags;
import io.tourniquet.json.Json;
import io.tourniquet.model.Action;
import io.tourniquet.model.ActionScope;
import io.tourniquet.model.ControlRequest;
import io.tourniquet.model.ControlSignal;
import io.tourniquet.model.DeadLetter;
import io.tourniquet.model.RawRecord;
import io.tourniquet.rules.RuleCatalog;
import io.tourniquet.rules.RuleVersion;
import io.tourniquet.util.Ids;
import java.io.IOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.state.MapState;
import org.apache.flink.api.common.state.MapStateDescriptor;
import org.apache.flink.metrics.Counter;
import org.apache.flink.metrics.MetricGroup;
import org.apache.flink.streaming.api.functions.KeyedProcessFunction;
import org.apache.flink.util.Collector;

/**
 * Analysts' signed control requests ({@link ControlRequest} on {@code topic.control}), keyed by the
 * constant {@link EventKeys#PLATFORM}: control traffic is a handful of records, and one key gives
 * one replay memory and one rule-version counter for the whole job.
 *
 * <p>A request is accepted only if it is JSON, carries a valid signature under the control key
 * (checked before any field is trusted), is well formed, is fresh ({@code requested_at} within
 * {@code control.max-age} in the past and {@code control.max-future} ahead of the wall clock), was
 * not seen before, and, for {@code update_rule}, makes a valid next version of a known rule. Anything
 * else goes to {@link Tags#DEAD_LETTERS} with a reason code ({@code not_json}, {@code unsigned},
 * {@code bad_signature}, {@code malformed}, {@code expired}, {@code from_future}, {@code replayed},
 * {@code invalid_rule_change}), counted per code, and changes nothing (not even the replay memory).
 *
 * <p>An accepted request leaves as a {@link ControlSignal} on the main output. {@code release_account}
 * and {@code resume_withdrawals} also issue their signed command (reason {@code analyst}) on
 * {@link Tags#ANALYST_ACTIONS}: the only way these commands are ever issued.
 *
 * <p>State (one key): the replay memory, request id → processing time it may be forgotten. It
 * needs to outlive a request only while the request could still pass the freshness check: first
 * seen at wall-clock t, it is fresh at most until t + max-future + max-age (inclusive). A
 * processing-time timer forgets it one millisecond later, so the memory drains, and a later replay is refused as {@code expired}. This
 * assumes the clock and processing time are the same wall clock, as they are in the job. And the
 * current version of every rule an analyst changed (rule → {@link RuleVersion}): this is the job's
 * live configuration, persisted by checkpoints and savepoints, and deliberately never drains;
 * rules never changed are version 1 from configuration and hold no state.
 */
public final class ControlProcessor extends KeyedProcessFunction<String, RawRecord, ControlSignal> {
    private static final long serialVersionUID = 1L;

    public static final String ANALYST = "analyst";
    public static final String RELEASE_ACCOUNT = "release_account";
    public static final String RESUME_WITHDRAWALS = "resume_withdrawals";

    public static final String NOT_JSON = "not_json";
    public static final String UNSIGNED = "unsigned";
    public static final String BAD_SIGNATURE = "bad_signature";
    public static final String MALFORMED = "malformed";
    public static final String EXPIRED = "expired";
    public static final String FROM_FUTURE = "from_future";
    public static final String REPLAYED = "replayed";
    public static final String INVALID_RULE_CHANGE = "invalid_rule_change";
    /** Per-analyst keys: the request names no key id, or one this job does not have. */
    public static final String UNKNOWN_KEY = "unknown_key";
    /** Per-analyst keys: requested_by is not the analyst whose key signed it. */
    public static final String NOT_KEY_OWNER = "not_key_owner";

    static final MapStateDescriptor<String, Long> SEEN =
            new MapStateDescriptor<>("control-requests-seen", String.class, Long.class);
    static final MapStateDescriptor<String, RuleVersion> RULE_VERSIONS =
            new MapStateDescriptor<>("control-rule-versions", String.class, RuleVersion.class);

    /**
     * Strict on what is signed: trailing bytes after the object and duplicate keys are refused,
     * so no other reader of the topic (an auditor, the forensic index) can see a different request
     * than the one whose signature was checked.
     */
    private static final ObjectReader STRICT = Json.MAPPER.reader()
            .with(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .with(StreamReadFeature.STRICT_DUPLICATE_DETECTION);

    private final CommandSigner controlSigner;
    /** Each analyst's own key, when configured; then the shared control key verifies nothing. */
    private final AnalystKeys analystKeys;
    private final CommandSigner commandSigner;
    private final io.tourniquet.detect.ActionExpiry expiry;
    private final TourniquetConfig config;
    private final SerializableClock clock;
    private final long maxAgeMillis;
    private final long maxFutureMillis;

    private transient MapState<String, Long> seen;
    private transient MapState<String, RuleVersion> ruleVersions;
    private transient MetricGroup rejectedGroup;
    private transient Map<String, Counter> rejectedByReason;
    private transient MetricGroup acceptedGroup;
    private transient Map<String, Counter> acceptedByType;
    private transient Counter actionsIssued;

    /**
     * @param controlSigner verifies requests (the control key); null when analysts' own keys do
     * @param commandSigner signs the release and resume commands (the command key)
     * @param config        the job's configuration: version 1 of every rule, and the base every rule
     *                      change is validated against; also gives {@code control.max-age/max-future}
     */
    public ControlProcessor(CommandSigner controlSigner, CommandSigner commandSigner, TourniquetConfig config,
                            SerializableClock clock) {
        this.controlSigner = controlSigner;
        this.commandSigner = commandSigner;
        this.analystKeys = AnalystKeys.from(config).orElse(null);
        if (controlSigner == null && analystKeys == null) {
            throw new IllegalArgumentException("control requests need " + Settings.CONTROL_KEY.key() + " or "
                    + Settings.ANALYST_KEYS_FILE.key());
        }
        this.expiry = io.tourniquet.detect.ActionExpiry.from(config);
        this.config = config;
        this.clock = clock;
        this.maxAgeMillis = config.get(Settings.CONTROL_MAX_AGE).toMillis();
        this.maxFutureMillis = config.get(Settings.CONTROL_MAX_FUTURE).toMillis();
    }

    @Override
    public void open(OpenContext openContext) {
        seen = getRuntimeContext().getMapState(SEEN);
        ruleVersions = getRuntimeContext().getMapState(RULE_VERSIONS);
        MetricGroup metrics = getRuntimeContext().getMetricGroup();
        rejectedGroup = metrics.addGroup("deadLetters");
        rejectedByReason = new HashMap<>();
        acceptedGroup = metrics.addGroup("controlAccepted");
        acceptedByType = new HashMap<>();
        actionsIssued = metrics.counter("analystActionsIssued");
    }

    @Override
    public void processElement(RawRecord raw, Context ctx, Collector<ControlSignal> out) throws Exception {
        long now = clock.getAsLong();
        JsonNode tree;
        try {
            tree = raw.value == null ? null : STRICT.readTree(raw.value);
        } catch (JsonProcessingException e) {
            reject(raw, NOT_JSON, "not a JSON object: " + e.getOriginalMessage(), now, ctx);
            return;
        } catch (IOException e) {
            reject(raw, NOT_JSON, "not a JSON object: " + e.getMessage(), now, ctx);
            return;
        }
        if (tree == null || !tree.isObject()) {
            reject(raw, NOT_JSON, "not a JSON object", now, ctx);
            return;
        }
        JsonNode signature = tree.get("signature");
        if (signature == null || signature.isNull() || (signature.isTextual() && signature.asText().isBlank())) {
            reject(raw, UNSIGNED, "signature: missing; control requests must be signed with the control key", now, ctx);
            return;
        }
        // Nothing in the record is trusted, not even its type, before this check.
        String keyOwner = null;
        if (analystKeys != null) {
            JsonNode keyId = tree.get("key_id");
            AnalystKeys.Entry key = keyId != null && keyId.isTextual() ? analystKeys.get(keyId.asText()) : null;
            if (key == null) {
                reject(raw, UNKNOWN_KEY, keyId == null ? "key_id: missing; this job verifies each analyst's own key"
                        : "key_id " + keyId + ": not an analyst key of this job", now, ctx);
                return;
            }
            if (!key.signer().verify(tree)) {
                reject(raw, BAD_SIGNATURE, "signature: does not verify under analyst key " + keyId.asText(), now, ctx);
                return;
            }
            keyOwner = key.analyst();
        } else if (!controlSigner.verify(tree)) {
            reject(raw, BAD_SIGNATURE, "signature: does not verify under the control key", now, ctx);
            return;
        }
        ControlRequest request;
        try {
            request = Json.MAPPER.treeToValue(tree, ControlRequest.class);
        } catch (IOException | IllegalArgumentException e) {
            reject(raw, MALFORMED, "fields of the wrong type: " + e.getMessage(), now, ctx);
            return;
        }
        String problem = ControlRequests.problemWith(request);
        if (problem != null) {
            reject(raw, MALFORMED, problem, now, ctx);
            return;
        }
        if (keyOwner != null && !keyOwner.equals(request.requestedBy)) {
            reject(raw, NOT_KEY_OWNER, "requested_by " + request.requestedBy + ", but key " + request.keyId
                    + " is " + keyOwner + "'s", now, ctx);
            return;
        }
        long requestedAt = ControlRequests.requestedAtMillis(request);
        if (requestedAt < now - maxAgeMillis) {
            reject(raw, EXPIRED, "requested_at " + request.requestedAt + " is older than control.max-age ("
                    + maxAgeMillis + " ms)", now, ctx);
            return;
        }
        if (requestedAt > now + maxFutureMillis) {
            reject(raw, FROM_FUTURE, "requested_at " + request.requestedAt
                    + " is further ahead than control.max-future (" + maxFutureMillis + " ms)", now, ctx);
            return;
        }
        if (seen.contains(request.requestId)) {
            reject(raw, REPLAYED, "request_id " + request.requestId + ": already accepted", now, ctx);
            return;
        }
        RuleVersion next = null;
        if (ControlRequest.UPDATE_RULE.equals(request.type)) {
            try {
                next = RuleCatalog.next(currentVersion(request.rule), request.params, currentConfig(),
                        request.requestedBy, request.requestId, now);
            } catch (IllegalArgumentException e) {
                reject(raw, INVALID_RULE_CHANGE, e.getMessage(), now, ctx);
                return;
            }
        }
        accept(raw, request, requestedAt, next, now, ctx, out);
    }

    private void accept(RawRecord raw, ControlRequest request, long requestedAt, RuleVersion next, long now, Context ctx,
                        Collector<ControlSignal> out) throws Exception {
        // Fresh means requested_at within [now - max-age, now + max-future], both ends included, so
        // a request first seen at t may pass the freshness check up to t + max-future + max-age.
        long forgetAt = ctx.timerService().currentProcessingTime() + maxFutureMillis + maxAgeMillis + 1;
        seen.put(request.requestId, forgetAt);
        ctx.timerService().registerProcessingTimeTimer(forgetAt);
        if (next != null) ruleVersions.put(next.rule, next);
        acceptedByType.computeIfAbsent(request.type, t -> acceptedGroup.counter(t)).inc();

        ControlSignal signal = new ControlSignal();
        signal.type = request.type;
        signal.requestId = request.requestId;
        signal.requestedBy = request.requestedBy;
        signal.requestedAt = requestedAt;
        signal.reason = request.reason;
        signal.userId = request.userId;
        signal.incidentId = request.incidentId;
        signal.ruleVersion = next;
        signal.raw = raw;
        out.collect(signal);

        switch (request.type) {
            case ControlRequest.RELEASE_ACCOUNT ->
                    issue(RELEASE_ACCOUNT, ActionScope.user(request.userId), request, requestedAt, now, ctx);
            case ControlRequest.RESUME_WITHDRAWALS ->
                    issue(RESUME_WITHDRAWALS, ActionScope.platform(), request, requestedAt, now, ctx);
            default -> { }
        }
    }

    private void issue(String command, ActionScope scope, ControlRequest request, long requestedAt, long now,
                       Context ctx) {
        Action a = new Action();
        a.action = command;
        a.scope = scope;
        // One request makes one command: a re-issue (after a restore) carries the same id.
        a.actionId = Ids.of("action", request.requestId, command, scope.keyValue());
        a.reason = ANALYST;
        a.requestedBy = request.requestedBy;
        a.requestId = request.requestId;
        a.incidentId = request.incidentId;
        a.alertIds = new ArrayList<>();
        a.eventTime = requestedAt;
        a.issuedAt = now;
        a.expiresAt = expiry.of(command, now);
        byte[] json = commandSigner.sign(a);
        actionsIssued.inc();
        ctx.output(Tags.ANALYST_ACTIONS, new SignedAction(a, json));
    }

    /** The version in force: the last accepted change, else version 1 from configuration. */
    private RuleVersion currentVersion(String rule) throws Exception {
        RuleVersion v = ruleVersions.get(rule);
        return v != null ? v : RuleCatalog.initial(rule, config); // throws on an unknown rule
    }

    /** The job's configuration with every rule's current thresholds, for cross-setting checks. */
    private TourniquetConfig currentConfig() throws Exception {
        Map<String, String> params = new LinkedHashMap<>();
        for (RuleVersion v : ruleVersions.values()) params.putAll(v.params);
        return params.isEmpty() ? config : config.with(params);
    }

    @Override
    public void onTimer(long timestamp, OnTimerContext ctx, Collector<ControlSignal> out) throws Exception {
        List<String> due = new ArrayList<>();
        for (Map.Entry<String, Long> e : seen.entries()) {
            if (e.getValue() <= timestamp) due.add(e.getKey());
        }
        for (String requestId : due) seen.remove(requestId);
    }

    private void reject(RawRecord raw, String code, String reason, long now, Context ctx) {
        rejectedByReason.computeIfAbsent(code, c -> rejectedGroup.counter(c)).inc();
        ctx.output(Tags.DEAD_LETTERS, DeadLetter.of(raw, code, reason, now));
    }
}
