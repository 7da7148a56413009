package io.tourniquet.sim;

import static org.assertj.core.api.Assertions.assertThat;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.google.common.net.InetAddresses;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Checks the simulator's output against the contract (docs: CONTRACT.md, section 1 and the
 * "authorized approval" definition), with checks written here rather than borrowed from the generator.
 */
class SimulatorTest {

    private static final ObjectMapper JSON = JsonMapper.builder().build();
    private static final Pattern AMOUNT = Pattern.compile("^(0|[1-9][0-9]*)(\\.[0-9]{1,18})?$");

    private static final Set<String> LOGIN_OUTCOMES = Set.of("success", "failure");
    private static final Set<String> AUTH_METHODS = Set.of("password", "sso", "api_key");
    private static final Set<String> MFA_ACTIONS = Set.of("challenge_issued", "challenge_verified",
            "challenge_failed", "token_enrolled", "token_reset", "token_revoked");
    private static final Set<String> MFA_METHODS = Set.of("totp", "sms", "email", "webauthn");
    private static final Set<String> MFA_PURPOSES = Set.of("login", "withdrawal", "whitelist_address", "settings");
    private static final Set<String> STATUSES = Set.of("requested", "approved", "rejected", "held", "broadcast",
            "completed", "cancelled");
    private static final Set<String> CHANNELS = Set.of("web", "app", "api", "internal");
    private static final Set<String> CHANGE_ACTIONS = Set.of("account_created", "whitelist_address_added",
            "whitelist_address_removed", "anti_phishing_code_set", "mfa_policy_changed", "password_changed",
            "email_changed");

    private static final Duration SKEW = Duration.ofSeconds(5);
    private static final Duration VALIDITY = Duration.ofMinutes(10);

    private static SimulationConfig config;
    private static Simulation sim;

    @BeforeAll
    static void generate() {
        config = SimulationConfig.builder().malformedCount(12).build();
        sim = Simulator.generate(config);
    }

    // ------------------------------------------------------------ determinism

    @Test
    void sameSeedSameRecordsDifferentSeedDifferentRecords() {
        Simulation again = Simulator.generate(config);
        assertThat(again.records()).isEqualTo(sim.records());
        assertThat(again.groundTruth()).isEqualTo(sim.groundTruth());

        Simulation other = Simulator.generate(config.toBuilder().seed(7).build());
        assertThat(values(other)).isNotEqualTo(values(sim));
        assertThat(other.groundTruth().unauthorizedApprovals()).isNotEqualTo(sim.groundTruth().unauthorizedApprovals());
    }

    @Test
    void defaultsAreTheDocumentedOnes() {
        SimulationConfig d = SimulationConfig.defaults();
        assertThat(d.seed()).isEqualTo(42);
        assertThat(d.start()).isEqualTo(Instant.parse("2022-01-17T00:00:00Z"));
        assertThat(d.benignUsers()).isEqualTo(50);
        assertThat(d.withdrawalsPerBenignUser()).isEqualTo(2);
        assertThat(d.attackVictims()).isEqualTo(20);
        assertThat(d.attackStartOffset()).isEqualTo(Duration.ofHours(2));
        assertThat(d.attackSpacing()).isEqualTo(Duration.ofSeconds(20));
        assertThat(d.compromisedServiceVersion()).isEqualTo("2.14.0-rc1");
        assertThat(d.legitimateServiceVersion()).isEqualTo("2.13.4");
        assertThat(d.attackChannel()).isEqualTo("internal");
        assertThat(d.malformedCount()).isZero();
        assertThat(d.duplicateCount()).isEqualTo(3);
        assertThat(d.maxArrivalDelay()).isEqualTo(Duration.ofSeconds(20));
        assertThat(d.legitimateDrainers()).isEqualTo(2);
        assertThat(d.newAddressUsers()).isEqualTo(3);
        assertThat(d.popularAddressUsers()).isEqualTo(8);
        assertThat(d.antiPhishingChanges()).isEqualTo(10);
        assertThat(d.withoutAntiPhishingCode()).isEqualTo(5);
        assertThat(d.totalUsers()).isEqualTo(50 + 2 + 3 + 8 + 20);
        assertThat(d.topics()).containsExactly("exchange.auth.logins", "exchange.auth.mfa",
                "exchange.wallet.withdrawals", "exchange.account.changes");
    }

