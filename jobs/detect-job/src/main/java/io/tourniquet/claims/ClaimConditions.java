package io.tourniquet.claims;

import io.tourniquet.model.Claim;
import io.tourniquet.util.Times;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * The programme's record-decidable conditions for one claim, with the same names, meanings and
 * settings as {@code forensics app-eligibility} (which answers the same question from
 * Elasticsearch): {@code mfa_all_types}, {@code anti_phishing_code}, {@code no_jailbroken_device}.
 * Each is {@code pass}, {@code fail} or {@code review} (the record cannot decide it). Pure.
 */
final class ClaimConditions {
    static final String PASS = "pass";
    static final String FAIL = "fail";
    static final String REVIEW = "review";

    static final String ELIGIBLE = "eligible";
    static final String NOT_ELIGIBLE = "not_eligible";
    static final String NEEDS_MANUAL_REVIEW = "needs_manual_review";

    private ClaimConditions() {}

    /**
     * @param at the user's first unauthorized withdrawal (event time, ms)
     * @param windowStart the incident's window for jailbroken logins (event time, ms)
     */
    static List<Claim.Condition> check(ClaimProfile p, long at, long windowStart, long windowEnd,
                                       Duration codeMinAge, List<String> mfaTypes) {
        List<Claim.Condition> out = new ArrayList<>();
        out.add(mfa(p, at, mfaTypes));
        out.add(code(p, at, codeMinAge));
        out.add(jailbreak(p, windowStart, windowEnd));
        return out;
    }

    static String eligibility(List<Claim.Condition> conditions) {
        if (conditions.stream().anyMatch(c -> FAIL.equals(c.outcome))) return NOT_ELIGIBLE;
        if (conditions.stream().anyMatch(c -> REVIEW.equals(c.outcome))) return NEEDS_MANUAL_REVIEW;
        return ELIGIBLE;
    }

    private static Claim.Condition mfa(ClaimProfile p, long at, List<String> types) {
        String name = "mfa_all_types";
        ClaimProfile.Policy latest = null;
        for (ClaimProfile.Policy policy : p.policies) {
            if (policy.eventTime <= at) latest = policy;
        }
        if (latest == null) return new Claim.Condition(name, REVIEW, "no 2FA policy on record before " + Times.format(at));
        ClaimProfile.Policy in = latest;
        List<String> off = types.stream().filter(t -> !in.requires(t)).toList();
        String of = " (policy of " + Times.format(latest.eventTime) + ")";
        if (!off.isEmpty()) return new Claim.Condition(name, FAIL, "2FA off for " + String.join(", ", off) + of);
        return new Claim.Condition(name, PASS, "2FA required for " + String.join(", ", types) + of);
    }

    private static Claim.Condition code(ClaimProfile p, long at, Duration minAge) {
        String name = "anti_phishing_code";
        long cutoff = at - minAge.toMillis();
        String need = "needed by " + Times.format(cutoff) + ", " + days(minAge.toMillis()) + " before " + Times.format(at);
        if (p.firstCodeSetAt == null) {
            if (p.earliestEventAt != null && p.earliestEventAt > cutoff) {
                return new Claim.Condition(name, REVIEW, "none on record, but the record starts "
                        + Times.format(p.earliestEventAt) + ", after the cut-off (" + need + ")");
            }
            return new Claim.Condition(name, FAIL, "never set (" + need + ")");
        }
        long age = at - p.firstCodeSetAt;
        if (p.firstCodeSetAt > cutoff) {
            return new Claim.Condition(name, FAIL, "first set " + Times.format(p.firstCodeSetAt) + ", " + days(age)
                    + " before (" + need + ")");
        }
        return new Claim.Condition(name, PASS, "set " + Times.format(p.firstCodeSetAt) + ", " + days(age) + " before "
                + Times.format(at));
    }

    private static Claim.Condition jailbreak(ClaimProfile p, long from, long to) {
        String name = "no_jailbroken_device";
        String window = Times.format(from) + " to " + Times.format(to);
        for (ClaimProfile.JailbrokenLogin l : p.jailbroken) {
            if (l.eventTime >= from && l.eventTime <= to) {
                return new Claim.Condition(name, FAIL, "login from jailbroken device " + l.deviceId + " at "
                        + Times.format(l.eventTime) + " (session " + l.sessionId + ", ip " + l.ip + ")");
            }
        }
        return new Claim.Condition(name, PASS, "no login from a jailbroken device from " + window);
    }

    /** "21.5 days", "22 days": whole days unless a fraction matters. */
    static String days(long millis) {
        double d = millis / 86_400_000.0;
        return d == Math.rint(d) ? (long) d + " days" : String.format(java.util.Locale.ROOT, "%.1f days", d);
    }
}
