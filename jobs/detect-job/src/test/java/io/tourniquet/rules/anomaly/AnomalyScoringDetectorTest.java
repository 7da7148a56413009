package io.tourniquet.rules.anomaly;

import io.tourniquet.rules.Playbook;
import io.tourniquet.detect.EventKeys;
import io.tourniquet.streams.Tags;
import io.tourniquet.util.SerializableClock;
import static io.tourniquet.testing.TestEvents.T0;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;
import io.tourniquet.config.Settings;
import io.tourniquet.config.TourniquetConfig;
import io.tourniquet.model.ActionScope;
import io.tourniquet.model.Alert;
import io.tourniquet.model.Anomaly;
import io.tourniquet.model.AnomalyContribution;
import io.tourniquet.model.EnrichedEvent;
import io.tourniquet.model.Event;
import io.tourniquet.models.ModelArtifact;
import io.tourniquet.models.WithdrawalFeatures;
import io.tourniquet.rules.catalog.RuleCatalog;
import io.tourniquet.rules.RuleVersion;
import io.tourniquet.testing.BroadcastHarnesses;
import io.tourniquet.testing.TestEvents;
import io.tourniquet.testing.TestModels;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.util.KeyedBroadcastOperatorTestHarness;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AnomalyScoringDetectorTest {
    private static final long SEC = 1_000L;
    private static final long MIN = 60 * SEC;
    private static final long HOUR = 60 * MIN;
    private static final long DAY = 24 * HOUR;
    private static final long DETECTED_AT = 1_700_000_000_000L;
    private static final String USER = "u1";
    private static final String OLD_ADDRESS = "bc1qowner";

    @TempDir
    Path models;

    private TourniquetConfig cfg;
    private RuleVersion v1;
    private KeyedBroadcastOperatorTestHarness<String, EnrichedEvent, RuleVersion, EnrichedEvent> harness;

    @BeforeEach
    void open() throws Exception {
        cfg = TourniquetConfig.defaults().with(Settings.MODELS_DIR, models.toString());
        v1 = RuleCatalog.initial(RuleCatalog.ANOMALY_SCORE, cfg);
        harness = BroadcastHarnesses.open(AnomalyScoringDetector.from(cfg, SerializableClock.fixed(DETECTED_AT)),
                EventKeys.ENRICHED_USER_ID);
    }

    @AfterEach
    void close() throws Exception {
        harness.close();
    }

    // ---- events -------------------------------------------------------------------------------

    private long latestPushed = Long.MIN_VALUE;
    private long watermark = Long.MIN_VALUE;

    private final List<Event> pushed = new java.util.ArrayList<>();

    private void push(Event e) throws Exception {
        latestPushed = Math.max(latestPushed, e.eventTime);
        pushed.add(e);
        harness.processElement(new StreamRecord<>(EnrichedEvent.of(e), e.eventTime));
    }

    private void watermark(long w) throws Exception {
        watermark = Math.max(watermark, w);
        harness.processWatermark(watermark);
    }

    private void login(String id, String session, String device, String ip, String country, boolean jailbroken,
                       long t) throws Exception {
        Event e = TestEvents.login(id, USER, t);
        e.sessionId = session;
        e.deviceId = device;
        e.ip = ip;
        e.geoCountry = country;
        e.deviceJailbroken = jailbroken;
        push(e);
    }

    /** A request in {@code session} and its approval {@code delay} later. */
    private void withdraw(String wid, String session, String address, double usd, double balance, long t, long delay)
            throws Exception {
        Event r = TestEvents.requested("req-" + wid, USER, wid, address, usd, balance, t);
        r.sessionId = session;
        push(r);
        Event a = TestEvents.approved("app-" + wid, USER, wid, usd, t + delay);
        a.sessionId = session;
        a.destinationAddress = address;
        push(a);
    }

    /** Ten days before T0: two sessions from the owner's device, two approved withdrawals (US$100, US$300). */
    private void ownerHistory() throws Exception {
        login("l1", "s1", "d1", "198.51.100.1", "DE", false, T0 - 10 * DAY);
        push(TestEvents.whitelistAdded("wl1", USER, OLD_ADDRESS, T0 - 10 * DAY + MIN));
        withdraw("w1", "s1", OLD_ADDRESS, 100, 10_000, T0 - 10 * DAY + 10 * MIN, 30 * SEC);
        login("l2", "s2", "d1", "198.51.100.1", "DE", false, T0 - 9 * DAY);
        withdraw("w2", "s2", OLD_ADDRESS, 300, 10_000, T0 - 9 * DAY + 10 * MIN, 40 * SEC);
    }

    /** Event time reaches everything pushed so far; then the approval of {@code wid} has left, once. */
    private EnrichedEvent approvalOf(String wid) throws Exception {
        watermark(latestPushed);
        return harness.extractOutputValues().stream()
                .filter(e -> e.event.isApproval() && wid.equals(e.event.withdrawalId))
                .reduce((a, b) -> { throw new AssertionError("approval of " + wid + " left twice"); })
                .orElseThrow(() -> new AssertionError("no approval of " + wid));
    }

    /** Alerts raised once event time has reached everything pushed so far. */
    private List<Alert> alerts() throws Exception {
        watermark(latestPushed);
        return BroadcastHarnesses.side(harness, Tags.ALERTS);
    }

    private RuleVersion change(RuleVersion current, Map<String, String> params) {
        return RuleCatalog.next(current, params, cfg, "analyst@exchange", "req-" + (current.version + 1), DETECTED_AT);
    }

    private void activate(RuleVersion v) throws Exception {
        harness.processBroadcastElement(v, 0L);
    }

    /**
     * Long after everything: only the users' profiles remain. A wall-clock check disarmed by event
     * time is not deleted (in the per-user operator another step may share its timer): it fires
     * once its time comes and finds nothing to do.
     */
    private void assertDrainedExceptProfiles(int users) throws Exception {
        watermark(T0 + 60 * DAY);
        harness.setProcessingTime(Long.MAX_VALUE / 2);
        assertThat(BroadcastHarnesses.numKeyedStateEntries(harness)).as("keyed state: one profile per user")
                .isEqualTo(users);
        BroadcastHarnesses.assertNoTimers(harness);
    }

    // ---- tests --------------------------------------------------------------------------------

    @Test
    void eventsThatWaitForEventTimeGiveTheFeaturesOfEventsAppliedAtOnce() throws Exception {
        // Waiting events are kept by event time and applied when the watermark passes them; what
        // they give must be what the same events give applied on arrival, behind event time.
        ownerHistory();
        login("l3", "s3", "d2", "203.0.113.9", "FR", true, T0);
        push(TestEvents.whitelistAdded("wl2", USER, "bc1qnew", T0 + MIN));
        push(TestEvents.verified("m1", USER, "c1", "w3", T0 + 90 * SEC));
        withdraw("w3", "s3", "bc1qnew", 5_000, 10_000, T0 + 2 * MIN, 25 * SEC);
        watermark(latestPushed);
        Map<String, Map<String, Double>> waited = new java.util.TreeMap<>();
        for (EnrichedEvent e : harness.extractOutputValues()) waited.put(e.event.withdrawalId, e.anomaly.features);

        try (var atOnce = BroadcastHarnesses.open(AnomalyScoringDetector.from(cfg, SerializableClock.fixed(DETECTED_AT)),
                EventKeys.ENRICHED_USER_ID)) {
            atOnce.processWatermark(latestPushed); // every event is behind event time: applied on arrival
            for (Event e : pushed) atOnce.processElement(new StreamRecord<>(EnrichedEvent.of(e), e.eventTime));
            Map<String, Map<String, Double>> applied = new java.util.TreeMap<>();
            for (EnrichedEvent e : atOnce.extractOutputValues()) applied.put(e.event.withdrawalId, e.anomaly.features);
            assertThat(applied).containsOnlyKeys("w1", "w2", "w3").isEqualTo(waited);
        }
        // The last approval's session was new in every way: the facts of its login did arrive.
        assertThat(waited.get("w3")).containsEntry("new_device", 1.0).containsEntry("new_country", 1.0)
                .containsEntry("jailbroken", 1.0);
    }

    @Test
    void logsExactFeaturesWithoutAModelAndNeitherScoresNorAlerts() throws Exception {
        ownerHistory();
        // Today: the owner's device and country, but a new IP; US$5,000 of a US$10,000 balance.
        login("l3", "s3", "d1", "203.0.113.50", "DE", false, T0);
        withdraw("w3", "s3", OLD_ADDRESS, 5_000, 10_000, T0 + 2 * MIN, 25 * SEC);

        Anomaly an = approvalOf("w3").anomaly;
        assertThat(an).isNotNull();
        assertThat(an.schemaVersion).isEqualTo(WithdrawalFeatures.SCHEMA_VERSION);
        assertThat(an.schemaHash).isEqualTo(WithdrawalFeatures.SCHEMA_HASH);
        assertThat(an.features.keySet()).containsExactlyInAnyOrderElementsOf(WithdrawalFeatures.names());
        double t = 2 * 60; // request at 10:02:00 UTC: 36,120 s into the day
        Map<String, Double> f = an.features;
        assertThat(f.get("amount_vs_median")).isCloseTo(Math.log(5_010.0 / 210.0), within(1e-12)); // median 200
        assertThat(f.get("balance_share")).isEqualTo(0.5);
        assertThat(f.get("login_age")).isCloseTo(Math.log1p(t), within(1e-12));
        assertThat(f.get("new_device")).isEqualTo(0.0);
        assertThat(f.get("new_ip")).isEqualTo(1.0);
        assertThat(f.get("new_country")).isEqualTo(0.0);
        assertThat(f.get("jailbroken")).isEqualTo(0.0);
        // Whitelisted at T0 - 10 d + 1 min, requested at T0 + 2 min: 14,401 minutes.
        assertThat(f.get("destination_age")).isCloseTo(Math.log1p(14_401 / 60.0), within(1e-12));
        assertThat(f.get("approval_delay")).isCloseTo(Math.log1p(25), within(1e-12));
        assertThat(f.get("withdrawals_last_hour")).isEqualTo(0.0);
        assertThat(f.get("hour_sin")).isCloseTo(Math.sin(2 * Math.PI * 36_120 / 86_400), within(1e-12));
        assertThat(f.get("hour_cos")).isCloseTo(Math.cos(2 * Math.PI * 36_120 / 86_400), within(1e-12));
        assertThat(an.score).isNull();
        assertThat(an.modelVersion).isNull();
        assertThat(an.threshold).isNull();

        // The very first approval had no history: everything about its session was new.
        Map<String, Double> first = approvalOf("w1").anomaly.features;
        assertThat(first.get("new_device")).isEqualTo(1.0);
        assertThat(first.get("new_ip")).isEqualTo(1.0);
        assertThat(first.get("amount_vs_median")).isCloseTo(Math.log(110.0 / 10.0), within(1e-12));
        // The second, in a later session from the same device and IP: known.
        assertThat(approvalOf("w2").anomaly.features.get("new_device")).isEqualTo(0.0);
        assertThat(approvalOf("w2").anomaly.features.get("new_ip")).isEqualTo(0.0);

        assertThat(alerts()).isEmpty();
        assertThat(harness.extractOutputValues()).as("each approval leaves once, featured; nothing else leaves")
                .hasSize(3).allSatisfy(e -> {
                    assertThat(e.event.isApproval()).isTrue();
                    assertThat(e.anomaly).isNotNull();
                });
        assertDrainedExceptProfiles(1);
    }

    @Test
    void anActivatedModelScoresLaterApprovalsAndAHotSwapChangesTheirScores() throws Exception {
        TestModels.train(models, "m1", 11, 0.0);
        TestModels.train(models, "m2", 22, 2.0);
        var m1 = ModelArtifact.load(models.resolve("m1")).scorer();
        var m2 = ModelArtifact.load(models.resolve("m2")).scorer();

        ownerHistory();
        assertThat(approvalOf("w2").anomaly.score).as("before activation").isNull();

        RuleVersion v2 = change(v1, TestModels.activation(models, "m1"));
        assertThat(v2.version).isEqualTo(2);
        activate(v2);

        // The owner, as usual: an hour into a session, a small sum to the old address, typed 2FA.
        login("l3", "s3", "d1", "198.51.100.1", "DE", false, T0);
        withdraw("w3", "s3", OLD_ADDRESS, 200, 10_000, T0 + 30 * MIN, 30 * SEC);
        Anomaly normal = approvalOf("w3").anomaly;
        assertThat(normal.modelVersion).isEqualTo("m1");
        assertThat(normal.threshold).isEqualTo(m1.threshold());
        assertThat(normal.score).isEqualTo(m1.score(WithdrawalFeatures.fromMap(normal.features)));
        assertThat(normal.score).as("the owner's usual withdrawal").isLessThanOrEqualTo(m1.threshold());
        assertThat(normal.topContributions).isNull();
        assertThat(alerts()).isEmpty();

        // A takeover: new jailbroken device, new IP and country, an address added a minute ago,
        // almost the whole balance, approved within a second.
        login("l4", "s4", "d-evil", "192.0.2.66", "KP", true, T0 + 2 * HOUR);
        push(TestEvents.whitelistAdded("wl2", USER, "bc1qthief", T0 + 2 * HOUR + 30 * SEC));
        withdraw("w4", "s4", "bc1qthief", 9_900, 10_000, T0 + 2 * HOUR + MIN, SEC);
        Anomaly takeover = approvalOf("w4").anomaly;
        assertThat(takeover.modelVersion).isEqualTo("m1");
        assertThat(takeover.score).isGreaterThan(m1.threshold());
        assertThat(takeover.topContributions).hasSize(3).isSortedAccordingTo(
                Comparator.comparingDouble((AnomalyContribution c) -> c.scoreChange).reversed());

        assertThat(alerts()).hasSize(1);
        Alert alert = alerts().get(0);
        assertThat(alert.rule).isEqualTo("anomaly_score");
        assertThat(alert.ruleVersion).isEqualTo(2);
        assertThat(alert.severity).isEqualTo("medium");
        assertThat(alert.detectedAt).isEqualTo(DETECTED_AT);
        assertThat(alert.withdrawalId).isEqualTo("w4");
        assertThat(alert.evidence.modelVersion).isEqualTo("m1");
        assertThat(alert.evidence.anomalyScore).isEqualTo(takeover.score);
        assertThat(alert.evidence.anomalyThreshold).isEqualTo(m1.threshold());
        assertThat(alert.evidence.contributions).extracting(c -> c.feature)
                .containsExactlyElementsOf(takeover.topContributions.stream().map(c -> c.feature).toList());
        assertThat(alert.evidence.freezeAccount).as("an alert, not a freeze, by default").isNull();
        assertThat(alert.summary).contains("w4", "m1", takeover.topContributions.get(0).feature);
        assertThat(approvalOf("w4").alertIds).containsExactly(alert.alertId);
        assertThat(RuleCatalog.stepsFor(alert.rule)).noneMatch(s -> s.when().test(alert));

        // Hot swap: the next approval is scored by m2, which scores the same features differently.
        RuleVersion v3 = change(v2, TestModels.activation(models, "m2"));
        activate(v3);
        withdraw("w5", "s3", OLD_ADDRESS, 250, 10_000, T0 + 3 * HOUR, 20 * SEC);
        Anomaly later = approvalOf("w5").anomaly;
        double[] x = WithdrawalFeatures.fromMap(later.features);
        assertThat(later.modelVersion).isEqualTo("m2");
        assertThat(later.threshold).isEqualTo(m2.threshold());
        assertThat(later.score).isEqualTo(m2.score(x)).isNotEqualTo(m1.score(x));
        // Events scored earlier keep the version that scored them.
        assertThat(approvalOf("w3").anomaly.modelVersion).isEqualTo("m1");

        // Scoring off again ('none'): features only.
        activate(change(v3, Map.of(Settings.ANOMALY_MODEL_VERSION.key(), "none")));
        withdraw("w6", "s3", OLD_ADDRESS, 250, 10_000, T0 + 4 * HOUR, 20 * SEC);
        assertThat(approvalOf("w6").anomaly.score).isNull();
        assertThat(approvalOf("w6").anomaly.features).hasSize(WithdrawalFeatures.COUNT);

        assertDrainedExceptProfiles(1);
    }

    @Test
    void severityAndFreezeComeFromTheRule() throws Exception {
        TestModels.train(models, "m1", 11, 0.0);
        ownerHistory();
        watermark(latestPushed); // the history is featured before the model is activated
        RuleVersion v2 = change(v1, Map.of(Settings.ANOMALY_MODEL_VERSION.key(), "m1",
                Settings.ANOMALY_MODEL_SHA256.key(), TestModels.sha256(models, "m1"),
                Settings.ANOMALY_SEVERITY.key(), "HIGH", Settings.ANOMALY_FREEZE.key(), "true"));
        assertThat(v2.params).containsEntry(Settings.ANOMALY_SEVERITY.key(), "HIGH");
        activate(v2);
        login("l4", "s4", "d-evil", "192.0.2.66", "KP", true, T0);
        push(TestEvents.whitelistAdded("wl2", USER, "bc1qthief", T0 + 30 * SEC));
        withdraw("w4", "s4", "bc1qthief", 9_900, 10_000, T0 + MIN, SEC);

        assertThat(alerts()).hasSize(1);
        Alert alert = alerts().get(0);
        assertThat(alert.severity).isEqualTo("high");
        assertThat(alert.evidence.freezeAccount).isTrue();
        assertThat(RuleCatalog.stepsFor(alert.rule)).filteredOn(s -> s.when().test(alert))
                .extracting(s -> s.action() + ":" + s.scope().of(alert).keyValue())
                .containsExactly("freeze_account:" + ActionScope.user(USER).keyValue());
        assertDrainedExceptProfiles(1);
    }

    @Test
    void aRuleChangeToAMissingOrRejectedModelIsRefused() throws Exception {
        String key = Settings.ANOMALY_MODEL_VERSION.key();
        assertThatThrownBy(() -> change(v1, Map.of(key, "nope")))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("no model artifact");
        assertThatThrownBy(() -> change(v1, Map.of(key, "../etc")))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("model version name");
        assertThatThrownBy(() -> change(v1, Map.of(Settings.ANOMALY_SEVERITY.key(), "urgent")))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("must be one of");

        Path dir = TestModels.train(models, "m1", 11, 0.0);
        Path file = dir.resolve(ModelArtifact.MODEL_FILE);
        byte[] bytes = Files.readAllBytes(file);
        bytes[bytes.length / 2] ^= 1;
        Files.write(file, bytes);
        assertThatThrownBy(() -> change(v1, Map.of(key, "m1")))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("CHECKSUM_MISMATCH");

        // A model directory named differently from the model it holds is a mix-up: refused.
        TestModels.train(models, "m2", 22, 0.0);
        Files.move(models.resolve("m2"), models.resolve("m3"));
        assertThatThrownBy(() -> change(v1, Map.of(key, "m3")))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("not m3");

        assertThat(change(v1, Map.of(key, "none")).params).containsEntry(key, "none");
    }

    @Test
    void aRuleChangeThatActivatesAModelMustNameItsFilesSha256() throws Exception {
        TestModels.train(models, "m1", 11, 0.0);
        String key = Settings.ANOMALY_MODEL_VERSION.key();
        assertThatThrownBy(() -> change(v1, Map.of(key, "m1")))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("model-sha256: required with model m1");
        assertThatThrownBy(() -> change(v1, Map.of(key, "m1", Settings.ANOMALY_MODEL_SHA256.key(), "0".repeat(64))))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("the request names " + "0".repeat(64));
        assertThat(change(v1, TestModels.activation(models, "m1")).params)
                .containsEntry(Settings.ANOMALY_MODEL_SHA256.key(), TestModels.sha256(models, "m1"));
    }

    @Test
    void aModelDirectoryReplacedAfterActivationIsNotLoaded() throws Exception {
        // Someone with write access to models.dir swaps in another valid artifact (metadata and
        // file together, so its own checksum holds) after the signed request was checked.
        Path dir = TestModels.train(models, "m1", 11, 0.0);
        Path other = TestModels.train(models, "m2", 22, 2.0);
        ownerHistory();
        activate(change(v1, TestModels.activation(models, "m1")));
        for (String f : List.of(ModelArtifact.METADATA_FILE, ModelArtifact.MODEL_FILE)) {
            Files.copy(other.resolve(f), dir.resolve(f), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        }

        login("l4", "s4", "d-evil", "192.0.2.66", "KP", true, T0);
        withdraw("w4", "s4", "bc1qthief", 9_900, 10_000, T0 + MIN, SEC);
        assertThat(approvalOf("w4").anomaly.score).as("scored by a file nobody approved").isNull();
        assertThat(approvalOf("w4").anomaly.features).hasSize(WithdrawalFeatures.COUNT);
        assertThat(alerts()).isEmpty();
    }

    @Test
    void aModelRemovedAfterActivationLeavesApprovalsUnscoredWithoutFailing() throws Exception {
        Path dir = TestModels.train(models, "m1", 11, 0.0);
        ownerHistory();
        activate(change(v1, TestModels.activation(models, "m1")));
        deleteTree(dir);

        login("l4", "s4", "d-evil", "192.0.2.66", "KP", true, T0);
        withdraw("w4", "s4", "bc1qthief", 9_900, 10_000, T0 + MIN, SEC);
        withdraw("w5", "s4", "bc1qthief", 50, 100, T0 + 2 * MIN, SEC);
        assertThat(approvalOf("w4").anomaly.score).isNull();
        assertThat(approvalOf("w4").anomaly.features).hasSize(WithdrawalFeatures.COUNT);
        assertThat(approvalOf("w5").anomaly.score).isNull();
        assertThat(alerts()).isEmpty();
        assertDrainedExceptProfiles(1);
    }

    @Test
    void aDeviceTheAccountUsedBeforeALoginIsKnownAndAWhitelistingReadLateStillCounts() throws Exception {
        // The owner's earlier account activity (no login on record) names the device and address.
        Event change = TestEvents.accountChange("ac-1", USER, "password_changed", T0 - DAY);
        change.deviceId = "d-own";
        change.ip = "198.51.100.7";
        push(change);
        login("l1", "s1", "d-own", "198.51.100.7", "DE", false, T0);
        // The request is read before its destination's whitelisting (another topic, read late).
        Event r = TestEvents.requested("req-w1", USER, "w1", "addr-fresh", 500, 10_000, T0 + MIN);
        r.sessionId = "s1";
        push(r);
        push(TestEvents.whitelistAdded("wl-1", USER, "addr-fresh", T0 + 30 * 1_000L));
        Event a = TestEvents.approved("app-w1", USER, "w1", 500, T0 + 2 * MIN);
        a.sessionId = "s1";
        a.destinationAddress = "addr-fresh";
        push(a);

        Map<String, Double> f = approvalOf("w1").anomaly.features;
        assertThat(f.get("new_device")).as("seen on the account before the login").isEqualTo(0.0);
        assertThat(f.get("new_ip")).isEqualTo(0.0);
        // Whitelisted 30 s before the request: log1p(30 s in hours).
        assertThat(f.get("destination_age")).isCloseTo(Math.log1p(30.0 / 3600), within(1e-9));
        assertDrainedExceptProfiles(1);
    }

    @Test
    void anApprovalWaitsForEventTimeSoALoginAndAWhitelistingReadAfterItCount() throws Exception {
        ownerHistory();
        watermark(T0 - HOUR);
        // The withdrawals topic is read before the logins and account changes.
        withdraw("w9", "s9", "addr-new", 200, 10_000, T0 + MIN, 30 * 1_000L);
        assertThat(harness.extractOutputValues()).as("the approval waits for event time")
                .noneMatch(e -> "app-w9".equals(e.event.eventId));
        login("l9", "s9", "d1", "198.51.100.1", "DE", false, T0);
        push(TestEvents.whitelistAdded("wl-9", USER, "addr-new", T0 + 30 * 1_000L));
        watermark(T0 + MIN + 30 * 1_000L);

        Map<String, Double> f = approvalOf("w9").anomaly.features;
        assertThat(f.get("new_device")).as("the owner's device, known from the login read late").isEqualTo(0.0);
        assertThat(f.get("login_age")).isCloseTo(Math.log1p(60), within(1e-9));
        assertThat(f.get("destination_age")).isCloseTo(Math.log1p(30.0 / 3600), within(1e-9));
        assertThat(harness.extractOutputValues()).filteredOn(e -> "app-w9".equals(e.event.eventId)).hasSize(1);
        assertDrainedExceptProfiles(1);
    }

    @Test
    void factsAfterTheApprovalInEventTimeDoNotCountEvenWhenReadBeforeIt() throws Exception {
        ownerHistory();
        // Read first, but 5 s after the approval in event time: a new session from a new device.
        login("l-later", "s-later", "d-new", "203.0.113.50", "FR", false, T0 + 2 * MIN + 5_000);
        withdraw("w7", "s7", OLD_ADDRESS, 200, 10_000, T0 + MIN, MIN);
        login("l7", "s7", "d-new", "203.0.113.50", "FR", false, T0);

        Map<String, Double> f = approvalOf("w7").anomaly.features;
        assertThat(f.get("new_device")).as("d-new is new at the approval's login, whatever was read first")
                .isEqualTo(1.0);
        assertThat(f.get("login_age")).as("login to request").isCloseTo(Math.log1p(60), within(1e-9));
        assertDrainedExceptProfiles(1);
    }

    @Test
    void whenEventTimeStallsForTheWallClockBoundTheApprovalIsFeaturedWithWhatIsKnown() throws Exception {
        long maxWait = cfg.get(Settings.UA_MAX_WAIT).toMillis();
        ownerHistory();
        watermark(T0);
        harness.setProcessingTime(0);
        withdraw("w6", "s1", OLD_ADDRESS, 200, 10_000, T0 + MIN, 30 * 1_000L);
        // Event time moves (a backlog being read): the bound does not decide.
        watermark(T0 + 10_000);
        harness.setProcessingTime(maxWait);
        assertThat(harness.extractOutputValues()).noneMatch(e -> "app-w6".equals(e.event.eventId));
        // Then it stalls (every partition idle) for the whole bound.
        harness.setProcessingTime(2 * maxWait);
        assertThat(harness.extractOutputValues()).filteredOn(e -> "app-w6".equals(e.event.eventId)).hasSize(1)
                .allSatisfy(e -> assertThat(e.anomaly).isNotNull());
        assertDrainedExceptProfiles(1);
    }

    @Test
    void anApprovalWithoutItsRequestOrSessionIsStillFeatured() throws Exception {
        Event a = TestEvents.approved("app-x", USER, "wx", 1_000, T0);
        a.sessionId = "unknown-session";
        push(a);
        Map<String, Double> f = approvalOf("wx").anomaly.features;
        assertThat(f.get("approval_delay")).isEqualTo(0.0);
        assertThat(f.get("balance_share")).isEqualTo(1.0);
        assertThat(f.get("login_age")).isCloseTo(Math.log1p(86_400), within(1e-12));
        assertThat(f.get("new_device")).isEqualTo(1.0);
        assertThat(f.get("destination_age")).isCloseTo(Math.log1p(10_000), within(1e-12));
        assertDrainedExceptProfiles(1);
    }

    private static void deleteTree(Path dir) throws IOException {
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path p : s.sorted(Comparator.reverseOrder()).toList()) Files.delete(p);
        }
    }
}
