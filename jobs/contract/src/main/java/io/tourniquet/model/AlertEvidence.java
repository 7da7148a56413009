package io.tourniquet.model;

import com.fasterxml.jackson.annotation.JsonInclude;
import java.util.ArrayList;
import java.util.List;

/** What an alert is based on: the triggering event ids plus the rule-specific details. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class AlertEvidence {
    public List<String> eventIds = new ArrayList<>();
    /** Machine-readable cause, e.g. {@code no_challenge}, {@code challenge_reused}. */
    public String reason;
    public String mfaChallengeId;
    /** Event id of the verification the approval claimed, when one was found. */
    public String challengeEventId;
    public String approvalService;
    public String approvalServiceVersion;
    public String approvalChannel;
    public String asset;
    public String network;
    public String amount;
    public Double usdValue;
    public String destinationAddress;
    public String sessionId;
    public String ip;
    public String deviceId;

    // Account drain.
    /** Balance (US$) seen at the request of the window's first approved withdrawal. */
    public Double balanceUsd;
    /** Approved US$ within the window, and the window's bounds (RFC 3339). */
    public Double windowUsd;
    public String windowStart;
    public String windowEnd;
    public List<String> withdrawalIds;

    // New-address withdrawal.
    /** When the destination was whitelisted (RFC 3339), and until when the hold lasts. */
    public String whitelistedAt;
    public String holdUntil;

    // Platform rules (bulk draining, destination concentration).
    /** The distinct users counted, in the order they entered the window. */
    public List<String> userIds;
    public Integer distinctUsers;
    /** The alerts counted (bulk draining). */
    public List<String> alertIds;
    /** Set by the incident tracker: true when this alert suspends withdrawals (once per incident). */
    public Boolean suspendWithdrawals;

    // Anomaly score (models module).
    /** The model's score of the approval, the threshold it exceeded, and the model version. */
    public Double anomalyScore;
    public Double anomalyThreshold;
    public String modelVersion;
    /** The features that raised the score most, largest first (see {@link AnomalyContribution}). */
    public List<AnomalyContribution> contributions;
    /** True when the rule's configuration asks for a freeze with the alert (rule.anomaly-score.freeze). */
    public Boolean freezeAccount;

    public AlertEvidence() {}

    /**
     * The withdrawal an alert is about, as the rules that alert on one approval record it (the
     * unauthorized-approval rule and the anomaly scorer): what left, where to, and from which
     * session, address and device.
     */
    public void withdrawal(Event w) {
        asset = w.asset;
        network = w.network;
        amount = w.amount;
        usdValue = w.usdValue;
        destinationAddress = w.destinationAddress;
        sessionId = w.sessionId;
        ip = w.ip;
        deviceId = w.deviceId;
    }
}
