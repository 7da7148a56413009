package io.tourniquet.testing;

import io.tourniquet.model.Event;
import io.tourniquet.util.Times;
import java.time.Instant;

/** Builders for parsed events with fixed times, for harness tests. */
public final class TestEvents {
    /** 17 January 2022, 10:00 UTC: every test time is an offset from here. */
    public static final long T0 = Instant.parse("2022-01-17T10:00:00Z").toEpochMilli();

    private TestEvents() {}

    private static Event base(Event.Kind kind, String eventId, String user, long time) {
        Event e = new Event();
        e.kind = kind;
        e.eventId = eventId;
        e.userId = user;
        e.eventTime = time;
        e.eventTimeRaw = Times.format(time);
        e.sessionId = "s-" + user;
        e.ip = "203.0.113.7";
        e.deviceId = "d-" + user;
        return e;
    }

    public static Event mfa(String eventId, String user, String action, String challengeId, String purpose,
                            String withdrawalId, long time) {
        Event e = base(Event.Kind.MFA, eventId, user, time);
        e.action = action;
        e.challengeId = challengeId;
        e.method = "totp";
        e.purpose = purpose;
        e.withdrawalId = withdrawalId;
        return e;
    }

    public static Event verified(String eventId, String user, String challengeId, String withdrawalId, long time) {
        return mfa(eventId, user, "challenge_verified", challengeId, "withdrawal", withdrawalId, time);
    }

    public static Event failed(String eventId, String user, String challengeId, String withdrawalId, long time) {
        return mfa(eventId, user, "challenge_failed", challengeId, "withdrawal", withdrawalId, time);
    }

    public static Event withdrawal(String eventId, String user, String withdrawalId, String status, long time) {
        Event e = base(Event.Kind.WITHDRAWAL, eventId, user, time);
        e.withdrawalId = withdrawalId;
        e.status = status;
        e.asset = "BTC";
        e.network = "bitcoin";
        e.amount = "1.25000000";
        e.usdValue = 52_500.0;
        e.destinationAddress = "bc1qattacker";
        return e;
    }

    public static Event approval(String eventId, String user, String withdrawalId, String challengeId, long time) {
        Event e = withdrawal(eventId, user, withdrawalId, "approved", time);
        e.mfaChallengeId = challengeId;
        e.approvalChannel = "internal";
        e.approvalService = "withdrawal-approver";
        e.approvalServiceVersion = "2.14.0-rc1";
        return e;
    }

    /** A withdrawal request to {@code address} worth {@code usd}, from an account holding {@code balanceUsd}. */
    public static Event requested(String eventId, String user, String withdrawalId, String address, double usd,
                                  double balanceUsd, long time) {
        Event e = withdrawal(eventId, user, withdrawalId, "requested", time);
        e.destinationAddress = address;
        e.usdValue = usd;
        e.accountBalanceUsd = balanceUsd;
        return e;
    }

    /** An approval (with a challenge id; whether it is valid does not matter here) worth {@code usd}. */
    public static Event approved(String eventId, String user, String withdrawalId, double usd, long time) {
        Event e = approval(eventId, user, withdrawalId, "c-" + withdrawalId, time);
        e.usdValue = usd;
        return e;
    }

    public static Event accountChange(String eventId, String user, String action, long time) {
        Event e = base(Event.Kind.ACCOUNT_CHANGE, eventId, user, time);
        e.action = action;
        return e;
    }

    public static Event whitelistAdded(String eventId, String user, String address, long time) {
        Event e = accountChange(eventId, user, "whitelist_address_added", time);
        e.address = address;
        e.asset = "BTC";
        e.network = "bitcoin";
        return e;
    }

    public static Event whitelistRemoved(String eventId, String user, String address, long time) {
        Event e = whitelistAdded(eventId, user, address, time);
        e.action = "whitelist_address_removed";
        return e;
    }

    public static Event login(String eventId, String user, long time) {
        Event e = base(Event.Kind.LOGIN, eventId, user, time);
        e.outcome = "success";
        e.authMethod = "password";
        e.deviceJailbroken = false;
        return e;
    }
}
