package io.tourniquet.model;

import com.fasterxml.jackson.annotation.JsonIgnore;
import com.fasterxml.jackson.annotation.JsonInclude;
import java.util.Objects;

/**
 * One validated input event, from any of the four input topics. The union of the contract's
 * fields, flat, so Flink serializes it as a POJO and the index job can map it to ECS without
 * reparsing. Field names map to the contract's snake_case names.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class Event {
    public enum Kind { LOGIN, MFA, WITHDRAWAL, ACCOUNT_CHANGE }

    public Kind kind;

    // Common fields (contract section 1).
    public String eventId;
    /** Event time in epoch milliseconds (the contract's {@code event_time}). */
    public long eventTime;
    /** {@code event_time} exactly as the producer wrote it. */
    public String eventTimeRaw;
    public String userId;
    public String sessionId;
    public String ip;
    public String deviceId;

    // Where it came from: the source coordinates, for forensics and the DLQ.
    public String sourceTopic;
    public int sourcePartition;
    public long sourceOffset;
    /**
     * The input record's Kafka timestamp (epoch ms; 0 when unknown): when the event reached the
     * exchange's log. Fixed per record, so indices chosen by it are the same at every re-indexing.
     */
    public long sourceTimestamp;

    // exchange.auth.logins
    public String outcome;
    public String authMethod;
    public Boolean deviceJailbroken;
    public String userAgent;
    public String geoCountry;
    public Double geoLat;
    public Double geoLon;

    // exchange.auth.mfa and exchange.account.changes both carry an `action`.
    public String action;
    public String challengeId;
    public String method;
    public String purpose;

    // exchange.wallet.withdrawals (withdrawalId also on MFA events for purpose withdrawal).
    public String withdrawalId;
    public String status;
    public String asset;
    public String network;
    /** Exact decimal string, as received (validated, never converted to floating point). */
    public String amount;
    public Double usdValue;
    public String destinationAddress;
    public Double accountBalanceUsd;
    public String mfaChallengeId;
    public String approvalChannel;
    public String approvalService;
    public String approvalServiceVersion;
    public String txHash;

    // exchange.account.changes
    public String address;
    public String antiPhishingCode;
    public Boolean mfaPolicyLogin;
    public Boolean mfaPolicyWithdrawal;
    public Boolean mfaPolicyWhitelistAddress;
    public Boolean mfaPolicySettings;

    /** Set by the dedup step when the event arrived behind the watermark; carried into enrichment. */
    @JsonIgnore
    public boolean late;

    public Event() {}

    @JsonIgnore
    public boolean isApproval() {
        return kind == Kind.WITHDRAWAL && "approved".equals(status);
    }

    @JsonIgnore
    public boolean isMfaChallenge() {
        return kind == Kind.MFA && action != null && action.startsWith("challenge_");
    }

    @Override
    public boolean equals(Object o) {
        if (!(o instanceof Event e)) return false;
        return eventTime == e.eventTime && kind == e.kind && Objects.equals(eventId, e.eventId)
                && Objects.equals(userId, e.userId) && Objects.equals(status, e.status)
                && Objects.equals(action, e.action) && Objects.equals(amount, e.amount);
    }

    @Override
    public int hashCode() {
        return Objects.hash(eventId, eventTime);
    }

    @Override
    public String toString() {
        return kind + "{" + eventId + " user=" + userId + " t=" + eventTimeRaw
                + (status != null ? " status=" + status : "") + (action != null ? " action=" + action : "") + "}";
    }
}
