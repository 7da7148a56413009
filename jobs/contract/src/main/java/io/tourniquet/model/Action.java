package io.tourniquet.model;

import com.fasterxml.jackson.annotation.JsonInclude;
import java.util.ArrayList;
import java.util.List;

/** A signed command for enforcers ({@code tourniquet.actions}, contract section 3). */
@JsonInclude(JsonInclude.Include.ALWAYS)
public class Action {
    public String actionId;
    public String action;
    public ActionScope scope;
    /** The rule that triggered it, or {@code analyst}. */
    public String reason;
    public List<String> alertIds = new ArrayList<>();
    public String incidentId;
    /** Event time (ms) of the triggering event. */
    public long eventTime;
    /** Wall-clock time (ms) the pipeline issued it. */
    public long issuedAt;
    /** Version of the rule that triggered it; absent on an analyst's command. */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public Integer ruleVersion;
    /** On {@code hold_withdrawal} of a new-address withdrawal: when the hold may end (RFC 3339). */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public String holdUntil;
    /** On an analyst's command: who asked, and the signed request it answers. */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public String requestedBy;
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public String requestId;
    /** On an analyst's command that needed a second analyst ({@code control.two-person}): who approved it. */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public String approvedBy;
    /** Wall-clock time (ms) after which an enforcer must not act on it (issued_at + the kind's setting). */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public Long expiresAt;
    /** Which command key signed it ({@code signing.key-id}), for enforcers rotating keys. */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public String keyId;
    /** W3C Trace Context: a span of the answered alert's trace (extension of the contract). Signed. */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public String traceparent;
    /** {@code hmac-sha256:<hex>} over the canonical JSON of every other field. */
    public String signature;

    public Action() {}

    @Override
    public String toString() {
        return "Action{" + action + " " + scope + " reason=" + reason + " id=" + actionId + "}";
    }
}
