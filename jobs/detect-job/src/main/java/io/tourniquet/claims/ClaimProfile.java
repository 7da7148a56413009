package io.tourniquet.claims;

import java.util.ArrayList;
import java.util.List;

/**
 * What one account's record says for the programme's conditions (a Flink POJO in keyed state):
 * when the anti-phishing code was first set, when the record starts, the 2FA policy changes, and
 * recent logins from jailbroken devices. Profile state like the anti-phishing code: kept for the
 * account's life, except the jailbroken logins, which drain after
 * {@code claims.jailbroken-login-retention}.
 */
public class ClaimProfile {
    /** Most 2FA policy changes kept: they are rare, and the latest before a claim is what counts. */
    static final int MAX_POLICIES = 32;
    /** Most jailbroken logins kept (the earliest in a window is what a claim names). */
    static final int MAX_JAILBROKEN = 64;

    /** Event time (ms) of the first {@code anti_phishing_code_set}, or null. */
    public Long firstCodeSetAt;
    /** Event time (ms) of the earliest login or account change seen, or null. */
    public Long earliestEventAt;
    /** Sorted by event time. */
    public List<Policy> policies = new ArrayList<>();
    /** Sorted by event time. */
    public List<JailbrokenLogin> jailbroken = new ArrayList<>();

    public ClaimProfile() {}

    /** One {@code mfa_policy_changed}: which transaction types then required 2FA. */
    public static class Policy {
        public long eventTime;
        public boolean login;
        public boolean withdrawal;
        public boolean whitelistAddress;
        public boolean settings;

        public Policy() {}

        boolean requires(String type) {
            return switch (type) {
                case "login" -> login;
                case "withdrawal" -> withdrawal;
                case "whitelist_address" -> whitelistAddress;
                case "settings" -> settings;
                default -> false;
            };
        }
    }

    /** One login from a jailbroken device. */
    public static class JailbrokenLogin {
        public long eventTime;
        public String deviceId;
        public String sessionId;
        public String ip;

        public JailbrokenLogin() {}
    }
}
