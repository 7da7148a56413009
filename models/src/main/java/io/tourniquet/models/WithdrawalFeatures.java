package io.tourniquet.models;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The withdrawal feature vector, defined once: its order, names, units and the one function that
 * computes it. The detect job (at each approval, from keyed state) and the trainer (from logged
 * rows) both go through {@link #compute}, so training and serving cannot disagree about what a
 * feature means.
 *
 * <p>Changing a feature's name, unit or position changes {@link #SCHEMA_HASH}; a model trained on
 * another schema is then refused at load. Bump {@link #SCHEMA_VERSION} with any such change, and
 * also when a formula changes without its unit text changing (the units are written as the exact
 * transformation to make that rare).
 */
public final class WithdrawalFeatures {

    /** Bump on any change of features, order or formulas. */
    public static final int SCHEMA_VERSION = 1;

    /** Added to both sides of the amount ratio so that dust amounts do not produce huge ratios. */
    public static final double AMOUNT_SMOOTHING_USD = 10.0;
    /** Login age and approval delay are capped at one day: beyond that, "long" is all that matters. */
    public static final double MAX_SECONDS = 86_400.0;
    /** Destination age cap (about 14 months), also the value for a never-whitelisted destination. */
    public static final double MAX_DESTINATION_AGE_HOURS = 10_000.0;
    /** Withdrawals counted in the last hour, capped: 20 is already a burst. */
    public static final double MAX_WITHDRAWALS_LAST_HOUR = 20.0;
    public static final long HOUR_MS = 3_600_000L;
    private static final long DAY_MS = 86_400_000L;

    public static final int AMOUNT_VS_MEDIAN = 0;
    public static final int BALANCE_SHARE = 1;
    public static final int LOGIN_AGE = 2;
    public static final int NEW_DEVICE = 3;
    public static final int NEW_IP = 4;
    public static final int NEW_COUNTRY = 5;
    public static final int JAILBROKEN = 6;
    public static final int DESTINATION_AGE = 7;
    public static final int APPROVAL_DELAY = 8;
    public static final int WITHDRAWALS_LAST_HOUR = 9;
    public static final int HOUR_SIN = 10;
    public static final int HOUR_COS = 11;

    /** The features, in vector order (the index constants above point into this list). */
    public static final List<FeatureSpec> FEATURES = List.of(
            new FeatureSpec("amount_vs_median", "ln((usd+10)/(median_past_usd+10)); median 0 without history",
                    "The withdrawal's US$ value against the median of the user's earlier withdrawals, as a log ratio.",
                    "A takeover moves far more than the owner usually does, in one go; the log makes 10x and"
                            + " 1/10x symmetric and tames the heavy tail of amounts. Without history nothing"
                            + " vouches for the amount, so it is compared with US$0."),
            new FeatureSpec("balance_share", "usd/account_balance_usd clamped to [0,1]; 1 without balance",
                    "Share of the account's balance (just before the request) that this withdrawal takes.",
                    "Attackers empty the account; owners rarely withdraw everything at once."),
            new FeatureSpec("login_age", "ln(1+seconds) from session login to request, seconds capped at 86400;"
                            + " cap when the login is unknown",
                    "How long after the session's login the withdrawal was requested.",
                    "A thief logs in to withdraw and does so within a minute or two; owners trade, browse"
                            + " and withdraw at any point of a session."),
            new FeatureSpec("new_device", "0/1; 1 when the device is null",
                    "1 when the session's login device was never seen in the user's earlier logins.",
                    "Stolen credentials are used from the attacker's device, not the owner's."),
            new FeatureSpec("new_ip", "0/1; 1 when the ip is null",
                    "1 when the session's login IP was never seen in the user's earlier logins.",
                    "Attackers come from their own networks or proxies; owners reuse a few IPs."),
            new FeatureSpec("new_country", "0/1; 1 when the country is null",
                    "1 when the session's login country was never seen in the user's earlier logins.",
                    "Owners rarely change country between sessions; a takeover often does. Weaker than"
                            + " the device (travel, VPNs), hence a separate feature."),
            new FeatureSpec("jailbroken", "0/1",
                    "1 when the session's login reported a jailbroken or rooted device.",
                    "Emulators and rooted devices are the attacker's tooling for faking fingerprints;"
                            + " few owners use them."),
            new FeatureSpec("destination_age", "ln(1+hours) from whitelisting to request, hours capped at 10000;"
                            + " cap when never whitelisted",
                    "Age of the destination address on the user's whitelist at the request.",
                    "The takeover pattern is: add the attacker's address, then withdraw to it at once."
                            + " Old addresses and addresses the owner never whitelisted get the cap."),
            new FeatureSpec("approval_delay", "ln(1+seconds) from request to approval, seconds capped at 86400",
                    "Time between the withdrawal request and its approval.",
                    "A person reads the MFA code and types it (tens of seconds); an attacker's script, or"
                            + " an approval that skipped MFA, approves within a second."),
            new FeatureSpec("withdrawals_last_hour", "count of earlier requests in [t-1h, t), capped at 20",
                    "The user's withdrawals requested in the hour before this one.",
                    "A drain is split into several withdrawals to stay under per-withdrawal limits."),
            new FeatureSpec("hour_sin", "sin(2*pi*utc_second_of_day/86400)",
                    "Time of day of the request (UTC), sine component.",
                    "Attackers act while the owner sleeps; sine and cosine keep 23:59 next to 00:00."
                            + " UTC mixes the users' time zones, which blurs this feature."),
            new FeatureSpec("hour_cos", "cos(2*pi*utc_second_of_day/86400)",
                    "Time of day of the request (UTC), cosine component.",
                    "See hour_sin: together they place the time on a circle."));

    public static final int COUNT = FEATURES.size();

    /** sha256 (lowercase hex) of the canonical names, units and order of {@link #FEATURES}. */
    public static final String SCHEMA_HASH = schemaHash(FEATURES);

    private static final List<String> NAMES = FEATURES.stream().map(FeatureSpec::name).toList();

    private WithdrawalFeatures() {}

    /**
     * The feature vector of one withdrawal: a pure function of the user's history (as of the
     * session's login) and the withdrawal's context. Earlier withdrawals at or after the request
     * time are ignored, so replayed or out-of-order state gives the same answer.
     */
    public static double[] compute(UserHistory history, WithdrawalContext c) {
        long t = c.requestTime();
        double[] x = new double[COUNT];

        List<UserHistory.PastWithdrawal> earlier = history.pastWithdrawals().stream()
                .filter(p -> p.requestTime() < t)
                .toList();
        double[] pastUsd = earlier.stream().mapToDouble(UserHistory.PastWithdrawal::usd).toArray();
        double median = pastUsd.length == 0 ? 0.0 : median(pastUsd);
        x[AMOUNT_VS_MEDIAN] = Math.log((c.usdValue() + AMOUNT_SMOOTHING_USD) / (median + AMOUNT_SMOOTHING_USD));

        Double balance = c.accountBalanceUsd();
        x[BALANCE_SHARE] = balance == null || balance <= 0 ? 1.0 : clamp(c.usdValue() / balance, 0.0, 1.0);

        x[LOGIN_AGE] = c.loginTime() == null
                ? Math.log1p(MAX_SECONDS)
                : Math.log1p(clamp((t - c.loginTime()) / 1000.0, 0.0, MAX_SECONDS));

        x[NEW_DEVICE] = isNew(c.loginDeviceId(), history.knownDevices());
        x[NEW_IP] = isNew(c.loginIp(), history.knownIps());
        x[NEW_COUNTRY] = isNew(c.loginCountry(), history.knownCountries());
        x[JAILBROKEN] = c.loginJailbroken() ? 1.0 : 0.0;

        x[DESTINATION_AGE] = c.destinationWhitelistedAt() == null
                ? Math.log1p(MAX_DESTINATION_AGE_HOURS)
                : Math.log1p(clamp((t - c.destinationWhitelistedAt()) / (double) HOUR_MS, 0.0,
                        MAX_DESTINATION_AGE_HOURS));

        x[APPROVAL_DELAY] = Math.log1p(clamp((c.approvalTime() - t) / 1000.0, 0.0, MAX_SECONDS));

        long lastHour = earlier.stream().filter(p -> p.requestTime() >= t - HOUR_MS).count();
        x[WITHDRAWALS_LAST_HOUR] = Math.min(lastHour, MAX_WITHDRAWALS_LAST_HOUR);

        double angle = 2 * Math.PI * (Math.floorMod(t, DAY_MS) / 1000.0) / 86_400.0;
        x[HOUR_SIN] = Math.sin(angle);
        x[HOUR_COS] = Math.cos(angle);
        return x;
    }

    /** Feature names in vector order. */
    public static List<String> names() {
        return NAMES;
    }

    /** Position of a feature by name; throws when there is no such feature. */
    public static int indexOf(String name) {
        int i = NAMES.indexOf(name);
        if (i < 0) {
            throw new IllegalArgumentException("no feature named " + name + " in schema v" + SCHEMA_VERSION);
        }
        return i;
    }

    /** The vector as an ordered name-to-value map (how it is logged and written to training data). */
    public static Map<String, Double> toMap(double[] x) {
        checkLength(x);
        Map<String, Double> m = new LinkedHashMap<>();
        for (int i = 0; i < COUNT; i++) {
            m.put(NAMES.get(i), x[i]);
        }
        return m;
    }

    /** The vector from a name-to-value map that names exactly the schema's features, all finite. */
    public static double[] fromMap(Map<String, ? extends Number> m) {
        if (!m.keySet().equals(new java.util.HashSet<>(NAMES))) {
            List<String> missing = new ArrayList<>(NAMES);
            missing.removeAll(m.keySet());
            List<String> extra = new ArrayList<>(m.keySet());
            extra.removeAll(NAMES);
            throw new IllegalArgumentException("features do not match schema v" + SCHEMA_VERSION
                    + ": missing " + missing + ", unknown " + extra);
        }
        double[] x = new double[COUNT];
        for (int i = 0; i < COUNT; i++) {
            Number v = m.get(NAMES.get(i));
            if (v == null || !Double.isFinite(v.doubleValue())) {
                throw new IllegalArgumentException("feature " + NAMES.get(i) + " is not a finite number: " + v);
            }
            x[i] = v.doubleValue();
        }
        return x;
    }

    /** Throws unless the vector has this schema's length and only finite values. */
    public static void checkLength(double[] x) {
        if (x == null || x.length != COUNT) {
            throw new IllegalArgumentException("a feature vector of schema v" + SCHEMA_VERSION + " has "
                    + COUNT + " values, got " + (x == null ? "null" : x.length));
        }
        for (int i = 0; i < COUNT; i++) {
            if (!Double.isFinite(x[i])) {
                throw new IllegalArgumentException("feature " + NAMES.get(i) + " is not finite: " + x[i]);
            }
        }
    }

    /**
     * sha256 (lowercase hex) of the canonical form of a feature list: one line per feature, in
     * order, {@code name TAB unit LF}. Descriptions and reasons are prose and are not hashed.
     */
    public static String schemaHash(List<FeatureSpec> features) {
        StringBuilder canonical = new StringBuilder();
        for (FeatureSpec f : features) {
            canonical.append(f.name()).append('\t').append(f.unit()).append('\n');
        }
        return sha256Hex(canonical.toString().getBytes(StandardCharsets.UTF_8));
    }

    static String sha256Hex(byte[] bytes) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every Java platform has SHA-256", e);
        }
    }

    /** Median of the values (mean of the middle two for an even count); the input is not changed. */
    static double median(double[] values) {
        double[] v = values.clone();
        Arrays.sort(v);
        int n = v.length;
        return n % 2 == 1 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2.0;
    }

    private static double isNew(String value, List<String> known) {
        return value == null || !known.contains(value) ? 1.0 : 0.0;
    }

    private static double clamp(double v, double lo, double hi) {
        return Math.max(lo, Math.min(hi, v));
    }
}
