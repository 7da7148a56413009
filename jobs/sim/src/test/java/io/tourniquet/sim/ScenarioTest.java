package io.tourniquet.sim;

import static org.assertj.core.api.Assertions.assertThat;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import java.math.BigDecimal;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The scenarios that exercise every rule of CONTRACT section 2, and the ground truth's expectations,
 * recomputed here from the emitted records with the rules' default settings written out. Where a rule
 * leaves room (where a sliding window is anchored, when a threshold rule fires again), this reading
 * deliberately differs from the generator's ({@code Expectations}): the scenarios must be clear-cut
 * enough that both agree.
 */
class ScenarioTest {

    // The defaults of config/Settings (CONTRACT section 2).
    private static final long SKEW = Duration.ofSeconds(5).toMillis();
    private static final long VALIDITY = Duration.ofMinutes(10).toMillis();
    private static final long DRAIN_WINDOW = Duration.ofHours(1).toMillis();
    private static final BigDecimal DRAIN_SHARE = new BigDecimal("0.8");
    private static final BigDecimal DRAIN_FLOOR = new BigDecimal("1000");
    private static final long NEW_ADDRESS_AGE = Duration.ofHours(24).toMillis();
    private static final long BULK_WINDOW = Duration.ofMinutes(10).toMillis();
    private static final int BULK_USERS = 5;
    private static final long CONCENTRATION_WINDOW = Duration.ofMinutes(10).toMillis();
    private static final int CONCENTRATION_USERS = 5;
    private static final long INCIDENT_GAP = Duration.ofHours(1).toMillis();

    private static final ObjectMapper JSON = JsonMapper.builder()
            .enable(DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS).build();

    private static SimulationConfig config;
    private static Simulation sim;
    private static Recomputed expected;

    @BeforeAll
    static void generate() {
        config = SimulationConfig.defaults();
        sim = Simulator.generate(config);
        expected = recompute(sim);
    }

    // ------------------------------------------------------------ the ground truth, recomputed

    @Test
    void groundTruthAlertsAreTheRulesAppliedToTheEmittedEvents() {
        assertMatches(sim, expected);
    }

    static Stream<SimulationConfig> otherConfigs() {
        SimulationConfig d = SimulationConfig.defaults();
        return Stream.of(
                d.toBuilder().seed(7).build(),
                // A slow attack: fewer users per window, bulk drain and concentration may split or not fire.
                d.toBuilder().seed(11).attackVictims(9).attackSpacing(Duration.ofMinutes(3)).build(),
                d.toBuilder().seed(12).attackVictims(30).attackSpacing(Duration.ofSeconds(40)).legitimateDrainers(6)
                        .newAddressUsers(6).popularAddressUsers(20).antiPhishingChanges(30).build(),
                // The attack early: drainers must go after it.
                d.toBuilder().seed(13).attackStartOffset(Duration.ofMinutes(20)).legitimateDrainers(4).build(),
                d.toBuilder().seed(14).attackVictims(4).build(),
                d.toBuilder().seed(15).attackVictims(0).withoutAntiPhishingCode(100).build(),
                d.toBuilder().seed(16).attackVictims(2).attackSpacing(Duration.ZERO).benignUsers(3)
                        .maxArrivalDelay(Duration.ofSeconds(1)).build(),
                // An attack spread over more than an hour between victims: more than one incident.
                d.toBuilder().seed(17).attackVictims(6).attackSpacing(Duration.ofMinutes(70)).build());
    }

    @ParameterizedTest
    @MethodSource("otherConfigs")
    void groundTruthIsExactForOtherConfigs(SimulationConfig c) {
        Simulation s = Simulator.generate(c);
        Recomputed r = recompute(s);
        assertMatches(s, r);
        checkScenarioIntent(s, r);
    }

    @Test
    void theDefaultRunExercisesEveryRule() {
        GroundTruth gt = sim.groundTruth();
        GroundTruth.ExpectedAlerts a = gt.expectedAlerts();
        assertThat(a.unauthorizedApprovals()).hasSize(20);
        // Every victim is drained, and so are the two legitimate drainers; nobody else.
        Set<String> drains = new TreeSet<>(gt.affectedUsers());
        drains.addAll(gt.legitimateDrainers());
        assertThat(gt.legitimateDrainers()).hasSize(2);
        assertThat(a.accountDrains()).containsExactlyElementsOf(drains);
        // 15 victims whose account got the attacker's address whitelisted, and the 3 new-address users.
        assertThat(a.newAddressWithdrawals()).hasSize(15 + 3);
        assertThat(a.destinationConcentration()).hasSize(2).allMatch(gt.attackerAddresses()::contains);
        assertThat(a.bulkDrainEpisodes()).isEqualTo(1);
        assertThat(a.incidents()).isEqualTo(1);
        checkScenarioIntent(sim, expected);
    }

