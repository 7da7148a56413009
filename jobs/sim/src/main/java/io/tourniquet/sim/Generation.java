package io.tourniquet.sim;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.ObjectReader;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.tourniquet.config.TourniquetConfig;
import java.io.UncheckedIOException;
import java.math.BigDecimal;
import java.math.RoundingMode;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.Collections;

/**
 * One run of the simulator, and the world its scenarios share: users, sessions, the records
 * emitted so far, the ground truth's lists and the JSON of each topic. Ordinary users and their
 * anti-phishing history are generated here; the attack ({@link Attack}), the legitimate users each
 * rule must not mistake for one ({@link TrickyUsers}) and what producers get wrong
 * ({@link BrokenRecords}) are scenarios over this world. Everything is drawn from one
 * {@link SplittableRandom} in a fixed order, so a config always yields the same records.
 */
final class Generation {

    /** Where the verified-within-skew case stamps its verification, after the approval. */
    static final Duration INSIDE_SKEW = Duration.ofSeconds(3);
    /** Where the verification-after-skew case stamps its verification, after the approval. */
    static final Duration OUTSIDE_SKEW = Duration.ofSeconds(8);
    /** How long before the approval the verification-too-old case verifies. */
    static final Duration TOO_OLD = Duration.ofMinutes(11);

    static final long SECOND = 1_000L;
    static final long MINUTE = 60 * SECOND;
    static final long HOUR = 60 * MINUTE;
    private static final long DAY = 24 * HOUR;

    private static final TrickyKind[] TRICKY_ORDER = {
        TrickyKind.LATE_VERIFICATION, TrickyKind.VERIFIED_WITHIN_SKEW,
        TrickyKind.FAILED_THEN_VERIFIED, TrickyKind.DUPLICATE};
    private static final int DONOR_INDEX = TRICKY_ORDER.length;

    /** Anti-phishing history of a user: set once (most), set twice, or never set. */
    private static final byte CODE_ONCE = 0;
    private static final byte CODE_TWICE = 1;
    private static final byte CODE_NEVER = 2;

    private static final String[][] COUNTRIES = {
        {"SG", "1.3521", "103.8198"}, {"US", "40.7128", "-74.0060"}, {"GB", "51.5072", "-0.1276"},
        {"DE", "52.5200", "13.4050"}, {"JP", "35.6762", "139.6503"}, {"AU", "-33.8688", "151.2093"},
        {"CA", "43.6532", "-79.3832"}, {"FR", "48.8566", "2.3522"}, {"KR", "37.5665", "126.9780"},
        {"BR", "-23.5558", "-46.6396"}, {"PH", "14.5995", "120.9842"}, {"AE", "25.2048", "55.2708"}};
    static final String[][] ATTACKER_GEO = {{"NL", "52.3740", "4.8897"}, {"RO", "44.4268", "26.1025"}};
    private static final String[] BROWSER_AGENTS = {
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/97.0.4692.71 Safari/537.36",
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/15.2 Safari/605.1.15",
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:96.0) Gecko/20100101 Firefox/96.0",
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/97.0.4692.71 Safari/537.36"};
    private static final String[] APP_AGENTS = {
        "ExchangeApp/3.28.1 (iPhone; iOS 15.2; Scale/3.00)",
        "ExchangeApp/3.28.1 (Android 12; Pixel 6)",
        "ExchangeApp/3.27.4 (Android 11; SM-G991B)",
        "ExchangeApp/3.28.0 (iPad; iPadOS 15.1; Scale/2.00)"};
    static final String ATTACKER_AGENT =
            "Mozilla/5.0 (X11; Linux x86_64; rv:95.0) Gecko/20100101 Firefox/95.0";

    final SimulationConfig cfg;
    final SplittableRandom rng;
    final Ids ids;
    private final ObjectMapper mapper = SimJson.mapper();
    private final Map<String, DateTimeFormatter> timeFormats = new HashMap<>();
    final long maxDelayMs;

    final List<Pending> valid = new ArrayList<>();
    final List<Pending> extra = new ArrayList<>();
    final List<User> users = new ArrayList<>();
    long seq;

