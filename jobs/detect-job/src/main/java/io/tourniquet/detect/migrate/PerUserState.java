package io.tourniquet.detect.migrate;

import io.tourniquet.detect.WithdrawalRequestFacts;
import io.tourniquet.detect.WhitelistEntry;
import io.tourniquet.detect.SessionLogin;
import io.tourniquet.detect.PendingApproval;
import io.tourniquet.detect.NewAddressRequest;
import io.tourniquet.detect.DrainRequest;
import io.tourniquet.detect.DrainApproval;
import io.tourniquet.detect.Challenge;
import io.tourniquet.detect.AnomalyProfile;
import io.tourniquet.model.EnrichedEvent;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

/**
 * One user's keyed state of the per-user steps and their timers, as {@link PerUserStateMigration}
 * carries it from the savepoint of the old layout (five operators) to {@link PerUserDetectors}.
 * One field per state, typed as the state is (the state's name is on each field), so Flink
 * serializes it as a POJO with the states' own value serializers and never falls back to Kryo.
 * A field is null (or an empty map) where the user has no such state.
 */
public class PerUserState {
    public String userId;

    /** {@link DeduplicateFunction#SEEN} "seen-events". */
    public Map<String, Long> seenEvents;

    /** {@link NewAddressWithdrawalDetector#WHITELIST} "whitelisted-addresses". */
    public Map<String, WhitelistEntry> whitelistedAddresses;
    /** {@link NewAddressWithdrawalDetector#REQUESTS} "new-address-requests". */
    public Map<String, NewAddressRequest> newAddressRequests;

    /** {@link AccountDrainDetector#REQUESTS} "drain-request-balances". */
    public Map<String, DrainRequest> drainRequestBalances;
    /** {@link AccountDrainDetector#APPROVALS} "drain-approvals". */
    public Map<String, DrainApproval> drainApprovals;
    /** {@link AccountDrainDetector#ALERTED_UNTIL} "drain-alerted-until". */
    public Long drainAlertedUntil;

    /** {@link UnauthorizedApprovalDetector#CHALLENGES} "challenges". */
    public Map<String, Challenge> challenges;
    /** {@link UnauthorizedApprovalDetector#CHALLENGE_COUNT} "challenge-count". */
    public Integer challengeCount;
    /** {@link UnauthorizedApprovalDetector#PENDING} "pending-approvals". */
    public Map<String, PendingApproval> pendingApprovals;

    /** {@link AnomalyScoringDetector#PROFILE} "anomaly-profile". */
    public AnomalyProfile anomalyProfile;
    /** {@link AnomalyScoringDetector#SESSIONS} "anomaly-sessions". */
    public Map<String, SessionLogin> anomalySessions;
    /** {@link AnomalyScoringDetector#REQUESTS} "anomaly-requests". */
    public Map<String, WithdrawalRequestFacts> anomalyRequests;
    /** {@link AnomalyScoringDetector#WHITELIST} "anomaly-whitelist". */
    public Map<String, Long> anomalyWhitelist;
    /** {@link AnomalyScoringDetector#PENDING} "anomaly-pending-events". */
    public Map<String, EnrichedEvent> anomalyPendingEvents;
    /** {@link AnomalyScoringDetector#STALL_WATERMARK} "anomaly-stall-watermark". */
    public Long anomalyStallWatermark;
    /** {@link AnomalyScoringDetector#STALL_DEADLINE} "anomaly-stall-deadline". */
    public Long anomalyStallDeadline;

    /** The user's registered timers, ascending, each once. */
    public List<Long> eventTimeTimers = new ArrayList<>();
    public List<Long> processingTimeTimers = new ArrayList<>();

    public PerUserState() {}

    public static PerUserState of(String userId) {
        PerUserState s = new PerUserState();
        s.userId = userId;
        return s;
    }

    /**
     * Adds {@code other}'s states and timers to this one (the same user's, read from another old
     * operator or read twice). Each state belongs to one old operator, so a state is in at most one
     * of the two unless read twice, and then it is equal; timers are a set per user, as in the
     * shared timer service they go to.
     */
    public PerUserState merge(PerUserState other) {
        if (!userId.equals(other.userId)) {
            throw new IllegalArgumentException("not the same user: " + userId + ", " + other.userId);
        }
        seenEvents = merged(seenEvents, other.seenEvents);
        whitelistedAddresses = merged(whitelistedAddresses, other.whitelistedAddresses);
        newAddressRequests = merged(newAddressRequests, other.newAddressRequests);
        drainRequestBalances = merged(drainRequestBalances, other.drainRequestBalances);
        drainApprovals = merged(drainApprovals, other.drainApprovals);
        drainAlertedUntil = other.drainAlertedUntil != null ? other.drainAlertedUntil : drainAlertedUntil;
        challenges = merged(challenges, other.challenges);
        challengeCount = other.challengeCount != null ? other.challengeCount : challengeCount;
        pendingApprovals = merged(pendingApprovals, other.pendingApprovals);
        anomalyProfile = other.anomalyProfile != null ? other.anomalyProfile : anomalyProfile;
        anomalySessions = merged(anomalySessions, other.anomalySessions);
        anomalyRequests = merged(anomalyRequests, other.anomalyRequests);
        anomalyWhitelist = merged(anomalyWhitelist, other.anomalyWhitelist);
        anomalyPendingEvents = merged(anomalyPendingEvents, other.anomalyPendingEvents);
        anomalyStallWatermark = other.anomalyStallWatermark != null ? other.anomalyStallWatermark : anomalyStallWatermark;
        anomalyStallDeadline = other.anomalyStallDeadline != null ? other.anomalyStallDeadline : anomalyStallDeadline;
        eventTimeTimers = union(eventTimeTimers, other.eventTimeTimers);
        processingTimeTimers = union(processingTimeTimers, other.processingTimeTimers);
        return this;
    }

    private static <V> Map<String, V> merged(Map<String, V> a, Map<String, V> b) {
        if (b == null || b.isEmpty()) return a;
        if (a == null || a.isEmpty()) return b;
        Map<String, V> m = new HashMap<>(a);
        m.putAll(b);
        return m;
    }

    static List<Long> union(Iterable<Long> a, Iterable<Long> b) {
        TreeSet<Long> all = new TreeSet<>();
        if (a != null) a.forEach(all::add);
        if (b != null) b.forEach(all::add);
        return new ArrayList<>(all);
    }

    @Override
    public String toString() {
        return "PerUserState{" + userId + ", " + eventTimeTimers.size() + " event-time and "
                + processingTimeTimers.size() + " processing-time timers}";
    }
}