    // ------------------------------------------------------------ contract conformance

    @Test
    void everyValidRecordSatisfiesTheContract() throws Exception {
        assertThat(checkContract(sim)).isGreaterThan(1000);
    }

    private static int checkContract(Simulation sim) throws Exception {
        int checked = 0;
        for (SimRecord r : sim.records()) {
            if (!r.isValid()) {
                continue;
            }
            JsonNode n = JSON.readTree(r.value());
            List<String> problems = violations(r.topic(), n);
            assertThat(problems).as("%s: %s", r.topic(), r.value()).isEmpty();
            assertThat(r.key()).isEqualTo(n.get("user_id").asText());
            assertThat(OffsetDateTime.parse(n.get("event_time").asText()).toInstant()).isEqualTo(r.eventTime());
            checked++;
        }
        return checked;
    }

    @Test
    void everyMalformedRecordBreaksTheContractAndAllReasonsOccur() {
        int malformed = 0;
        for (SimRecord r : sim.records()) {
            if (r.isValid()) {
                continue;
            }
            malformed++;
            boolean oversized = r.value().getBytes(StandardCharsets.UTF_8).length >= config.oversizedBytes();
            boolean broken;
            try {
                broken = !violations(r.topic(), JSON.readTree(r.value())).isEmpty();
            } catch (Exception e) {
                broken = true;
            }
            assertThat(broken || oversized).as(abbreviate(r.value())).isTrue();
            assertThat(r.value()).doesNotContain("\n");
        }
        GroundTruth gt = sim.groundTruth();
        assertThat(malformed).isEqualTo(12).isEqualTo(gt.malformedEmitted());
        assertThat(gt.malformed()).extracting(GroundTruth.MalformedRecord::reason)
                .containsAll(EnumSet.allOf(MalformedReason.class));
        assertThat(gt.malformedByReason().values()).allMatch(c -> c == 2);
    }

    @Test
    void validEventCountsAndDuplicatesMatchGroundTruth() {
        GroundTruth gt = sim.groundTruth();
        Map<String, Integer> distinct = new LinkedHashMap<>();
        Map<String, String> seen = new HashMap<>();
        int dups = 0;
        for (SimRecord r : sim.records()) {
            if (!r.isValid()) {
                continue;
            }
            String id = readTree(r.value()).get("event_id").asText();
            String before = seen.putIfAbsent(id, r.value());
            if (before == null) {
                distinct.merge(r.topic(), 1, Integer::sum);
            } else {
                assertThat(r.value()).as("a redelivery has the same bytes").isEqualTo(before);
                dups++;
            }
        }
        assertThat(dups).isEqualTo(3).isEqualTo(gt.duplicatesEmitted());
        assertThat(distinct).isEqualTo(gt.validEventsByTopic());
        assertThat(gt.validEventsByTopic().keySet()).containsExactlyElementsOf(config.topics());
    }

    // ------------------------------------------------------------ arrival order

    @Test
    void arrivalIsOutOfOrderWithinTheBound() {
        assertThat(checkBoundedDisorder(sim)).isPositive();
        // Topics are interleaved, not concatenated.
        List<String> topics = sim.records().stream().map(SimRecord::topic).toList();
        long switches = java.util.stream.IntStream.range(1, topics.size())
                .filter(i -> !topics.get(i).equals(topics.get(i - 1))).count();
        assertThat(switches).isGreaterThan(100);
    }

    /** Asserts no record arrives after one stamped more than the bound later; returns how many arrive out of order. */
    private static int checkBoundedDisorder(Simulation sim) {
        long bound = sim.config().maxArrivalDelay().toMillis();
        int disordered = 0;
        for (String topic : sim.config().topics()) {
            long maxSeen = 0;
            boolean first = true;
            for (SimRecord r : sim.recordsOf(topic)) {
                if (!r.isValid()) {
                    continue;
                }
                long t = r.eventTime().toEpochMilli();
                if (first) {
                    maxSeen = t;
                    first = false;
                }
                assertThat(maxSeen - t).as("%s record at %s arrives too late", topic, r.eventTime())
                        .isLessThanOrEqualTo(bound);
                if (t < maxSeen) {
                    disordered++;
                }
                maxSeen = Math.max(maxSeen, t);
            }
        }
        return disordered;
    }