    @Test
    void theAttackIsABulkAttackOnSeveralAssets() {
        GroundTruth gt = sim.groundTruth();
        GroundTruth.ExpectedIncident incident = gt.incident();
        assertThat(incident.usersAffected()).isEqualTo(20);
        assertThat(incident.impact().keySet()).contains("BTC", "ETH").hasSizeGreaterThanOrEqualTo(3);
        assertThat(incident.impact().values()).allMatch(t -> t.amount().signum() > 0 && t.approvals() > 0);

        // Five victims within 10 min: the 5th distinct victim's approval is what suspends withdrawals.
        List<GroundTruth.UnauthorizedApproval> byTime = gt.unauthorizedApprovals().stream()
                .sorted(Comparator.comparing(GroundTruth.UnauthorizedApproval::eventTime)).toList();
        Set<String> users = new HashSet<>();
        Instant fifth = null;
        for (GroundTruth.UnauthorizedApproval u : byTime) {
            if (users.add(u.userId()) && users.size() == 5) {
                fifth = u.eventTime();
                break;
            }
        }
        assertThat(incident.containedAt()).isEqualTo(fifth);
        assertThat(incident.startedAt()).isEqualTo(byTime.get(0).eventTime());
        assertThat(fifth).isBefore(byTime.get(0).eventTime().plus(Duration.ofMinutes(10)));
        assertThat(incident.usdAfterContainment()).isPositive().isLessThan(incident.usdTotal());
        assertThat(incident.impactAfterContainment().values().stream().mapToInt(GroundTruth.AssetTotal::approvals).sum())
                .isEqualTo(20 - 5);

        // At least five victims withdrew to one address they whitelisted minutes before, within 10 min.
        Map<String, List<Instant>> byAddress = new TreeMap<>();
        for (Recomputed.Request r : expected.newAddressRequests) {
            if (gt.affectedUsers().contains(r.user())) {
                byAddress.computeIfAbsent(r.destination(), k -> new ArrayList<>()).add(r.time());
            }
        }
        assertThat(byAddress.values()).anyMatch(times -> times.size() >= 5
                && Duration.between(times.get(0), times.get(4)).compareTo(Duration.ofMinutes(10)) < 0);
    }

    @Test
    void thePopularAddressRaisesNothing() {
        GroundTruth.SharedDestination popular = sim.groundTruth().sharedDestination();
        assertThat(popular.users()).hasSize(8);
        List<JsonNode> requests = events(sim).stream()
                .filter(n -> "requested".equals(n.path("status").asText())
                        && popular.address().equals(n.path("destination_address").asText()))
                .toList();
        assertThat(requests).extracting(n -> n.get("user_id").asText()).containsAll(popular.users());
        // They all withdraw to it within 10 minutes: a would-be concentration, were the whitelisting new.
        Map<String, Instant> firstByUser = new TreeMap<>();
        requests.forEach(n -> firstByUser.merge(n.get("user_id").asText(), time(n), (x, y) -> x.isBefore(y) ? x : y));
        Instant min = firstByUser.values().stream().min(Comparator.naturalOrder()).orElseThrow();
        Instant max = firstByUser.values().stream().max(Comparator.naturalOrder()).orElseThrow();
        assertThat(Duration.between(min, max)).isLessThan(Duration.ofMinutes(10));
        // Whitelisted 3 to 30 days before the start.
        for (JsonNode n : events(sim)) {
            if ("whitelist_address_added".equals(n.path("action").asText())
                    && popular.address().equals(n.get("address").asText())) {
                Duration before = Duration.between(time(n), config.start());
                assertThat(before).isBetween(Duration.ofDays(3), Duration.ofDays(31));
            }
        }
        GroundTruth.ExpectedAlerts a = sim.groundTruth().expectedAlerts();
        assertThat(a.destinationConcentration()).doesNotContain(popular.address());
        assertThat(a.accountDrains()).doesNotContainAnyElementsOf(popular.users());
        Set<String> popularWithdrawals = requests.stream().map(n -> n.get("withdrawal_id").asText())
                .collect(Collectors.toSet());
        assertThat(a.newAddressWithdrawals()).doesNotContainAnyElementsOf(popularWithdrawals);
        assertThat(expected.unauthorized).doesNotContainAnyElementsOf(popularWithdrawals);
    }

