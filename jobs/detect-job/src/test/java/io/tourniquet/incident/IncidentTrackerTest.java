package io.tourniquet.incident;

import static io.tourniquet.testing.TestEvents.T0;
import static org.assertj.core.api.Assertions.assertThat;
import io.tourniquet.config.Settings;
import io.tourniquet.config.TourniquetConfig;
import io.tourniquet.detect.job.ActionPlanner;
import io.tourniquet.signing.CommandSigner;
import io.tourniquet.detect.EventKeys;
import io.tourniquet.util.SerializableClock;
import io.tourniquet.signing.SignedAction;
import io.tourniquet.streams.Tags;
import io.tourniquet.model.Alert;
import io.tourniquet.model.ControlRequest;
import io.tourniquet.control.ControlSignal;
import io.tourniquet.model.EnrichedEvent;
import io.tourniquet.model.Incident;
import io.tourniquet.model.NotificationRequest;
import io.tourniquet.rules.catalog.RuleCatalog;
import io.tourniquet.testing.TestEvents;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.streaming.api.operators.co.KeyedCoProcessOperator;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.util.KeyedTwoInputStreamOperatorTestHarness;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class IncidentTrackerTest {
    private static final long SEC = 1_000L;
    private static final long MIN = 60 * SEC;
    private static final long NOW = 1_700_000_000_000L;

    private KeyedTwoInputStreamOperatorTestHarness<String, Alert, ControlSignal, Alert> harness;

    @BeforeEach
    void open() throws Exception {
        harness = newHarness();
        harness.open();
    }

    /** A tracker with the default settings and a fixed clock, not yet opened. */
    private static KeyedTwoInputStreamOperatorTestHarness<String, Alert, ControlSignal, Alert> newHarness()
            throws Exception {
        return new KeyedTwoInputStreamOperatorTestHarness<>(
                new KeyedCoProcessOperator<>(IncidentTracker.from(TourniquetConfig.defaults(),
                        SerializableClock.fixed(NOW))),
                EventKeys.platform(), EventKeys.platform(), Types.STRING);
    }

    @AfterEach
    void close() throws Exception {
        harness.close();
    }

    private static Alert unauthorized(String id, String user, String asset, String amount, double usd, long t) {
        Alert a = new Alert();
        a.alertId = id;
        a.rule = RuleCatalog.UNAUTHORIZED_APPROVAL;
        a.severity = "high";
        a.eventTime = t;
        a.detectedAt = NOW;
        a.userId = user;
        a.withdrawalId = "w-" + id;
        a.evidence.asset = asset;
        a.evidence.amount = amount;
        a.evidence.usdValue = usd;
        a.evidence.eventIds.add("e-" + id);
        a.trigger = EnrichedEvent.of(TestEvents.approval("e-" + id, user, "w-" + id, null, t));
        a.trigger.mfaAuthorized = false;
        return a;
    }

    private static Alert bulk(String id, long t, String... users) {
        Alert a = new Alert();
        a.alertId = id;
        a.rule = RuleCatalog.BULK_DRAIN;
        a.severity = "critical";
        a.eventTime = t;
        a.detectedAt = NOW;
        a.evidence.userIds = new ArrayList<>(List.of(users));
        return a;
    }

    private static Alert drain(String id, String user, long t) {
        Alert a = new Alert();
        a.alertId = id;
        a.rule = RuleCatalog.ACCOUNT_DRAIN;
        a.severity = "medium";
        a.eventTime = t;
        a.detectedAt = NOW;
        a.userId = user;
        return a;
    }

    private void push(Alert a) throws Exception {
        harness.processElement1(new StreamRecord<>(a, a.eventTime));
    }

    private void control(String type, String incidentId, Map<String, String> gapChange) throws Exception {
        ControlSignal s = new ControlSignal();
        s.type = type;
        s.requestId = "r-" + type;
        s.requestedBy = "alice@security";
        s.requestedAt = NOW + 5 * MIN;
        s.incidentId = incidentId;
        if (gapChange != null) {
            s.ruleVersion = RuleCatalog.next(RuleCatalog.initial(RuleCatalog.INCIDENT, TourniquetConfig.defaults()),
                    gapChange, TourniquetConfig.defaults(), "alice@security", "r-gap", NOW);
        }
        harness.processElement2(new StreamRecord<>(s, 0L));
    }

    private List<Alert> out() {
        return harness.extractOutputValues();
    }

    private <T> List<T> side(org.apache.flink.util.OutputTag<T> tag) {
        var q = harness.getSideOutput(tag);
        return q == null ? List.of() : q.stream().map(StreamRecord::getValue).toList();
    }

    private Incident latest() {
        List<Incident> all = side(Tags.INCIDENTS);
        return all.get(all.size() - 1);
    }

    @Test
    void anUnauthorizedApprovalOpensAnIncidentAndItsEventLeavesWithTheIncidentId() throws Exception {
        push(unauthorized("a1", "u1", "BTC", "1.25000000", 52_500.00, T0));

        Incident inc = latest();
        assertThat(inc.status).isEqualTo(Incident.OPEN);
        assertThat(inc.startedAt).isEqualTo(T0);
        assertThat(inc.detectedAt).isEqualTo(NOW);
        assertThat(inc.containedAt).isNull();
        assertThat(inc.usersAffected).isEqualTo(1);
        assertThat(inc.alertIds).containsExactly("a1");
        assertThat(inc.version).isEqualTo(1);
        assertThat(out()).singleElement().satisfies(a -> {
            assertThat(a.incidentId).isEqualTo(inc.incidentId);
            assertThat(a.trigger).isNull();
        });
        assertThat(side(Tags.INCIDENT_EVENTS)).singleElement().satisfies(e -> {
            assertThat(e.incidentId).isEqualTo(inc.incidentId);
            assertThat(e.event.eventId).isEqualTo("e-a1");
        });
        assertThat(side(Tags.NOTIFY)).extracting(r -> r.userId + "/" + r.kind)
                .containsExactly("u1/unauthorized_approval", "u1/mfa_tokens_revoked");
    }

    @Test
    void impactIsExactPerAssetWhereFloatingPointWouldNotBe() throws Exception {
        push(unauthorized("a1", "u1", "ETH", "0.100000000000000001", 0.1, T0));
        push(unauthorized("a2", "u2", "ETH", "0.2", 0.2, T0 + MIN));
        push(unauthorized("a3", "u2", "BTC", "0.00000001", 0.01, T0 + 2 * MIN));

        Incident inc = latest();
        assertThat(inc.usersAffected).isEqualTo(2);
        assertThat(inc.userIds).containsExactly("u1", "u2");
        assertThat(inc.impact).extracting(i -> i.asset).containsExactly("BTC", "ETH");
        assertThat(inc.impact.get(1).amount).isEqualTo("0.300000000000000001");
        assertThat(inc.impact.get(1).usdValue).isEqualByComparingTo("0.3"); // 0.1 + 0.2 in double is 0.30000000000000004
        assertThat(inc.impact.get(1).withdrawals).isEqualTo(2);
        assertThat(inc.impact.get(0).amount).isEqualTo("0.00000001");
        assertThat(inc.usdTotal).isEqualByComparingTo("0.31");
        assertThat(side(Tags.INCIDENTS)).extracting(i -> i.version).containsExactly(1L, 2L, 3L);
    }

    @Test
    void alertsLessThanTheGapApartJoinAndAtTheGapOpenANewIncident() throws Exception {
        push(unauthorized("a1", "u1", "BTC", "1", 10, T0));
        push(unauthorized("a2", "u2", "BTC", "1", 10, T0 + 60 * MIN - 1)); // just below the 1 h gap: joins
        push(unauthorized("a3", "u3", "BTC", "1", 10, T0 + 120 * MIN - 1)); // exactly 1 h after a2: new one
        // Arriving out of order, just before the first incident's start: joins it, and moves started_at.
        push(unauthorized("a0", "u0", "BTC", "1", 10, T0 - 10 * MIN));

        List<String> ids = out().stream().map(a -> a.incidentId).toList();
        assertThat(ids.get(1)).isEqualTo(ids.get(0));
        assertThat(ids.get(2)).isNotEqualTo(ids.get(0));
        assertThat(ids.get(3)).isEqualTo(ids.get(0));
        assertThat(latest().startedAt).isEqualTo(T0 - 10 * MIN);
        assertThat(latest().usersAffected).isEqualTo(3);
    }

    @Test
    void bulkDrainSuspendsOncePerIncidentAndLaterVictimsJoinIt() throws Exception {
        for (int i = 1; i <= 5; i++) push(unauthorized("a" + i, "u" + i, "BTC", "1", 100, T0 + i * SEC));
        push(bulk("b1", T0 + 5 * SEC, "u1", "u2", "u3", "u4", "u5"));
        push(unauthorized("a6", "u6", "ETH", "2.5", 7_000, T0 + 6 * SEC));
        push(bulk("b2", T0 + 20 * MIN, "u6", "u7", "u8", "u9", "u10")); // another episode, same incident

        Incident inc = latest();
        assertThat(inc.status).isEqualTo(Incident.CONTAINED);
        assertThat(inc.containedAt).isEqualTo(T0 + 5 * SEC);
        assertThat(inc.usersAffected).isEqualTo(6);
        assertThat(inc.alertsByRule).containsEntry("bulk_drain", 2).containsEntry("unauthorized_approval", 6);
        assertThat(inc.impactAfterContainment).singleElement().satisfies(i -> {
            assertThat(i.asset).isEqualTo("ETH");
            assertThat(i.amount).isEqualTo("2.5");
        });
        assertThat(inc.usdAfterContainment).isEqualByComparingTo("7000");

        // Exactly one suspend_withdrawals across both bulk alerts, with the id the incident names.
        List<SignedAction> actions = plan(out());
        List<SignedAction> suspends = actions.stream().filter(s -> s.action.action.equals("suspend_withdrawals")).toList();
        assertThat(suspends).singleElement().satisfies(s -> {
            assertThat(s.action.actionId).isEqualTo(inc.suspensionActionId);
            assertThat(s.action.scope.platform).isTrue();
            assertThat(s.action.incidentId).isEqualTo(inc.incidentId);
        });
        // Every affected user hears of the suspension once per incident (dedup is the notifier's),
        // and the victim after it is told too.
        List<NotificationRequest> bulkNotices = side(Tags.NOTIFY).stream()
                .filter(r -> r.kind.equals("bulk_drain")).toList();
        assertThat(bulkNotices).extracting(r -> r.userId).contains("u1", "u5", "u6", "u10");
    }

    @Test
    void afterAnAnalystResumesANewBulkDrainMaySuspendAgain() throws Exception {
        push(unauthorized("a1", "u1", "BTC", "1", 100, T0));
        push(bulk("b1", T0 + SEC, "u1", "u2", "u3", "u4", "u5"));
        control(ControlRequest.RESUME_WITHDRAWALS, null, null);
        push(bulk("b2", T0 + 30 * MIN, "u6", "u7", "u8", "u9", "u10"));

        assertThat(out()).filteredOn(a -> a.rule.equals("bulk_drain"))
                .extracting(a -> a.evidence.suspendWithdrawals).containsExactly(true, true);
        assertThat(latest().containedAt).as("contained_at stays the first suspension's").isEqualTo(T0 + SEC);
    }

    @Test
    void resolvingPublishesTheResolutionForgetsTheIncidentAndLaterAlertsOpenANewOne() throws Exception {
        push(unauthorized("a1", "u1", "BTC", "1", 100, T0));
        String id = latest().incidentId;
        control(ControlRequest.RESOLVE_INCIDENT, id, null);

        Incident resolved = latest();
        assertThat(resolved.status).isEqualTo(Incident.RESOLVED);
        assertThat(resolved.resolvedBy).isEqualTo("alice@security");
        assertThat(resolved.resolvedAt).isEqualTo(NOW + 5 * MIN);
        assertThat(harness.numKeyedStateEntries()).as("a resolved incident leaves no state").isZero();

        push(unauthorized("a2", "u2", "BTC", "1", 100, T0 + MIN));
        assertThat(latest().incidentId).isNotEqualTo(id);
        assertThat(latest().status).isEqualTo(Incident.OPEN);
    }

    @Test
    void resolvingAnUnknownIncidentIsDeadLetteredAndChangesNothing() throws Exception {
        push(unauthorized("a1", "u1", "BTC", "1", 100, T0));
        int published = side(Tags.INCIDENTS).size();
        control(ControlRequest.RESOLVE_INCIDENT, "no-such-incident", null);

        assertThat(side(Tags.DEAD_LETTERS)).singleElement().satisfies(d -> {
            assertThat(d.reasonCode).isEqualTo("unknown_incident");
            assertThat(d.reason).contains("no-such-incident");
        });
        assertThat(side(Tags.INCIDENTS)).hasSize(published);
    }

    @Test
    void aChangedGapAppliesToLaterAlerts() throws Exception {
        control(ControlRequest.UPDATE_RULE, null, Map.of(Settings.INCIDENT_GAP.key(), "10 min"));
        push(unauthorized("a1", "u1", "BTC", "1", 100, T0));
        push(unauthorized("a2", "u2", "BTC", "1", 100, T0 + 11 * MIN));
        assertThat(out().get(1).incidentId).isNotEqualTo(out().get(0).incidentId);
    }

    @Test
    void alertsOfOtherRulesPassThroughWithoutAnIncident() throws Exception {
        push(drain("d1", "u1", T0));
        assertThat(out()).singleElement().satisfies(a -> assertThat(a.incidentId).isNull());
        assertThat(side(Tags.INCIDENTS)).isEmpty();
        assertThat(side(Tags.NOTIFY)).extracting(r -> r.userId + "/" + r.kind).containsExactly("u1/account_drain");
        assertThat(harness.numKeyedStateEntries()).isZero();
    }

    private static List<SignedAction> plan(List<Alert> alerts) throws Exception {
        ActionPlanner planner = new ActionPlanner(new CommandSigner("k".repeat(32)), io.tourniquet.signing.ActionExpiry.defaults(), SerializableClock.fixed(NOW));
        var harness = new org.apache.flink.streaming.util.OneInputStreamOperatorTestHarness<>(
                new org.apache.flink.streaming.api.operators.StreamFlatMap<>(planner));
        harness.open();
        for (Alert a : alerts) harness.processElement(new StreamRecord<>(a, a.eventTime));
        List<SignedAction> out = harness.extractOutputValues();
        harness.close();
        return out;
    }


    @Test
    void anIncidentOf50000AlertsStaysExactAndEveryRecordOfItStaysPublishable() throws Exception {
        long t0 = 1_642_377_600_000L;
        java.math.BigDecimal usd = java.math.BigDecimal.ZERO;
        java.math.BigDecimal eth = java.math.BigDecimal.ZERO;
        int n = 50_000;
        for (int i = 0; i < n; i++) {
            String asset = i % 2 == 0 ? "ETH" : "BTC";
            String amount = "0." + String.format("%018d", i + 1);
            double value = 100 + i % 7 + 0.01 * (i % 3);
            harness.processElement1(new StreamRecord<>(unauthorized("a" + i, "u" + i, asset, amount, value,
                    t0 + i * 10L), t0 + i * 10L));
            usd = usd.add(java.math.BigDecimal.valueOf(value));
            if (asset.equals("ETH")) eth = eth.add(new java.math.BigDecimal(amount));
            // Keep only the newest outputs: the harness would otherwise hold 50,000 incident copies.
            if (i % 1_000 == 999 && i < n - 1) harness.getOutput().clear();
        }
        List<Incident> published = side(Tags.INCIDENTS);
        Incident last = published.get(published.size() - 1);
        assertThat(last.usersAffected).isEqualTo(n);
        assertThat(last.alertsByRule).containsEntry(RuleCatalog.UNAUTHORIZED_APPROVAL, n);
        assertThat(last.usdTotal).isEqualByComparingTo(usd);
        assertThat(last.impact).extracting(a -> a.asset).containsExactly("BTC", "ETH");
        assertThat(new java.math.BigDecimal(last.impact.get(1).amount)).isEqualByComparingTo(eth);
        assertThat(last.impact.get(1).withdrawals).isEqualTo(n / 2);
        assertThat(last.idListsTruncated).isTrue();
        assertThat(last.alertIds).hasSize(IncidentTracker.MAX_LISTED).startsWith("a0", "a1");
        assertThat(last.userIds).hasSize(IncidentTracker.MAX_LISTED);
        assertThat(io.tourniquet.json.Json.MAPPER.writeValueAsBytes(last).length)
                .as("one incident record, well under the producer's 1 MB").isLessThan(128 * 1024);
    }

    // ---- updates through the incident's life, and claims ---------------------------------------

    private ControlSignal signal(String type, String requestId, String user, String incidentId) {
        ControlSignal s = new ControlSignal();
        s.type = type;
        s.requestId = requestId;
        s.requestedBy = "alice@security";
        s.requestedAt = NOW + 5 * MIN;
        s.userId = user;
        s.incidentId = incidentId;
        return s;
    }

    private void control(ControlSignal s) throws Exception {
        harness.processElement2(new StreamRecord<>(s, 0L));
    }

    @Test
    void resolvingTellsEachVictimTheirOwnLossAndOpensTheirClaim() throws Exception {
        push(unauthorized("a1", "u1", "BTC", "1.5", 60_000, T0));
        push(unauthorized("a2", "u2", "ETH", "10", 30_000, T0 + MIN));
        push(unauthorized("a3", "u1", "ETH", "2", 6_000, T0 + 2 * MIN));
        String id = latest().incidentId;
        int before = side(Tags.NOTIFY).size();
        control(ControlRequest.RESOLVE_INCIDENT, id, null);

        List<NotificationRequest> resolved = side(Tags.NOTIFY).subList(before, side(Tags.NOTIFY).size());
        assertThat(resolved).extracting(r -> r.userId + "/" + r.kind).containsExactly("u1/incident_resolved",
                "u2/incident_resolved");
        assertThat(resolved.get(0).withdrawals).extracting(w -> w.withdrawalId).containsExactly("w-a1", "w-a3");
        assertThat(resolved.get(1).withdrawals).extracting(w -> w.withdrawalId + " " + w.amount + " " + w.asset)
                .containsExactly("w-a2 10 ETH");
        assertThat(resolved).allSatisfy(r -> {
            assertThat(r.alert.incidentId).isEqualTo(id);
            assertThat(r.alert.eventTime).as("about the resolution's signing time").isEqualTo(NOW + 5 * MIN);
        });
        assertThat(side(Tags.CLAIMS)).extracting(c -> c.type + "/" + c.userId + "/" + c.by + "/" + c.withdrawals.size())
                .containsExactly("open/u1/tourniquet/2", "open/u2/tourniquet/1");
        assertThat(side(Tags.CLAIMS).get(0).windowStart).isEqualTo(T0 - 24 * 60 * MIN);
        assertThat(side(Tags.CLAIMS).get(0).windowEnd).isEqualTo(T0 + 2 * MIN + 24 * 60 * MIN);
        assertThat(side(Tags.CLAIMS).get(0).withdrawals.get(0).usdValue).isEqualByComparingTo("60000");
        assertThat(side(Tags.CLAIMS)).as("decided once event time passes the incident's last alert")
                .allSatisfy(c -> assertThat(c.eventTime).isEqualTo(T0 + 2 * MIN));
    }

    @Test
    void aReleaseTellsTheUserWithTheAnalystsWordsUnderTheirIncident() throws Exception {
        push(unauthorized("a1", "u1", "BTC", "1", 100, T0));
        String id = latest().incidentId;
        ControlSignal release = signal(ControlRequest.RELEASE_ACCOUNT, "rel-1", "u1", null);
        release.reason = "identity verified by video call";
        control(release);
        control(signal(ControlRequest.RELEASE_ACCOUNT, "rel-2", "u9", null)); // in no incident

        assertThat(side(Tags.NOTIFY)).filteredOn(r -> r.kind.equals("account_released"))
                .extracting(r -> r.userId + "/" + r.alert.incidentId + "/" + r.subject + "/" + r.note)
                .containsExactly("u1/" + id + "/rel-1/identity verified by video call", "u9/null/rel-2/null");
    }

    @Test
    void resumingTellsTheSuspendedIncidentsVictimsAndBroadcastsTheResumption() throws Exception {
        push(unauthorized("a1", "u1", "BTC", "1", 100, T0));
        push(unauthorized("a2", "u2", "BTC", "1", 100, T0 + SEC));
        push(bulk("b1", T0 + 2 * SEC, "u1", "u2", "u3", "u4", "u5"));
        String id = latest().incidentId;
        control(ControlRequest.RESUME_WITHDRAWALS, null, null);
        control(ControlRequest.RESUME_WITHDRAWALS, null, null); // nothing suspended any more: nothing to say

        // u3..u5 were counted by the bulk alert but their own alerts have not arrived (another
        // subtask): the suspension names them too, so the withdrawal watch does not tell them again.
        assertThat(side(Tags.PLATFORM_NOTICES)).extracting(n -> n.type + "/" + n.incidentId + "/" + n.victims)
                .containsExactly("suspended/" + id + "/[u1, u2, u3, u4, u5]", "resumed/" + id + "/[u1, u2]");
        assertThat(side(Tags.NOTIFY)).filteredOn(r -> r.kind.equals("withdrawals_resumed"))
                .extracting(r -> r.userId).containsExactly("u1", "u2");
    }

    @Test
    void anAnalystOpensAClaimOnlyForAVictimOfAnIncidentStillOpen() throws Exception {
        push(unauthorized("a1", "u1", "BTC", "1", 100, T0));
        String id = latest().incidentId;
        control(signal(ControlRequest.OPEN_CLAIM, "oc-1", "u1", id));
        control(signal(ControlRequest.OPEN_CLAIM, "oc-2", "u2", id));
        control(signal(ControlRequest.OPEN_CLAIM, "oc-3", "u1", "no-such-incident"));
        ControlSignal doc = signal(ControlRequest.CLAIM_DOCUMENT, "cd-1", "u1", id);
        doc.document = "police_report";
        control(doc);

        assertThat(side(Tags.CLAIMS)).extracting(c -> c.type + "/" + c.userId + "/" + c.by + "/" + c.document)
                .containsExactly("open/u1/alice@security/null", "document/u1/alice@security/police_report");
        assertThat(side(Tags.DEAD_LETTERS)).extracting(d -> d.reasonCode).containsExactly("not_a_victim",
                "unknown_incident");
    }

    // ---- state: what an alert reads and writes does not grow with the incident -----------------

    private <K, V> org.apache.flink.api.common.state.MapState<K, V> state(
            KeyedTwoInputStreamOperatorTestHarness<String, Alert, ControlSignal, Alert> h,
            org.apache.flink.api.common.state.MapStateDescriptor<K, V> descriptor) throws Exception {
        org.apache.flink.runtime.state.KeyedStateBackend<String> backend = h.getOperator().getKeyedStateBackend();
        backend.setCurrentKey(EventKeys.PLATFORM);
        return backend.getPartitionedState(org.apache.flink.runtime.state.VoidNamespace.INSTANCE,
                org.apache.flink.runtime.state.VoidNamespaceSerializer.INSTANCE, descriptor);
    }

    /** The incident record as the state backend would write it (RocksDB writes it whole at every alert). */
    private int serializedSize(IncidentState st) throws Exception {
        var serializer = org.apache.flink.api.common.typeinfo.TypeInformation.of(IncidentState.class)
                .createSerializer(new org.apache.flink.api.common.serialization.SerializerConfigImpl());
        var out = new org.apache.flink.core.memory.DataOutputSerializer(4096);
        serializer.serialize(st, out);
        return out.length();
    }

    @Test
    void theRecordAnAlertReadsAndWritesWholeStopsGrowingWhileTheIncidentGrows() throws Exception {
        long t0 = 1_642_377_600_000L;
        int[] sizes = new int[3];
        for (int i = 0; i < 6_000; i++) {
            push(unauthorized("a" + i, "u" + i, i % 2 == 0 ? "ETH" : "BTC", "0.5", 100, t0 + i * 10L));
            if (i % 1_000 == 999) harness.getOutput().clear();
            if (i == 1_999 || i == 3_999 || i == 5_999) {
                var incidents = state(harness, IncidentTracker.INCIDENTS);
                IncidentState st = incidents.values().iterator().next();
                sizes[i / 2_000] = serializedSize(st);
            }
        }
        // No id lists in it: those are published from incident-listed, written only while they grow.
        assertThat(sizes[0]).as("the incident record after 2,000 victims, bytes").isLessThan(2 * 1024);
        // Only the sums' digits may grow; each victim added ~40 bytes before the split.
        assertThat(sizes[2] - sizes[0]).as("growth from 2,000 to 6,000 victims, bytes (sizes " + java.util.Arrays
                .toString(sizes) + ")").isBetween(0, 64);
        int members = 0;
        for (var ignored : state(harness, IncidentTracker.APPROVALS).keys()) members++;
        assertThat(members).as("approvals kept one entry each").isEqualTo(6_000);
        assertThat(latest().usersAffected).isEqualTo(6_000);
        assertThat(latest().alertsByRule).containsEntry(RuleCatalog.UNAUTHORIZED_APPROVAL, 6_000);

        control(ControlRequest.RESOLVE_INCIDENT, latest().incidentId, null);
        assertThat(side(Tags.CLAIMS)).as("a claim per victim").hasSize(6_000);
        assertThat(harness.numKeyedStateEntries()).as("resolution forgets every member").isZero();
    }

    @Test
    void theListedIdsOutliveARestoreThoughTheyAreReadFromACopyOnTheHeap() throws Exception {
        push(unauthorized("a1", "u1", "BTC", "1", 100, T0));
        push(unauthorized("a2", "u2", "BTC", "1", 100, T0 + MIN));
        var snapshot = harness.snapshot(1L, 1L);
        harness.close();
        harness = newHarness();
        harness.initializeState(snapshot);
        harness.open();
        push(unauthorized("a3", "u3", "ETH", "2", 100, T0 + 2 * MIN));
        push(unauthorized("a4", "u1", "ETH", "2", 100, T0 + 3 * MIN));

        assertThat(latest().userIds).containsExactly("u1", "u2", "u3");
        assertThat(latest().alertIds).containsExactly("a1", "a2", "a3", "a4");
        assertThat(latest().usersAffected).isEqualTo(3);
        assertThat(latest().version).isEqualTo(4L);
        for (IncidentState st : state(harness, IncidentTracker.INCIDENTS).values()) {
            assertThat(st.incident.userIds).as("ids kept apart from the record").isEmpty();
            assertThat(st.incident.alertIds).isEmpty();
        }
    }

    /**
     * An incident kept by a build before the split layout (its ids and approvals whole in the one
     * record) carries on as if it had always been in the new one: made here from the new layout
     * by putting everything back into the record, as that build kept it.
     */
    @Test
    void anIncidentKeptInTheEarlierLayoutCarriesOnAsIfItHadAlwaysBeenSplit() throws Exception {
        var control = newHarness();
        control.open();
        try {
            List<Alert> before = List.of(unauthorized("a1", "u1", "BTC", "1.5", 60_000, T0),
                    unauthorized("a2", "u2", "ETH", "10", 30_000, T0 + MIN));
            List<Alert> after = List.of(unauthorized("a3", "u1", "ETH", "2", 6_000, T0 + 2 * MIN),
                    unauthorized("a2", "u2", "ETH", "10", 30_000, T0 + MIN), // redelivered
                    unauthorized("a4", "u3", "BTC", "0.25", 10_000, T0 + 3 * MIN),
                    bulk("b1", T0 + 3 * MIN, "u1", "u2", "u3"));
            for (Alert a : before) {
                push(copy(a));
                control.processElement1(new StreamRecord<>(copy(a), a.eventTime));
            }
            downgrade();
            for (Alert a : after) {
                push(copy(a));
                control.processElement1(new StreamRecord<>(copy(a), a.eventTime));
            }
            String id = latest().incidentId;
            ControlSignal resolve = signal(ControlRequest.RESOLVE_INCIDENT, "r-resolve", null, id);
            control(resolve);
            control.processElement2(new StreamRecord<>(resolve, 0L));

            assertThat(latest().usersAffected).isEqualTo(3);
            assertThat(latest().userIds).containsExactly("u1", "u2", "u3");
            assertThat(latest().alertsByRule).containsEntry(RuleCatalog.UNAUTHORIZED_APPROVAL, 4);
            for (var tag : List.<org.apache.flink.util.OutputTag<?>>of(Tags.INCIDENTS, Tags.NOTIFY, Tags.CLAIMS,
                    Tags.PLATFORM_NOTICES)) {
                assertThat(json(side(tag))).as(tag.getId()).isEqualTo(json(sideOf(control, tag)));
            }
            assertThat(json(out())).isEqualTo(json(control.extractOutputValues()));
            assertThat(side(Tags.NOTIFY)).filteredOn(r -> r.kind.equals("incident_resolved"))
                    .extracting(r -> r.userId + " " + r.withdrawals.size()).containsExactly("u1 2", "u2 1", "u3 1");
            assertThat(harness.numKeyedStateEntries()).isZero();
        } finally {
            control.close();
        }
    }

    /** Puts the incidents' members back into their records, as a build before the split kept them. */
    private void downgrade() throws Exception {
        var incidents = state(harness, IncidentTracker.INCIDENTS);
        var approvals = state(harness, IncidentTracker.APPROVALS);
        Map<String, IncidentState> records = new java.util.HashMap<>();
        for (var e : incidents.entries()) records.put(e.getKey(), e.getValue());
        for (var e : records.entrySet()) {
            IncidentState st = e.getValue();
            for (var a : approvals.entries()) {
                if (a.getKey().startsWith(e.getKey() + " ")) st.approvals.add(a.getValue());
            }
            st.approvals.sort(java.util.Comparator.comparing(a -> a.alertId));
            IncidentState.Listed listed = state(harness, IncidentTracker.LISTED).get(e.getKey());
            st.incident.userIds = new ArrayList<>(listed.userIds);
            st.incident.alertIds = new ArrayList<>(listed.alertIds);
            st.layout = 0;
            st.alertCount = 0;
            incidents.put(e.getKey(), st);
        }
        state(harness, IncidentTracker.APPROVALS).clear();
        state(harness, IncidentTracker.ALERT_IDS).clear();
        state(harness, IncidentTracker.USER_IDS).clear();
        state(harness, IncidentTracker.LISTED).clear();
    }

    private static Alert copy(Alert a) {
        Alert c = io.tourniquet.json.Json.MAPPER.convertValue(io.tourniquet.json.Json.tree(a), Alert.class);
        c.trigger = a.trigger;
        return c;
    }

    private static <T> List<T> sideOf(KeyedTwoInputStreamOperatorTestHarness<String, Alert, ControlSignal, Alert> h,
                                      org.apache.flink.util.OutputTag<T> tag) {
        var q = h.getSideOutput(tag);
        return q == null ? List.of() : q.stream().map(StreamRecord::getValue).toList();
    }

    private static String json(List<?> values) {
        return io.tourniquet.json.Json.tree(values).toString();
    }
}