    @Test
    void lateVerificationArrivesAfterItsApproval() {
        assertThat(checkLateVerification(sim)).isPositive();
    }

    private static int checkLateVerification(Simulation sim) {
        List<GroundTruth.TrickyApproval> late = sim.groundTruth().legitimateTrickyApprovals().stream()
                .filter(t -> t.kind() == TrickyKind.LATE_VERIFICATION).toList();
        List<JsonNode> nodes = parsedValid(sim);
        for (GroundTruth.TrickyApproval t : late) {
            int approvalAt = -1;
            int verifiedAt = -1;
            for (int i = 0; i < nodes.size(); i++) {
                JsonNode n = nodes.get(i);
                if (n == null) {
                    continue;
                }
                if (approvalAt < 0 && n.path("event_id").asText().equals(t.eventId())) {
                    approvalAt = i;
                }
                if (verifiedAt < 0 && "challenge_verified".equals(n.path("action").asText())
                        && t.withdrawalId().equals(n.path("withdrawal_id").asText())) {
                    verifiedAt = i;
                }
            }
            assertThat(approvalAt).isNotNegative();
            assertThat(verifiedAt).isGreaterThan(approvalAt);
            assertThat(time(nodes.get(verifiedAt))).isBefore(time(nodes.get(approvalAt)));
        }
        return late.size();
    }

    // ------------------------------------------------------------ ground truth

    @Test
    void groundTruthMatchesTheContractDefinitionOfAuthorized() {
        checkAuthorization(sim);
    }

    private static void checkAuthorization(Simulation sim) {
        // An independent reading of "authorized approval" over the emitted (de-duplicated) events.
        Map<String, JsonNode> byId = new LinkedHashMap<>();
        for (JsonNode n : parsedValid(sim)) {
            if (n != null) {
                byId.putIfAbsent(n.get("event_id").asText(), n);
            }
        }
        List<JsonNode> verified = new ArrayList<>();
        List<JsonNode> approvals = new ArrayList<>();
        for (JsonNode n : byId.values()) {
            if ("challenge_verified".equals(n.path("action").asText())) {
                verified.add(n);
            } else if ("approved".equals(n.path("status").asText())) {
                approvals.add(n);
            }
        }
        approvals.sort((a, b) -> time(a).compareTo(time(b)));
        Set<String> usedChallenges = new HashSet<>();
        Set<String> unauthorized = new HashSet<>();
        Set<String> authorized = new HashSet<>();
        for (JsonNode a : approvals) {
            String user = a.get("user_id").asText();
            JsonNode claimed = a.get("mfa_challenge_id");
            Instant at = time(a);
            boolean ok = !claimed.isNull() && !usedChallenges.contains(user + "/" + claimed.asText())
                    && verified.stream().anyMatch(v -> v.get("user_id").asText().equals(user)
                            && v.get("challenge_id").asText().equals(claimed.asText())
                            && "withdrawal".equals(v.get("purpose").asText())
                            && v.get("withdrawal_id").asText().equals(a.get("withdrawal_id").asText())
                            && !time(v).isAfter(at.plus(SKEW))
                            && !time(v).isBefore(at.minus(VALIDITY)));
            if (ok) {
                usedChallenges.add(user + "/" + claimed.asText());
                authorized.add(a.get("event_id").asText());
            } else {
                unauthorized.add(a.get("event_id").asText());
            }
        }
        GroundTruth gt = sim.groundTruth();
        assertThat(gt.unauthorizedApprovals()).extracting(GroundTruth.UnauthorizedApproval::eventId)
                .containsExactlyInAnyOrderElementsOf(unauthorized);
        assertThat(gt.legitimateTrickyApprovals()).extracting(GroundTruth.TrickyApproval::eventId)
                .allMatch(authorized::contains);

        // Every unauthorized approval is the compromised backend's; every authorized one the legitimate one's.
        for (JsonNode a : approvals) {
            boolean bad = unauthorized.contains(a.get("event_id").asText());
            assertThat(a.get("approval_service_version").asText())
                    .isEqualTo(bad ? gt.compromisedServiceVersion() : gt.legitimateServiceVersion());
            if (bad) {
                assertThat(a.get("approval_channel").asText()).isEqualTo(gt.attackChannel());
                assertThat(gt.attackerAddresses()).contains(a.get("destination_address").asText());
                assertThat(gt.attackerIps()).contains(a.get("ip").asText());
            }
        }
    }