    @Test
    void legitimateDrainsAreAuthorizedAndOutsideTheIncident() {
        GroundTruth gt = sim.groundTruth();
        for (JsonNode n : events(sim)) {
            if (gt.legitimateDrainers().contains(n.get("user_id").asText()) && "approved".equals(n.path("status").asText())) {
                assertThat(expected.unauthorized).doesNotContain(n.get("withdrawal_id").asText());
                assertThat(n.get("approval_service_version").asText()).isEqualTo(gt.legitimateServiceVersion());
                assertThat(n.get("mfa_challenge_id").isTextual()).isTrue();
            }
        }
        assertThat(gt.incident().affectedUsers()).doesNotContainAnyElementsOf(gt.legitimateDrainers());
        assertThat(gt.expectedAlerts().accountDrains()).containsAll(gt.legitimateDrainers());
    }

    @Test
    void newAddressUsersWithdrawToTheirOwnFreshAddresses() {
        GroundTruth gt = sim.groundTruth();
        assertThat(gt.newAddressUsers()).hasSize(3);
        List<Recomputed.Request> theirs = expected.newAddressRequests.stream()
                .filter(r -> gt.newAddressUsers().contains(r.user())).toList();
        assertThat(theirs).extracting(Recomputed.Request::user).containsExactlyInAnyOrderElementsOf(gt.newAddressUsers());
        assertThat(theirs).extracting(Recomputed.Request::destination).doesNotHaveDuplicates()
                .doesNotContainAnyElementsOf(gt.expectedAlerts().destinationConcentration());
        assertThat(theirs).extracting(Recomputed.Request::withdrawalId)
                .allMatch(gt.expectedAlerts().newAddressWithdrawals()::contains)
                .noneMatch(expected.unauthorized::contains);
        assertThat(gt.expectedAlerts().accountDrains()).doesNotContainAnyElementsOf(gt.newAddressUsers());
    }

    // ------------------------------------------------------------ account state

    @Test
    void antiPhishingCodesAreTheLastSetByEventTime() {
        Map<String, List<JsonNode>> sets = new HashMap<>();
        Set<String> accounts = new TreeSet<>();
        Map<String, Instant> firstRequest = new HashMap<>();
        for (JsonNode n : events(sim)) {
            String user = n.get("user_id").asText();
            switch (n.path("action").asText(n.path("status").asText())) {
                case "account_created" -> accounts.add(user);
                case "anti_phishing_code_set" -> sets.computeIfAbsent(user, k -> new ArrayList<>()).add(n);
                case "requested" -> firstRequest.merge(user, time(n), (x, y) -> x.isBefore(y) ? x : y);
                default -> { }
            }
        }
        Map<String, String> last = new TreeMap<>();
        sets.forEach((user, list) -> last.put(user, list.stream().max(Comparator.comparing(ScenarioTest::time))
                .orElseThrow().get("anti_phishing_code").asText()));
        assertThat(sim.groundTruth().antiPhishingCodes()).isEqualTo(last);

        assertThat(accounts).hasSize(config.totalUsers());
        assertThat(sets.values().stream().filter(l -> l.size() == 2)).hasSize(10);
        assertThat(sets.values()).allMatch(l -> l.size() <= 2);
        assertThat(accounts.stream().filter(u -> !sets.containsKey(u))).hasSize(5);
        // Every code is set before the user's first withdrawal.
        sets.forEach((user, list) -> list.forEach(n -> {
            if (firstRequest.containsKey(user)) {
                assertThat(time(n)).isBefore(firstRequest.get(user));
            }
        }));

        // One change arrives before the code it replaces: "last" means by event time, not by arrival.
        Map<String, List<SimRecord>> arrivals = new HashMap<>();
        for (SimRecord r : sim.recordsOf(config.topicAccountChanges())) {
            if (r.isValid() && r.value().contains("\"anti_phishing_code_set\"")) {
                arrivals.computeIfAbsent(r.key(), k -> new ArrayList<>()).add(r);
            }
        }
        assertThat(arrivals.values()).anyMatch(l -> l.size() == 2 && l.get(1).eventTime().isBefore(l.get(0).eventTime()));
    }

