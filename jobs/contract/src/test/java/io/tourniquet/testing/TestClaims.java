package io.tourniquet.testing;

import io.tourniquet.model.AssetImpact;
import io.tourniquet.model.Claim;
import io.tourniquet.util.Times;
import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.List;

/**
 * Claim records as the detect job publishes them on {@code tourniquet.claims}, built by hand for
 * the index and forensics tests: the lifecycle of one claim (opened, documents received, decided),
 * each step a new version of the same claim.
 */
public final class TestClaims {
    public static final long T0 = Times.parse("2022-01-17T12:00:00Z").toEpochMilli();

    private TestClaims() {}

    /** Version 1: opened on the incident's resolution, both documents outstanding. */
    public static Claim opened(String incidentId, String userId, String asset, String amount, String usd,
                               String eligibility, List<Claim.Condition> conditions) {
        Claim c = new Claim();
        c.claimId = "claim-" + incidentId + "-" + userId;
        c.userId = userId;
        c.incidentId = incidentId;
        c.status = Claim.AWAITING_DOCUMENTS;
        c.openedAt = T0;
        c.openedBy = "tourniquet";
        Claim.ClaimWithdrawal w = new Claim.ClaimWithdrawal();
        w.withdrawalId = "w-" + userId;
        w.alertId = "alert-" + userId;
        w.asset = asset;
        w.amount = amount;
        w.usdValue = new BigDecimal(usd);
        w.eventTime = T0 - 3_600_000L;
        c.withdrawals = new ArrayList<>(List.of(w));
        c.loss = new ArrayList<>(List.of(new AssetImpact(asset, amount, new BigDecimal(usd), 1)));
        c.lossUsd = new BigDecimal(usd);
        c.conditions = new ArrayList<>(conditions);
        c.eligibility = eligibility;
        c.documents = new ArrayList<>(Claim.DOCUMENTS.stream().map(Claim.Document::new).toList());
        c.outstanding = new ArrayList<>(Claim.DOCUMENTS);
        c.limitUsd = new BigDecimal("250000");
        c.history = new ArrayList<>(List.of(change(1, "opened", "tourniquet", T0)));
        c.version = 1;
        c.updatedAt = T0;
        return c;
    }

    /** The next version with {@code document} received (recorded by {@code analyst}). */
    public static Claim received(Claim previous, String document, String analyst) {
        Claim c = copy(previous);
        c.version = previous.version + 1;
        c.updatedAt = T0 + c.version * 60_000L;
        for (Claim.Document d : c.documents) {
            if (d.name.equals(document)) {
                d.received = true;
                d.receivedAt = c.updatedAt;
                d.recordedBy = analyst;
            }
        }
        c.outstanding.remove(document);
        if (c.outstanding.isEmpty()) c.status = Claim.UNDER_REVIEW;
        c.history.add(change(c.version, "document_received", analyst, c.updatedAt));
        return c;
    }

    /** The next version, approved by {@code analyst} (and {@code second}): the loss paid, capped by the limit. */
    public static Claim approved(Claim previous, String analyst, String second) {
        Claim c = copy(previous);
        c.version = previous.version + 1;
        c.updatedAt = T0 + c.version * 60_000L;
        c.status = Claim.APPROVED;
        c.decision = "approve";
        c.decisionReason = "conditions met, documents received";
        c.decidedBy = analyst;
        c.decisionApprovedBy = second;
        c.decidedAt = c.updatedAt;
        c.payout = new ArrayList<>(c.loss.stream().map(l -> new AssetImpact(l.asset, l.amount, l.usdValue,
                l.withdrawals)).toList());
        c.payoutUsd = c.lossUsd.min(c.limitUsd);
        c.history.add(change(c.version, "approved", analyst, c.updatedAt));
        return c;
    }

    /** The next version, denied by {@code analyst}. */
    public static Claim denied(Claim previous, String analyst, String reason) {
        Claim c = copy(previous);
        c.version = previous.version + 1;
        c.updatedAt = T0 + c.version * 60_000L;
        c.status = Claim.DENIED;
        c.decision = "deny";
        c.decisionReason = reason;
        c.decidedBy = analyst;
        c.decidedAt = c.updatedAt;
        c.history.add(change(c.version, "denied", analyst, c.updatedAt));
        return c;
    }

    public static List<Claim.Condition> conditions(String mfa, String code, String device) {
        return List.of(new Claim.Condition("mfa_all_types", mfa, "2FA policy: " + mfa),
                new Claim.Condition("anti_phishing_code", code, "anti-phishing code: " + code),
                new Claim.Condition("no_jailbroken_device", device, "jailbroken logins: " + device));
    }

    private static Claim.Change change(long version, String what, String by, long at) {
        Claim.Change ch = new Claim.Change();
        ch.version = version;
        ch.change = what;
        ch.by = by;
        ch.at = at;
        ch.requestId = what.equals("opened") ? null : "req-" + version;
        return ch;
    }

    /** A deep copy through the wire format, so versions never share lists. */
    private static Claim copy(Claim c) {
        return io.tourniquet.json.Json.fromBytes(io.tourniquet.json.Json.toBytes(c), Claim.class);
    }
}