    @Test
    void everyKindAppearsAndTotalsMatchTheEmittedApprovals() {
        GroundTruth gt = sim.groundTruth();
        assertThat(gt.unauthorizedApprovals()).extracting(GroundTruth.UnauthorizedApproval::kind)
                .containsAll(EnumSet.allOf(UnauthorizedKind.class));
        assertThat(gt.legitimateTrickyApprovals()).extracting(GroundTruth.TrickyApproval::kind)
                .containsAll(EnumSet.allOf(TrickyKind.class));
        assertThat(gt.unauthorizedApprovals()).filteredOn(a -> a.kind() == UnauthorizedKind.NO_CHALLENGE)
                .hasSizeGreaterThan(gt.unauthorizedApprovals().size() / 2);

        checkTotals(sim);
        assertThat(gt.usersAffected()).isEqualTo(config.attackVictims());
        assertThat(gt.compromisedServiceVersion()).isEqualTo("2.14.0-rc1");
    }

    private static void checkTotals(Simulation sim) {
        GroundTruth gt = sim.groundTruth();
        Set<String> ids = gt.unauthorizedApprovals().stream().map(GroundTruth.UnauthorizedApproval::eventId)
                .collect(Collectors.toSet());
        Map<String, BigDecimal> amounts = new TreeMap<>();
        Map<String, BigDecimal> usd = new TreeMap<>();
        Set<String> counted = new HashSet<>();
        Set<String> users = new HashSet<>();
        BigDecimal usdTotal = BigDecimal.ZERO;
        for (JsonNode n : parsedValid(sim)) {
            if (n == null || !ids.contains(n.get("event_id").asText()) || !counted.add(n.get("event_id").asText())) {
                continue;
            }
            assertThat(n.get("status").asText()).isEqualTo("approved");
            String asset = n.get("asset").asText();
            amounts.merge(asset, new BigDecimal(n.get("amount").asText()), BigDecimal::add);
            usd.merge(asset, n.get("usd_value").decimalValue(), BigDecimal::add);
            usdTotal = usdTotal.add(n.get("usd_value").decimalValue());
            users.add(n.get("user_id").asText());
        }
        assertThat(counted).isEqualTo(ids);
        assertThat(gt.totalsByAsset().keySet()).isEqualTo(amounts.keySet());
        gt.totalsByAsset().forEach((asset, total) -> {
            assertThat(total.amount()).isEqualByComparingTo(amounts.get(asset));
            assertThat(total.usdValue()).isEqualByComparingTo(usd.get(asset));
        });
        assertThat(gt.usdTotal()).isEqualByComparingTo(usdTotal);
        assertThat(gt.affectedUsers()).containsExactlyInAnyOrderElementsOf(users);
        assertThat(gt.usersAffected()).isEqualTo(users.size());
    }

