package io.tourniquet.control;

import io.tourniquet.runtime.PipelineMetrics;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectReader;
import io.tourniquet.config.Settings;
import io.tourniquet.config.TourniquetConfig;
import io.tourniquet.signing.CommandSigner;
import io.tourniquet.detect.EventKeys;
import io.tourniquet.util.SerializableClock;
import io.tourniquet.signing.SignedAction;
import io.tourniquet.streams.Tags;
import io.tourniquet.json.Json;
import io.tourniquet.model.Action;
import io.tourniquet.model.ActionScope;
import io.tourniquet.model.ControlRequest;
import io.tourniquet.model.DeadLetter;
import io.tourniquet.model.RawRecord;
import io.tourniquet.rules.catalog.RuleCatalog;
import io.tourniquet.rules.RuleVersion;
import io.tourniquet.util.Ids;
import io.tourniquet.util.Times;
import java.io.IOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.state.MapState;
import org.apache.flink.api.common.state.MapStateDescriptor;
import org.apache.flink.metrics.Counter;
import org.apache.flink.metrics.MetricGroup;
import org.apache.flink.streaming.api.functions.KeyedProcessFunction;
import org.apache.flink.util.Collector;
import org.apache.flink.util.TimeUtils;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

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
 * {@code invalid_rule_change}), counted per code, and changes nothing (not even the replay memory),
 * but for one case: an approved rule change that no longer applies to the thresholds in force is
 * dead-lettered together with its approval, and no longer held.
 *
 * <p>Shadow versions: an {@code update_rule} with {@code mode: shadow} (for the rules in
 * {@code RuleCatalog.SHADOWABLE}) makes a shadow version, numbered after every version the rule has
 * had, which replaces one under evaluation and is never held (it acts on nothing).
 * {@code promote_rule} makes the shadow's thresholds the version in force (keeping its number when
 * nothing changed meanwhile), checked and held like a rule change; {@code drop_shadow} ends it.
 * Either, without a shadow under evaluation, is {@code invalid_rule_change}. The signal carries
 * the new version and the shadow ended, for the detectors' broadcast.
 *
 * <p>An accepted request leaves as a {@link ControlSignal} on the main output. {@code release_account}
 * and {@code resume_withdrawals} also issue their signed command (reason {@code analyst}) on
 * {@link Tags#ANALYST_ACTIONS}: the only way these commands are ever issued.
 *
 * <p>Two-person approval ({@code control.two-person}, on by default): a {@code resume_withdrawals},
 * and an {@code update_rule} that weakens any setting of its rule in the direction the setting
 * declares ({@code Weakening}, beside each rule setting in {@code Settings}), is verified and
 * validated as above, then held instead of taking effect, until an {@code approve} request naming
 * its {@code request_id} comes from a different analyst (compared as {@code requested_by}, which
 * with analysts' own keys is the owner of the signing key). It then takes effect exactly as an
 * unheld one would, the approver named on the commands ({@code approved_by}). An approval is
 * refused as {@code unknown_request} (nothing held by that id), {@code self_approval},
 * {@code approval_expired} (after {@code control.approval-window}) or {@code already_approved};
 * a held request nobody approves in time is dead-lettered itself as {@code approval_expired}, so
 * none disappears unseen. Releases, resolutions and tightening rule changes never wait: they only
 * add containment or close the books. With the setting off, nothing is held.
 *
 * <p>State (one key): the replay memory, request id → processing time it may be forgotten. It
 * needs to outlive a request only while the request could still pass the freshness check: first
 * seen at wall-clock t, it is fresh at most until t + max-future + max-age (inclusive). A
 * processing-time timer forgets it one millisecond later, so the memory drains, and a later replay is refused as {@code expired}. This
 * assumes the clock and processing time are the same wall clock, as they are in the job. And the
 * current version of every rule an analyst changed (rule → {@link RuleVersion}): this is the job's
 * live configuration, persisted by checkpoints and savepoints, and deliberately never drains;
 * rules never changed are version 1 from configuration and hold no state. And the held requests
 * ({@link HeldRequest}): each waits out its approval window, then only its outcome is kept until an
 * approval signed within the window could no longer be fresh (window end + max-future + max-age),
 * so a late approval is told {@code approval_expired} or {@code already_approved} rather than
 * {@code unknown_request}; processing-time timers expire and forget them, so this state drains too.
 */
public final class ControlProcessor extends KeyedProcessFunction<String, RawRecord, ControlSignal> {
    private static final long serialVersionUID = 1L;
    private static final Logger LOG = LoggerFactory.getLogger(ControlProcessor.class);

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
    /** Two-person: the approval names no request held for approval (none was, or long ago). */
    public static final String UNKNOWN_REQUEST = "unknown_request";
    /** Two-person: the approver is the analyst who made the request. */
    public static final String SELF_APPROVAL = "self_approval";
    /** Two-person: the held request's approval window ended (both the request and a late approval). */
    public static final String APPROVAL_EXPIRED = "approval_expired";
    /** Two-person: the held request was already approved and applied. */
    public static final String ALREADY_APPROVED = "already_approved";

    static final MapStateDescriptor<String, Long> SEEN =
            new MapStateDescriptor<>("control-requests-seen", String.class, Long.class);
    static final MapStateDescriptor<String, RuleVersion> RULE_VERSIONS =
            new MapStateDescriptor<>("control-rule-versions", String.class, RuleVersion.class);
    /**
     * Each rule's last shadow version, under evaluation or ended (kept: the next version is
     * numbered after it, so a number names one set of thresholds). Never drains, like the versions.
     */
    static final MapStateDescriptor<String, RuleVersion> SHADOW_VERSIONS =
            new MapStateDescriptor<>("control-shadow-versions", String.class, RuleVersion.class);
    static final MapStateDescriptor<String, HeldRequest> HELD =
            new MapStateDescriptor<>("control-held-for-approval", String.class, HeldRequest.class);

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
    private final io.tourniquet.signing.ActionExpiry expiry;
    private final TourniquetConfig config;
    private final SerializableClock clock;
    private final long maxAgeMillis;
    private final long maxFutureMillis;
    private final boolean twoPerson;
    private final long approvalWindowMillis;
    private final String approvalWindowText;

    private transient MapState<String, Long> seen;
    private transient MapState<String, RuleVersion> ruleVersions;
    private transient MapState<String, RuleVersion> shadowVersions;
    private transient MapState<String, HeldRequest> held;
    private transient PipelineMetrics.Labelled heldByType;
    private transient PipelineMetrics.Labelled rejectedByReason;
    private transient PipelineMetrics.Labelled acceptedByType;
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
        this.expiry = io.tourniquet.signing.ActionExpiry.from(config);
        this.config = config;
        this.clock = clock;
        this.maxAgeMillis = config.get(Settings.CONTROL_MAX_AGE).toMillis();
        this.maxFutureMillis = config.get(Settings.CONTROL_MAX_FUTURE).toMillis();
        this.twoPerson = config.get(Settings.CONTROL_TWO_PERSON);
        this.approvalWindowMillis = config.get(Settings.CONTROL_APPROVAL_WINDOW).toMillis();
        this.approvalWindowText = TimeUtils.formatWithHighestUnit(config.get(Settings.CONTROL_APPROVAL_WINDOW));
    }

    @Override
    public void open(OpenContext openContext) {
        seen = getRuntimeContext().getMapState(SEEN);
        ruleVersions = getRuntimeContext().getMapState(RULE_VERSIONS);
        shadowVersions = getRuntimeContext().getMapState(SHADOW_VERSIONS);
        held = getRuntimeContext().getMapState(HELD);
        MetricGroup metrics = getRuntimeContext().getMetricGroup();
        MetricGroup ours = PipelineMetrics.of(metrics);
        heldByType = new PipelineMetrics.Labelled(ours, "kind", "control_held_for_approval");
        rejectedByReason = new PipelineMetrics.Labelled(ours, "reason", "dead_letters");
        acceptedByType = new PipelineMetrics.Labelled(ours, "kind", "control_accepted");
        actionsIssued = ours.counter("analyst_commands");
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
        if (ControlRequest.APPROVE.equals(request.type)) {
            approve(raw, request, now, ctx, out);
            return;
        }
        RuleChange change;
        try {
            change = ruleChange(request, now);
        } catch (IllegalArgumentException e) {
            reject(raw, INVALID_RULE_CHANGE, e.getMessage(), now, ctx);
            return;
        }
        String why = twoPerson ? whyApprovalNeeded(request, change) : null;
        remember(request.requestId, ctx);
        if (why != null) {
            hold(raw, request, why, ctx);
            return;
        }
        accept(raw, request, requestedAt, change, null, now, ctx, out);
    }

    /** What a request does to the rules: the version in force, the next one, the shadow it ends. */
    private record RuleChange(RuleVersion current, RuleVersion next, RuleVersion endedShadow) {
        static final RuleChange NONE = new RuleChange(null, null, null);
    }

    /**
     * The rule versions {@code request} makes, against the versions in force now.
     *
     * @throws IllegalArgumentException if it makes no valid version (the reason for the analyst)
     */
    private RuleChange ruleChange(ControlRequest request, long now) throws Exception {
        switch (request.type) {
            case ControlRequest.UPDATE_RULE -> {
                RuleVersion current = currentVersion(request.rule);
                boolean shadow = ControlRequest.MODE_SHADOW.equals(request.mode);
                if (shadow) RuleCatalog.requireShadowable(request.rule);
                RuleVersion next = RuleCatalog.next(current, request.params, currentConfig(), request.requestedBy,
                        request.requestId, now);
                next.version = highestVersion(request.rule, current) + 1;
                if (shadow) next.mode = RuleVersion.SHADOW;
                // A new shadow replaces the one under evaluation, which ends.
                RuleVersion replaced = shadow ? shadowUnderEvaluation(request.rule) : null;
                return new RuleChange(current, next, replaced == null ? null : replaced.ended());
            }
            case ControlRequest.PROMOTE_RULE -> {
                RuleVersion current = currentVersion(request.rule);
                RuleVersion candidate = shadowOrExplain(request.rule, "promote");
                // Against the thresholds in force now: the shadow's full params, checked again.
                RuleVersion next = RuleCatalog.next(current, candidate.params, currentConfig(), request.requestedBy,
                        request.requestId, now);
                // Its own number when nothing changed since (what its shadow alerts named), else the next.
                next.version = candidate.version > current.version ? candidate.version : current.version + 1;
                next.promotedFrom = candidate.version;
                return new RuleChange(current, next, candidate.ended());
            }
            case ControlRequest.DROP_SHADOW -> {
                return new RuleChange(null, null, shadowOrExplain(request.rule, "drop").ended());
            }
            default -> {
                return RuleChange.NONE;
            }
        }
    }

    /** The rule's shadow version under evaluation, or null. */
    private RuleVersion shadowUnderEvaluation(String rule) throws Exception {
        RuleVersion v = shadowVersions.get(rule);
        return v != null && v.isShadow() ? v : null;
    }

    private RuleVersion shadowOrExplain(String rule, String verb) throws Exception {
        RuleVersion v = shadowUnderEvaluation(rule);
        if (v == null) {
            throw new IllegalArgumentException("no shadow version of rule " + rule + " is under evaluation, nothing"
                    + " to " + verb + " (start one with update_rule, mode shadow)");
        }
        return v;
    }

    /** The highest version number {@code rule} has had, active or shadow: the next is one more. */
    private int highestVersion(String rule, RuleVersion current) throws Exception {
        RuleVersion shadow = shadowVersions.get(rule);
        return shadow == null ? current.version : Math.max(current.version, shadow.version);
    }

    /**
     * Why {@code request} needs a second analyst, or null if it does not: a resume lifts the
     * platform-wide suspension, and a rule change that weakens a setting makes detection miss
     * what it caught before. Everything else only adds containment or closes the books.
     */
    private String whyApprovalNeeded(ControlRequest request, RuleChange change) {
        RuleVersion current = change.current();
        RuleVersion next = change.next();
        return switch (request.type) {
            case ControlRequest.RESUME_WITHDRAWALS -> "resume_withdrawals lifts the platform-wide suspension";
            case ControlRequest.CLAIM_DECISION -> ControlRequest.APPROVE_CLAIM.equals(request.decision)
                    ? "approving a claim pays the user out of the Account Protection Programme" : null;
            // A shadow version acts on nothing: only its promotion may need a second analyst.
            case ControlRequest.UPDATE_RULE, ControlRequest.PROMOTE_RULE -> {
                if (next.isShadow()) yield null;
                List<String> weakened = RuleCatalog.weakenings(current, next, config);
                yield weakened.isEmpty() ? null : "weakens rule " + next.rule + ": " + String.join(", ", weakened);
            }
            default -> null;
        };
    }

    /**
     * Uses the request id for good: a replay is {@code replayed} whether the request took effect or
     * is held. Fresh means requested_at within [now - max-age, now + max-future], both ends
     * included, so a request first seen at t may pass the freshness check up to t + max-future + max-age.
     */
    private void remember(String requestId, Context ctx) throws Exception {
        long forgetAt = ctx.timerService().currentProcessingTime() + maxFutureMillis + maxAgeMillis + 1;
        seen.put(requestId, forgetAt);
        ctx.timerService().registerProcessingTimeTimer(forgetAt);
    }

    private void hold(RawRecord raw, ControlRequest request, String why, Context ctx) throws Exception {
        long t = ctx.timerService().currentProcessingTime();
        long until = t + approvalWindowMillis;
        // Outcome kept until an approval signed within the window can no longer be fresh.
        HeldRequest h = new HeldRequest(raw, request.type, request.requestedBy, why, t, until,
                until + maxFutureMillis + maxAgeMillis + 1);
        held.put(request.requestId, h);
        ctx.timerService().registerProcessingTimeTimer(until + 1);
        ctx.timerService().registerProcessingTimeTimer(h.forgetAt);
        heldByType.get(request.type).inc();
        LOG.info("control request {} ({}) by {} held for a second analyst's approval until {} ({}); approve it with"
                        + " 'tourniquet control approve --request {}'", request.requestId, request.type,
                request.requestedBy, Times.format(until), why, request.requestId);
    }

    private void approve(RawRecord raw, ControlRequest approval, long now, Context ctx, Collector<ControlSignal> out)
            throws Exception {
        long t = ctx.timerService().currentProcessingTime();
        String id = approval.approves;
        HeldRequest h = held.get(id);
        if (h == null) {
            reject(raw, UNKNOWN_REQUEST, "approves " + id + ": no request by that id is held for approval"
                    + (twoPerson ? " (none was, or it was decided long ago)" : " (control.two-person is off)"),
                    now, ctx);
            return;
        }
        // Its expiry timer may not have fired yet: the window is over all the same.
        if (h.pending() && t > h.approvableUntil) expire(id, h, ctx);
        if (HeldRequest.EXPIRED.equals(h.status)) {
            reject(raw, APPROVAL_EXPIRED, "approves " + id + ", whose approval window (control.approval-window, "
                    + approvalWindowText + ") ended at " + Times.format(h.approvableUntil)
                    + "; it was not applied", now, ctx);
            return;
        }
        if (HeldRequest.APPROVED.equals(h.status)) {
            reject(raw, ALREADY_APPROVED, "approves " + id + ", already approved by " + h.approvedBy
                    + " and applied once", now, ctx);
            return;
        }
        if (sameAnalyst(h.requestedBy, approval.requestedBy)) {
            reject(raw, SELF_APPROVAL, "approves " + id + ", which " + h.requestedBy + " requested: a second"
                    + " analyst must approve it", now, ctx);
            return;
        }
        ControlRequest original = Json.MAPPER.readValue(h.raw.value, ControlRequest.class); // verified when held
        RuleChange change;
        try {
            // Against the thresholds in force now: other changes may have been made meanwhile.
            change = ruleChange(original, now);
        } catch (IllegalArgumentException e) {
            reject(raw, INVALID_RULE_CHANGE, "approves " + id + ", which no longer applies to the thresholds"
                    + " in force: " + e.getMessage(), now, ctx);
            reject(h.raw, INVALID_RULE_CHANGE, "approved by " + approval.requestedBy + ", but no longer"
                    + " applies to the thresholds in force: " + e.getMessage(), now, ctx);
            held.remove(id);
            return;
        }
        remember(approval.requestId, ctx);
        acceptedByType.get(approval.type).inc();
        RawRecord originalRaw = h.raw;
        h.status = HeldRequest.APPROVED;
        h.approvedBy = approval.requestedBy;
        h.raw = null; // applied below: only the outcome is kept
        held.put(id, h);
        LOG.info("control request {} ({}) by {} approved by {} (request {}); applied", id, original.type,
                original.requestedBy, approval.requestedBy, approval.requestId);
        accept(originalRaw, original, ControlRequests.requestedAtMillis(original), change, approval.requestedBy, now,
                ctx, out);
    }

    /**
     * Two analysts are the same if their names differ only in case or surrounding blanks: with
     * one shared key nothing stops "Alice@x" approving "alice@x"'s request otherwise.
     */
    private static boolean sameAnalyst(String a, String b) {
        return a.strip().toLowerCase(Locale.ROOT).equals(b.strip().toLowerCase(Locale.ROOT));
    }

    /** The held request {@code id} got no approval in time: dead-lettered, never applied. */
    private void expire(String id, HeldRequest h, Context ctx) throws Exception {
        reject(h.raw, APPROVAL_EXPIRED, h.type + " request " + id + " by " + h.requestedBy + " was held for a"
                + " second analyst's approval (" + h.why + ") and got none within control.approval-window ("
                + approvalWindowText + "): not applied", clock.getAsLong(), ctx);
        LOG.warn("control request {} ({}) by {}: no approval within the approval window; not applied", id, h.type,
                h.requestedBy);
        h.status = HeldRequest.EXPIRED;
        h.raw = null;
        held.put(id, h);
    }

    private void accept(RawRecord raw, ControlRequest request, long requestedAt, RuleChange change, String approvedBy,
                        long now, Context ctx, Collector<ControlSignal> out) throws Exception {
        RuleVersion next = change.next();
        if (change.endedShadow() != null) shadowVersions.put(change.endedShadow().rule, change.endedShadow());
        if (next != null && next.isShadow()) shadowVersions.put(next.rule, next);
        else if (next != null) ruleVersions.put(next.rule, next);
        acceptedByType.get(request.type).inc();

        ControlSignal signal = new ControlSignal();
        signal.type = request.type;
        signal.requestId = request.requestId;
        signal.requestedBy = request.requestedBy;
        signal.requestedAt = requestedAt;
        signal.reason = request.reason;
        signal.approvedBy = approvedBy;
        signal.userId = request.userId;
        signal.incidentId = request.incidentId;
        signal.document = request.document;
        signal.decision = request.decision;
        signal.ruleVersion = next;
        signal.endedShadow = change.endedShadow();
        if (ControlRequest.VERDICT.equals(request.type)) {
            signal.alertId = request.alertId;
            signal.label = request.label;
            signal.rule = request.rule;
            signal.alertTime = Times.parse(request.alertTime).toEpochMilli();
            signal.alertShadow = Boolean.TRUE.equals(request.alertShadow);
        }
        signal.raw = raw;
        out.collect(signal);

        switch (request.type) {
            case ControlRequest.RELEASE_ACCOUNT ->
                    issue(RELEASE_ACCOUNT, ActionScope.user(request.userId), request, requestedAt, approvedBy, now, ctx);
            case ControlRequest.RESUME_WITHDRAWALS ->
                    issue(RESUME_WITHDRAWALS, ActionScope.platform(), request, requestedAt, approvedBy, now, ctx);
            default -> { }
        }
    }

    private void issue(String command, ActionScope scope, ControlRequest request, long requestedAt, String approvedBy,
                       long now, Context ctx) {
        Action a = new Action();
        a.action = command;
        a.scope = scope;
        // One request makes one command: a re-issue (after a restore) carries the same id.
        a.actionId = Ids.of("action", request.requestId, command, scope.keyValue());
        a.reason = ANALYST;
        a.requestedBy = request.requestedBy;
        a.requestId = request.requestId;
        a.approvedBy = approvedBy;
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

        // Copied first: expiring or forgetting changes the map being iterated.
        List<Map.Entry<String, HeldRequest>> heldNow = new ArrayList<>();
        for (Map.Entry<String, HeldRequest> e : held.entries()) heldNow.add(Map.entry(e.getKey(), e.getValue()));
        for (Map.Entry<String, HeldRequest> e : heldNow) {
            HeldRequest h = e.getValue();
            if (h.pending() && timestamp > h.approvableUntil) expire(e.getKey(), h, ctx);
            if (h.forgetAt <= timestamp) held.remove(e.getKey());
        }
    }

    private void reject(RawRecord raw, String code, String reason, long now, Context ctx) {
        rejectedByReason.get(code).inc();
        ctx.output(Tags.DEAD_LETTERS, DeadLetter.of(raw, code, reason, now));
    }
}
