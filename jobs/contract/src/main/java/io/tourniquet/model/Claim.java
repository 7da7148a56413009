package io.tourniquet.model;

import com.fasterxml.jackson.annotation.JsonInclude;
import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.List;

/**
 * One version of an Account Protection Programme claim, as published on {@code tourniquet.claims}
 * (key: {@code user_id}) after every change and indexed into {@code tourniquet-claims} (one
 * document per claim, updated in place; {@link #version} orders the updates, as for incidents).
 *
 * <p>A claim opens per affected user when their incident is resolved, or on an analyst's signed
 * {@code open_claim}. It holds what was taken (the user's unauthorized withdrawals and their US$
 * value at request time), the conditions the record can decide, the documents the user must send,
 * and, once decided, the decision and the payout: the loss capped at the programme limit, per
 * asset and in US$, exact decimals. {@link #history} is the audit trail of who changed what.
 */
@JsonInclude(JsonInclude.Include.ALWAYS)
public class Claim {
    public static final String AWAITING_DOCUMENTS = "awaiting_documents";
    public static final String UNDER_REVIEW = "under_review";
    public static final String APPROVED = "approved";
    public static final String DENIED = "denied";

    public static final String POLICE_REPORT = "police_report";
    public static final String QUESTIONNAIRE = "questionnaire";
    /** The documents every claim needs from the user, in the order they are listed. */
    public static final List<String> DOCUMENTS = List.of(POLICE_REPORT, QUESTIONNAIRE);

    /** Deterministic: one claim per user and incident. */
    public String claimId;
    public String userId;
    public String incidentId;
    public String status;
    /** Wall-clock time (ms) it opened, and who opened it ({@code tourniquet} on resolution, else the analyst). */
    public long openedAt;
    public String openedBy;
    /** The user's unauthorized withdrawals in the incident. */
    public List<ClaimWithdrawal> withdrawals = new ArrayList<>();
    /** Per asset, sorted by asset: the loss. */
    public List<AssetImpact> loss = new ArrayList<>();
    public BigDecimal lossUsd = BigDecimal.ZERO;
    /** The record-decidable programme conditions, as of the first unauthorized withdrawal. */
    public List<Condition> conditions = new ArrayList<>();
    /** {@code eligible}, {@code not_eligible} or {@code needs_manual_review}: the conditions taken together. */
    public String eligibility;
    public List<Document> documents = new ArrayList<>();
    /** Documents not received yet (names from {@link #DOCUMENTS}). */
    public List<String> outstanding = new ArrayList<>();
    /** {@code approve} or {@code deny} once decided, with the analyst's reason, who and when. */
    public String decision;
    public String decisionReason;
    public String decidedBy;
    /** The second analyst who approved the decision, when it needed one. */
    public String decisionApprovedBy;
    public Long decidedAt;
    /** The programme limit (US$) in force when the claim was decided or opened. */
    public BigDecimal limitUsd;
    /** Per asset, sorted by asset: what is paid (approved claims only). */
    public List<AssetImpact> payout = new ArrayList<>();
    public BigDecimal payoutUsd;
    public List<Change> history = new ArrayList<>();
    /** Increases with every change; Elasticsearch keeps the highest (external versioning). */
    public long version;
    /** Wall-clock time (ms) of this change. */
    public long updatedAt;

    public Claim() {}

    /** One unauthorized withdrawal the claim covers. */
    public static class ClaimWithdrawal {
        public String withdrawalId;
        public String alertId;
        public String asset;
        /** Exact decimal string as received. */
        public String amount;
        /** Value at request time. */
        public BigDecimal usdValue;
        /** Event time (ms) of its approval. */
        public long eventTime;

        public ClaimWithdrawal() {}
    }

    /** One condition: {@code pass}, {@code fail} or {@code review} (the record cannot decide it), and why. */
    public static class Condition {
        public String name;
        public String outcome;
        public String detail;

        public Condition() {}

        public Condition(String name, String outcome, String detail) {
            this.name = name;
            this.outcome = outcome;
            this.detail = detail;
        }
    }

    /** One document the user must provide. */
    public static class Document {
        public String name;
        public boolean received;
        public Long receivedAt;
        public String recordedBy;

        public Document() {}

        public Document(String name) {
            this.name = name;
        }
    }

    /** One entry of the audit trail. */
    public static class Change {
        public long version;
        /** {@code opened}, {@code document_received}, {@code approved}, {@code denied}. */
        public String change;
        public String by;
        public String approvedBy;
        /** Wall-clock time (ms) the analyst signed the request (or the claim opened). */
        public long at;
        public String requestId;
        public String detail;

        public Change() {}
    }

    @Override
    public String toString() {
        return "Claim{" + claimId + " " + userId + " " + status + " loss=US$" + lossUsd + " payout=" + payoutUsd
                + " v" + version + "}";
    }
}