    @Test
    void victimsAreDrainedAndBenignUsersAreNot() {
        Map<String, JsonNode> requestedByWithdrawal = new HashMap<>();
        Map<String, BigDecimal> firstBalance = new HashMap<>();
        Map<String, BigDecimal> approvedUsd = new HashMap<>();
        Set<String> seen = new HashSet<>();
        List<JsonNode> nodes = parsedValid().stream().filter(n -> n != null && n.has("status"))
                .sorted((a, b) -> time(a).compareTo(time(b))).toList();
        for (JsonNode n : nodes) {
            if (!seen.add(n.get("event_id").asText())) {
                continue;
            }
            String user = n.get("user_id").asText();
            if (n.get("status").asText().equals("requested")) {
                requestedByWithdrawal.put(n.get("withdrawal_id").asText(), n);
                firstBalance.putIfAbsent(user, n.get("account_balance_usd").decimalValue());
            } else if (n.get("status").asText().equals("approved")) {
                approvedUsd.merge(user, n.get("usd_value").decimalValue(), BigDecimal::add);
            }
        }
        GroundTruth gt = sim.groundTruth();
        BigDecimal share = new BigDecimal("0.80");
        for (GroundTruth.UnauthorizedApproval a : gt.unauthorizedApprovals()) {
            JsonNode req = requestedByWithdrawal.get(a.withdrawalId());
            assertThat(a.usdValue()).isGreaterThanOrEqualTo(
                    req.get("account_balance_usd").decimalValue().multiply(share));
            assertThat(a.usdValue()).isGreaterThanOrEqualTo(new BigDecimal("1000"));
        }
        approvedUsd.forEach((user, sum) -> {
            // Legitimate drainers empty their own account on purpose (ScenarioTest checks them).
            if (!gt.affectedUsers().contains(user) && !gt.legitimateDrainers().contains(user)) {
                assertThat(sum).as(user).isLessThan(firstBalance.get(user).multiply(share));
            }
        });
    }

    @Test
    void amountsAreExactDecimalStringsConsistentWithPrices() {
        for (JsonNode n : parsedValid()) {
            if (n == null || !n.has("status")) {
                continue;
            }
            Asset asset = Asset.valueOf(n.get("asset").asText());
            BigDecimal amount = new BigDecimal(n.get("amount").asText());
            assertThat(amount.signum()).isPositive();
            assertThat(amount.scale()).isLessThanOrEqualTo(asset.scale());
            assertThat(n.get("usd_value").decimalValue())
                    .isEqualByComparingTo(amount.multiply(asset.priceUsd()).setScale(2, java.math.RoundingMode.HALF_EVEN));
        }
    }

    static Stream<SimulationConfig> variedConfigs() {
        SimulationConfig d = SimulationConfig.defaults();
        return Stream.of(
                d.toBuilder().seed(1).benignUsers(12).attackVictims(9).malformedCount(7).build(),
                d.toBuilder().seed(99).maxArrivalDelay(Duration.ofSeconds(1)).duplicateCount(10).build(),
                d.toBuilder().seed(5).benignUsers(5).attackVictims(8).withdrawalsPerBenignUser(0)
                        .attackChannel("api").build(),
                d.toBuilder().seed(2024).benignUsers(3).attackVictims(2).withdrawalsPerBenignUser(4)
                        .maxArrivalDelay(Duration.ofSeconds(29)).attackSpacing(Duration.ZERO).build(),
                d.toBuilder().seed(-3).benignUsers(120).attackVictims(60).topicLogins("t.logins").topicMfa("t.mfa")
                        .topicWithdrawals("t.withdrawals").topicAccountChanges("t.changes").build());
    }

    @ParameterizedTest
    @MethodSource("variedConfigs")
    void invariantsHoldForOtherConfigs(SimulationConfig c) throws Exception {
        Simulation s = Simulator.generate(c);
        // The contract checks are keyed by the default topic names: map custom ones back.
        Map<String, String> rename = new HashMap<>();
        for (int i = 0; i < 4; i++) {
            rename.put(c.topics().get(i), SimulationConfig.defaults().topics().get(i));
        }
        for (SimRecord r : s.records()) {
            if (r.isValid()) {
                assertThat(violations(rename.get(r.topic()), readTree(r.value()))).as(r.value()).isEmpty();
            }
        }
        checkBoundedDisorder(s);
        checkAuthorization(s);
        checkTotals(s);
        assertThat(checkLateVerification(s)).isEqualTo(c.benignUsers() > 0 ? 1 : 0);
        assertThat(s.groundTruth().unauthorizedApprovals()).hasSize(c.attackVictims());
        assertThat(s.groundTruth().duplicatesEmitted()).isEqualTo(c.duplicateCount());
        assertThat(s.groundTruth().malformedEmitted()).isEqualTo(c.malformedCount());
    }

    // ------------------------------------------------------------ files

