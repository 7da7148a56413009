package io.tourniquet.forensics;

import com.fasterxml.jackson.databind.JsonNode;
import io.tourniquet.forensics.Incidents.AssetAmount;
import io.tourniquet.util.Times;
import java.math.BigDecimal;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/** An incident's Account Protection Program claims as the claims index holds them, and their totals. */
public final class Claims extends ForensicsQuery {
    private final Incidents incidentLookup;

    /** Claims per request when listing an incident's claims; tests lower it to cross page boundaries. */
    static final int CLAIMS_PAGE = 1_000;

    Claims(Context context, Incidents incidentLookup) {
        super(context);
        this.incidentLookup = incidentLookup;
    }

    /** One programme condition of a claim as the detect job decided it: pass, fail or review, and why. */
    public record ClaimCondition(String name, String outcome, String detail) {
    }

    /**
     * One Account Protection Programme claim as the claims index holds it: its highest version.
     * {@code payout} and {@code payoutUsd} are set once approved; the decision fields once decided.
     */
    public record ClaimView(String claimId, String userId, String status, String eligibility,
                            List<ClaimCondition> conditions, List<String> outstanding, List<AssetAmount> loss,
                            BigDecimal lossUsd, List<AssetAmount> payout, BigDecimal payoutUsd, String decision,
                            String decisionReason, String decidedBy, String decisionApprovedBy, Instant decidedAt,
                            Instant openedAt, String openedBy, long version, Instant updatedAt) {
        /** Not decided yet: awaiting documents or under review. */
        public boolean pending() {
            return !"approved".equals(status) && !"denied".equals(status);
        }
    }

    /**
     * An incident's claims counted: {@code eligible} by the conditions the record decides;
     * {@code paidUsd} the payouts of the approved claims (what the programme pays); {@code pending}
     * the claims not decided yet, and {@code pendingLossUsd} their losses (what may still be paid,
     * before the programme limit). Exact sums of the indexed decimals.
     */
    public record ClaimTotals(int claims, int eligible, int approved, BigDecimal paidUsd, int denied, int pending,
                              BigDecimal pendingLossUsd, BigDecimal lossUsd) {
    }

    /** An incident's claims, by user, and their totals. */
    public record IncidentClaims(String incidentId, List<ClaimView> claims, ClaimTotals totals) {
    }

    /**
     * Every claim of the incident, sorted by user: pages of {@code search_after} on the claim id,
     * so an incident of any size is listed whole and the totals are exact. No claims: the incident
     * must exist ({@link UnknownIdException} otherwise), and the answer is an empty list.
     */
    public IncidentClaims claims(String incidentId) {
        List<ClaimView> out = new ArrayList<>();
        forEachPage(claims, context.claimsPage, term("incident_id", incidentId), List.of(byKeyword("claim_id")),
                doc -> out.add(claimView(doc)));
        if (out.isEmpty()) incidentLookup.incidentDoc(incidentId); // unknown id: exit 2, not "no claims"
        out.sort(Comparator.comparing(ClaimView::userId, Comparator.nullsLast(Comparator.naturalOrder()))
                .thenComparing(ClaimView::claimId));
        return new IncidentClaims(incidentId, List.copyOf(out), totals(out));
    }

    public static ClaimTotals totals(List<ClaimView> list) {
        int eligible = 0;
        int approved = 0;
        int denied = 0;
        int pending = 0;
        BigDecimal paid = BigDecimal.ZERO;
        BigDecimal pendingLoss = BigDecimal.ZERO;
        BigDecimal loss = BigDecimal.ZERO;
        for (ClaimView c : list) {
            if ("eligible".equals(c.eligibility())) eligible++;
            BigDecimal l = c.lossUsd() == null ? BigDecimal.ZERO : c.lossUsd();
            loss = loss.add(l);
            if ("approved".equals(c.status())) {
                approved++;
                if (c.payoutUsd() != null) paid = paid.add(c.payoutUsd());
            } else if ("denied".equals(c.status())) {
                denied++;
            } else {
                pending++;
                pendingLoss = pendingLoss.add(l);
            }
        }
        return new ClaimTotals(list.size(), eligible, approved, paid, denied, pending, pendingLoss, loss);
    }

    /** A claim document read field by field: its times may be RFC 3339 strings or epoch millis. */
    static ClaimView claimView(JsonNode d) {
        List<ClaimCondition> conditions = new ArrayList<>();
        for (JsonNode c : d.path("conditions")) {
            conditions.add(new ClaimCondition(text(c, "/name"), text(c, "/outcome"), text(c, "/detail")));
        }
        List<String> outstanding = new ArrayList<>();
        for (JsonNode o : d.path("outstanding")) outstanding.add(o.asText());
        return new ClaimView(text(d, "/claim_id"), text(d, "/user_id"), text(d, "/status"), text(d, "/eligibility"),
                List.copyOf(conditions), List.copyOf(outstanding), assetAmounts(d.path("loss")),
                decimal(d.path("loss_usd")), assetAmounts(d.path("payout")), decimal(d.path("payout_usd")),
                text(d, "/decision"), text(d, "/decision_reason"), text(d, "/decided_by"),
                text(d, "/decision_approved_by"), time(d.path("decided_at")), time(d.path("opened_at")),
                text(d, "/opened_by"), d.path("version").asLong(), time(d.path("updated_at")));
    }

    private static List<AssetAmount> assetAmounts(JsonNode list) {
        List<AssetAmount> out = new ArrayList<>();
        for (JsonNode a : list) {
            out.add(new AssetAmount(text(a, "/asset"), text(a, "/amount"), decimal(a.path("usd_value")),
                    a.path("withdrawals").asInt()));
        }
        return List.copyOf(out);
    }

    /** A decimal as written (a JSON number, or a string if ever so); null when absent. */
    private static BigDecimal decimal(JsonNode n) {
        if (n.isNumber()) return n.decimalValue();
        if (n.isTextual()) return new BigDecimal(n.asText());
        return null;
    }

    private static Instant time(JsonNode n) {
        if (n.isNumber()) return Instant.ofEpochMilli(n.asLong());
        if (n.isTextual()) return Times.parse(n.asText());
        return null;
    }
}
