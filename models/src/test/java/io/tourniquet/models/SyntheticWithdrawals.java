package io.tourniquet.models;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * Simulated withdrawals for the training tests, with a fixed seed: benign ones by account owners
 * and account-takeover ones, with overlap on purpose (owners on a new phone, owners emptying their
 * account, API users approving instantly, night owls; attackers who take a modest sum, approve by
 * hand, or use an address that was never whitelisted). Features are computed through
 * {@link WithdrawalFeatures#compute} from a {@link UserHistory} and a {@link WithdrawalContext}, as the
 * detect job will.
 */
final class SyntheticWithdrawals {
    static final long T0 = WithdrawalFeaturesTest.T0;
    static final long S = 1000L;
    static final long H = 3_600_000L;
    static final int[] TIME_ZONES = {-8, -5, -3, 0, 1, 2, 3, 5, 8, 9};

    private final Random rnd;
    private int next;

    SyntheticWithdrawals(long seed) {
        this.rnd = new Random(seed);
    }

    /** A user's habits. */
    private record Profile(String user, double typicalUsd, double balanceUsd, int timeZone, List<String> devices,
            List<String> ips, List<String> countries, boolean usesWhitelist, boolean api, UserHistory history) {}

    /** {@code benign} owners' withdrawals and {@code attacks} takeovers, each labeled with {@code label}. */
    List<FeatureRow> rows(int benign, int attacks, boolean labeled) {
        List<FeatureRow> rows = new ArrayList<>(benign + attacks);
        for (int i = 0; i < benign; i++) {
            rows.add(benign(labeled ? Boolean.FALSE : null));
        }
        for (int i = 0; i < attacks; i++) {
            rows.add(attack(labeled ? Boolean.TRUE : null));
        }
        return rows;
    }

    private Profile profile() {
        String user = "u-" + (next++);
        boolean api = rnd.nextDouble() < 0.05;
        double typical = logNormal(Math.log(300), 1.2);
        int tz = TIME_ZONES[rnd.nextInt(TIME_ZONES.length)];
        List<String> devices = names(user + "-dev", 1 + rnd.nextInt(3));
        List<String> ips = names(user + "-ip", 2 + rnd.nextInt(4));
        List<String> countries = rnd.nextDouble() < 0.9 ? List.of("C" + rnd.nextInt(40))
                : List.of("C" + rnd.nextInt(40), "C" + rnd.nextInt(40));
        UserHistory h = UserHistory.empty();
        for (int i = 0; i < 6; i++) {
            h = h.withLogin(pick(devices), pick(ips), pick(countries));
        }
        h = h.withLogin(devices.get(0), ips.get(0), countries.get(0));
        for (String d : devices) {
            h = h.withLogin(d, null, null);
        }
        for (String ip : ips) {
            h = h.withLogin(null, ip, null);
        }
        // 5% brand-new users without any withdrawal yet
        int past = rnd.nextDouble() < 0.05 ? 0 : 3 + rnd.nextInt(40);
        for (int i = 0; i < past; i++) {
            h = h.withWithdrawal(T0 - (long) ((2 + rnd.nextDouble() * 300) * 24 * H), typical * logNormal(0, 0.5));
        }
        return new Profile(user, typical, typical * (3 + rnd.nextDouble() * 27), tz, devices, ips, countries,
                rnd.nextDouble() < 0.5, api, h);
    }

    private FeatureRow benign(Boolean label) {
        Profile p = profile();
        long t = requestTime(p, p.api() ? rnd.nextDouble() * 24 : localDayHour(), p.timeZone());
        double usd = p.typicalUsd() * logNormal(0, 0.7);
        if (rnd.nextDouble() < 0.05) {
            usd = p.typicalUsd() * (3 + rnd.nextDouble() * 7); // a bigger purchase, now and then
        }
        if (rnd.nextDouble() < 0.03) {
            usd = p.balanceUsd(); // closing out
        }
        usd = Math.min(usd, p.balanceUsd());
        String device = rnd.nextDouble() < 0.85 ? pick(p.devices()) : p.user() + "-newphone";
        String ip = rnd.nextDouble() < 0.75 ? pick(p.ips()) : p.user() + "-newip";
        String country = rnd.nextDouble() < 0.97 ? pick(p.countries()) : "C" + (40 + rnd.nextInt(20));
        long login = t - (long) (Math.min(86_400, logNormal(Math.log(600), 1.5)) * S);
        Long whitelisted = null;
        if (p.usesWhitelist()) {
            whitelisted = rnd.nextDouble() < 0.85 ? t - (long) ((1 + rnd.nextDouble() * 700) * 24 * H)
                    : t - (long) ((0.1 + rnd.nextDouble() * 48) * H); // a new address, used soon
        }
        double delay = p.api() ? 0.05 + rnd.nextDouble() : logNormal(Math.log(25), 0.6);
        UserHistory h = p.history();
        if (rnd.nextDouble() < 0.10) {
            h = h.withWithdrawal(t - (long) ((1 + rnd.nextDouble() * 55) * 60 * S), usd); // batch of two
        }
        boolean jailbroken = rnd.nextDouble() < 0.02;
        return row(p, h, new WithdrawalContext(t, t + (long) (delay * S), usd, p.balanceUsd(), login, device, ip,
                country, jailbroken, whitelisted), label);
    }

    private FeatureRow attack(Boolean label) {
        Profile p = profile();
        double localHour = rnd.nextDouble() < 0.5 ? rnd.nextDouble() * 6 : rnd.nextDouble() * 24;
        long t = requestTime(p, localHour, p.timeZone());
        double usd = rnd.nextDouble() < 0.7 ? p.balanceUsd() * (0.6 + rnd.nextDouble() * 0.4)
                : Math.min(p.balanceUsd(), p.typicalUsd() * (1 + rnd.nextDouble() * 4));
        String device = rnd.nextDouble() < 0.9 ? "atk-dev-" + rnd.nextInt(5) : pick(p.devices());
        String ip = rnd.nextDouble() < 0.95 ? "atk-ip-" + rnd.nextInt(1000) : pick(p.ips());
        String country = rnd.nextDouble() < 0.65 ? "C" + (40 + rnd.nextInt(20)) : pick(p.countries());
        long login = t - (long) (Math.min(86_400, logNormal(Math.log(90), 1.0)) * S);
        Long whitelisted = rnd.nextDouble() < 0.65 ? t - (long) ((0.02 + rnd.nextDouble() * 2) * H) : null;
        double delay = rnd.nextDouble() < 0.7 ? 0.05 + rnd.nextDouble() * 1.5 : logNormal(Math.log(20), 0.6);
        UserHistory h = p.history();
        if (rnd.nextDouble() < 0.4) {
            int earlier = 1 + rnd.nextInt(3); // the drain split in parts
            for (int i = 0; i < earlier; i++) {
                h = h.withWithdrawal(t - (long) ((1 + rnd.nextDouble() * 40) * 60 * S), usd / 2);
            }
        }
        boolean jailbroken = rnd.nextDouble() < 0.2;
        return row(p, h, new WithdrawalContext(t, t + (long) (delay * S), usd, p.balanceUsd(), login, device, ip,
                country, jailbroken, whitelisted), label);
    }

    private FeatureRow row(Profile p, UserHistory h, WithdrawalContext c, Boolean label) {
        return FeatureRow.of("w-" + (next++), p.user(), c.approvalTime(), WithdrawalFeatures.compute(h, c), label);
    }

    /** A request at the given local hour on one of 60 days after T0. */
    private long requestTime(Profile p, double localHour, int tz) {
        long day = T0 - Math.floorMod(T0, 24 * H) + rnd.nextInt(60) * 24 * H;
        return day + (long) ((localHour - tz) * H);
    }

    /** Owners' local hour: mostly 08:00-23:00, sometimes at night. */
    private double localDayHour() {
        return rnd.nextDouble() < 0.93 ? 8 + rnd.nextDouble() * 15 : rnd.nextDouble() * 8;
    }

    private double logNormal(double mu, double sigma) {
        return Math.exp(mu + sigma * rnd.nextGaussian());
    }

    private <T> T pick(List<T> list) {
        return list.get(rnd.nextInt(list.size()));
    }

    private static List<String> names(String prefix, int n) {
        List<String> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            out.add(prefix + i);
        }
        return out;
    }
}