    @Test
    void usdNumbersHaveAtMostTwoDecimals() {
        int checked = 0;
        for (JsonNode n : events(sim)) {
            for (String f : List.of("usd_value", "account_balance_usd")) {
                if (n.has(f)) {
                    assertThat(n.get(f).isNumber()).isTrue();
                    assertThat(n.get(f).decimalValue().scale()).as(n.toString()).isLessThanOrEqualTo(2);
                    checked++;
                }
            }
        }
        assertThat(checked).isGreaterThan(500);
    }

    @Test
    void groundTruthJsonCarriesTheExpectations() throws Exception {
        JsonNode tree = JSON.readTree(sim.groundTruth().toJson());
        JsonNode alerts = tree.get("expected_alerts");
        assertThat(alerts.get("account_drains").isArray()).isTrue();
        assertThat(alerts.get("bulk_drain_episodes").asInt()).isEqualTo(1);
        JsonNode btc = tree.get("incident").get("impact").get("BTC");
        assertThat(btc.get("amount").isTextual()).isTrue();
        assertThat(new BigDecimal(btc.get("amount").asText()))
                .isEqualByComparingTo(sim.groundTruth().incident().impact().get("BTC").amount());
        assertThat(btc.get("usd_value").isNumber()).isTrue();
        assertThat(Instant.parse(tree.get("incident").get("contained_at").asText()))
                .isEqualTo(sim.groundTruth().incident().containedAt());
        assertThat(tree.get("anti_phishing_codes").size()).isEqualTo(config.totalUsers() - 5);
        assertThat(GroundTruth.fromJson(sim.groundTruth().toJson())).isEqualTo(sim.groundTruth());
    }

    // ------------------------------------------------------------ determinism

    @Test
    void sameSeedGivesByteIdenticalFiles(@TempDir Path dir) throws Exception {
        Map<String, Path> first = SimulationWriter.writeToFiles(Simulator.generate(config), dir.resolve("a"));
        Map<String, Path> second = SimulationWriter.writeToFiles(Simulator.generate(config), dir.resolve("b"));
        assertThat(second.keySet()).isEqualTo(first.keySet());
        for (String name : first.keySet()) {
            assertThat(Files.readAllBytes(second.get(name))).as(name).isEqualTo(Files.readAllBytes(first.get(name)));
        }
        Simulation other = Simulator.generate(config.toBuilder().seed(43).build());
        assertThat(other.groundTruth().toJson()).isNotEqualTo(sim.groundTruth().toJson());
    }

    // ------------------------------------------------------------ checks shared by every config

    private static void assertMatches(Simulation s, Recomputed r) {
        GroundTruth gt = s.groundTruth();
        GroundTruth.ExpectedAlerts a = gt.expectedAlerts();
        assertThat(a.unauthorizedApprovals()).as("unauthorized approvals").containsExactlyElementsOf(r.unauthorized);
        assertThat(gt.unauthorizedApprovals()).extracting(GroundTruth.UnauthorizedApproval::withdrawalId)
                .containsExactlyInAnyOrderElementsOf(r.unauthorized);
        assertThat(a.accountDrains()).as("account drains").containsExactlyElementsOf(r.drains);
        assertThat(a.newAddressWithdrawals()).as("new-address withdrawals").containsExactlyElementsOf(r.newAddress);
        assertThat(a.destinationConcentration()).as("concentration").containsExactlyElementsOf(r.concentrated);
        assertThat(a.bulkDrainEpisodes()).as("bulk drain episodes").isEqualTo(r.bulkFired.size());
        assertThat(a.incidents()).as("incidents").isEqualTo(r.incidents.size());

        GroundTruth.ExpectedIncident i = gt.incident();
        if (r.attack == null) {
            assertThat(i).isNull();
            return;
        }
        Recomputed.Incident e = r.attack;
        assertThat(i.startedAt()).isEqualTo(e.startedAt);
        assertThat(i.containedAt()).isEqualTo(e.containedAt);
        assertThat(i.affectedUsers()).containsExactlyElementsOf(e.users);
        assertThat(i.usersAffected()).isEqualTo(e.users.size());
        assertThat(i.unauthorizedApprovals()).isEqualTo(e.approvals.size());
        assertImpact(i.impact(), i.usdTotal(), e.approvals);
        List<JsonNode> after = e.containedAt == null ? List.of()
                : e.approvals.stream().filter(n -> time(n).isAfter(e.containedAt)).toList();
        assertImpact(i.impactAfterContainment(), i.usdAfterContainment(), after);
    }

