package io.tourniquet.forensics;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import co.elastic.clients.elasticsearch.ElasticsearchClient;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.tourniquet.cli.Main;
import io.tourniquet.cli.SetupCommand;
import io.tourniquet.config.Settings;
import io.tourniquet.config.TourniquetConfig;
import io.tourniquet.detect.DetectJobRunner;
import io.tourniquet.forensics.Forensics.AttackerInfra;
import io.tourniquet.forensics.Forensics.IncidentView;
import io.tourniquet.forensics.Forensics.Indicator;
import io.tourniquet.forensics.Forensics.Outcome;
import io.tourniquet.forensics.Forensics.RootCause;
import io.tourniquet.forensics.Forensics.Timeline;
import io.tourniquet.forensics.Forensics.TimelineEntry;
import io.tourniquet.forensics.Forensics.UserEligibility;
import io.tourniquet.forensics.Forensics.Verdict;
import io.tourniquet.index.EsClients;
import io.tourniquet.index.IndexJobRunner;
import io.tourniquet.kafka.KafkaTopics;
import io.tourniquet.sim.GroundTruth;
import io.tourniquet.sim.GroundTruth.UnauthorizedApproval;
import io.tourniquet.sim.SimRecord;
import io.tourniquet.sim.Simulation;
import io.tourniquet.sim.SimulationConfig;
import io.tourniquet.sim.SimulationWriter;
import io.tourniquet.sim.Simulator;
import io.tourniquet.testing.EsHttp;
import io.tourniquet.testing.LocalServices;
import io.tourniquet.testing.SharedMiniCluster;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.UUID;
import java.util.function.Supplier;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * Every forensic answer against the simulator's ground truth: one simulated incident replayed
 * through real Kafka, the detect and index jobs on the shared MiniCluster, into real
 * Elasticsearch (its own namespace), then asked through {@link Forensics} and the CLI. Where the
 * ground truth has no ready answer (who touched which IP, which events fall in a window), the
 * expectation is computed from the simulated records themselves, independently of Elasticsearch.
 */
