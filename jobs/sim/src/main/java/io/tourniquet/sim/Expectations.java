package io.tourniquet.sim;

import com.fasterxml.jackson.databind.JsonNode;
import io.tourniquet.config.Settings;
import io.tourniquet.config.TourniquetConfig;
import java.math.BigDecimal;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * Applies the rules of CONTRACT section 2, with the pipeline's rule settings, to the events a
 * simulation emitted: what a correct pipeline must alert on. It reads the emitted records rather than
 * the generator's intentions, so the ground truth stays exact for any config (a long attack spacing
 * may, say, split the attack into two bulk-drain episodes).
 *
 * <p>Unauthorized approvals are taken as the generator planned them (the tests check that plan
 * against the contract's definition independently). Everything else is computed here:
 * <ul>
 *   <li>account drain: at each approval of a user, the approvals of the window ending at it
 *       ({@code (t - window, t]}); the {@code account_balance_usd} of the {@code requested} event of the
 *       first of them is the base; the drain holds when the {@code usd_value} sum reaches share x base
 *       and the floor;</li>
 *   <li>new-address withdrawal: a {@code requested} withdrawal whose destination the same user
 *       whitelisted at or before the request and less than the minimum age before it;</li>
 *   <li>bulk drain and destination concentration fire at a trigger when the distinct users of the
 *       window ending at it reach the threshold and did not just before it (one alert per episode);</li>
 *   <li>incidents chain the incident-rule alerts (unauthorized approvals, bulk drain and destination
 *       concentration firings) while less than the gap apart.</li>
 * </ul>
 */
final class Expectations {

    /** An emitted event: its event time, id and parsed value (decimals exact). */
    record Emitted(Instant time, String eventId, JsonNode node) {
    }

    record Result(GroundTruth.ExpectedAlerts alerts, GroundTruth.ExpectedIncident incident) {
    }

    private record Trigger(long time, String user) {
    }

    private record Approval(long time, String eventId, String withdrawalId, BigDecimal usd) {
    }

    private record Request(long time, String user, String withdrawalId, String destination) {
    }

    private final long drainWindow;
    private final BigDecimal drainShare;
    private final BigDecimal drainFloor;
    private final long newAddressAge;
    private final long bulkWindow;
    private final int bulkMinUsers;
    private final long concentrationWindow;
    private final int concentrationMinUsers;
    private final long incidentGap;

    Expectations(TourniquetConfig rules) {
        drainWindow = rules.get(Settings.DRAIN_WINDOW).toMillis();
        drainShare = rules.get(Settings.DRAIN_SHARE);
        drainFloor = rules.get(Settings.DRAIN_FLOOR);
        newAddressAge = rules.get(Settings.NEW_ADDRESS_AGE).toMillis();
        bulkWindow = rules.get(Settings.BULK_WINDOW).toMillis();
        bulkMinUsers = rules.get(Settings.BULK_MIN_USERS);
        concentrationWindow = rules.get(Settings.CONCENTRATION_WINDOW).toMillis();
        concentrationMinUsers = rules.get(Settings.CONCENTRATION_MIN_USERS);
        incidentGap = rules.get(Settings.INCIDENT_GAP).toMillis();
    }

    /**
     * @param events       every distinct valid event emitted (no redelivered copies)
     * @param unauthorized the unauthorized approvals
     */
    Result compute(List<Emitted> events, List<GroundTruth.UnauthorizedApproval> unauthorized) {
        Withdrawals w = Withdrawals.of(events);
        List<Trigger> bulkTriggers = new ArrayList<>();
        TreeSet<String> drains = accountDrain(w, bulkTriggers);
        Map<String, List<Trigger>> byDestination = new TreeMap<>();
        TreeSet<String> newAddress = newAddressWithdrawals(w, byDestination);
        List<Long> incidentAlerts = new ArrayList<>();
        TreeSet<String> concentrated = destinationConcentration(byDestination, incidentAlerts);
        List<Long> bulkFired = bulkDrain(bulkTriggers, unauthorized);
        incidentAlerts.addAll(bulkFired);
        unauthorized.forEach(u -> incidentAlerts.add(u.eventTime().toEpochMilli()));
        List<long[]> incidents = incidents(incidentAlerts);

        List<String> unauthorizedIds = unauthorized.stream()
                .map(GroundTruth.UnauthorizedApproval::withdrawalId).sorted().toList();
        GroundTruth.ExpectedAlerts alerts = new GroundTruth.ExpectedAlerts(unauthorizedIds, List.copyOf(drains),
                List.copyOf(newAddress), List.copyOf(concentrated), bulkFired.size(), incidents.size());
        return new Result(alerts, attack(unauthorized, incidents, bulkFired));
    }

    /** The withdrawals' facts every rule below reads, from the events in time order. */
    private record Withdrawals(Map<String, BigDecimal> balanceAtRequest, Map<String, List<Approval>> approvalsByUser,
                               List<Request> requests, Map<String, List<Long>> whitelistedAt) {
        static Withdrawals of(List<Emitted> events) {
            List<Emitted> sorted = new ArrayList<>(events);
            sorted.sort(Comparator.comparing(Emitted::time).thenComparing(Emitted::eventId));
            Map<String, BigDecimal> balanceAtRequest = new HashMap<>();
            Map<String, List<Approval>> approvalsByUser = new TreeMap<>();
            List<Request> requests = new ArrayList<>();
            Map<String, List<Long>> whitelistedAt = new HashMap<>();
            for (Emitted e : sorted) {
                JsonNode n = e.node();
                String user = n.get("user_id").asText();
                long t = e.time().toEpochMilli();
                String status = n.path("status").asText(null);
                if (n.has("withdrawal_id") && status != null) {
                    String wid = n.get("withdrawal_id").asText();
                    if (status.equals("requested")) {
                        balanceAtRequest.put(wid, n.get("account_balance_usd").decimalValue());
                        requests.add(new Request(t, user, wid, n.get("destination_address").asText()));
                    } else if (status.equals("approved")) {
                        approvalsByUser.computeIfAbsent(user, k -> new ArrayList<>())
                                .add(new Approval(t, e.eventId(), wid, n.get("usd_value").decimalValue()));
                    }
                } else if ("whitelist_address_added".equals(n.path("action").asText())) {
                    whitelistedAt.computeIfAbsent(user + '\n' + n.get("address").asText(), k -> new ArrayList<>()).add(t);
                }
            }
            return new Withdrawals(balanceAtRequest, approvalsByUser, requests, whitelistedAt);
        }
    }

    /** {@code account_drain}: the users drained; each drain is also a bulk-drain trigger. */
    private TreeSet<String> accountDrain(Withdrawals w, List<Trigger> bulkTriggers) {
        TreeSet<String> drains = new TreeSet<>();
        w.approvalsByUser().forEach((user, approvals) -> {
            for (int j = 0; j < approvals.size(); j++) {
                long t = approvals.get(j).time();
                int first = j;
                BigDecimal sum = BigDecimal.ZERO;
                for (int i = j; i >= 0 && approvals.get(i).time() > t - drainWindow; i--) {
                    sum = sum.add(approvals.get(i).usd());
                    first = i;
                }
                BigDecimal base = w.balanceAtRequest().get(approvals.get(first).withdrawalId());
                if (base != null && sum.compareTo(base.multiply(drainShare)) >= 0 && sum.compareTo(drainFloor) >= 0) {
                    drains.add(user);
                    bulkTriggers.add(new Trigger(t, user));
                }
            }
        });
        return drains;
    }

    /**
     * {@code new_address_withdrawal}: the withdrawals to a freshly whitelisted address; each is a
     * destination-concentration trigger of its address.
     */
    private TreeSet<String> newAddressWithdrawals(Withdrawals w, Map<String, List<Trigger>> byDestination) {
        TreeSet<String> newAddress = new TreeSet<>();
        for (Request r : w.requests()) {
            List<Long> wl = w.whitelistedAt().getOrDefault(r.user() + '\n' + r.destination(), List.of());
            boolean fresh = wl.stream().anyMatch(x -> x <= r.time() && r.time() - x < newAddressAge);
            if (fresh) {
                newAddress.add(r.withdrawalId());
                byDestination.computeIfAbsent(r.destination(), k -> new ArrayList<>()).add(new Trigger(r.time(), r.user()));
            }
        }
        return newAddress;
    }

    /** {@code destination_concentration}: the addresses it fires on; its firings are incident alerts. */
    private TreeSet<String> destinationConcentration(Map<String, List<Trigger>> byDestination, List<Long> incidentAlerts) {
        TreeSet<String> concentrated = new TreeSet<>();
        byDestination.forEach((address, triggers) -> {
            List<Long> fired = firings(triggers, concentrationWindow, concentrationMinUsers);
            if (!fired.isEmpty()) {
                concentrated.add(address);
                incidentAlerts.addAll(fired);
            }
        });
        return concentrated;
    }

    /** {@code bulk_drain}: when it fires, over account drains and unauthorized approvals. */
    private List<Long> bulkDrain(List<Trigger> bulkTriggers, List<GroundTruth.UnauthorizedApproval> unauthorized) {
        unauthorized.forEach(u -> bulkTriggers.add(new Trigger(u.eventTime().toEpochMilli(), u.userId())));
        return firings(bulkTriggers, bulkWindow, bulkMinUsers);
    }

    /** Incidents: chains of incident-rule alerts less than the gap apart, as {@code [first, last]}. */
    private List<long[]> incidents(List<Long> incidentAlerts) {
        Collections.sort(incidentAlerts);
        List<long[]> incidents = new ArrayList<>();
        for (long t : incidentAlerts) {
            long[] last = incidents.isEmpty() ? null : incidents.get(incidents.size() - 1);
            if (last != null && t - last[1] < incidentGap) {
                last[1] = t;
            } else {
                incidents.add(new long[] {t, t});
            }
        }
        return incidents;
    }

    /** The attack's incident: the one its first unauthorized approval falls in, and when bulk drain contained it. */
    private static GroundTruth.ExpectedIncident attack(List<GroundTruth.UnauthorizedApproval> unauthorized,
                                                       List<long[]> incidents, List<Long> bulkFired) {
        if (unauthorized.isEmpty()) return null;
        long firstApproval = unauthorized.stream().mapToLong(u -> u.eventTime().toEpochMilli()).min().getAsLong();
        long[] span = incidents.stream().filter(s -> s[0] <= firstApproval && firstApproval <= s[1])
                .findFirst().orElseThrow();
        Long contained = bulkFired.stream().filter(t -> span[0] <= t && t <= span[1]).findFirst().orElse(null);
        List<GroundTruth.UnauthorizedApproval> in = unauthorized.stream()
                .filter(u -> span[0] <= u.eventTime().toEpochMilli() && u.eventTime().toEpochMilli() <= span[1])
                .toList();
        List<GroundTruth.UnauthorizedApproval> after = contained == null ? List.of() : in.stream()
                .filter(u -> u.eventTime().toEpochMilli() > contained).toList();
        TreeSet<String> users = new TreeSet<>();
        in.forEach(u -> users.add(u.userId()));
        return new GroundTruth.ExpectedIncident(in.size(), users.size(), List.copyOf(users), totals(in),
                usd(in), Instant.ofEpochMilli(span[0]), contained == null ? null : Instant.ofEpochMilli(contained),
                totals(after), usd(after));
    }

    /**
     * Times at which a threshold rule fires: at each trigger (in time order), the distinct users of the
     * triggers in {@code (t - window, t]} reach {@code min}, and without this trigger they would not.
     */
    private static List<Long> firings(List<Trigger> triggers, long window, int min) {
        List<Trigger> sorted = new ArrayList<>(triggers);
        sorted.sort(Comparator.comparingLong(Trigger::time).thenComparing(Trigger::user));
        List<Long> fired = new ArrayList<>();
        for (int k = 0; k < sorted.size(); k++) {
            long t = sorted.get(k).time();
            Set<String> before = new HashSet<>();
            for (int i = k - 1; i >= 0 && sorted.get(i).time() > t - window; i--) {
                before.add(sorted.get(i).user());
            }
            Set<String> with = new HashSet<>(before);
            with.add(sorted.get(k).user());
            if (with.size() >= min && before.size() < min) {
                fired.add(t);
            }
        }
        return fired;
    }

    /** Per asset (sorted), the approvals' count and exact sums. */
    static Map<String, GroundTruth.AssetTotal> totals(List<GroundTruth.UnauthorizedApproval> approvals) {
        Map<String, BigDecimal> amounts = new TreeMap<>();
        Map<String, BigDecimal> usd = new TreeMap<>();
        Map<String, Integer> counts = new TreeMap<>();
        for (GroundTruth.UnauthorizedApproval a : approvals) {
            amounts.merge(a.asset(), a.amount(), BigDecimal::add);
            usd.merge(a.asset(), a.usdValue(), BigDecimal::add);
            counts.merge(a.asset(), 1, Integer::sum);
        }
        Map<String, GroundTruth.AssetTotal> totals = new LinkedHashMap<>();
        amounts.forEach((asset, amount) -> totals.put(asset,
                new GroundTruth.AssetTotal(asset, counts.get(asset), amount, usd.get(asset).setScale(2))));
        return Collections.unmodifiableMap(totals);
    }

    static BigDecimal usd(List<GroundTruth.UnauthorizedApproval> approvals) {
        return approvals.stream().map(GroundTruth.UnauthorizedApproval::usdValue)
                .reduce(BigDecimal.ZERO.setScale(2), BigDecimal::add);
    }
}
