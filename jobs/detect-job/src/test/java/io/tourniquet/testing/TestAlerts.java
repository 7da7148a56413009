package io.tourniquet.testing;

import io.tourniquet.model.Alert;
import io.tourniquet.rules.catalog.RuleCatalog;
import java.util.List;

/** Builders for the alerts per-user detectors raise, as input to the platform detectors' tests. */
public final class TestAlerts {
    private TestAlerts() {}

    private static Alert base(String rule, String alertId, String user, long time) {
        Alert a = new Alert();
        a.alertId = alertId;
        a.rule = rule;
        a.ruleVersion = 1;
        a.eventTime = time;
        a.detectedAt = time;
        a.userId = user;
        a.summary = rule + " of " + user;
        a.evidence.eventIds.add("ev-" + alertId);
        return a;
    }

    /**
     * An alert of any rule about withdrawal {@code w-<alertId>}, with the rule's severity, raised at
     * {@code detectedAt}: what the tracker, the index and the forensics see of it.
     */
    public static Alert of(String rule, String alertId, String user, long time, long detectedAt) {
        Alert a = base(rule, alertId, user, time);
        a.severity = RuleCatalog.severityOf(rule);
        a.detectedAt = detectedAt;
        a.withdrawalId = "w-" + alertId;
        return a;
    }

    /** An unauthorized approval of withdrawal {@code w-<alertId>} to {@code bc1qattacker}. */
    public static Alert unauthorized(String alertId, String user, long time) {
        Alert a = base(RuleCatalog.UNAUTHORIZED_APPROVAL, alertId, user, time);
        a.withdrawalId = "w-" + alertId;
        a.evidence.reason = "no_challenge";
        a.evidence.asset = "BTC";
        a.evidence.network = "bitcoin";
        a.evidence.amount = "1.25000000";
        a.evidence.usdValue = 52_500.0;
        a.evidence.destinationAddress = "bc1qattacker";
        return a;
    }

    /** An account drain over two withdrawals of the user (no single withdrawal id). */
    public static Alert accountDrain(String alertId, String user, long time) {
        Alert a = base(RuleCatalog.ACCOUNT_DRAIN, alertId, user, time);
        a.evidence.eventIds.add("ev2-" + alertId);
        a.evidence.withdrawalIds = List.of("wa-" + alertId, "wb-" + alertId);
        a.evidence.windowUsd = 9_000.0;
        a.evidence.balanceUsd = 10_000.0;
        return a;
    }

    /** A withdrawal to an address the user whitelisted less than the minimum age before. */
    public static Alert newAddress(String alertId, String user, String address, long time) {
        Alert a = base(RuleCatalog.NEW_ADDRESS_WITHDRAWAL, alertId, user, time);
        a.withdrawalId = "w-" + alertId;
        a.evidence.asset = "ETH";
        a.evidence.network = "ethereum";
        a.evidence.amount = "10.5";
        a.evidence.usdValue = 33_000.0;
        a.evidence.destinationAddress = address;
        return a;
    }
}
