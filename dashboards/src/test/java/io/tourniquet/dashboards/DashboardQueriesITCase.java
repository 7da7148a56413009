package io.tourniquet.dashboards;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;
import com.fasterxml.jackson.databind.JsonNode;
import io.tourniquet.config.Setting;
import io.tourniquet.config.Settings;
import io.tourniquet.config.TourniquetConfig;
import io.tourniquet.dashboards.SavedObjects.PanelQuery;
import io.tourniquet.dashboards.SavedObjects.SavedObject;
import io.tourniquet.model.ControlRequest;
import io.tourniquet.model.RawRecord;
import io.tourniquet.sim.GroundTruth;
import io.tourniquet.sim.GroundTruth.UnauthorizedApproval;
import io.tourniquet.sim.SimRecord;
import io.tourniquet.sim.Simulation;
import io.tourniquet.sim.SimulationWriter;
import io.tourniquet.testing.ControlRecords;
import io.tourniquet.testing.EsHttp;
import io.tourniquet.testing.LocalServices;
import io.tourniquet.testing.ReplayedIncident;
import io.tourniquet.testing.SharedMiniCluster;
import java.io.IOException;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The query behind every dashboard panel, run as its equivalent Elasticsearch request
 * ({@code dashboards/queries/<panel>.json}) against real Elasticsearch filled by a replayed
 * simulated incident (real Kafka, both jobs on the shared MiniCluster), and its figures checked
 * against the simulator's ground truth and, for logins, against the simulated records themselves.
 * Kibana itself cannot run here: what it would draw from these answers is not tested.
 */