    @Test
    void writeToFilesRoundTrips(@TempDir Path dir) throws Exception {
        Map<String, Path> files = SimulationWriter.writeToFiles(sim, dir);
        assertThat(files).hasSize(5);
        for (String topic : config.topics()) {
            List<String> lines = Files.readAllLines(dir.resolve(topic + ".ndjson"), StandardCharsets.UTF_8);
            assertThat(lines).containsExactlyElementsOf(sim.recordsOf(topic).stream().map(SimRecord::value).toList());
        }
        String json = Files.readString(dir.resolve("ground-truth.json"), StandardCharsets.UTF_8);
        assertThat(GroundTruth.fromJson(json)).isEqualTo(sim.groundTruth());
        JsonNode tree = JSON.readTree(json);
        assertThat(tree.get("compromised_service_version").asText()).isEqualTo("2.14.0-rc1");
        JsonNode first = tree.get("unauthorized_approvals").get(0);
        assertThat(first.get("amount").isTextual()).isTrue();
        assertThat(first.get("amount").asText()).matches(AMOUNT);
        assertThat(first.get("usd_value").isNumber()).isTrue();
        assertThat(first.get("kind").asText()).isEqualTo("no_challenge");
    }

    @Test
    void smallConfigsStillWork() {
        Simulation tiny = Simulator.generate(SimulationConfig.builder().benignUsers(0).attackVictims(1)
                .duplicateCount(5).malformedCount(1).build());
        assertThat(tiny.groundTruth().unauthorizedApprovals()).hasSize(1);
        assertThat(tiny.groundTruth().legitimateTrickyApprovals()).isEmpty();
        Simulation empty = Simulator.generate(SimulationConfig.builder().benignUsers(0).attackVictims(0)
                .withoutScenarios().duplicateCount(0).build());
        assertThat(empty.records()).isEmpty();
    }

    // ------------------------------------------------------------ the contract, written out