    private static void assertImpact(Map<String, GroundTruth.AssetTotal> impact, BigDecimal usdTotal,
                                     List<JsonNode> approvals) {
        Map<String, BigDecimal> amounts = new TreeMap<>();
        Map<String, BigDecimal> usd = new TreeMap<>();
        Map<String, Integer> counts = new TreeMap<>();
        BigDecimal total = BigDecimal.ZERO;
        for (JsonNode n : approvals) {
            String asset = n.get("asset").asText();
            amounts.merge(asset, new BigDecimal(n.get("amount").asText()), BigDecimal::add);
            usd.merge(asset, n.get("usd_value").decimalValue(), BigDecimal::add);
            counts.merge(asset, 1, Integer::sum);
            total = total.add(n.get("usd_value").decimalValue());
        }
        assertThat(impact.keySet()).containsExactlyElementsOf(amounts.keySet());
        impact.forEach((asset, t) -> {
            assertThat(t.asset()).isEqualTo(asset);
            assertThat(t.amount().toPlainString()).isEqualTo(amounts.get(asset).toPlainString());
            assertThat(t.usdValue()).isEqualByComparingTo(usd.get(asset));
            assertThat(t.approvals()).isEqualTo(counts.get(asset));
        });
        assertThat(usdTotal).isEqualByComparingTo(total);
    }

    /** What each scenario is for, whatever the config. */
    private static void checkScenarioIntent(Simulation s, Recomputed r) {
        GroundTruth gt = s.groundTruth();
        SimulationConfig c = s.config();
        assertThat(gt.legitimateDrainers()).hasSize(c.legitimateDrainers());
        assertThat(r.drains).containsAll(gt.legitimateDrainers());
        assertThat(gt.newAddressUsers()).hasSize(c.newAddressUsers());
        assertThat(r.newAddressRequests.stream().filter(x -> gt.newAddressUsers().contains(x.user())))
                .hasSize(c.newAddressUsers());
        if (c.popularAddressUsers() > 0) {
            assertThat(gt.sharedDestination().users()).hasSize(c.popularAddressUsers());
            assertThat(r.newAddressRequests).noneMatch(x -> x.destination().equals(gt.sharedDestination().address()));
        } else {
            assertThat(gt.sharedDestination()).isNull();
        }
        // No legitimate drain shares a bulk-drain window with an unauthorized approval.
        for (Recomputed.Trigger t : r.drainTriggers) {
            if (gt.legitimateDrainers().contains(t.user())) {
                for (GroundTruth.UnauthorizedApproval u : gt.unauthorizedApprovals()) {
                    assertThat(Math.abs(u.eventTime().toEpochMilli() - t.time())).isGreaterThanOrEqualTo(BULK_WINDOW);
                }
            }
        }
        // Unauthorized approvals' users are drained, unless the drain floor is not reached.
        assertThat(r.drains).containsAll(gt.affectedUsers());
    }

    // ------------------------------------------------------------ the rules, written out

    /** The expectations, recomputed. Sorted sets of keys, times in epoch milliseconds. */
    static final class Recomputed {
        record Trigger(long time, String user) {
        }

        record Request(Instant time, String user, String withdrawalId, String destination) {
        }

        static final class Incident {
            Instant startedAt;
            Instant containedAt;
            final List<JsonNode> approvals = new ArrayList<>();
            final TreeSet<String> users = new TreeSet<>();
        }

        final TreeSet<String> unauthorized = new TreeSet<>();
        final List<JsonNode> unauthorizedApprovals = new ArrayList<>();
        final TreeSet<String> drains = new TreeSet<>();
        final List<Trigger> drainTriggers = new ArrayList<>();
        final TreeSet<String> newAddress = new TreeSet<>();
        final List<Request> newAddressRequests = new ArrayList<>();
        final TreeSet<String> concentrated = new TreeSet<>();
        final List<Long> concentrationFired = new ArrayList<>();
        List<Long> bulkFired = List.of();
        final List<long[]> incidents = new ArrayList<>();
        Incident attack;
    }

