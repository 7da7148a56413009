package io.tourniquet.forensics;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import co.elastic.clients.elasticsearch.ElasticsearchClient;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.tourniquet.config.Settings;
import io.tourniquet.config.TourniquetConfig;
import io.tourniquet.forensics.Activities.Activity;
import io.tourniquet.forensics.Incidents.AssetAmount;
import io.tourniquet.forensics.AttackerInfrastructure.AttackerInfra;
import io.tourniquet.forensics.Incidents.IncidentView;
import io.tourniquet.forensics.AttackerInfrastructure.Indicator;
import io.tourniquet.forensics.Eligibility.Outcome;
import io.tourniquet.forensics.RootCauses.RootCause;
import io.tourniquet.forensics.Timelines.Timeline;
import io.tourniquet.forensics.Timelines.TimelineEntry;
import io.tourniquet.forensics.Eligibility.UserEligibility;
import io.tourniquet.forensics.Eligibility.Verdict;
import io.tourniquet.index.EsClients;
import io.tourniquet.kafka.KafkaTopics;
import io.tourniquet.sim.GroundTruth;
import io.tourniquet.sim.GroundTruth.UnauthorizedApproval;
import io.tourniquet.sim.SimRecord;
import io.tourniquet.sim.Simulation;
import io.tourniquet.sim.SimulationWriter;
import io.tourniquet.testing.InProcessCli;
import io.tourniquet.testing.EsHttp;
import io.tourniquet.testing.LocalServices;
import io.tourniquet.testing.ReplayedIncident;
import io.tourniquet.testing.SharedMiniCluster;
import io.tourniquet.util.Times;
import java.io.IOException;
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
import java.util.function.Supplier;
import java.util.stream.Collectors;
import org.jsoup.Jsoup;
import org.jsoup.nodes.Document;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

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
        cfg = ReplayedIncident.config("fx", KEY, CONTROL_KEY);

        sim = ReplayedIncident.simulate(cfg, 20220117);
        truth = sim.groundTruth();
        SimulationWriter.writeToKafka(sim, cfg.get(Settings.KAFKA_BOOTSTRAP));
        ReplayedIncident.replay(cfg, "fx");
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

    // ------------------------------------------------------------------------------------ tracing

    @Test
    void withATracerEveryElasticsearchRequestIsAClientSpanOfTheCurrentSpan() {
        var exported = io.opentelemetry.sdk.testing.exporter.InMemorySpanExporter.create();
        try (var tracing = io.opentelemetry.sdk.trace.SdkTracerProvider.builder()
                .addSpanProcessor(io.opentelemetry.sdk.trace.export.SimpleSpanProcessor.create(exported)).build()) {
            var otel = io.opentelemetry.sdk.OpenTelemetrySdk.builder().setTracerProvider(tracing).build();
            Forensics traced = new Forensics(es, cfg).traced(otel);
            var root = otel.getTracer("test").spanBuilder("forensics root-cause").startSpan();
            try (var ignored = root.makeCurrent()) {
                traced.rootCause(incident.id(), TimeRange.ALL);
            } finally {
                root.end();
            }
            var spans = exported.getFinishedSpanItems();
            var requests = spans.stream().filter(sp -> sp.getName().startsWith("elasticsearch ")).toList();
            assertThat(requests).isNotEmpty().allSatisfy(sp -> {
                assertThat(sp.getKind()).isEqualTo(io.opentelemetry.api.trace.SpanKind.CLIENT);
                assertThat(sp.getParentSpanId()).isEqualTo(root.getSpanContext().getSpanId());
                assertThat(sp.getAttributes().get(io.opentelemetry.api.common.AttributeKey.stringKey("db.system")))
                        .isEqualTo("elasticsearch");
                assertThat(sp.getAttributes().get(io.opentelemetry.api.common.AttributeKey.stringKey("db.operation.name")))
                        .isIn("search", "count", "open_point_in_time");
            });
        }
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
        forensics.context.exportPage = 7;
        try {
            forensics.export(incident.id(), null, TimeRange.ALL, paged::add);
        } finally {
            forensics.context.exportPage = Exports.EXPORT_PAGE;
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
    void exportOfTheWindowHasEveryAccountsEventsInItAndStopsOnASinkFailure() throws IOException {
        TimeRange w = window();
        Set<String> expected = simEvents.stream().filter(e -> within(w, e.time())).map(SimEvent::id)
                .collect(Collectors.toSet());
        // More than the incident's users: the window's other accounts are what this export is for.
        assertThat(simEvents.stream().filter(e -> within(w, e.time())).map(SimEvent::user).distinct().count())
                .isGreaterThan(incident.userIds().size());

        List<JsonNode> docs = new ArrayList<>();
        long n = forensics.exportWindow(incident.id(), TimeRange.ALL, docs::add);
        assertThat(n).isEqualTo(expected.size()).isEqualTo(docs.size());
        assertThat(docs).extracting(d -> d.at("/event/id").asText()).containsExactlyInAnyOrderElementsOf(expected);
        assertThat(docs).extracting(d -> Instant.parse(d.path("@timestamp").asText())).isSorted();

        List<JsonNode> paged = new ArrayList<>();
        int[] written = {0};
        forensics.context.exportPage = 7;
        try {
            forensics.exportWindow(incident.id(), TimeRange.ALL, paged::add);
            // A sink that fails (a full disk) ends the export with its error while the next page is being fetched.
            assertThatThrownBy(() -> forensics.exportWindow(incident.id(), TimeRange.ALL, d -> {
                if (++written[0] == 10) throw new IOException("disk full");
            })).isInstanceOf(IOException.class).hasMessage("disk full");
        } finally {
            forensics.context.exportPage = Exports.EXPORT_PAGE;
        }
        assertThat(paged).isEqualTo(docs);
        assertThat(written[0]).isEqualTo(10);
        assertThatThrownBy(() -> forensics.exportWindow("inc-nobody", TimeRange.ALL, d -> { }))
                .isInstanceOf(UnknownIdException.class);
    }

    @Test
    void theCliExportsCsvAndAnswersInJsonAndTables(@TempDir Path dir) throws IOException {
        Path csv = dir.resolve("incident.csv");
        InProcessCli.Run export = cli("forensics", "export", "--incident", incident.id(), "--format", "csv", "--out", csv.toString());
        assertThat(export.code()).as(export.err()).isZero();
        List<String> lines = Files.readAllLines(csv, StandardCharsets.UTF_8);
        long events = forensics.export(incident.id(), null, TimeRange.ALL, d -> { });
        assertThat(lines).hasSize((int) events + 1);
        assertThat(lines.get(0)).isEqualTo(EventCsv.header());
        assertThat(export.err()).contains("exported " + events + " events");

        String user = incident.userIds().get(0);
        InProcessCli.Run ndjson = cli("forensics", "export", "--user", user);
        assertThat(ndjson.code()).as(ndjson.err()).isZero();
        List<String> docs = ndjson.out().lines().toList();
        assertThat(docs).hasSize((int) simEvents.stream().filter(e -> e.user().equals(user)).count());
        for (String line : docs) assertThat(JSON.readTree(line).at("/user/id").asText()).isEqualTo(user);

        InProcessCli.Run json = cli("forensics", "incident", incident.id(), "--json");
        assertThat(json.code()).as(json.err()).isZero();
        JsonNode doc = JSON.readTree(json.out());
        assertThat(doc.path("users_affected").asInt()).isEqualTo(truth.incident().usersAffected());
        assertThat(doc.path("started_at").asText()).isEqualTo(io.tourniquet.util.Times.format(
                truth.incident().startedAt().toEpochMilli()));

        InProcessCli.Run table = cli("forensics", "root-cause", "--incident", incident.id());
        assertThat(table.code()).as(table.err()).isZero();
        assertThat(table.out()).contains(truth.compromisedServiceVersion()).contains(truth.compromisedService());

        InProcessCli.Run unknown = cli("forensics", "incident", "no-such-incident");
        assertThat(unknown.code()).isEqualTo(2);
        assertThat(unknown.err()).contains("unknown incident 'no-such-incident'");
        InProcessCli.Run nobody = cli("forensics", "timeline", "u-nobody");
        assertThat(nobody.code()).isEqualTo(2);
        assertThat(nobody.err()).contains("unknown user 'u-nobody'");
    }

    /** The CLI on this test's namespace. */
    private InProcessCli.Run cli(String... args) {
        return InProcessCli.onIndices(cfg, args);
    }

    // ------------------------------------------------------------------------------------ report

    /** The text of each body row's cell {@code index} of the table with this id. */
    private static List<String> column(Document doc, String tableId, int index) {
        return doc.getElementById(tableId).select("tbody tr").stream().map(r -> r.child(index).text()).toList();
    }

    private static BigDecimal usdCell(String text) {
        return new BigDecimal(text.replace("US$", "").replace(",", "").trim());
    }

    @Test
    void theReportShowsTheCliAnswersAndTheHistogramCountsTheIncidentsApprovals(@TempDir Path dir) throws IOException {
        Path file = dir.resolve("report.html");
        InProcessCli.Run run = cli("forensics", "report", "--incident", incident.id(), "--out", file.toString());
        assertThat(run.code()).as(run.err()).isZero();
        assertThat(run.err()).contains("wrote the report of incident " + incident.id());
        Document doc = Jsoup.parse(file.toFile(), "UTF-8");
        // Nobody judged this replay's alerts.
        assertThat(doc.selectFirst("#verdicts [data-field=verdicts-none]")).isNotNull();

        // The summary: the CLI's answer (--json) and the ground truth.
        JsonNode cliIncident = JSON.readTree(cli("forensics", "incident", incident.id(), "--json").out());
        IncidentView inc = forensics.incident(incident.id());
        assertThat(doc.selectFirst("[data-field=users-affected]").text())
                .isEqualTo(cliIncident.path("users_affected").asText())
                .isEqualTo(String.valueOf(truth.incident().usersAffected()));
        assertThat(doc.selectFirst("[data-field=status]").text()).isEqualTo(cliIncident.path("status").asText());
        assertThat(doc.selectFirst("[data-field=started]").text()).startsWith(cliIncident.path("started_at").asText());
        assertThat(doc.selectFirst("[data-field=contained]").text()).startsWith(cliIncident.path("contained_at").asText());
        assertThat(usdCell(doc.selectFirst("[data-field=usd-total]").text()))
                .isEqualTo(inc.usdTotal().setScale(2, java.math.RoundingMode.HALF_EVEN))
                .isEqualByComparingTo(truth.incident().usdTotal().setScale(2, java.math.RoundingMode.HALF_EVEN));
        assertThat(usdCell(doc.selectFirst("[data-field=usd-after-containment]").text()))
                .isEqualTo(inc.usdAfterContainment().setScale(2, java.math.RoundingMode.HALF_EVEN));
        assertThat(doc.select("#user-ids code").eachText()).containsExactlyElementsOf(inc.userIds());

        // Per asset: the exact amount strings, US$ and withdrawals of the incident's impact.
        assertThat(column(doc, "impact-table", 0)).containsExactlyElementsOf(inc.impact().stream().map(AssetAmount::asset).toList());
        assertThat(column(doc, "impact-table", 1)).containsExactlyElementsOf(inc.impact().stream().map(AssetAmount::amount).toList());
        assertThat(column(doc, "impact-table", 2).stream().map(ForensicsITCase::usdCell).toList())
                .containsExactlyElementsOf(inc.impact().stream()
                        .map(a -> a.usdValue().setScale(2, java.math.RoundingMode.HALF_EVEN)).toList());
        assertThat(column(doc, "impact-table", 3)).containsExactlyElementsOf(inc.impact().stream()
                .map(a -> String.valueOf(a.withdrawals())).toList());
        Map<String, BigDecimal> shown = new TreeMap<>();
        for (int k = 0; k < inc.impact().size(); k++) {
            shown.put(column(doc, "impact-table", 0).get(k), new BigDecimal(column(doc, "impact-table", 1).get(k)).stripTrailingZeros());
        }
        Map<String, BigDecimal> expected = new TreeMap<>();
        truth.incident().impact().values().forEach(t -> expected.put(t.asset(), t.amount().stripTrailingZeros()));
        assertThat(shown).isEqualTo(expected);

        // Root cause: the same rows as 'forensics root-cause --incident'.
        RootCause rc = forensics.rootCause(incident.id(), TimeRange.ALL);
        List<List<String>> backends = doc.getElementById("root-cause-backends").select("tbody tr").stream()
                .map(r -> r.children().eachText()).toList();
        assertThat(backends).containsExactlyElementsOf(rc.byBackend().stream().map(b -> List.of(b.service(), b.version(),
                String.valueOf(b.approvals()), String.valueOf(b.users()), Times.format(b.firstSeen().toEpochMilli()),
                Times.format(b.lastSeen().toEpochMilli()))).toList());
        assertThat(backends).singleElement().satisfies(row -> assertThat(row.subList(0, 3)).containsExactly(
                truth.compromisedService(), truth.compromisedServiceVersion(), String.valueOf(incidentApprovals().size())));
        List<List<String>> channels = doc.getElementById("root-cause-channels").select("tbody tr").stream()
                .map(r -> r.children().eachText()).toList();
        assertThat(channels).containsExactlyElementsOf(rc.byChannel().stream().map(c -> List.of(c.channel(),
                String.valueOf(c.approvals()), String.valueOf(c.users()), Times.format(c.firstSeen().toEpochMilli()),
                Times.format(c.lastSeen().toEpochMilli()))).toList());
        InProcessCli.Run cliRootCause = cli("forensics", "root-cause", "--incident", incident.id(), "--json");
        assertThat(JSON.readTree(cliRootCause.out()).path("approvals").asLong()).isEqualTo(rc.approvals());

        // Attacker infrastructure: the CLI's default answer, in its order.
        AttackerInfra infra = forensics.attackerInfra(incident.id(), TimeRange.ALL, false, ReportData.INFRA_LIMIT);
        assertThat(column(doc, "infra-ips", 0)).containsExactlyElementsOf(infra.ips().stream().map(Indicator::value).toList())
                .containsExactlyInAnyOrderElementsOf(truth.attackerIps());
        assertThat(column(doc, "infra-ips", 1)).containsExactlyElementsOf(infra.ips().stream()
                .map(i -> String.valueOf(i.victims())).toList());
        assertThat(column(doc, "infra-ips", 3)).containsExactlyElementsOf(infra.ips().stream()
                .map(i -> Times.format(i.firstSeen().toEpochMilli())).toList());
        assertThat(column(doc, "infra-devices", 0)).containsExactlyElementsOf(infra.devices().stream().map(Indicator::value).toList());
        assertThat(column(doc, "infra-addresses", 0)).containsExactlyElementsOf(infra.addresses().stream()
                .map(Indicator::value).toList());

        // The chart: every unauthorized approval of the incident in its bars, started and contained marked.
        long approvals = incidentApprovals().size();
        long barsTotal = doc.select("#chart g.bucket").stream().mapToLong(g -> Long.parseLong(g.attr("data-unauthorized"))).sum();
        assertThat(barsTotal).isEqualTo(approvals).isEqualTo(rc.approvals());
        assertThat(doc.selectFirst("#chart line.marker.started").attr("data-time"))
                .isEqualTo(Times.format(inc.startedAt().toEpochMilli()));
        assertThat(doc.selectFirst("#chart line.marker.contained").attr("data-time"))
                .isEqualTo(Times.format(inc.containedAt().toEpochMilli()));
        assertThat(doc.select("script, link, img, [src], [href]")).isEmpty();
    }

    @Test
    void theActivityHistogramCountsTheIncidentsApprovalsAndAlertsPerBucket() {
        TimeRange w = window();
        Activity perHour = timed("activity", () -> forensics.activity(incident.id(), w, Duration.ofHours(1)));
        assertThat(perHour.buckets()).extracting(Activities.ActivityBucket::start).isSorted();
        assertThat(perHour.buckets()).hasSize((int) (Duration.between(
                w.since().truncatedTo(java.time.temporal.ChronoUnit.HOURS), w.until().minusMillis(1)).toHours() + 1));
        assertThat(perHour.unauthorizedApprovals()).isEqualTo(incidentApprovals().size())
                .isEqualTo(forensics.rootCause(incident.id(), TimeRange.ALL).approvals());
        assertThat(perHour.alerts()).isEqualTo(incident.alertsByRule().values().stream().mapToLong(Long::longValue).sum());
        assertThat(perHour.rules()).containsExactlyInAnyOrderElementsOf(incident.alertsByRule().keySet());
        long approvedInWindow = simEvents.stream().filter(e -> "approved".equals(e.text("status")) && within(w, e.time()))
                .count();
        assertThat(perHour.approvals()).isEqualTo(approvedInWindow);

        // Per minute over the report's chart: each bucket holds the approvals of its own minute.
        ReportData data = ReportData.assemble(forensics, incident.id(), null, Instant.EPOCH);
        Activity perMinute = data.activity();
        assertThat(perMinute.interval()).isEqualTo(Duration.ofMinutes(1));
        assertThat(perMinute.unauthorizedApprovals()).isEqualTo(incidentApprovals().size());
        Map<Instant, Long> expected = incidentApprovals().stream().collect(Collectors.groupingBy(
                u -> u.eventTime().truncatedTo(java.time.temporal.ChronoUnit.MINUTES), TreeMap::new, Collectors.counting()));
        Map<Instant, Long> actual = new TreeMap<>();
        perMinute.buckets().stream().filter(b -> b.unauthorizedApprovals() > 0)
                .forEach(b -> actual.put(b.start(), b.unauthorizedApprovals()));
        assertThat(actual).isEqualTo(expected);
        Map<String, Long> alertsByRule = new TreeMap<>();
        perMinute.buckets().forEach(b -> b.alertsByRule().forEach((r, n) -> alertsByRule.merge(r, n, Long::sum)));
        assertThat(alertsByRule).isEqualTo(new TreeMap<>(incident.alertsByRule()));

        assertThatThrownBy(() -> forensics.activity("no-such-incident", w, Duration.ofHours(1)))
                .isInstanceOf(UnknownIdException.class);
        assertThatThrownBy(() -> forensics.activity(incident.id(), w, Duration.ofSeconds(1)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("longer interval");
    }

    @Test
    void theReportRendersInAHeadlessBrowser(@TempDir Path dir) throws Exception {
        Path chromium = Path.of("/usr/bin/chromium");
        Assumptions.assumeTrue(Files.isExecutable(chromium),
                "no /usr/bin/chromium: the report's rendering is not checked (its content is, above)");
        Path file = dir.resolve("report.html");
        Files.writeString(file, HtmlReport.render(ReportData.assemble(forensics, incident.id(), null, Instant.now())),
                StandardCharsets.UTF_8);
        Path png = dir.resolve("r.png");
        Process p = new ProcessBuilder(chromium.toString(), "--headless", "--no-sandbox", "--disable-gpu",
                "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update",
                "--disable-sync", "--user-data-dir=" + dir.resolve("profile"), "--screenshot=" + png,
                "--window-size=1280,2000", file.toUri().toString())
                .redirectErrorStream(true).redirectOutput(dir.resolve("chromium.log").toFile()).start();
        boolean done = p.waitFor(120, java.util.concurrent.TimeUnit.SECONDS);
        if (!done) p.destroyForcibly();
        assertThat(done).as("chromium finished").isTrue();
        assertThat(png).as(Files.readString(dir.resolve("chromium.log"))).exists();
        byte[] bytes = Files.readAllBytes(png);
        assertThat(bytes.length).as("a screenshot with content, not a blank page").isGreaterThan(30_000);
        assertThat(java.util.Arrays.copyOf(bytes, 8)).containsExactly(0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n');
        String keep = System.getenv("TOURNIQUET_REPORT_SCREENSHOT");
        if (keep != null) Files.copy(png, Path.of(keep), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
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
                    : Eligibility.MFA_TYPES.stream().allMatch(t -> policy.node().path("mfa_policy").path(t).asBoolean(false))
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

            assertThat(e.checks()).as(user).extracting(Eligibility.ConditionCheck::outcome).containsExactly(mfa, code, device);
            Verdict verdict = List.of(mfa, code, device).contains(Outcome.FAIL) ? Verdict.NOT_ELIGIBLE
                    : List.of(mfa, code, device).contains(Outcome.REVIEW) ? Verdict.NEEDS_MANUAL_REVIEW : Verdict.ELIGIBLE;
            assertThat(e.verdict()).as(user).isEqualTo(verdict);
            assertThat(e.outstanding()).isEqualTo(Eligibility.APP_MANUAL_INPUTS);
        }
    }
}
