package io.tourniquet.models;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Objects;

/**
 * What the detect job keeps per user to compute {@link WithdrawalFeatures}: the user's earlier
 * withdrawals (request time and US$ value, at most {@link #MAX_PAST_WITHDRAWALS}, the newest kept)
 * and the devices, IPs and countries of the user's earlier successful logins (at most
 * {@link #MAX_KNOWN} each, the most recently seen kept).
 *
 * <p>Immutable: the {@code with...} methods return a new history, so the job and the trainer
 * cannot disagree about the bounds. The history passed to {@link WithdrawalFeatures#compute} must
 * be the one as of the current session's login, that login itself not yet added: otherwise the
 * session's own device would count as known and "new device" would never fire.
 */
public record UserHistory(
        List<PastWithdrawal> pastWithdrawals,
        List<String> knownDevices,
        List<String> knownIps,
        List<String> knownCountries) {

    /** Enough for a stable median; bounded so keyed state stays small. */
    public static final int MAX_PAST_WITHDRAWALS = 50;
    /** Devices, IPs or countries remembered per user; the least recently seen is forgotten first. */
    public static final int MAX_KNOWN = 32;

    /** One earlier withdrawal: its request time (epoch ms) and its US$ value at request time. */
    public record PastWithdrawal(long requestTime, double usd) {
        public PastWithdrawal {
            if (!Double.isFinite(usd) || usd < 0) {
                throw new IllegalArgumentException("usd must be finite and >= 0: " + usd);
            }
        }
    }

    private static final UserHistory EMPTY = new UserHistory(List.of(), List.of(), List.of(), List.of());

    public UserHistory {
        pastWithdrawals = boundWithdrawals(pastWithdrawals == null ? List.of() : pastWithdrawals);
        knownDevices = boundKnown(knownDevices);
        knownIps = boundKnown(knownIps);
        knownCountries = boundKnown(knownCountries);
    }

    public static UserHistory empty() {
        return EMPTY;
    }

    /** This history with one more withdrawal; beyond the bound, the oldest by request time goes. */
    public UserHistory withWithdrawal(long requestTime, double usd) {
        List<PastWithdrawal> next = new ArrayList<>(pastWithdrawals.size() + 1);
        next.addAll(pastWithdrawals);
        next.add(new PastWithdrawal(requestTime, usd));
        return new UserHistory(next, knownDevices, knownIps, knownCountries);
    }

    /** This history with a successful login's device, IP and country known (nulls are ignored). */
    public UserHistory withLogin(String deviceId, String ip, String country) {
        return new UserHistory(pastWithdrawals, seen(knownDevices, deviceId), seen(knownIps, ip),
                seen(knownCountries, country));
    }

    private static List<PastWithdrawal> boundWithdrawals(List<PastWithdrawal> in) {
        List<PastWithdrawal> sorted = new ArrayList<>(in);
        sorted.forEach(p -> Objects.requireNonNull(p, "past withdrawal"));
        sorted.sort(Comparator.comparingLong(PastWithdrawal::requestTime));
        int from = Math.max(0, sorted.size() - MAX_PAST_WITHDRAWALS);
        return List.copyOf(sorted.subList(from, sorted.size()));
    }

    private static List<String> boundKnown(List<String> in) {
        if (in == null) {
            return List.of();
        }
        // Order is "least recently seen first"; a repeated value keeps its last position.
        LinkedHashSet<String> set = new LinkedHashSet<>();
        for (String s : in) {
            if (s != null) {
                set.remove(s);
                set.add(s);
            }
        }
        List<String> all = new ArrayList<>(set);
        return List.copyOf(all.subList(Math.max(0, all.size() - MAX_KNOWN), all.size()));
    }

    private static List<String> seen(List<String> known, String value) {
        if (value == null) {
            return known;
        }
        List<String> next = new ArrayList<>(known.size() + 1);
        next.addAll(known);
        next.add(value);
        return next;
    }
}