    static Recomputed recompute(Simulation s) {
        Recomputed r = new Recomputed();
        List<JsonNode> events = events(s);

        // Unauthorized approval: no verified withdrawal challenge of the same user and withdrawal, with the
        // claimed id, stamped from 10 min before to 5 s after the approval, not used by an earlier approval.
        List<JsonNode> verified = events.stream().filter(n -> "challenge_verified".equals(n.path("action").asText())
                && "withdrawal".equals(n.path("purpose").asText())).toList();
        Set<String> usedChallenges = new HashSet<>();
        for (JsonNode a : events) {
            if (!"approved".equals(a.path("status").asText())) {
                continue;
            }
            long t = millis(a);
            JsonNode claimed = a.get("mfa_challenge_id");
            boolean ok = claimed.isTextual() && !usedChallenges.contains(claimed.asText())
                    && verified.stream().anyMatch(v -> v.get("challenge_id").asText().equals(claimed.asText())
                            && v.get("user_id").asText().equals(a.get("user_id").asText())
                            && v.get("withdrawal_id").asText().equals(a.get("withdrawal_id").asText())
                            && millis(v) <= t + SKEW && millis(v) >= t - VALIDITY);
            if (ok) {
                usedChallenges.add(claimed.asText());
            } else {
                r.unauthorized.add(a.get("withdrawal_id").asText());
                r.unauthorizedApprovals.add(a);
            }
        }

        // Account drain, each window anchored at its first approval: from approval i on, for an hour, the
        // running sum of approved usd_value against the balance on i's request.
        Map<String, BigDecimal> balance = new HashMap<>();
        Map<String, List<JsonNode>> approvalsByUser = new TreeMap<>();
        for (JsonNode n : events) {
            switch (n.path("status").asText()) {
                case "requested" -> balance.put(n.get("withdrawal_id").asText(), n.get("account_balance_usd").decimalValue());
                case "approved" -> approvalsByUser.computeIfAbsent(n.get("user_id").asText(), k -> new ArrayList<>()).add(n);
                default -> { }
            }
        }
        Set<Recomputed.Trigger> drainTriggers = new HashSet<>();
        approvalsByUser.forEach((user, approvals) -> {
            for (int i = 0; i < approvals.size(); i++) {
                BigDecimal base = balance.get(approvals.get(i).get("withdrawal_id").asText());
                BigDecimal sum = BigDecimal.ZERO;
                for (int j = i; j < approvals.size() && millis(approvals.get(j)) < millis(approvals.get(i)) + DRAIN_WINDOW; j++) {
                    sum = sum.add(approvals.get(j).get("usd_value").decimalValue());
                    if (sum.compareTo(base.multiply(DRAIN_SHARE)) >= 0 && sum.compareTo(DRAIN_FLOOR) >= 0) {
                        r.drains.add(user);
                        drainTriggers.add(new Recomputed.Trigger(millis(approvals.get(j)), user));
                    }
                }
            }
        });
        r.drainTriggers.addAll(drainTriggers);

        // New-address withdrawal: requested to an address the same user whitelisted under 24 h before.
        for (JsonNode q : events) {
            if (!"requested".equals(q.path("status").asText())) {
                continue;
            }
            String user = q.get("user_id").asText();
            String destination = q.get("destination_address").asText();
            boolean fresh = events.stream().anyMatch(w -> "whitelist_address_added".equals(w.path("action").asText())
                    && w.get("user_id").asText().equals(user) && w.get("address").asText().equals(destination)
                    && millis(q) - millis(w) >= 0 && millis(q) - millis(w) < NEW_ADDRESS_AGE);
            if (fresh) {
                r.newAddress.add(q.get("withdrawal_id").asText());
                r.newAddressRequests.add(new Recomputed.Request(time(q), user, q.get("withdrawal_id").asText(), destination));
            }
        }

        // Destination concentration, per address.
        Map<String, List<Recomputed.Trigger>> byAddress = new TreeMap<>();
        r.newAddressRequests.forEach(q -> byAddress.computeIfAbsent(q.destination(), k -> new ArrayList<>())
                .add(new Recomputed.Trigger(q.time().toEpochMilli(), q.user())));
        byAddress.forEach((address, triggers) -> {
            List<Long> fired = sweep(triggers, CONCENTRATION_WINDOW, CONCENTRATION_USERS);
            if (!fired.isEmpty()) {
                r.concentrated.add(address);
                r.concentrationFired.addAll(fired);
            }
        });

        // Bulk drain: distinct users with an unauthorized approval or an account drain.
        List<Recomputed.Trigger> bulk = new ArrayList<>(r.drainTriggers);
        r.unauthorizedApprovals.forEach(a -> bulk.add(new Recomputed.Trigger(millis(a), a.get("user_id").asText())));
        r.bulkFired = sweep(bulk, BULK_WINDOW, BULK_USERS);

        // Incidents: incident-rule alerts chained while less than the gap apart.
        List<Long> alerts = new ArrayList<>(r.bulkFired);
        alerts.addAll(r.concentrationFired);
        r.unauthorizedApprovals.forEach(a -> alerts.add(millis(a)));
        alerts.sort(null);
        for (long t : alerts) {
            if (!r.incidents.isEmpty() && t - r.incidents.get(r.incidents.size() - 1)[1] < INCIDENT_GAP) {
                r.incidents.get(r.incidents.size() - 1)[1] = t;
            } else {
                r.incidents.add(new long[] {t, t});
            }
        }
        if (!r.unauthorizedApprovals.isEmpty()) {
            long first = r.unauthorizedApprovals.stream().mapToLong(ScenarioTest::millis).min().getAsLong();
            long[] span = r.incidents.stream().filter(x -> x[0] <= first && first <= x[1]).findFirst().orElseThrow();
            Recomputed.Incident e = new Recomputed.Incident();
            e.startedAt = Instant.ofEpochMilli(span[0]);
            e.containedAt = r.bulkFired.stream().filter(t -> span[0] <= t && t <= span[1]).findFirst()
                    .map(Instant::ofEpochMilli).orElse(null);
            for (JsonNode a : r.unauthorizedApprovals) {
                if (span[0] <= millis(a) && millis(a) <= span[1]) {
                    e.approvals.add(a);
                    e.users.add(a.get("user_id").asText());
                }
            }
            r.attack = e;
        }
        return r;
    }

