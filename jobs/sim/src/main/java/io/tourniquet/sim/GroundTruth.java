package io.tourniquet.sim;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.annotation.JsonNaming;
import com.fasterxml.jackson.databind.annotation.JsonSerialize;
import java.io.UncheckedIOException;
import java.math.BigDecimal;
import java.time.Instant;
import java.util.List;
import java.util.Map;

/**
 * What a correct pipeline should conclude from a simulation. Serialized as {@code ground-truth.json}
 * with snake_case names; amounts are strings in plain notation (exact), USD values JSON numbers.
 *
 * @param seed                          the config's seed
 * @param start                         the config's start instant
 * @param compromisedService            {@code approval_service} of every unauthorized approval
 * @param compromisedServiceVersion     {@code approval_service_version} of every unauthorized approval
 * @param legitimateService             {@code approval_service} of every authorized approval
 * @param legitimateServiceVersion      {@code approval_service_version} of every authorized approval
 * @param attackChannel                 {@code approval_channel} of every unauthorized approval
 * @param unauthorizedApprovals         the approvals the detector must flag, in event-time order
 * @param legitimateTrickyApprovals     authorized approvals that must not be flagged, by kind
 * @param totalsByAsset                 per asset, the sums over the unauthorized approvals
 * @param usdTotal                      sum of {@code usd_value} over the unauthorized approvals
 * @param affectedUsers                 distinct users with an unauthorized approval, sorted
 * @param usersAffected                 their count
 * @param attackerIps                   the IPs the attacker logged in from
 * @param attackerDeviceIds             the devices the attacker used
 * @param attackerAddresses             the destination addresses the attacker withdrew to
 * @param sharedDestination             a deposit address several benign users whitelisted days ago and
 *                                      withdraw to within minutes (must raise nothing: no new-address
 *                                      withdrawal, no concentration); null when popularAddressUsers is 0
 * @param validEventsByTopic            distinct valid events per topic (duplicates and malformed not counted)
 * @param duplicatesEmitted             redelivered copies emitted (same bytes as an earlier record)
 * @param duplicates                    which events were redelivered
 * @param malformedEmitted              malformed records emitted
 * @param malformedByReason             their count per reason
 * @param malformed                     each malformed record's topic, key and reason
 * @param legitimateDrainers            benign users who drain their own account with proper 2FA (sorted):
 *                                      account drain's true positives outside any incident
 * @param newAddressUsers               benign users who withdraw to an address of their own whitelisted
 *                                      hours before (sorted): new-address withdrawal's benign positives
 * @param expectedAlerts                per rule, the exact keys a correct pipeline alerts on, under the
 *                                      default rule settings ({@code config/Settings})
 * @param incident                      the attack's incident (the one holding the first unauthorized
 *                                      approval) as a correct pipeline reports it; null without an attack
 * @param antiPhishingCodes             user id to the anti-phishing code the user set last (by event
 *                                      time); users who never set one are absent
 */
@JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
public record GroundTruth(
        long seed,
        Instant start,
        String compromisedService,
        String compromisedServiceVersion,
        String legitimateService,
        String legitimateServiceVersion,
        String attackChannel,
        List<UnauthorizedApproval> unauthorizedApprovals,
        List<TrickyApproval> legitimateTrickyApprovals,
        Map<String, AssetTotal> totalsByAsset,
        BigDecimal usdTotal,
        List<String> affectedUsers,
        int usersAffected,
        List<String> attackerIps,
        List<String> attackerDeviceIds,
        List<String> attackerAddresses,
        SharedDestination sharedDestination,
        Map<String, Integer> validEventsByTopic,
        int duplicatesEmitted,
        List<DuplicateRecord> duplicates,
        int malformedEmitted,
        Map<String, Integer> malformedByReason,
        List<MalformedRecord> malformed,
        List<String> legitimateDrainers,
        List<String> newAddressUsers,
        ExpectedAlerts expectedAlerts,
        ExpectedIncident incident,
        Map<String, String> antiPhishingCodes) {

    /**
     * What each rule alerts on, computed from the emitted events with the default rule settings.
     *
     * @param unauthorizedApprovals    withdrawal ids of the unauthorized approvals (sorted)
     * @param accountDrains            users whose approved withdrawals within the window reach the share of
     *                                 the balance at the window's first one, and the floor (sorted)
     * @param newAddressWithdrawals    withdrawal ids requested to an address the same user whitelisted less
     *                                 than the minimum age before (sorted)
     * @param destinationConcentration addresses with enough distinct users' new-address withdrawals in one
     *                                 window (sorted)
     * @param bulkDrainEpisodes        how often the platform-wide count of distinct users with an unauthorized
     *                                 approval or account drain in the window rises to the threshold
     * @param incidents                incidents: incident-rule alerts (unauthorized approval, bulk drain,
     *                                 destination concentration) chained while less than the gap apart
     */
    @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
    public record ExpectedAlerts(
            List<String> unauthorizedApprovals,
            List<String> accountDrains,
            List<String> newAddressWithdrawals,
            List<String> destinationConcentration,
            int bulkDrainEpisodes,
            int incidents) {
    }

    /**
     * The expected {@code tourniquet-incidents} document of the attack's incident.
     *
     * @param unauthorizedApprovals  how many unauthorized approvals it counts
     * @param usersAffected          their distinct users
     * @param affectedUsers          those users (sorted)
     * @param impact                 per asset, sums of their {@code amount} (exact) and {@code usd_value}
     * @param usdTotal               sum of their {@code usd_value}
     * @param startedAt              event time of its first alert's triggering event
     * @param containedAt            event time of the event that makes bulk drain fire in it (the first
     *                               {@code suspend_withdrawals}); null if bulk drain never fires in it
     * @param impactAfterContainment per asset, the sums over its approvals strictly after {@code containedAt}:
     *                               what the platform-wide suspension would have saved had it been enforced
     * @param usdAfterContainment    their {@code usd_value} sum
     */
    @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
    public record ExpectedIncident(
            int unauthorizedApprovals,
            int usersAffected,
            List<String> affectedUsers,
            Map<String, AssetTotal> impact,
            BigDecimal usdTotal,
            Instant startedAt,
            Instant containedAt,
            Map<String, AssetTotal> impactAfterContainment,
            BigDecimal usdAfterContainment) {
    }

    /** An approval the detector must flag as unauthorized. */
    @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
    public record UnauthorizedApproval(
            String withdrawalId,
            String eventId,
            String userId,
            UnauthorizedKind kind,
            String asset,
            String network,
            @JsonSerialize(using = PlainDecimalStringSerializer.class) BigDecimal amount,
            BigDecimal usdValue,
            Instant eventTime,
            String destinationAddress,
            String mfaChallengeId,
            String approvalChannel,
            String approvalService,
            String approvalServiceVersion) {
    }

    /** An authorized approval that looks suspicious to a careless detector. */
    @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
    public record TrickyApproval(String withdrawalId, String eventId, String userId, TrickyKind kind) {
    }

    /** Sums over the unauthorized approvals of one asset. */
    @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
    public record AssetTotal(
            String asset,
            int approvals,
            @JsonSerialize(using = PlainDecimalStringSerializer.class) BigDecimal amount,
            BigDecimal usdValue) {
    }

    /** A popular destination that benign users whitelisted long ago. */
    @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
    public record SharedDestination(String address, String asset, List<String> users) {
    }

    /** An event that was emitted twice with the same bytes. */
    @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
    public record DuplicateRecord(String topic, String eventId) {
    }

    /** A record meant for the dead-letter queue. {@code key} may be null. */
    @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
    public record MalformedRecord(String topic, String key, MalformedReason reason) {
    }

    /** Serializes it as {@code ground-truth.json} is written (pretty-printed). */
    public String toJson() {
        try {
            return SimJson.mapper().writerWithDefaultPrettyPrinter().writeValueAsString(this);
        } catch (JsonProcessingException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Reads what {@link #toJson()} wrote. */
    public static GroundTruth fromJson(String json) {
        try {
            return SimJson.mapper().readValue(json, GroundTruth.class);
        } catch (JsonProcessingException e) {
            throw new UncheckedIOException(e);
        }
    }
}