    final List<String> attackerIps = new ArrayList<>();
    final List<String> attackerDevices = new ArrayList<>();
    final Map<String, List<String>> attackerAddresses = new LinkedHashMap<>();
    String donorChallenge;
    Pending duplicateCase;
    String duplicateCaseWithdrawal;
    String duplicateCaseUser;
    GroundTruth.SharedDestination sharedDestination;
    final Set<String> usedAttackerAddresses = new java.util.HashSet<>();
    final List<String> legitimateDrainers = new ArrayList<>();
    final List<String> newAddressUsers = new ArrayList<>();
    private final Map<String, String> antiPhishingCodes = new TreeMap<>();
    private byte[] codeHistory = new byte[0];
    private int backstories;
    private boolean quickCodeChangeDone;

    final List<GroundTruth.UnauthorizedApproval> unauthorized = new ArrayList<>();
    final List<GroundTruth.TrickyApproval> tricky = new ArrayList<>();
    final List<GroundTruth.DuplicateRecord> duplicates = new ArrayList<>();
    final List<GroundTruth.MalformedRecord> malformed = new ArrayList<>();

    Generation(SimulationConfig cfg) {
        this.cfg = cfg;
        this.rng = new SplittableRandom(cfg.seed());
        this.ids = new Ids(rng);
        this.maxDelayMs = cfg.maxArrivalDelay().toMillis();
        DateTimeFormatter zulu = DateTimeFormatter.ofPattern("uuuu-MM-dd'T'HH:mm:ss.SSSXXX").withZone(ZoneOffset.UTC);
        // Different producers, different (all RFC 3339) renderings of the offset.
        timeFormats.put(cfg.topicLogins(), zulu);
        timeFormats.put(cfg.topicWithdrawals(), zulu);
        timeFormats.put(cfg.topicMfa(),
                DateTimeFormatter.ofPattern("uuuu-MM-dd'T'HH:mm:ss.SSSxxx").withZone(ZoneOffset.UTC));
        timeFormats.put(cfg.topicAccountChanges(),
                DateTimeFormatter.ofPattern("uuuu-MM-dd'T'HH:mm:ss.SSSXXX").withZone(ZoneOffset.ofHours(8)));
    }

    Simulation run() {
        Attack attack = new Attack(this);
        attack.setUpAttacker();
        List<VictimPlan> plan = attack.planVictims(cfg.benignUsers() > DONOR_INDEX);
        VictimPlan donorFor = plan.stream()
                .filter(p -> p.kind() == UnauthorizedKind.OTHER_USERS_CHALLENGE).findFirst().orElse(null);
        planAntiPhishing();
        generateBenign(donorFor);
        TrickyUsers tricky = new TrickyUsers(this);
        tricky.popularAddress();
        tricky.legitimateDrainers(plan);
        tricky.newAddressUsers();
        for (VictimPlan p : plan) {
            attack.victim(p);
        }
        BrokenRecords broken = new BrokenRecords(this);
        broken.duplicates();
        broken.malformed();

        List<Pending> all = new ArrayList<>(valid);
        all.addAll(extra);
        all.sort(Comparator.comparingLong(Pending::arrivalMs).thenComparingLong(p -> p.seq));
        List<SimRecord> records = all.stream()
                .map(p -> new SimRecord(p.topic, p.key, p.value, p.eventTime)).toList();
        return new Simulation(cfg, records, groundTruth());
    }

    // ---------------------------------------------------------------- plan

    record VictimPlan(int index, UnauthorizedKind kind, Instant approvalAt) {
    }