@ExtendWith({LocalServices.class, SharedMiniCluster.class})
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ForensicsITCase {
    static final String KEY = "forensics-itcase-signing-key-0123456789abcdef";
    static final String CONTROL_KEY = "forensics-itcase-control-key-0123456789abcdef";
    static final ObjectMapper JSON = new ObjectMapper();

    TourniquetConfig cfg;
    Simulation sim;
    GroundTruth truth;
    ElasticsearchClient es;
    Forensics forensics;
    IncidentView incident;
    /** Every distinct valid simulated event (duplicates and malformed records left out). */
    List<SimEvent> simEvents;
    final Map<String, Long> timingsMs = new LinkedHashMap<>();

    /** A simulated event as produced: its time, user and parsed value. */
    record SimEvent(String topic, Instant time, String id, String user, JsonNode node) {
        String text(String field) {
            JsonNode v = node.get(field);
            return v == null || v.isNull() ? null : v.asText();
        }
    }

    @BeforeAll
    void replayAnIncident() throws Exception {
        String ns = "fx" + UUID.randomUUID().toString().substring(0, 8) + "-";
        cfg = TourniquetConfig.load(Map.of(), Map.of(
                Settings.KAFKA_BOOTSTRAP.key(), LocalServices.kafkaBootstrap(),
                Settings.ES_URL.key(), LocalServices.elasticsearchUrl(),
                Settings.SIGNING_KEY.key(), KEY,
                Settings.CONTROL_KEY.key(), CONTROL_KEY,
                Settings.CHECKPOINT_INTERVAL.key(), "1 s")).namespaced(ns);
        SetupCommand.apply(cfg);

        sim = Simulator.generate(SimulationConfig.builder()
                .seed(20220117).benignUsers(16).attackVictims(12).malformedCount(6).duplicateCount(3)
                .topicsFrom(cfg).build());
        truth = sim.groundTruth();
        SimulationWriter.writeToKafka(sim, cfg.get(Settings.KAFKA_BOOTSTRAP));
        DetectJobRunner.build(cfg, true).execute("fx-detect");
        IndexJobRunner.build(cfg, true).execute("fx-index");
        es = EsClients.create(cfg);
        for (var s : Settings.INDEX_ALIASES) {
            es.indices().refresh(r -> r.index(cfg.get(s)));
        }
        forensics = new Forensics(es, cfg);

        Map<String, SimEvent> distinct = new LinkedHashMap<>();
        for (SimRecord r : sim.records()) {
            if (!r.isValid()) continue;
            JsonNode n = JSON.readTree(r.value());
            distinct.putIfAbsent(n.get("event_id").asText(),
                    new SimEvent(r.topic(), r.eventTime(), n.get("event_id").asText(), n.get("user_id").asText(), n));
        }
        simEvents = List.copyOf(distinct.values());

        List<IncidentView> all = timed("incidents", () -> forensics.incidents(TimeRange.ALL, 50));
        assertThat(all).as("the simulation holds one incident").hasSize(truth.expectedAlerts().incidents());
        incident = all.get(0);
    }

    @AfterAll
    void cleanUp() throws Exception {
        System.out.println("[forensics] query times on the test data (ms): " + timingsMs);
        if (es != null) es.close();
        if (cfg == null) return;
        try (EsHttp http = new EsHttp(cfg.get(Settings.ES_URL))) {
            http.deleteAliasesAndTemplates(Settings.INDEX_ALIASES.stream().map(cfg::get).toList());
        }
        try (var admin = KafkaTopics.admin(cfg)) {
            admin.deleteTopics(KafkaTopics.all(cfg)).all().get();
        }
    }

    private <T> T timed(String name, Supplier<T> query) {
        long start = System.nanoTime();
        T result = query.get();
        timingsMs.merge(name, (System.nanoTime() - start) / 1_000_000, Math::max);
        return result;
    }

    private List<UnauthorizedApproval> incidentApprovals() {
        Set<String> users = new HashSet<>(truth.incident().affectedUsers());
        return truth.unauthorizedApprovals().stream().filter(u -> users.contains(u.userId())).toList();
    }

    private TimeRange window() {
        Duration lookback = cfg.get(Settings.FORENSICS_LOOKBACK);
        return TimeRange.closed(incident.startedAt().minus(lookback), incident.lastAlertAt().plus(lookback));
    }

    private static boolean within(TimeRange r, Instant t) {
        return (r.since() == null || !t.isBefore(r.since())) && (r.until() == null || t.isBefore(r.until()));
    }

    // ------------------------------------------------------------------------------------ incidents

    @Test
    void incidentHasTheGroundTruthsUsersAmountsAlertsAndActions() {
        GroundTruth.ExpectedIncident expected = truth.incident();
        IncidentView one = timed("incident", () -> forensics.incident(incident.id()));
        assertThat(one).isEqualTo(incident);
        assertThat(one.status()).isEqualTo("contained");
        assertThat(one.startedAt()).isEqualTo(expected.startedAt());
        assertThat(one.containedAt()).isAfterOrEqualTo(expected.containedAt());
        assertThat(one.lastAlertAt()).isEqualTo(incidentApprovals().stream().map(UnauthorizedApproval::eventTime)
                .max(Comparator.naturalOrder()).orElseThrow());
        assertThat(one.usersAffected()).isEqualTo(expected.usersAffected());
        assertThat(one.userIds()).containsExactlyInAnyOrderElementsOf(expected.affectedUsers());

        Map<String, BigDecimal> amounts = new TreeMap<>();
        Map<String, BigDecimal> usd = new TreeMap<>();
        Map<String, Integer> withdrawals = new TreeMap<>();
        one.impact().forEach(a -> {
            amounts.put(a.asset(), new BigDecimal(a.amount()).stripTrailingZeros());
            usd.put(a.asset(), a.usdValue().stripTrailingZeros());
            withdrawals.put(a.asset(), a.withdrawals());
        });
        Map<String, BigDecimal> expectedAmounts = new TreeMap<>();
        Map<String, BigDecimal> expectedUsd = new TreeMap<>();
        Map<String, Integer> expectedWithdrawals = new TreeMap<>();
        expected.impact().values().forEach(t -> {
            expectedAmounts.put(t.asset(), t.amount().stripTrailingZeros());
            expectedUsd.put(t.asset(), t.usdValue().stripTrailingZeros());
            expectedWithdrawals.put(t.asset(), t.approvals());
        });
        assertThat(amounts).isEqualTo(expectedAmounts);
        assertThat(usd).isEqualTo(expectedUsd);
        assertThat(withdrawals).isEqualTo(expectedWithdrawals);
        assertThat(one.usdTotal()).isEqualByComparingTo(expected.usdTotal());

        int approvals = expected.unauthorizedApprovals();
        assertThat(one.alertsByRule()).containsEntry("unauthorized_approval", (long) approvals)
                .containsEntry("bulk_drain", (long) truth.expectedAlerts().bulkDrainEpisodes())
                .containsEntry("destination_concentration", (long) truth.expectedAlerts().destinationConcentration().size());
        assertThat(one.actionsByType()).containsEntry("freeze_account", (long) approvals)
                .containsEntry("hold_withdrawal", (long) approvals)
                .containsEntry("revoke_mfa_tokens", (long) approvals)
                .containsEntry("suspend_withdrawals", 1L)
                .containsEntry("block_address", (long) truth.expectedAlerts().destinationConcentration().size());

        assertThat(timed("incidents", () -> forensics.incidents(new TimeRange(expected.startedAt().plusMillis(1), null), 50)))
                .as("started before --since").isEmpty();
        assertThatThrownBy(() -> forensics.incident("no-such-incident")).isInstanceOf(UnknownIdException.class)
                .hasMessageContaining("no-such-incident");
    }

    // ------------------------------------------------------------------------------------ root cause

    @Test
    void rootCauseIsTheCompromisedVersionWithItsCountAndFirstAndLastApproval() {
        List<UnauthorizedApproval> approvals = incidentApprovals();
        Instant first = approvals.stream().map(UnauthorizedApproval::eventTime).min(Comparator.naturalOrder()).orElseThrow();
        Instant last = approvals.stream().map(UnauthorizedApproval::eventTime).max(Comparator.naturalOrder()).orElseThrow();

        RootCause r = timed("root-cause", () -> forensics.rootCause(incident.id(), TimeRange.ALL));
        assertThat(r.approvals()).isEqualTo(approvals.size());
        assertThat(r.users()).isEqualTo(truth.incident().usersAffected());
        assertThat(r.byBackend()).singleElement().satisfies(b -> {
            assertThat(b.service()).isEqualTo(truth.compromisedService());
            assertThat(b.version()).isEqualTo(truth.compromisedServiceVersion());
            assertThat(b.approvals()).isEqualTo(approvals.size());
            assertThat(b.users()).isEqualTo(truth.incident().usersAffected());
            assertThat(b.firstSeen()).isEqualTo(first);
            assertThat(b.lastSeen()).isEqualTo(last);
        });
        assertThat(r.byChannel()).singleElement().satisfies(c -> {
            assertThat(c.channel()).isEqualTo(truth.attackChannel());
            assertThat(c.approvals()).isEqualTo(approvals.size());
            assertThat(c.firstSeen()).isEqualTo(first);
            assertThat(c.lastSeen()).isEqualTo(last);
        });

        // Without an incident: every unauthorized approval; --since drops the earlier ones.
        assertThat(forensics.rootCause(null, TimeRange.ALL).approvals()).isEqualTo(truth.unauthorizedApprovals().size());
        List<Instant> times = truth.unauthorizedApprovals().stream().map(UnauthorizedApproval::eventTime).sorted().toList();
        RootCause later = forensics.rootCause(null, new TimeRange(times.get(2), null));
        assertThat(later.approvals()).isEqualTo(times.size() - 2);
        assertThat(later.firstSeen()).isEqualTo(times.get(2));
    }

    // ------------------------------------------------------------------------------------ attacker infrastructure

    /** Per value of {@code field}: the victims' events in the window, ranked as the query ranks them. */
    private List<Indicator> expectedIndicators(String field, boolean all) {
        TimeRange w = window();
        Set<String> victims = new HashSet<>(incident.userIds());
        Map<String, Set<String>> users = new TreeMap<>();
        Map<String, Integer> events = new TreeMap<>();
        Map<String, Instant> first = new TreeMap<>();
        Map<String, Instant> last = new TreeMap<>();
        for (SimEvent e : simEvents) {
            String v = e.text(field);
            if (v == null || !victims.contains(e.user()) || !within(w, e.time())) continue;
            users.computeIfAbsent(v, k -> new HashSet<>()).add(e.user());
            events.merge(v, 1, Integer::sum);
            first.merge(v, e.time(), (a, b) -> a.isBefore(b) ? a : b);
            last.merge(v, e.time(), (a, b) -> a.isAfter(b) ? a : b);
        }
        return users.keySet().stream()
                .map(v -> new Indicator(v, users.get(v).size(), events.get(v), first.get(v), last.get(v)))
                .filter(i -> all || i.victims() >= 2)
                .sorted(Comparator.comparingLong(Indicator::victims).reversed().thenComparing(Indicator::firstSeen)
                        .thenComparing(Indicator::value))
                .toList();
    }

    @Test
    void attackerInfraIsTheGroundTruthsIpsDevicesAndAddressesRankedByVictims() {
        AttackerInfra infra = timed("attacker-infra", () -> forensics.attackerInfra(incident.id(), TimeRange.ALL, false, 20));
        assertThat(infra.victims()).containsExactlyInAnyOrderElementsOf(truth.incident().affectedUsers());
        assertThat(infra.window()).isEqualTo(window());

        assertThat(infra.ips()).isEqualTo(expectedIndicators("ip", false));
        assertThat(infra.ips()).extracting(Indicator::value).containsExactlyInAnyOrderElementsOf(truth.attackerIps());
        assertThat(infra.devices()).isEqualTo(expectedIndicators("device_id", false));
        assertThat(infra.devices()).extracting(Indicator::value)
                .containsExactlyInAnyOrderElementsOf(truth.attackerDeviceIds());

        // Addresses the attacker used for two or more victims, ranked by how many.
        Map<String, Set<String>> victimsByAddress = new TreeMap<>();
        incidentApprovals().forEach(u -> victimsByAddress.computeIfAbsent(u.destinationAddress(), k -> new HashSet<>())
                .add(u.userId()));
        List<String> shared = victimsByAddress.entrySet().stream().filter(e -> e.getValue().size() >= 2)
                .map(Map.Entry::getKey).toList();
        assertThat(shared).isNotEmpty();
        assertThat(infra.addresses()).isEqualTo(expectedIndicators("destination_address", false));
        assertThat(infra.addresses()).extracting(Indicator::value).containsExactlyInAnyOrderElementsOf(shared);
        assertThat(infra.addresses()).allSatisfy(a ->
                assertThat(a.victims()).isEqualTo(victimsByAddress.get(a.value()).size()));
        assertThat(truth.attackerAddresses()).containsAll(shared);

        // --all: also what only one victim touched, every attacker address among them.
        AttackerInfra all = forensics.attackerInfra(incident.id(), TimeRange.ALL, true, 1_000);
        assertThat(all.addresses()).isEqualTo(expectedIndicators("destination_address", true));
        assertThat(all.addresses()).extracting(Indicator::value).containsAll(truth.attackerAddresses());
        assertThat(all.devices()).isEqualTo(expectedIndicators("device_id", true));
        assertThat(all.ips()).hasSizeGreaterThan(infra.ips().size());
        assertThat(all.ips().subList(0, truth.attackerIps().size())).extracting(Indicator::value)
                .containsExactlyInAnyOrderElementsOf(truth.attackerIps());

        // Without an incident: the users with unauthorized approvals, the same attacker IPs.
        AttackerInfra anyIncident = forensics.attackerInfra(null, TimeRange.ALL, false, 20);
        assertThat(anyIncident.ips()).extracting(Indicator::value).containsExactlyInAnyOrderElementsOf(truth.attackerIps());
    }

    // ------------------------------------------------------------------------------------ timeline

    @Test
    void aVictimsTimelineHasTheAttackersLoginThenTheApprovalItsAlertAndTheFreezeInOrder() {
        UnauthorizedApproval u = incidentApprovals().get(0);
        Timeline t = timed("timeline", () -> forensics.timeline(u.userId(), TimeRange.ALL, 500));
        List<TimelineEntry> entries = t.entries();
        long expectedEvents = simEvents.stream().filter(e -> e.user().equals(u.userId())).count();
        assertThat(t.events()).isEqualTo(expectedEvents);
        assertThat(t.truncated()).isFalse();
        assertThat(entries).hasSize((int) (t.events() + t.alerts() + t.actions()));
        assertThat(entries).extracting(TimelineEntry::time).isSorted();

        int login = indexOf(entries, e -> e.source().equals("event") && "login".equals(e.kind())
                && truth.attackerIps().contains(e.ip()));
        int approval = indexOf(entries, e -> e.source().equals("event") && u.eventId().equals(e.id()));
        int alert = indexOf(entries, e -> e.source().equals("alert") && "unauthorized_approval".equals(e.kind()));
        int freeze = indexOf(entries, e -> e.source().equals("action") && "freeze_account".equals(e.kind()));
        assertThat(login).isGreaterThanOrEqualTo(0);
        assertThat(approval).isGreaterThan(login);
        assertThat(alert).isGreaterThan(approval);
        assertThat(freeze).isGreaterThan(alert);
        TimelineEntry a = entries.get(approval);
        assertThat(a.kind()).isEqualTo("withdrawal_approved");
        assertThat(a.mfaAuthorized()).isFalse();
        assertThat(a.amount()).isEqualTo(u.amount().toPlainString());
        assertThat(a.incidentId()).isEqualTo(incident.id());
        assertThat(entries.get(alert).withdrawalId()).isEqualTo(u.withdrawalId());
        assertThat(entries.get(login).jailbroken()).isFalse();

        Timeline firstThree = forensics.timeline(u.userId(), TimeRange.ALL, 3);
        assertThat(firstThree.truncated()).isTrue();
        assertThat(firstThree.entries()).isEqualTo(entries.subList(0, 3));
        Timeline fromApproval = forensics.timeline(u.userId(), new TimeRange(u.eventTime(), null), 500);
        assertThat(fromApproval.entries().get(0).id()).isEqualTo(u.eventId());

        assertThatThrownBy(() -> forensics.timeline("u-nobody", TimeRange.ALL, 10))
                .isInstanceOf(UnknownIdException.class).hasMessageContaining("u-nobody");
    }

    private static int indexOf(List<TimelineEntry> entries, java.util.function.Predicate<TimelineEntry> p) {
        for (int i = 0; i < entries.size(); i++) if (p.test(entries.get(i))) return i;
        return -1;
    }

    // ------------------------------------------------------------------------------------ export

    @Test
    void exportStreamsExactlyTheIncidentsEventsInTimeOrderAcrossPages() throws IOException {
        TimeRange w = window();
        Set<String> victims = new HashSet<>(incident.userIds());
        Set<String> expected = simEvents.stream().filter(e -> victims.contains(e.user()) && within(w, e.time()))
                .map(SimEvent::id).collect(Collectors.toSet());

        List<JsonNode> docs = new ArrayList<>();
        long n = timed("export", () -> {
            try {
                return forensics.export(incident.id(), null, TimeRange.ALL, docs::add);
            } catch (IOException e) {
                throw new IllegalStateException(e);
            }
        });
        assertThat(n).isEqualTo(expected.size()).isEqualTo(docs.size());
        assertThat(docs).extracting(d -> d.at("/event/id").asText()).containsExactlyInAnyOrderElementsOf(expected);
        assertThat(docs).extracting(d -> Instant.parse(d.path("@timestamp").asText())).isSorted();

        // Pages of 7: search_after across many page boundaries gives the same events in the same order.
        List<JsonNode> paged = new ArrayList<>();
        forensics.exportPage = 7;
        try {
            forensics.export(incident.id(), null, TimeRange.ALL, paged::add);
        } finally {
            forensics.exportPage = Forensics.EXPORT_PAGE;
        }
        assertThat(paged).isEqualTo(docs);

        String user = incident.userIds().get(0);
        List<JsonNode> mine = new ArrayList<>();
        forensics.export(null, user, TimeRange.ALL, mine::add);
        assertThat(mine).hasSize((int) simEvents.stream().filter(e -> e.user().equals(user)).count());
        assertThatThrownBy(() -> forensics.export(null, "u-nobody", TimeRange.ALL, d -> { }))
                .isInstanceOf(UnknownIdException.class);
    }

    @Test
    void theCliExportsCsvAndAnswersInJsonAndTables(@TempDir Path dir) throws IOException {
        Path csv = dir.resolve("incident.csv");
        Run export = cli("forensics", "export", "--incident", incident.id(), "--format", "csv", "--out", csv.toString());
        assertThat(export.code).as(export.err).isZero();
        List<String> lines = Files.readAllLines(csv, StandardCharsets.UTF_8);
        long events = forensics.export(incident.id(), null, TimeRange.ALL, d -> { });
        assertThat(lines).hasSize((int) events + 1);
        assertThat(lines.get(0)).isEqualTo(EventCsv.header());
        assertThat(export.err).contains("exported " + events + " events");

        String user = incident.userIds().get(0);
        Run ndjson = cli("forensics", "export", "--user", user);
        assertThat(ndjson.code).as(ndjson.err).isZero();
        List<String> docs = ndjson.out.lines().toList();
        assertThat(docs).hasSize((int) simEvents.stream().filter(e -> e.user().equals(user)).count());
        for (String line : docs) assertThat(JSON.readTree(line).at("/user/id").asText()).isEqualTo(user);

        Run json = cli("forensics", "incident", incident.id(), "--json");
        assertThat(json.code).as(json.err).isZero();
        JsonNode doc = JSON.readTree(json.out);
        assertThat(doc.path("users_affected").asInt()).isEqualTo(truth.incident().usersAffected());
        assertThat(doc.path("started_at").asText()).isEqualTo(io.tourniquet.util.Times.format(
                truth.incident().startedAt().toEpochMilli()));

        Run table = cli("forensics", "root-cause", "--incident", incident.id());
        assertThat(table.code).as(table.err).isZero();
        assertThat(table.out).contains(truth.compromisedServiceVersion()).contains(truth.compromisedService());

        Run unknown = cli("forensics", "incident", "no-such-incident");
        assertThat(unknown.code).isEqualTo(2);
        assertThat(unknown.err).contains("unknown incident 'no-such-incident'");
        Run nobody = cli("forensics", "timeline", "u-nobody");
        assertThat(nobody.code).isEqualTo(2);
        assertThat(nobody.err).contains("unknown user 'u-nobody'");
    }

    record Run(int code, String out, String err) {
    }

    /** The CLI on this test's namespace. */
    private Run cli(String... args) {
        List<String> all = new ArrayList<>(List.of(args));
        all.addAll(List.of("--es", cfg.get(Settings.ES_URL)));
        for (var s : Settings.INDEX_ALIASES) all.addAll(List.of("--set", s.key() + "=" + cfg.get(s)));
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        CommandLine cl = Main.commandLine();
        cl.setOut(new PrintWriter(out));
        cl.setErr(new PrintWriter(err));
        int code = cl.execute(all.toArray(String[]::new));
        return new Run(code, out.toString(), err.toString());
    }

    // ------------------------------------------------------------------------------------ eligibility

    @Test
    void eligibilityFollowsEachUsersRecord() {
        var answer = timed("app-eligibility", () -> forensics.appEligibility(incident.id()));
        assertThat(answer.users()).extracting(UserEligibility::userId)
                .containsExactlyInAnyOrderElementsOf(truth.incident().affectedUsers());
        TimeRange w = window();
        Duration minAge = cfg.get(Settings.APP_CODE_MIN_AGE);
        for (UserEligibility e : answer.users()) {
            String user = e.userId();
            List<SimEvent> mine = simEvents.stream().filter(x -> x.user().equals(user)).toList();
            Instant first = incidentApprovals().stream().filter(u -> u.userId().equals(user))
                    .map(UnauthorizedApproval::eventTime).min(Comparator.naturalOrder()).orElseThrow();
            assertThat(e.firstUnauthorizedAt()).as(user).isEqualTo(first);

            SimEvent policy = mine.stream().filter(x -> "mfa_policy_changed".equals(x.text("action"))
                    && !x.time().isAfter(first)).max(Comparator.comparing(SimEvent::time)).orElse(null);
            Outcome mfa = policy == null ? Outcome.REVIEW
                    : Forensics.MFA_TYPES.stream().allMatch(t -> policy.node().path("mfa_policy").path(t).asBoolean(false))
                    ? Outcome.PASS : Outcome.FAIL;
            Instant firstCode = mine.stream().filter(x -> "anti_phishing_code_set".equals(x.text("action"))
                    && x.text("anti_phishing_code") != null && !x.text("anti_phishing_code").isEmpty())
                    .map(SimEvent::time).min(Comparator.naturalOrder()).orElse(null);
            Instant earliest = mine.stream().map(SimEvent::time).min(Comparator.naturalOrder()).orElseThrow();
            Instant cutoff = first.minus(minAge);
            Outcome code = firstCode != null ? (firstCode.isAfter(cutoff) ? Outcome.FAIL : Outcome.PASS)
                    : earliest.isAfter(cutoff) ? Outcome.REVIEW : Outcome.FAIL;
            boolean jailbroken = mine.stream().anyMatch(x -> x.topic().equals(cfg.get(Settings.TOPIC_LOGINS))
                    && x.node().path("device_jailbroken").asBoolean(false) && within(w, x.time()));
            Outcome device = jailbroken ? Outcome.FAIL : Outcome.PASS;

            assertThat(e.checks()).as(user).extracting(Forensics.ConditionCheck::outcome).containsExactly(mfa, code, device);
            Verdict verdict = List.of(mfa, code, device).contains(Outcome.FAIL) ? Verdict.NOT_ELIGIBLE
                    : List.of(mfa, code, device).contains(Outcome.REVIEW) ? Verdict.NEEDS_MANUAL_REVIEW : Verdict.ELIGIBLE;
            assertThat(e.verdict()).as(user).isEqualTo(verdict);
            assertThat(e.outstanding()).isEqualTo(Forensics.APP_MANUAL_INPUTS);
        }
    }
}