    /**
     * Sweeps time: each trigger enters the window at its time and leaves it one window later; the rule
     * fires whenever the distinct users inside rise to the threshold.
     */
    private static List<Long> sweep(List<Recomputed.Trigger> triggers, long window, int min) {
        // {time, +1 enter / -1 leave, index}; at one instant, leaving comes first: the window is (t - w, t].
        List<long[]> moves = new ArrayList<>();
        for (int i = 0; i < triggers.size(); i++) {
            moves.add(new long[] {triggers.get(i).time(), 1, i});
            moves.add(new long[] {triggers.get(i).time() + window, -1, i});
        }
        moves.sort(Comparator.<long[]>comparingLong(m -> m[0]).thenComparingLong(m -> m[1]));
        Map<String, Integer> inside = new HashMap<>();
        boolean above = false;
        List<Long> fired = new ArrayList<>();
        for (long[] m : moves) {
            String user = triggers.get((int) m[2]).user();
            inside.merge(user, (int) m[1], Integer::sum);
            inside.values().removeIf(v -> v == 0);
            if (!above && inside.size() >= min) {
                fired.add(m[0]);
            }
            above = inside.size() >= min;
        }
        return fired;
    }

    // ------------------------------------------------------------ helpers

    /** The distinct valid events (first delivery of each event id), in event-time order. */
    private static List<JsonNode> events(Simulation s) {
        Map<String, JsonNode> byId = new LinkedHashMap<>();
        for (SimRecord r : s.records()) {
            if (r.isValid()) {
                JsonNode n = read(r.value());
                byId.putIfAbsent(n.get("event_id").asText(), n);
            }
        }
        List<JsonNode> list = new ArrayList<>(byId.values());
        list.sort(Comparator.comparing(ScenarioTest::time).thenComparing(n -> n.get("event_id").asText()));
        return list;
    }

    private static JsonNode read(String value) {
        try {
            return JSON.readTree(value);
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }

    private static Instant time(JsonNode n) {
        return OffsetDateTime.parse(Objects.requireNonNull(n.get("event_time")).asText()).toInstant();
    }

    private static long millis(JsonNode n) {
        return time(n).toEpochMilli();
    }
}
