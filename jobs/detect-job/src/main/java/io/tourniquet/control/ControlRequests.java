package io.tourniquet.control;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.tourniquet.config.Settings;
import io.tourniquet.config.TourniquetConfig;
import io.tourniquet.signing.CommandSigner;
import io.tourniquet.json.Json;
import io.tourniquet.model.ControlRequest;
import io.tourniquet.util.Times;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;

/**
 * The control topic's wire format ({@link ControlRequest}, JSON snake_case) and its signature: the
 * same scheme as commands ({@link CommandSigner}), under the control key. The job and the CLI
 * share the checks here, so the CLI cannot send a request the job would call malformed.
 */
public final class ControlRequests {
    private ControlRequests() {}

    public static final List<String> TYPES = List.of(ControlRequest.RELEASE_ACCOUNT,
            ControlRequest.RESUME_WITHDRAWALS, ControlRequest.RESOLVE_INCIDENT, ControlRequest.UPDATE_RULE,
            ControlRequest.APPROVE, ControlRequest.OPEN_CLAIM, ControlRequest.CLAIM_DOCUMENT,
            ControlRequest.CLAIM_DECISION, ControlRequest.VERDICT, ControlRequest.PROMOTE_RULE,
            ControlRequest.DROP_SHADOW);

    /**
     * The signer for the control key ({@code signing.control-key}), or a clear error naming the
     * setting and its environment variable when it is unset or too short.
     */
    public static CommandSigner controlSigner(TourniquetConfig cfg) {
        String key = cfg.find(Settings.CONTROL_KEY).orElse(null);
        if (key == null) {
            throw new IllegalArgumentException("no control key: set " + Settings.CONTROL_KEY.envName()
                    + " (or --set " + Settings.CONTROL_KEY.key() + "=...), at least "
                    + CommandSigner.MIN_KEY_BYTES + " bytes; the job refuses unsigned control requests");
        }
        if (key.getBytes(StandardCharsets.UTF_8).length < CommandSigner.MIN_KEY_BYTES) {
            throw new IllegalArgumentException("control key too short: " + Settings.CONTROL_KEY.key() + " ("
                    + Settings.CONTROL_KEY.envName() + ") must be at least " + CommandSigner.MIN_KEY_BYTES
                    + " bytes");
        }
        return new CommandSigner(key);
    }

    /**
     * Signs {@code request} under the control key: sets {@code request.signature} and returns the
     * canonical signed JSON exactly as it is to be published (keys sorted, no whitespace).
     */
    public static byte[] sign(ControlRequest request, CommandSigner controlSigner) {
        request.signature = null;
        ObjectNode unsigned = (ObjectNode) Json.tree(request);
        byte[] signed = controlSigner.sign(unsigned);
        request.signature = controlSigner.signatureOf(unsigned);
        return signed;
    }

    /**
     * What makes {@code r} malformed, in one sentence, or null if nothing does. Checks presence
     * and shape only; whether a rule change is acceptable is {@code RuleCatalog.next}'s call.
     */
    public static String problemWith(ControlRequest r) {
        if (r.type == null || !TYPES.contains(r.type)) return "type: expected one of " + TYPES + ", got " + r.type;
        if (blank(r.requestId)) return "request_id: missing";
        if (blank(r.requestedBy)) return "requested_by: missing";
        if (blank(r.requestedAt)) return "requested_at: missing";
        try {
            Times.parse(r.requestedAt);
        } catch (IllegalArgumentException e) {
            return "requested_at: " + e.getMessage();
        }
        switch (r.type) {
            case ControlRequest.RELEASE_ACCOUNT -> {
                if (blank(r.userId)) return "user_id: missing (release_account names the account to release)";
            }
            case ControlRequest.RESOLVE_INCIDENT -> {
                if (blank(r.incidentId)) return "incident_id: missing (resolve_incident names the incident)";
            }
            case ControlRequest.UPDATE_RULE -> {
                if (blank(r.rule)) return "rule: missing (update_rule names the rule to change)";
                if (r.params == null || r.params.isEmpty()) return "params: missing (update_rule sets at least one)";
                for (Map.Entry<String, String> p : r.params.entrySet()) {
                    // A null value would unset the setting rather than change it.
                    if (p.getValue() == null) return "params." + p.getKey() + ": missing value";
                }
                if (r.mode != null && !List.of(ControlRequest.MODE_ACTIVE, ControlRequest.MODE_SHADOW).contains(r.mode)) {
                    return "mode: expected active or shadow, got " + r.mode;
                }
            }
            case ControlRequest.PROMOTE_RULE, ControlRequest.DROP_SHADOW -> {
                if (blank(r.rule)) return "rule: missing (" + r.type + " names the rule whose shadow version it ends)";
            }
            case ControlRequest.OPEN_CLAIM, ControlRequest.CLAIM_DOCUMENT, ControlRequest.CLAIM_DECISION -> {
                if (blank(r.userId)) return "user_id: missing (" + r.type + " names the claimant)";
                if (blank(r.incidentId)) return "incident_id: missing (" + r.type + " names the incident claimed for)";
                if (ControlRequest.CLAIM_DOCUMENT.equals(r.type) && !io.tourniquet.model.Claim.DOCUMENTS.contains(r.document)) {
                    return "document: expected one of " + io.tourniquet.model.Claim.DOCUMENTS + ", got " + r.document;
                }
                if (ControlRequest.CLAIM_DECISION.equals(r.type)) {
                    if (!List.of(ControlRequest.APPROVE_CLAIM, ControlRequest.DENY_CLAIM).contains(r.decision)) {
                        return "decision: expected approve or deny, got " + r.decision;
                    }
                    // The user is told why, and the audit trail keeps it.
                    if (blank(r.reason)) return "reason: missing (a claim decision says why)";
                }
            }
            case ControlRequest.VERDICT -> {
                if (blank(r.alertId)) return "alert_id: missing (verdict names the alert judged)";
                String label = labelProblem(r.label);
                if (label != null) return label;
                if (blank(r.rule)) return "rule: missing (verdict names the judged alert's rule)";
                if (!io.tourniquet.rules.catalog.RuleCatalog.rules().contains(r.rule)) {
                    return "rule: expected one of " + io.tourniquet.rules.catalog.RuleCatalog.rules() + ", got " + r.rule;
                }
                if (blank(r.alertTime)) return "alert_time: missing (verdict gives the judged alert's event time)";
                try {
                    Times.parse(r.alertTime);
                } catch (IllegalArgumentException e) {
                    return "alert_time: " + e.getMessage();
                }
            }
            case ControlRequest.APPROVE -> {
                if (blank(r.approves)) return "approves: missing (approve names the request_id it approves)";
            }
            default -> { }
        }
        return null;
    }

    /** What is wrong with a verdict's label, or null: for the CLI to say before it looks anything up. */
    public static String labelProblem(String label) {
        return ControlRequest.LABELS.contains(label) ? null
                : "label: expected one of " + ControlRequest.LABELS + ", got " + label;
    }

    /** {@code requested_at} in epoch ms; only for a request {@link #problemWith} found nothing wrong with. */
    public static long requestedAtMillis(ControlRequest r) {
        return Times.parse(r.requestedAt).toEpochMilli();
    }

    private static boolean blank(String s) {
        return s == null || s.isBlank();
    }
}