    private void generateBenign(VictimPlan donorFor) {
        int n = cfg.benignUsers();
        long windowMs = cfg.benignWindow().toMillis();

        for (int i = 0; i < n; i++) {
            TrickyKind trick = i < TRICKY_ORDER.length ? TRICKY_ORDER[i] : null;
            boolean donor = i == DONOR_INDEX && donorFor != null;

            User u = newUser();
            List<Asset> assets = pickAssets();
            for (Asset a : assets) {
                u.whitelist.put(a, ids.address(a.network()));
            }
            u.balance = logUniform(2_000, 500_000);
            backstory(u);

            int count = Math.max(cfg.withdrawalsPerBenignUser(), (trick != null || donor) ? 1 : 0);
            Instant firstRequest;
            if (donor) {
                // Its verified challenge is what the other_users_challenge victim claims: within validity.
                firstRequest = donorFor.approvalAt().minusMillis(5 * MINUTE);
            } else {
                firstRequest = cfg.start().plusMillis(rng.nextLong(2 * MINUTE, Math.max(2 * MINUTE + 1, windowMs * 4 / 5)));
            }
            Session s = ownSession(u);
            login(u, s, firstRequest.minusMillis(rng.nextLong(60 * SECOND, 180 * SECOND)), true);

            Instant t = firstRequest;
            for (int k = 0; k < count; k++) {
                Asset a = assets.get(rng.nextInt(assets.size()));
                Withdrawal w = newWithdrawal(u, a, u.balance.multiply(fraction(0.01, 0.12)), u.whitelist.get(a));
                TrickyKind kind = k == 0 ? trick : null;
                Flow f = authorizedWithdrawal(u, s, t, w, kind);
                if (kind == TrickyKind.DUPLICATE) {
                    duplicateCase = f.approval();
                    duplicateCaseWithdrawal = w.id();
                    duplicateCaseUser = u.id;
                } else if (kind != null) {
                    tricky.add(new GroundTruth.TrickyApproval(w.id(), f.approval().eventId, u.id, kind));
                }
                if (donor && k == 0) {
                    donorChallenge = f.challengeId();
                }
                t = t.plusMillis(rng.nextLong(10 * MINUTE, 45 * MINUTE));
            }
        }
    }

    // ---------------------------------------------------------------- benign scenarios of the other rules

    List<Asset> pickAssets() {
        Asset first = weightedAsset();
        if (rng.nextDouble() < 0.4) {
            Asset second = weightedAsset();
            if (second != first) {
                return List.of(first, second);
            }
        }
        return List.of(first);
    }

    Asset weightedAsset() {
        double x = rng.nextDouble();
        if (x < 0.30) {
            return Asset.BTC;
        } else if (x < 0.60) {
            return Asset.ETH;
        } else if (x < 0.85) {
            return Asset.USDC;
        } else if (x < 0.95) {
            return Asset.SOL;
        }
        return Asset.USDT;
    }

    record Flow(Pending approval, String challengeId) {
    }

    /** requested, MFA, approved by the legitimate backend with the right challenge, broadcast, completed. */
    Flow authorizedWithdrawal(User u, Session s, Instant tReq, Withdrawal w, TrickyKind kind) {
        requested(u, s, tReq, w);
        Instant tIssue = plus(tReq, 5 * SECOND, 20 * SECOND);
        String claimed = ids.challengeId();
        emitMfa(u, s, tIssue, "challenge_issued", claimed, u.mfaMethod, "withdrawal", w.id());
        Instant tApp;
        Pending verified = null;
        if (kind == TrickyKind.FAILED_THEN_VERIFIED) {
            Instant tFail = plus(tIssue, 20 * SECOND, 40 * SECOND);
            emitMfa(u, s, tFail, "challenge_failed", claimed, u.mfaMethod, "withdrawal", w.id());
            claimed = ids.challengeId();
            Instant tIssue2 = plus(tFail, 5 * SECOND, 15 * SECOND);
            emitMfa(u, s, tIssue2, "challenge_issued", claimed, u.mfaMethod, "withdrawal", w.id());
            Instant tVer = plus(tIssue2, 15 * SECOND, 40 * SECOND);
            emitMfa(u, s, tVer, "challenge_verified", claimed, u.mfaMethod, "withdrawal", w.id());
            tApp = plus(tVer, SECOND, 4 * SECOND);
        } else if (kind == TrickyKind.VERIFIED_WITHIN_SKEW) {
            tApp = plus(tIssue, 15 * SECOND, 50 * SECOND);
            emitMfa(u, s, tApp.plus(INSIDE_SKEW), "challenge_verified", claimed, u.mfaMethod, "withdrawal", w.id());
        } else if (kind == TrickyKind.LATE_VERIFICATION) {
            Instant tVer = plus(tIssue, 15 * SECOND, 60 * SECOND);
            verified = emitMfa(u, s, tVer, "challenge_verified", claimed, u.mfaMethod, "withdrawal", w.id());
            tApp = tVer.plusMillis(Math.min(2 * SECOND, maxDelayMs / 2));
        } else {
            Instant tVer = plus(tIssue, 15 * SECOND, 60 * SECOND);
            emitMfa(u, s, tVer, "challenge_verified", claimed, u.mfaMethod, "withdrawal", w.id());
            tApp = plus(tVer, SECOND, 4 * SECOND);
        }
        Pending approval = approved(u, s, tApp, w, claimed, s.app ? "app" : "web",
                cfg.legitimateService(), cfg.legitimateServiceVersion());
        if (verified != null) {
            // The approval arrives at once, the verification as late as the bound allows: after it.
            approval.delayMs = 0;
            verified.delayMs = maxDelayMs;
        }
        settle(w, tApp);
        return new Flow(approval, claimed);
    }