    private static List<String> violations(String topic, JsonNode n) {
        List<String> p = new ArrayList<>();
        if (!n.isObject()) {
            return List.of("not an object");
        }
        text(n, "event_id", 1, 128, p);
        text(n, "user_id", 1, 128, p);
        JsonNode t = n.get("event_time");
        if (t == null || !t.isTextual()) {
            p.add("event_time");
        } else {
            try {
                OffsetDateTime.parse(t.asText());
            } catch (DateTimeParseException e) {
                p.add("event_time not RFC 3339: " + t.asText());
            }
        }
        nullableText(n, "session_id", p);
        nullableText(n, "device_id", p);
        nullableText(n, "ip", p);
        if (n.hasNonNull("ip") && n.get("ip").isTextual() && !InetAddresses.isInetAddress(n.get("ip").asText())) {
            p.add("ip");
        }
        switch (topic) {
            case "exchange.auth.logins" -> {
                oneOf(n, "outcome", LOGIN_OUTCOMES, p);
                oneOf(n, "auth_method", AUTH_METHODS, p);
                if (!n.path("device_jailbroken").isBoolean()) {
                    p.add("device_jailbroken");
                }
                nullableText(n, "user_agent", p);
                JsonNode geo = n.get("geo");
                if (geo == null) {
                    p.add("geo missing");
                } else if (!geo.isNull()) {
                    if (!geo.path("country").isTextual() || !geo.path("country").asText().matches("[A-Z]{2}")) {
                        p.add("geo.country");
                    }
                    if (!geo.path("lat").isNumber() || Math.abs(geo.path("lat").asDouble()) > 90) {
                        p.add("geo.lat");
                    }
                    if (!geo.path("lon").isNumber() || Math.abs(geo.path("lon").asDouble()) > 180) {
                        p.add("geo.lon");
                    }
                }
            }
            case "exchange.auth.mfa" -> {
                oneOf(n, "action", MFA_ACTIONS, p);
                oneOf(n, "method", MFA_METHODS, p);
                oneOf(n, "purpose", MFA_PURPOSES, p);
                if (n.path("action").asText().startsWith("challenge_")) {
                    text(n, "challenge_id", 1, Integer.MAX_VALUE, p);
                }
                if ("withdrawal".equals(n.path("purpose").asText())) {
                    text(n, "withdrawal_id", 1, Integer.MAX_VALUE, p);
                }
            }
            case "exchange.wallet.withdrawals" -> {
                text(n, "withdrawal_id", 1, Integer.MAX_VALUE, p);
                oneOf(n, "status", STATUSES, p);
                if (!n.path("asset").asText().matches("[A-Z][A-Z0-9]{1,9}")) {
                    p.add("asset");
                }
                text(n, "network", 1, Integer.MAX_VALUE, p);
                if (!n.path("amount").isTextual() || !AMOUNT.matcher(n.get("amount").asText()).matches()) {
                    p.add("amount: " + n.get("amount"));
                }
                if (!n.path("usd_value").isNumber() || n.get("usd_value").decimalValue().signum() < 0) {
                    p.add("usd_value");
                }
                text(n, "destination_address", 1, Integer.MAX_VALUE, p);
                String status = n.path("status").asText();
                if (status.equals("requested") != n.has("account_balance_usd")) {
                    p.add("account_balance_usd on requested only");
                }
                if (status.equals("requested") && !n.path("account_balance_usd").isNumber()) {
                    p.add("account_balance_usd");
                }
                if (status.equals("approved")) {
                    if (!n.has("mfa_challenge_id") || !(n.get("mfa_challenge_id").isNull()
                            || n.get("mfa_challenge_id").isTextual())) {
                        p.add("mfa_challenge_id");
                    }
                    oneOf(n, "approval_channel", CHANNELS, p);
                    text(n, "approval_service", 1, Integer.MAX_VALUE, p);
                    text(n, "approval_service_version", 1, Integer.MAX_VALUE, p);
                }
                if (status.equals("broadcast") || status.equals("completed")) {
                    text(n, "tx_hash", 1, Integer.MAX_VALUE, p);
                }
            }
            case "exchange.account.changes" -> {
                oneOf(n, "action", CHANGE_ACTIONS, p);
                String action = n.path("action").asText();
                if (action.startsWith("whitelist_address_")) {
                    text(n, "address", 1, Integer.MAX_VALUE, p);
                    text(n, "asset", 1, Integer.MAX_VALUE, p);
                    text(n, "network", 1, Integer.MAX_VALUE, p);
                }
                if (action.equals("anti_phishing_code_set")) {
                    text(n, "anti_phishing_code", 1, Integer.MAX_VALUE, p);
                }
                if (action.equals("mfa_policy_changed")) {
                    for (String f : List.of("login", "withdrawal", "whitelist_address", "settings")) {
                        if (!n.path("mfa_policy").path(f).isBoolean()) {
                            p.add("mfa_policy." + f);
                        }
                    }
                }
            }
            default -> p.add("unknown topic " + topic);
        }
        return p;
    }

    private static void text(JsonNode n, String field, int min, int max, List<String> p) {
        JsonNode v = n.get(field);
        if (v == null || !v.isTextual() || v.asText().length() < min || v.asText().length() > max) {
            p.add(field);
        }
    }

    private static void nullableText(JsonNode n, String field, List<String> p) {
        JsonNode v = n.get(field);
        if (v == null || !(v.isNull() || v.isTextual())) {
            p.add(field);
        }
    }

    private static void oneOf(JsonNode n, String field, Set<String> allowed, List<String> p) {
        JsonNode v = n.get(field);
        if (v == null || !v.isTextual() || !allowed.contains(v.asText())) {
            p.add(field + ": " + v);
        }
    }

    // ------------------------------------------------------------ helpers

    private static List<String> values(Simulation s) {
        return s.records().stream().map(SimRecord::value).toList();
    }

    /** Parsed values in arrival order, null at the positions of malformed records. */
    private static List<JsonNode> parsedValid() {
        return parsedValid(sim);
    }

    private static List<JsonNode> parsedValid(Simulation sim) {
        return sim.records().stream().map(r -> r.isValid() ? readTree(r.value()) : null)
                .collect(Collectors.toCollection(ArrayList::new));
    }

    private static JsonNode readTree(String s) {
        try {
            return JSON.readTree(s);
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }

    private static Instant time(JsonNode n) {
        return OffsetDateTime.parse(n.get("event_time").asText()).toInstant();
    }

    private static String abbreviate(String s) {
        return s.length() > 300 ? s.substring(0, 300) + "..." : s;
    }
}
