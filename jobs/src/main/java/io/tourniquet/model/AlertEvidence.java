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

    public AlertEvidence() {}
}