    // ---------------------------------------------------------------- attack victims

    // ---------------------------------------------------------------- users, sessions, logins

    static final class User {
        final String id;
        final Geo home;
        final String ip;
        final String deviceId;
        final String userAgent;
        final boolean app;
        final boolean jailbroken;
        final String authMethod;
        final String mfaMethod;
        final Map<Asset, String> whitelist = new EnumMap<>(Asset.class);
        BigDecimal balance = BigDecimal.ZERO;

        User(String id, Geo home, String ip, String deviceId, String userAgent, boolean app, boolean jailbroken,
             String authMethod, String mfaMethod) {
            this.id = id;
            this.home = home;
            this.ip = ip;
            this.deviceId = deviceId;
            this.userAgent = userAgent;
            this.app = app;
            this.jailbroken = jailbroken;
            this.authMethod = authMethod;
            this.mfaMethod = mfaMethod;
        }
    }

    record Geo(String country, BigDecimal lat, BigDecimal lon) {
    }

    record Session(String id, String ip, String deviceId, String userAgent, boolean app, boolean jailbroken,
                           Geo geo, String authMethod, boolean attacker) {
    }

    User newUser() {
        String[] c = COUNTRIES[rng.nextInt(COUNTRIES.length)];
        Geo home = new Geo(c[0], jitter(c[1]), jitter(c[2]));
        boolean app = rng.nextDouble() < 0.45;
        String ua = app ? APP_AGENTS[rng.nextInt(APP_AGENTS.length)] : BROWSER_AGENTS[rng.nextInt(BROWSER_AGENTS.length)];
        boolean jailbroken = app && rng.nextDouble() < 0.04;
        String ip = rng.nextDouble() < 0.15 ? ipv6() : ipv4();
        String auth = rng.nextDouble() < 0.10 ? "sso" : "password";
        double m = rng.nextDouble();
        String mfa = m < 0.60 ? "totp" : m < 0.75 ? "sms" : m < 0.90 ? "webauthn" : "email";
        User u = new User(ids.userId(), home, ip, ids.deviceId(), ua, app, jailbroken, auth, mfa);
        users.add(u);
        return u;
    }

    Session ownSession(User u) {
        // About one login in twenty has no geo (the lookup failed).
        Geo geo = rng.nextDouble() < 0.05 ? null : u.home;
        return new Session(ids.sessionId(), u.ip, u.deviceId, u.userAgent, u.app, u.jailbroken, geo, u.authMethod, false);
    }

    private BigDecimal jitter(String coordinate) {
        return new BigDecimal(coordinate)
                .add(BigDecimal.valueOf(rng.nextLong(-2_000, 2_001), 4))
                .setScale(4, RoundingMode.HALF_EVEN);
    }

    private String ipv4() {
        int[] firstOctets = {24, 31, 46, 62, 77, 81, 86, 92, 101, 112, 121, 175, 182};
        return firstOctets[rng.nextInt(firstOctets.length)] + "." + rng.nextInt(256) + "." + rng.nextInt(256)
                + "." + rng.nextInt(1, 255);
    }

    private String ipv6() {
        StringBuilder sb = new StringBuilder("2001:db8");
        for (int i = 0; i < 6; i++) {
            sb.append(':').append(Integer.toHexString(rng.nextInt(0x10000)));
        }
        return sb.toString();
    }

    /**
     * Which users set their anti-phishing code twice and which never: drawn once for all the users the
     * run will create (in creation order), so the counts are exact.
     */
    private void planAntiPhishing() {
        int n = cfg.totalUsers();
        int[] order = new int[n];
        for (int i = 0; i < n; i++) {
            order[i] = i;
        }
        for (int i = n - 1; i > 0; i--) {
            int j = rng.nextInt(i + 1);
            int x = order[i];
            order[i] = order[j];
            order[j] = x;
        }
        codeHistory = new byte[n];
        int twice = Math.min(cfg.antiPhishingChanges(), n);
        int never = Math.min(cfg.withoutAntiPhishingCode(), n - twice);
        for (int i = 0; i < twice; i++) {
            codeHistory[order[i]] = CODE_TWICE;
        }
        for (int i = twice; i < twice + never; i++) {
            codeHistory[order[i]] = CODE_NEVER;
        }
    }