@ExtendWith({LocalServices.class, SharedMiniCluster.class})
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class DashboardQueriesITCase {
    static final String KEY = "dashboards-itcase-signing-key-0123456789abcdef";
    static final String CONTROL_KEY = "dashboards-itcase-control-key-0123456789abcdef";
    /** A seed whose population includes jailbroken devices and failed logins, so those panels have something to show. */
    static final long SEED = 11; // a seed whose users include jailbroken devices
    /** Panels asserted below: a new panel must get its figures checked here too. */
    static final Set<String> ASSERTED = Set.of("tourniquet-lens-incidents", "tourniquet-lens-impact-by-asset",
            "tourniquet-lens-affected-users", "tourniquet-lens-alerts-by-rule",
            "tourniquet-lens-unauthorized-by-version", "tourniquet-lens-unauthorized-by-backend",
            "tourniquet-lens-approvals-by-version", "tourniquet-lens-top-destinations",
            "tourniquet-lens-top-login-ips", "tourniquet-lens-shared-devices", "tourniquet-lens-actions-over-time",
            "tourniquet-lens-actions-by-reason", "tourniquet-lens-auth-failures",
            "tourniquet-lens-jailbroken-logins", "tourniquet-lens-devices-per-account",
            "tourniquet-lens-verdicts-by-rule", "tourniquet-lens-precision-over-time");

    TourniquetConfig cfg;
    Simulation sim;
    GroundTruth truth;
    EsHttp es;
    String released;
    final Map<String, JsonNode> answers = new LinkedHashMap<>();
    final List<JsonNode> logins = new ArrayList<>();
    final List<JsonNode> mfa = new ArrayList<>();
    final List<JsonNode> events = new ArrayList<>();

    @BeforeAll
    void replayAnIncidentAndAskEveryPanelsQuestion() throws Exception {
        cfg = ReplayedIncident.config("dash", KEY, CONTROL_KEY);

        sim = ReplayedIncident.simulate(cfg, SEED);
        truth = sim.groundTruth();
        readSimulatedAuthentication();
        SimulationWriter.writeToKafka(sim, cfg.get(Settings.KAFKA_BOOTSTRAP));
        released = truth.affectedUsers().get(0);
        sendAnalystsRelease();

        ReplayedIncident.replay(cfg, "dashboards-it");

        es = new EsHttp(cfg.get(Settings.ES_URL));
        for (Setting<String> s : Settings.INDEX_ALIASES) es.post("/" + cfg.get(s) + "/_refresh", null);
        Map<String, SavedObject> byKey = SavedObjects.byKey();
        for (PanelQuery q : SavedObjects.queries()) {
            String title = byKey.get(SavedObjects.DATA_VIEW + "/" + q.dataView()).attributes().path("title").asText();
            String body = SavedObjects.JSON.writeValueAsString(q.request());
            answers.put(q.panel(), es.post("/" + aliasOf(title) + "/_search", body));
        }
    }

    /** The data views name the default aliases; this run's are namespaced. */
    private String aliasOf(String dataViewTitle) {
        for (Setting<String> s : Settings.INDEX_ALIASES) {
            if (s.defaultText().equals(dataViewTitle)) return cfg.get(s);
        }
        throw new IllegalStateException("no alias setting defaults to " + dataViewTitle);
    }

    /** The valid records as simulated (duplicates once): the truth for the login and device panels. */
    private void readSimulatedAuthentication() throws IOException {
        Set<String> seen = new HashSet<>();
        for (SimRecord r : sim.records()) {
            if (!r.isValid()) continue;
            JsonNode n = SavedObjects.JSON.readTree(r.value());
            if (!seen.add(n.path("event_id").asText())) continue;
            events.add(n);
            if (r.topic().equals(cfg.get(Settings.TOPIC_LOGINS))) logins.add(n);
            if (r.topic().equals(cfg.get(Settings.TOPIC_MFA))) mfa.add(n);
        }
    }

    /**
     * One analyst's signed release of a victim, so releases show up in the containment panels, and
     * three verdicts for the verdicts panel: two on one alert (judged twice) and one on another
     * rule. Verdicts on platform and unauthorized-approval alerts suppress nothing, so the replay's
     * outcome does not depend on when the job reads them.
     */
    private void sendAnalystsRelease() throws Exception {
        long now = System.currentTimeMillis();
        ControlRequest release = ControlRecords.request("dash-release-1", ControlRequest.RELEASE_ACCOUNT,
                "alice@sec", now);
        release.userId = released;
        String topic = cfg.get(Settings.TOPIC_CONTROL);
        ControlRecords records = new ControlRecords(topic, CONTROL_KEY).signed(release);
        records.signed(verdict("dash-verdict-1", "alert-ua-1", "unauthorized_approval", released, "true_positive", now));
        records.signed(verdict("dash-verdict-2", "alert-ua-1", "unauthorized_approval", released, "false_positive", now));
        records.signed(verdict("dash-verdict-3", "alert-bd-1", "bulk_drain", null, "benign_true_positive", now));
        try (var producer = new KafkaProducer<byte[], byte[]>(Map.of(
                "bootstrap.servers", cfg.get(Settings.KAFKA_BOOTSTRAP), "acks", "all",
                "key.serializer", ByteArraySerializer.class.getName(),
                "value.serializer", ByteArraySerializer.class.getName()))) {
            for (RawRecord signed : records.list()) producer.send(new ProducerRecord<>(topic, signed.value)).get();
        }
    }

    private static ControlRequest verdict(String id, String alert, String rule, String user, String label, long now) {
        ControlRequest v = ControlRecords.request(id, ControlRequest.VERDICT, "bob@sec", now);
        v.alertId = alert;
        v.rule = rule;
        v.userId = user;
        v.label = label;
        v.alertTime = VERDICT_ALERT_TIME;
        return v;
    }

    static final String VERDICT_ALERT_TIME = "2022-01-17T02:00:00Z";

    @AfterAll
    void dropThisRunsIndices() throws IOException {
        if (es == null) return;
        // A shared Elasticsearch: leave nothing behind but the (namespaced) Kafka topics.
        List<String> aliases = Settings.INDEX_ALIASES.stream().map(cfg::get).toList();
        es.deleteAliasesAndTemplates(aliases);
        es.close();
    }

    // ---------------------------------------------------------------- every request

    @Test
    void everyPanelsRequestRunsCleanlyAndEveryPanelIsCheckedBelow() {
        assertThat(answers.keySet()).containsExactlyInAnyOrderElementsOf(ASSERTED);
        answers.forEach((panel, r) -> {
            assertThat(r.path("timed_out").asBoolean(true)).as(panel).isFalse();
            assertThat(r.path("_shards").path("failed").asInt(-1)).as(panel).isZero();
            assertThat(r.path("_shards").path("successful").asInt()).as(panel + " searched the indices")
                    .isPositive();
        });
    }

    // ---------------------------------------------------------------- incident overview

    @Test
    void incidentsPanelShowsTheIncidentContainedWithItsUsersAndImpact() {
        GroundTruth.ExpectedIncident expected = truth.incident();
        List<JsonNode> incidents = buckets(agg("tourniquet-lens-incidents", "incident"));
        assertThat(incidents).hasSize(truth.expectedAlerts().incidents()).hasSize(1);
        JsonNode inc = incidents.get(0);
        assertThat(inc.at("/status/hits/hits/0/_source/status").asText()).isEqualTo("contained");
        assertThat(instant(inc.path("started"))).isEqualTo(expected.startedAt());
        assertThat(instant(inc.path("contained"))).as("never before the ground truth allows")
                .isAfterOrEqualTo(expected.containedAt());
        assertThat(inc.path("detected").path("value").isNumber()).isTrue();
        assertThat(inc.path("resolved").path("value").isNull()).as("nobody resolved it").isTrue();
        assertThat(inc.path("users").path("value").asInt()).isEqualTo(expected.usersAffected());
        assertThat(inc.path("usd").path("value").asDouble()).isCloseTo(expected.usdTotal().doubleValue(), within(0.01));
    }

    @Test
    void impactPerAssetEqualsTheGroundTruthIncidentsImpact() {
        List<JsonNode> incidents = buckets(agg("tourniquet-lens-impact-by-asset", "incident"));
        assertThat(incidents).hasSize(1);
        String incidentId = buckets(agg("tourniquet-lens-incidents", "incident")).get(0).path("key").asText();
        assertThat(incidents.get(0).path("key").asText()).isEqualTo(incidentId);

        Map<String, GroundTruth.AssetTotal> expected = truth.incident().impact();
        Map<String, Set<String>> usersByAsset = truth.unauthorizedApprovals().stream().collect(Collectors.groupingBy(
                UnauthorizedApproval::asset, Collectors.mapping(UnauthorizedApproval::userId, Collectors.toSet())));
        List<JsonNode> assets = buckets(incidents.get(0).path("asset"));
        assertThat(assets).extracting(b -> b.path("key").asText())
                .containsExactlyInAnyOrderElementsOf(expected.keySet());
        for (JsonNode a : assets) {
            GroundTruth.AssetTotal t = expected.get(a.path("key").asText());
            String asset = t.asset();
            assertThat(a.path("doc_count").asInt()).as(asset + " approvals").isEqualTo(t.approvals());
            // amount_value is the double of each exact amount: its sum matches to the double's precision.
            assertThat(a.path("amount").path("value").asDouble()).as(asset + " amount")
                    .isCloseTo(t.amount().doubleValue(), within(Math.abs(t.amount().doubleValue()) * 1e-9));
            assertThat(a.path("usd").path("value").asDouble()).as(asset + " US$")
                    .isCloseTo(t.usdValue().doubleValue(), within(0.01));
            assertThat(a.path("users").path("value").asInt()).as(asset + " users")
                    .isEqualTo(usersByAsset.get(asset).size());
        }
    }

    @Test
    void affectedUsersIsTheGroundTruthsCount() {
        JsonNode r = answers.get("tourniquet-lens-affected-users");
        assertThat(r.at("/aggregations/users/value").asInt()).isEqualTo(truth.usersAffected())
                .isEqualTo(truth.incident().usersAffected());
        assertThat(r.at("/hits/total/value").asInt()).isEqualTo(truth.incident().unauthorizedApprovals());
    }

    @Test
    void alertsByRuleCountWhatEachRuleMustRaise() {
        GroundTruth.ExpectedAlerts e = truth.expectedAlerts();
        Map<String, Long> expected = nonZero(Map.of(
                "unauthorized_approval", (long) e.unauthorizedApprovals().size(),
                "account_drain", (long) e.accountDrains().size(),
                "new_address_withdrawal", (long) e.newAddressWithdrawals().size(),
                "destination_concentration", (long) e.destinationConcentration().size(),
                "bulk_drain", (long) e.bulkDrainEpisodes()));
        List<JsonNode> rules = buckets(agg("tourniquet-lens-alerts-by-rule", "rule"));
        assertThat(counts(rules)).isEqualTo(expected);
        rules.forEach(b -> assertThat(sumOfCounts(b.path("time"))).as("the bars add up")
                .isEqualTo(b.path("doc_count").asLong()));
    }

    // ---------------------------------------------------------------- root cause

    @Test
    void unauthorizedApprovalsByVersionAreTheGroundTruthsAndStartWithTheAttack() {
        Map<String, Long> expected = truth.unauthorizedApprovals().stream().collect(Collectors.groupingBy(
                UnauthorizedApproval::approvalServiceVersion, TreeMap::new, Collectors.counting()));
        List<JsonNode> versions = buckets(agg("tourniquet-lens-unauthorized-by-version", "version"));
        assertThat(counts(versions)).isEqualTo(expected).containsOnlyKeys(truth.compromisedServiceVersion());
        Instant first = firstApproval().eventTime();
        for (JsonNode v : versions) {
            List<JsonNode> bars = buckets(v.path("time"));
            assertThat(sumOfCounts(v.path("time"))).isEqualTo(v.path("doc_count").asLong());
            // The first bar is the 10-minute interval holding the first unauthorized approval.
            assertThat(Instant.ofEpochMilli(bars.get(0).path("key").asLong()))
                    .isBeforeOrEqualTo(first).isAfter(first.minusSeconds(600));
        }
    }

    @Test
    void rootCauseTableNamesTheCompromisedServiceVersionAndChannelFirstAndLastSeen() {
        List<JsonNode> services = buckets(agg("tourniquet-lens-unauthorized-by-backend", "service"));
        assertThat(services).singleElement().satisfies(s ->
                assertThat(s.path("key").asText()).isEqualTo(truth.compromisedService()));
        List<JsonNode> versions = buckets(services.get(0).path("version"));
        assertThat(versions).singleElement().satisfies(v ->
                assertThat(v.path("key").asText()).isEqualTo(truth.compromisedServiceVersion()));
        List<JsonNode> channels = buckets(versions.get(0).path("channel"));
        assertThat(channels).hasSize(1);
        JsonNode row = channels.get(0);
        List<UnauthorizedApproval> all = truth.unauthorizedApprovals();
        assertThat(row.path("key").asText()).isEqualTo(truth.attackChannel());
        assertThat(row.path("doc_count").asInt()).isEqualTo(all.size());
        assertThat(row.path("users").path("value").asInt()).isEqualTo(truth.usersAffected());
        assertThat(row.path("usd").path("value").asDouble()).isCloseTo(truth.usdTotal().doubleValue(), within(0.01));
        assertThat(instant(row.path("first"))).isEqualTo(firstApproval().eventTime());
        assertThat(instant(row.path("last"))).isEqualTo(all.stream().map(UnauthorizedApproval::eventTime)
                .max(Instant::compareTo).orElseThrow());
    }

    @Test
    void onlyTheCompromisedVersionApprovesWithout2fa() {
        Map<String, Map<String, Long>> byVersion = new TreeMap<>();
        for (JsonNode v : buckets(agg("tourniquet-lens-approvals-by-version", "version"))) {
            byVersion.put(v.path("key").asText(), counts(buckets(v.path("authorized"))));
        }
        assertThat(byVersion).containsKeys(truth.compromisedServiceVersion(), truth.legitimateServiceVersion());
        assertThat(byVersion.get(truth.compromisedServiceVersion())).containsEntry("false",
                (long) truth.unauthorizedApprovals().size());
        assertThat(byVersion.get(truth.legitimateServiceVersion())).containsOnlyKeys("true");
    }

    // ---------------------------------------------------------------- attacker infrastructure

    @Test
    void topDestinationsAreTheAttackersAddressesWithTheirVictims() {
        Map<String, Set<String>> victims = truth.unauthorizedApprovals().stream().collect(Collectors.groupingBy(
                UnauthorizedApproval::destinationAddress, Collectors.mapping(UnauthorizedApproval::userId,
                        Collectors.toSet())));
        List<JsonNode> addresses = buckets(agg("tourniquet-lens-top-destinations", "address"));
        assertThat(addresses).extracting(b -> b.path("key").asText())
                .containsExactlyInAnyOrderElementsOf(truth.attackerAddresses());
        for (JsonNode a : addresses) {
            assertThat(a.path("users").path("value").asInt()).as(a.path("key").asText())
                    .isEqualTo(victims.get(a.path("key").asText()).size());
        }
        assertThat(addresses).extracting(b -> b.path("users").path("value").asInt())
                .as("ranked by victims").isSortedAccordingTo((x, y) -> Integer.compare(y, x));
    }

    @Test
    void topLoginIpsAreTheAttackersIpsFirstEachWithItsVictims() throws UnknownHostException {
        Map<String, Set<String>> usersByIp = usersBy(logins, "ip");
        Set<String> shared = usersByIp.entrySet().stream().filter(e -> e.getValue().size() > 1)
                .map(Map.Entry::getKey).collect(Collectors.toSet());
        Set<String> attackerIps = new TreeSet<>();
        for (String ip : truth.attackerIps()) attackerIps.add(canonicalIp(ip));
        assertThat(shared).as("in the simulation only the attacker's IPs serve several accounts")
                .isEqualTo(attackerIps);

        List<JsonNode> ips = buckets(agg("tourniquet-lens-top-login-ips", "ip"));
        List<JsonNode> top = ips.subList(0, attackerIps.size());
        Set<String> topKeys = new TreeSet<>();
        for (JsonNode b : top) topKeys.add(canonicalIp(b.path("key").asText()));
        assertThat(topKeys).isEqualTo(attackerIps);
        for (JsonNode b : top) {
            String ip = canonicalIp(b.path("key").asText());
            assertThat(b.path("users").path("value").asInt()).as(ip).isEqualTo(usersByIp.get(ip).size());
            assertThat(b.path("failures").path("doc_count").asInt()).as(ip + ": the attacker had the passwords")
                    .isZero();
        }
        assertThat(ips.subList(attackerIps.size(), ips.size()))
                .allSatisfy(b -> assertThat(b.path("users").path("value").asInt()).isEqualTo(1));
    }

    @Test
    void sharedDevicesAreTheAttackersDevicesEachWithItsVictims() {
        Map<String, Set<String>> usersByDevice = usersBy(logins, "device_id");
        List<JsonNode> devices = buckets(agg("tourniquet-lens-shared-devices", "device"));
        List<String> sharedKeys = devices.stream().filter(b -> b.path("users").path("value").asInt() > 1)
                .map(b -> b.path("key").asText()).toList();
        assertThat(sharedKeys).containsExactlyInAnyOrderElementsOf(truth.attackerDeviceIds());
        for (JsonNode b : devices) {
            String device = b.path("key").asText();
            assertThat(b.path("users").path("value").asInt()).as(device).isEqualTo(usersByDevice.get(device).size());
        }
    }

    // ---------------------------------------------------------------- containment

    @Test
    void commandsOverTimeAreOneFreezePerVictimAndTheRestOfThePlaybook() {
        int unauthorized = truth.unauthorizedApprovals().size();
        GroundTruth.ExpectedAlerts e = truth.expectedAlerts();
        Map<String, Long> expected = nonZero(Map.of(
                "freeze_account", (long) truth.usersAffected(),
                "hold_withdrawal", (long) unauthorized + e.newAddressWithdrawals().size(),
                "revoke_mfa_tokens", (long) unauthorized,
                "block_address", (long) e.destinationConcentration().size(),
                "suspend_withdrawals", 1L,
                "release_account", 1L));
        List<JsonNode> actions = buckets(agg("tourniquet-lens-actions-over-time", "action"));
        assertThat(counts(actions)).isEqualTo(expected);
        actions.forEach(b -> assertThat(sumOfCounts(b.path("time"))).isEqualTo(b.path("doc_count").asLong()));
    }

    @Test
    void commandsByReasonShowTheFrozenAccountsAndTheAnalystsRelease() {
        Map<String, JsonNode> rows = new TreeMap<>();
        for (JsonNode a : buckets(agg("tourniquet-lens-actions-by-reason", "action"))) {
            for (JsonNode r : buckets(a.path("reason"))) rows.put(a.path("key").asText() + "/" + r.path("key").asText(), r);
        }
        JsonNode freezes = rows.get("freeze_account/unauthorized_approval");
        assertThat(freezes.path("doc_count").asInt()).isEqualTo(truth.usersAffected());
        assertThat(freezes.path("accounts").path("value").asInt()).isEqualTo(truth.usersAffected());
        assertThat(instant(freezes.path("first"))).isEqualTo(firstApproval().eventTime());
        JsonNode releases = rows.get("release_account/analyst");
        assertThat(releases.path("doc_count").asInt()).isEqualTo(1);
        assertThat(releases.path("accounts").path("value").asInt()).isEqualTo(1);
        assertThat(rows.get("hold_withdrawal/new_address_withdrawal").path("doc_count").asInt())
                .isEqualTo(truth.expectedAlerts().newAddressWithdrawals().size());
        assertThat(rows.get("suspend_withdrawals/bulk_drain").path("doc_count").asInt()).isEqualTo(1);
    }

    @Test
    void verdictsPerRuleAndLabelCountTheAnalystsVerdicts() {
        Map<String, JsonNode> rows = new TreeMap<>();
        for (JsonNode r : buckets(agg("tourniquet-lens-verdicts-by-rule", "rule"))) {
            for (JsonNode l : buckets(r.path("label"))) rows.put(r.path("key").asText() + "/" + l.path("key").asText(), l);
        }
        assertThat(rows.keySet()).containsExactly("bulk_drain/benign_true_positive",
                "unauthorized_approval/false_positive", "unauthorized_approval/true_positive");
        assertThat(rows.values()).allSatisfy(row -> {
            assertThat(row.path("doc_count").asInt()).isEqualTo(1);
            assertThat(row.path("alerts").path("value").asInt()).isEqualTo(1);
            assertThat(instant(row.path("first"))).isEqualTo(java.time.Instant.parse(VERDICT_ALERT_TIME));
        });
    }

    @Test
    void precisionPerRuleOverTimeIsTheShareOfVerdictsThatSayTheRuleWasRight() {
        Map<String, Double> precision = new TreeMap<>();
        for (JsonNode r : buckets(agg("tourniquet-lens-precision-over-time", "rule"))) {
            List<JsonNode> weeks = buckets(r.path("time"));
            assertThat(weeks).as("the judged alerts are of one week").hasSize(1);
            JsonNode w = weeks.get(0);
            Instant alertTime = Instant.parse(VERDICT_ALERT_TIME);
            assertThat(Instant.ofEpochMilli(w.path("key").asLong())).as("the week of the judged alerts")
                    .isBetween(alertTime.minus(java.time.Duration.ofDays(7)).plusMillis(1), alertTime);
            precision.put(r.path("key").asText(), w.path("right").path("doc_count").asDouble() / w.path("doc_count").asDouble());
        }
        // One alert judged true then false (one right of two verdicts), one benign true positive.
        assertThat(precision).containsExactly(Map.entry("bulk_drain", 1.0), Map.entry("unauthorized_approval", 0.5));
    }

    // ---------------------------------------------------------------- login anomalies

    @Test
    void authenticationFailuresAreTheSimulatedFailedLoginsAndChallenges() {
        long failedLogins = logins.stream().filter(n -> n.path("outcome").asText().equals("failure")).count();
        long failedChallenges = mfa.stream().filter(n -> n.path("action").asText().equals("challenge_failed")).count();
        assertThat(failedLogins).as("the seed has failed logins").isPositive();
        assertThat(failedChallenges).as("the seed has failed challenges").isPositive();
        List<JsonNode> actions = buckets(agg("tourniquet-lens-auth-failures", "action"));
        assertThat(counts(actions)).isEqualTo(Map.of("login", failedLogins, "challenge_failed", failedChallenges));
    }

    @Test
    void jailbrokenLoginsAreTheSimulatedOnesPerAccountAndDevice() {
        Map<String, Long> expected = logins.stream().filter(n -> n.path("device_jailbroken").asBoolean())
                .collect(Collectors.groupingBy(n -> n.path("user_id").asText() + "/" + n.path("device_id").asText(),
                        TreeMap::new, Collectors.counting()));
        assertThat(expected).as("the seed has jailbroken devices").isNotEmpty();
        Map<String, Long> shown = new TreeMap<>();
        for (JsonNode u : buckets(agg("tourniquet-lens-jailbroken-logins", "user"))) {
            for (JsonNode d : buckets(u.path("device"))) {
                shown.put(u.path("key").asText() + "/" + d.path("key").asText(), d.path("doc_count").asLong());
            }
        }
        assertThat(shown).isEqualTo(expected);
    }

    @Test
    void accountsSeenOnSeveralDevicesAreTheSimulatedOnesVictimsIncluded() {
        Map<String, Set<String>> devicesByUser = usersBy(events, "user_id", "device_id");
        Map<String, Integer> expected = devicesByUser.entrySet().stream().filter(e -> e.getValue().size() > 1)
                .collect(Collectors.toMap(Map.Entry::getKey, e -> e.getValue().size(), (a, b) -> a, TreeMap::new));
        // Each victim's own earlier activity came from their device; the attacker's is new to the account.
        assertThat(expected).containsKeys(truth.affectedUsers().toArray(String[]::new));
        assertThat(expected.size()).as("fits the panel's 20 rows").isLessThanOrEqualTo(20);
        Map<String, Integer> shown = new TreeMap<>();
        for (JsonNode u : buckets(agg("tourniquet-lens-devices-per-account", "user"))) {
            int devices = u.path("devices").path("value").asInt();
            if (devices > 1) shown.put(u.path("key").asText(), devices);
        }
        assertThat(shown).isEqualTo(expected);
    }

    // ---------------------------------------------------------------- helpers

    private JsonNode agg(String panel, String name) {
        JsonNode a = answers.get(panel).path("aggregations").path(name);
        assertThat(a.isMissingNode()).as(panel + " aggregation " + name).isFalse();
        return a;
    }

    private static List<JsonNode> buckets(JsonNode agg) {
        List<JsonNode> out = new ArrayList<>();
        agg.path("buckets").forEach(out::add);
        return out;
    }

    /** Bucket key (key_as_string for booleans) to doc count. */
    private static Map<String, Long> counts(List<JsonNode> buckets) {
        Map<String, Long> out = new TreeMap<>();
        for (JsonNode b : buckets) {
            String key = b.has("key_as_string") ? b.path("key_as_string").asText() : b.path("key").asText();
            out.put(key, b.path("doc_count").asLong());
        }
        return out;
    }

    private static long sumOfCounts(JsonNode histogram) {
        return buckets(histogram).stream().mapToLong(b -> b.path("doc_count").asLong()).sum();
    }

    private static Map<String, Long> nonZero(Map<String, Long> m) {
        return m.entrySet().stream().filter(e -> e.getValue() > 0)
                .collect(Collectors.toMap(Map.Entry::getKey, Map.Entry::getValue, (a, b) -> a, TreeMap::new));
    }

    /** A min/max aggregation's value (epoch ms). */
    private static Instant instant(JsonNode minOrMax) {
        assertThat(minOrMax.path("value").isNumber()).as("a time: " + minOrMax).isTrue();
        return Instant.ofEpochMilli(minOrMax.path("value").asLong());
    }

    private UnauthorizedApproval firstApproval() {
        return truth.unauthorizedApprovals().stream().min((a, b) -> a.eventTime().compareTo(b.eventTime()))
                .orElseThrow();
    }

    private static Map<String, Set<String>> usersBy(List<JsonNode> records, String field) {
        return usersBy(records, field, "user_id");
    }

    /** {@code key} value to the distinct {@code value} values (records lacking either skipped), IPs in canonical form. */
    private static Map<String, Set<String>> usersBy(List<JsonNode> records, String key, String value) {
        Function<JsonNode, String> k = n -> key.equals("ip") ? canonicalIpUnchecked(n.path(key).asText())
                : n.path(key).asText();
        Map<String, Set<String>> out = new HashMap<>();
        for (JsonNode n : records) {
            if (!n.path(key).isTextual() || !n.path(value).isTextual()) continue;
            out.computeIfAbsent(k.apply(n), x -> new TreeSet<>()).add(n.path(value).asText());
        }
        return out;
    }

    /** Elasticsearch returns IPs in its own canonical text; compare as addresses (a literal needs no lookup). */
    private static String canonicalIp(String literal) throws UnknownHostException {
        return InetAddress.getByName(literal).getHostAddress();
    }

    private static String canonicalIpUnchecked(String literal) {
        try {
            return canonicalIp(literal);
        } catch (UnknownHostException e) {
            throw new IllegalArgumentException(literal, e);
        }
    }
}
