package io.tourniquet.bench;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.tourniquet.config.Settings;
import io.tourniquet.config.TourniquetConfig;
import io.tourniquet.json.Json;
import io.tourniquet.util.Times;

/**
 * Benign background traffic, as an endless sequence: event {@code seq} is a pure function of
 * {@code seq} and the send time, so any rate can draw from it and tests can check it whole. Each
 * session is one user's properly authorized withdrawal, in the order a real one happens: login,
 * request, 2FA challenge issued and verified, approval naming that challenge by the legitimate
 * backend, broadcast, completion. Sessions go round-robin over a pool of users, so every per-user
 * state (deduplication, challenges, anomaly profile, pending withdrawals, claim facts) is in use.
 *
 * <p>None of it may alert, or the freeze latency measured beside it would be measured on a job
 * busy containing its own background: the approval is 2FA'd, the destination is the user's own
 * address and never whitelisted (no new-address withdrawal), and the amounts are a small share of
 * the balance (no account drain). Event time is the send time: the job sees live traffic.
 */
public final class BenignSessions {
    /** login, requested, challenge issued, challenge verified, approved, broadcast, completed. */
    public static final int EVENTS_PER_SESSION = 7;
    /** The id background users share as a prefix, so their commands can be told from the timed ones'. */
    public static final String USER_PREFIX = "bg-";

    /** One record to produce. */
    public record Out(String topic, String key, String json) {}

    private final String logins;
    private final String mfa;
    private final String withdrawals;
    private final String run;
    private final int users;

    /**
     * @param run   makes ids unique across bench runs
     * @param users the pool the sessions cycle through
     */
    public BenignSessions(TourniquetConfig cfg, String run, int users) {
        this(cfg.get(Settings.TOPIC_LOGINS), cfg.get(Settings.TOPIC_MFA), cfg.get(Settings.TOPIC_WITHDRAWALS), run, users);
    }

    public BenignSessions(String logins, String mfa, String withdrawals, String run, int users) {
        if (users < 1) throw new IllegalArgumentException("users must be >= 1: " + users);
        this.logins = logins;
        this.mfa = mfa;
        this.withdrawals = withdrawals;
        this.run = run;
        this.users = users;
    }

    public Out event(long seq, long nowMillis) {
        long session = seq / EVENTS_PER_SESSION;
        int step = (int) (seq % EVENTS_PER_SESSION);
        int u = (int) (session % users);
        String user = USER_PREFIX + u;
        String withdrawal = "bgw-" + run + "-" + session;
        String challenge = "bgc-" + run + "-" + session;
        ObjectNode n = Json.MAPPER.createObjectNode();
        n.put("event_id", "bge-" + run + "-" + seq);
        n.put("event_time", Times.format(nowMillis));
        n.put("user_id", user);
        // The wallet system settles: no session, IP or device on broadcast and completion.
        boolean bySystem = step >= 5;
        n.put("session_id", bySystem ? null : "bgs-" + run + "-" + session);
        n.put("ip", bySystem ? null : "10." + (u >> 16 & 0xff) + "." + (u >> 8 & 0xff) + "." + (u & 0xff));
        n.put("device_id", bySystem ? null : "bgd-" + u);
        String topic = switch (step) {
            case 0 -> {
                n.put("outcome", "success");
                n.put("auth_method", "password");
                n.put("device_jailbroken", false);
                n.put("user_agent", "Mozilla/5.0 (bench)");
                ObjectNode geo = n.putObject("geo");
                geo.put("country", "DE");
                geo.put("lat", 52.52);
                geo.put("lon", 13.405);
                yield logins;
            }
            case 1 -> {
                withdrawal(n, withdrawal, user, "requested");
                n.put("account_balance_usd", 250_000.0);
                yield withdrawals;
            }
            case 2, 3 -> {
                n.put("action", step == 2 ? "challenge_issued" : "challenge_verified");
                n.put("challenge_id", challenge);
                n.put("method", "totp");
                n.put("purpose", "withdrawal");
                n.put("withdrawal_id", withdrawal);
                yield mfa;
            }
            case 4 -> {
                withdrawal(n, withdrawal, user, "approved");
                n.put("mfa_challenge_id", challenge);
                n.put("approval_channel", "web");
                n.put("approval_service", "withdrawal-approver");
                n.put("approval_service_version", "2.13.4");
                yield withdrawals;
            }
            default -> {
                withdrawal(n, withdrawal, user, step == 5 ? "broadcast" : "completed");
                n.put("tx_hash", "0xbgtx" + run + session);
                yield withdrawals;
            }
        };
        return new Out(topic, user, Json.toString(n));
    }

    private static void withdrawal(ObjectNode n, String withdrawal, String user, String status) {
        n.put("withdrawal_id", withdrawal);
        n.put("status", status);
        n.put("asset", "USDC");
        n.put("network", "ethereum");
        n.put("amount", "25.00");
        n.put("usd_value", 25.0);
        n.put("destination_address", "0xbgown" + user);
    }
}