    void backstory(User u) {
        backstory(u, 2, 200);
    }

    /**
     * Account history days before the start: creation, MFA enrolment, anti-phishing code (once, twice or
     * never), policy, and the user's whitelisted addresses, each {@code minDays} to {@code maxDays} before
     * the start (and after the account's creation).
     */
    void backstory(User u, long minDays, long maxDays) {
        String topic = cfg.topicAccountChanges();
        long ageDays = rng.nextLong(30, 901);
        Instant created = cfg.start().minusMillis(ageDays * DAY).plusMillis(rng.nextLong(0, DAY));
        Session s = ownSession(u);
        emit(topic, u.id, changeNode(u.id, s.id, s.ip, s.deviceId, created, "account_created"), created);

        emitMfa(u, s, plus(created, 3 * MINUTE, 10 * MINUTE), "token_enrolled", null, u.mfaMethod, "settings", null);

        byte history = backstories < codeHistory.length ? codeHistory[backstories] : CODE_ONCE;
        backstories++;
        if (history != CODE_NEVER) {
            Instant tCode = plus(created, 12 * MINUTE, 60 * MINUTE);
            String code = ids.antiPhishingCode();
            Pending first = emitCode(u, s, tCode, code);
            if (history == CODE_TWICE) {
                String second = ids.antiPhishingCode();
                while (second.equals(code)) {
                    second = ids.antiPhishingCode();
                }
                Instant tSecond;
                if (!quickCodeChangeDone) {
                    // A quick correction whose record overtakes the first: the current code is the later
                    // by event time, not the last to arrive.
                    quickCodeChangeDone = true;
                    tSecond = tCode.plusMillis(Math.min(2 * SECOND, maxDelayMs / 2));
                    emitCode(u, s, tSecond, second).delayMs = 0;
                    first.delayMs = maxDelayMs;
                } else {
                    tSecond = plus(tCode, HOUR, ageDays * DAY - 2 * DAY);
                    emitCode(u, s, tSecond, second);
                }
                code = second;
            }
            antiPhishingCodes.put(u.id, code);
        }

        Instant tPolicy = plus(created, 61 * MINUTE, 90 * MINUTE);
        ObjectNode policy = changeNode(u.id, s.id, s.ip, s.deviceId, tPolicy, "mfa_policy_changed");
        ObjectNode p = policy.putObject("mfa_policy");
        p.put("login", true);
        p.put("withdrawal", true);
        p.put("whitelist_address", true);
        p.put("settings", true);
        emit(topic, u.id, policy, tPolicy);

        for (Map.Entry<Asset, String> e : u.whitelist.entrySet()) {
            long daysBefore = rng.nextLong(minDays, Math.min(maxDays, ageDays - 2) + 1);
            Instant tWl = cfg.start().minusMillis(daysBefore * DAY + rng.nextLong(0, 12 * HOUR));
            String c = ids.challengeId();
            emitMfa(u, s, tWl.minusMillis(rng.nextLong(20 * SECOND, 40 * SECOND)), "challenge_issued", c, u.mfaMethod,
                    "whitelist_address", null);
            emitMfa(u, s, tWl.minusMillis(rng.nextLong(5 * SECOND, 15 * SECOND)), "challenge_verified", c, u.mfaMethod,
                    "whitelist_address", null);
            ObjectNode n = changeNode(u.id, s.id, s.ip, s.deviceId, tWl, "whitelist_address_added");
            n.put("address", e.getValue());
            n.put("asset", e.getKey().name());
            n.put("network", e.getKey().network());
            emit(topic, u.id, n, tWl);
        }

        // The owner's usual sessions in the days before: what makes their device, address and
        // country "known" when they log in again (an attacker's are not).
        int pastLogins = (int) rng.nextLong(1, 4);
        for (int i = 0; i < pastLogins; i++) {
            long daysBefore = rng.nextLong(1, Math.max(2, Math.min(minDays + 1, ageDays - 1)) + 1);
            login(u, ownSession(u), cfg.start().minusMillis(daysBefore * DAY - rng.nextLong(0, 12 * HOUR)), true);
        }
    }

