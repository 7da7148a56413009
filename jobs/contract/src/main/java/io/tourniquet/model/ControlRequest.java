package io.tourniquet.model;

import com.fasterxml.jackson.annotation.JsonInclude;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * An analyst's request on the control topic, as signed: HMAC-SHA256 under the control key over
 * the canonical JSON without {@code signature} (the same scheme as commands).
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class ControlRequest {
    public static final String RELEASE_ACCOUNT = "release_account";
    public static final String RESUME_WITHDRAWALS = "resume_withdrawals";
    public static final String RESOLVE_INCIDENT = "resolve_incident";
    public static final String UPDATE_RULE = "update_rule";
    /** A second analyst's approval of a held request ({@code control.two-person}), named by {@link #approves}. */
    public static final String APPROVE = "approve";
    /** Opens an Account Protection Programme claim for {@link #userId} in {@link #incidentId} (else one opens at resolution). */
    public static final String OPEN_CLAIM = "open_claim";
    /** Records that the user sent one of a claim's documents ({@link #document}). */
    public static final String CLAIM_DOCUMENT = "claim_document";
    /** Decides a claim: {@link #decision} approve or deny, with the reason. */
    public static final String CLAIM_DECISION = "claim_decision";
    /** An analyst's verdict on an alert ({@link #alertId}): {@link #label} is one of {@link #LABELS}. */
    public static final String VERDICT = "verdict";
    public static final String TRUE_POSITIVE = "true_positive";
    public static final String FALSE_POSITIVE = "false_positive";
    /** Right about what happened, but nothing was wrong (e.g. the user did move their savings out). */
    public static final String BENIGN_TRUE_POSITIVE = "benign_true_positive";
    public static final java.util.List<String> LABELS = java.util.List.of(TRUE_POSITIVE, FALSE_POSITIVE,
            BENIGN_TRUE_POSITIVE);
    /** The labels that say the rule was right about what happened: what precision and recall count. */
    public static final java.util.List<String> RIGHT_LABELS = java.util.List.of(TRUE_POSITIVE, BENIGN_TRUE_POSITIVE);
    /**
     * Makes the rule's shadow version ({@link #rule}) the version in force (it then numbers the
     * next version); held like a rule change when it weakens the version in force.
     */
    public static final String PROMOTE_RULE = "promote_rule";
    /** Ends the rule's shadow version ({@link #rule}) without using it. */
    public static final String DROP_SHADOW = "drop_shadow";
    /** {@code update_rule} with {@link #mode} {@code shadow}: a candidate evaluated beside the version in force. */
    public static final String MODE_SHADOW = "shadow";
    public static final String MODE_ACTIVE = "active";
    public static final String APPROVE_CLAIM = "approve";
    public static final String DENY_CLAIM = "deny";

    /** Unique per request; a request id seen before is a replay. */
    public String requestId;
    public String type;
    /** Who asked (e.g. an analyst's e-mail). */
    public String requestedBy;
    /** RFC 3339; requests older than {@code control.max-age} are refused. */
    public String requestedAt;
    /** Why, in the analyst's words (kept in the audit trail). */
    public String reason;
    public String userId;
    public String incidentId;
    public String rule;
    /** For {@code update_rule}: full setting key → new value. */
    public Map<String, String> params;
    /**
     * For {@code update_rule}: {@code active} (the default, also when absent) changes the version
     * in force; {@code shadow} makes a shadow version, evaluated beside it and acting on nothing.
     */
    public String mode;
    /** For {@code approve}: the {@code request_id} of the held request it approves. */
    public String approves;
    /** For {@code claim_document}: {@code police_report} or {@code questionnaire}. */
    public String document;
    /** For {@code claim_decision}: {@code approve} or {@code deny}. */
    public String decision;
    /** For {@code verdict}: the alert judged. Its {@link #rule}, {@link #userId} and {@link #alertTime} come with it. */
    public String alertId;
    /** For {@code verdict}: one of {@link #LABELS}. */
    public String label;
    /** For {@code verdict}: the judged alert's event time (RFC 3339), from which a suppression runs. */
    public String alertTime;
    /** For {@code verdict}: true when the judged alert is a shadow rule version's; its verdict then suppresses nothing. */
    public Boolean alertShadow;
    /** Which analyst key signed it, when the job verifies each analyst's own key ({@code signing.analyst-keys-file}). */
    public String keyId;
    public String signature;

    public ControlRequest() {}

    public Map<String, String> paramsOrEmpty() {
        return params == null ? new LinkedHashMap<>() : params;
    }
}