    private Pending emitCode(User u, Session s, Instant t, String code) {
        ObjectNode n = changeNode(u.id, s.id, s.ip, s.deviceId, t, "anti_phishing_code_set");
        n.put("anti_phishing_code", code);
        return emit(cfg.topicAccountChanges(), u.id, n, t);
    }

    /** A successful login at {@code at}; the user's own logins may follow a typo and pass a login MFA. */
    void login(User u, Session s, Instant at, boolean own) {
        if (own) {
            if (rng.nextDouble() < 0.10) {
                Instant tFail = at.minusMillis(rng.nextLong(40 * SECOND, 90 * SECOND));
                emit(cfg.topicLogins(), u.id, loginNode(u.id, null, s, tFail, "failure"), tFail);
            }
            String c = ids.challengeId();
            Session pre = new Session(null, s.ip, s.deviceId, s.userAgent, s.app, s.jailbroken, s.geo, s.authMethod, false);
            emitMfa(u, pre, at.minusMillis(rng.nextLong(15 * SECOND, 25 * SECOND)), "challenge_issued", c, u.mfaMethod,
                    "login", null);
            emitMfa(u, pre, at.minusMillis(rng.nextLong(3 * SECOND, 12 * SECOND)), "challenge_verified", c, u.mfaMethod,
                    "login", null);
        }
        emit(cfg.topicLogins(), u.id, loginNode(u.id, s.id, s, at, "success"), at);
    }

    // ---------------------------------------------------------------- withdrawals

    record Withdrawal(String id, String userId, Asset asset, BigDecimal amount, BigDecimal usd,
                              String destination) {
    }

    Withdrawal newWithdrawal(User u, Asset a, BigDecimal usdTarget, String destination) {
        BigDecimal amount = amountFor(a, usdTarget);
        return new Withdrawal(ids.withdrawalId(), u.id, a, amount, a.usdValueOf(amount), destination);
    }

    /** An amount of about {@code usdTarget} dollars, with as many fraction digits as a person might type. */
    private BigDecimal amountFor(Asset a, BigDecimal usdTarget) {
        int digits = a.isStablecoin() ? rng.nextInt(0, 3) : rng.nextInt(Math.min(3, a.scale()), a.scale() + 1);
        BigDecimal amount = usdTarget.divide(a.priceUsd(), digits, RoundingMode.DOWN);
        if (amount.signum() <= 0) {
            amount = BigDecimal.ONE.movePointLeft(a.scale());
        }
        amount = amount.stripTrailingZeros();
        return amount.scale() < 0 ? amount.setScale(0) : amount;
    }

    Pending requested(User u, Session s, Instant t, Withdrawal w) {
        ObjectNode n = withdrawalNode(u.id, s.id, s.ip, s.deviceId, t, w, "requested");
        n.put("account_balance_usd", u.balance);
        u.balance = u.balance.subtract(w.usd());
        return emit(cfg.topicWithdrawals(), u.id, n, t);
    }

    Pending approved(User u, Session s, Instant t, Withdrawal w, String challengeId, String channel,
                             String service, String version) {
        ObjectNode n = withdrawalNode(u.id, s.id, s.ip, s.deviceId, t, w, "approved");
        n.put("mfa_challenge_id", challengeId);
        n.put("approval_channel", channel);
        n.put("approval_service", service);
        n.put("approval_service_version", version);
        return emit(cfg.topicWithdrawals(), u.id, n, t);
    }

    /** Broadcast and completion: done by the wallet system, so no session, IP or device. */
    void settle(Withdrawal w, Instant approvedAt) {
        String userId = w.userId();
        String tx = ids.txHash(w.asset().network());
        Instant tBroadcast = plus(approvedAt, 20 * SECOND, 120 * SECOND);
        ObjectNode b = withdrawalNode(userId, null, null, null, tBroadcast, w, "broadcast");
        b.put("tx_hash", tx);
        emit(cfg.topicWithdrawals(), userId, b, tBroadcast);
        Instant tDone = plus(tBroadcast, 5 * MINUTE, 30 * MINUTE);
        ObjectNode c = withdrawalNode(userId, null, null, null, tDone, w, "completed");
        c.put("tx_hash", tx);
        emit(cfg.topicWithdrawals(), userId, c, tDone);
    }

    // ---------------------------------------------------------------- duplicates and malformed records

    // ---------------------------------------------------------------- JSON

    private ObjectNode base(String topic, String userId, String sessionId, String ip, String deviceId, Instant t) {
        ObjectNode n = mapper.createObjectNode();
        n.put("event_id", ids.eventId());
        n.put("event_time", timeFormats.get(topic).format(t));
        n.put("user_id", userId);
        n.put("session_id", sessionId);
        n.put("ip", ip);
        n.put("device_id", deviceId);
        return n;
    }

    ObjectNode loginNode(String userId, String sessionId, Session s, Instant t, String outcome) {
        ObjectNode n = base(cfg.topicLogins(), userId, sessionId, s.ip, s.deviceId, t);
        n.put("outcome", outcome);
        n.put("auth_method", s.authMethod);
        n.put("device_jailbroken", s.jailbroken);
        n.put("user_agent", s.userAgent);
        if (s.geo == null) {
            n.putNull("geo");
        } else {
            ObjectNode g = n.putObject("geo");
            g.put("country", s.geo.country());
            g.put("lat", s.geo.lat());
            g.put("lon", s.geo.lon());
        }
        return n;
    }

    ObjectNode mfaNode(String userId, String sessionId, String ip, String deviceId, Instant t, String action,
                               String challengeId, String method, String purpose, String withdrawalId) {
        ObjectNode n = base(cfg.topicMfa(), userId, sessionId, ip, deviceId, t);
        n.put("action", action);
        n.put("challenge_id", challengeId);
        n.put("method", method);
        n.put("purpose", purpose);
        n.put("withdrawal_id", withdrawalId);
        return n;
    }

    Pending emitMfa(User u, Session s, Instant t, String action, String challengeId, String method,
                            String purpose, String withdrawalId) {
        ObjectNode n = mfaNode(u.id, s.id, s.ip, s.deviceId, t, action, challengeId, method, purpose, withdrawalId);
        return emit(cfg.topicMfa(), u.id, n, t);
    }

    ObjectNode withdrawalNode(String userId, String sessionId, String ip, String deviceId, Instant t,
                                      Withdrawal w, String status) {
        ObjectNode n = base(cfg.topicWithdrawals(), userId, sessionId, ip, deviceId, t);
        n.put("withdrawal_id", w.id());
        n.put("status", status);
        n.put("asset", w.asset().name());
        n.put("network", w.asset().network());
        n.put("amount", w.amount().toPlainString());
        n.put("usd_value", w.usd());
        n.put("destination_address", w.destination());
        return n;
    }

    ObjectNode changeNode(String userId, String sessionId, String ip, String deviceId, Instant t, String action) {
        ObjectNode n = base(cfg.topicAccountChanges(), userId, sessionId, ip, deviceId, t);
        n.put("action", action);
        return n;
    }

    String write(ObjectNode n) {
        try {
            return mapper.writeValueAsString(n);
        } catch (JsonProcessingException e) {
            throw new UncheckedIOException(e);
        }
    }

    Pending emit(String topic, String key, ObjectNode n, Instant t) {
        Pending p = new Pending(seq++, topic, key, write(n), t, n.get("event_id").asText(), t.toEpochMilli());
        p.delayMs = rng.nextLong(0, maxDelayMs + 1);
        valid.add(p);
        return p;
    }

    // ---------------------------------------------------------------- randomness helpers

    Instant plus(Instant t, long minMs, long maxMs) {
        return t.plusMillis(rng.nextLong(minMs, maxMs + 1));
    }

    /** A fraction in [lo, hi) with four decimals. */
    BigDecimal fraction(double lo, double hi) {
        return BigDecimal.valueOf(Math.round(rng.nextDouble(lo, hi) * 10_000), 4);
    }

    /** Log-uniform dollars in [lo, hi), to the cent (StrictMath: identical on every JVM). */
    BigDecimal logUniform(double lo, double hi) {
        double x = StrictMath.exp(StrictMath.log(lo) + rng.nextDouble() * (StrictMath.log(hi) - StrictMath.log(lo)));
        return BigDecimal.valueOf(Math.round(x * 100), 2);
    }

    // ---------------------------------------------------------------- ground truth

    private GroundTruth groundTruth() {
        Map<String, Integer> validByTopic = new LinkedHashMap<>();
        cfg.topics().forEach(t -> validByTopic.put(t, 0));
        valid.forEach(p -> validByTopic.merge(p.topic, 1, Integer::sum));

        List<GroundTruth.UnauthorizedApproval> approvals = new ArrayList<>(unauthorized);
        approvals.sort(Comparator.comparing(GroundTruth.UnauthorizedApproval::eventTime)
                .thenComparing(GroundTruth.UnauthorizedApproval::eventId));

        Map<String, BigDecimal[]> sums = new TreeMap<>();
        Map<String, Integer> counts = new TreeMap<>();
        BigDecimal usdTotal = BigDecimal.ZERO.setScale(2);
        TreeSet<String> affected = new TreeSet<>();
        for (GroundTruth.UnauthorizedApproval a : approvals) {
            BigDecimal[] s = sums.computeIfAbsent(a.asset(), k -> new BigDecimal[] {BigDecimal.ZERO, BigDecimal.ZERO.setScale(2)});
            s[0] = s[0].add(a.amount());
            s[1] = s[1].add(a.usdValue());
            counts.merge(a.asset(), 1, Integer::sum);
            usdTotal = usdTotal.add(a.usdValue());
            affected.add(a.userId());
        }
        Map<String, GroundTruth.AssetTotal> totals = new LinkedHashMap<>();
        sums.forEach((asset, s) -> totals.put(asset, new GroundTruth.AssetTotal(asset, counts.get(asset), s[0], s[1])));

        Map<String, Integer> byReason = new LinkedHashMap<>();
        for (MalformedReason r : MalformedReason.values()) {
            byReason.put(r.wireName(), 0);
        }
        malformed.forEach(m -> byReason.merge(m.reason().wireName(), 1, Integer::sum));

        List<String> addresses = new ArrayList<>();
        attackerAddresses.values().forEach(l -> l.stream().filter(usedAttackerAddresses::contains).forEach(addresses::add));

        // usd_value and account_balance_usd are read back as the decimals written, not as doubles.
        ObjectReader exactReader = mapper.reader().with(DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS);
        List<Expectations.Emitted> emitted = new ArrayList<>(valid.size());
        for (Pending p : valid) {
            try {
                emitted.add(new Expectations.Emitted(p.eventTime, p.eventId, exactReader.readTree(p.value)));
            } catch (JsonProcessingException e) {
                throw new UncheckedIOException(e);
            }
        }
        Expectations.Result expected = new Expectations(TourniquetConfig.defaults()).compute(emitted, approvals);

        return new GroundTruth(cfg.seed(), cfg.start(), cfg.compromisedService(), cfg.compromisedServiceVersion(),
                cfg.legitimateService(), cfg.legitimateServiceVersion(), cfg.attackChannel(),
                List.copyOf(approvals), List.copyOf(tricky), Collections.unmodifiableMap(totals), usdTotal,
                List.copyOf(affected), affected.size(), List.copyOf(attackerIps), List.copyOf(attackerDevices),
                List.copyOf(addresses), sharedDestination, Collections.unmodifiableMap(validByTopic),
                duplicates.size(), List.copyOf(duplicates), malformed.size(), Collections.unmodifiableMap(byReason),
                List.copyOf(malformed), legitimateDrainers.stream().sorted().toList(),
                newAddressUsers.stream().sorted().toList(), expected.alerts(), expected.incident(),
                Collections.unmodifiableMap(new TreeMap<>(antiPhishingCodes)));
    }

    // ---------------------------------------------------------------- pending records

    static final class Pending {
        final long seq;
        final String topic;
        final String key;
        final String value;
        final Instant eventTime;
        final String eventId;
        /** Event time for events; a drawn instant for malformed records. */
        final long baseMs;
        long delayMs;

        Pending(long seq, String topic, String key, String value, Instant eventTime, String eventId, long baseMs) {
            this.seq = seq;
            this.topic = topic;
            this.key = key;
            this.value = value;
            this.eventTime = eventTime;
            this.eventId = eventId;
            this.baseMs = baseMs;
        }

        long arrivalMs() {
            return baseMs + delayMs;
        }
    }
}
