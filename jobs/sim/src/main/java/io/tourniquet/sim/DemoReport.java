package io.tourniquet.sim;

import co.elastic.clients.elasticsearch.ElasticsearchClient;
import co.elastic.clients.elasticsearch._types.aggregations.StringTermsBucket;
import co.elastic.clients.elasticsearch.core.SearchResponse;
import com.fasterxml.jackson.databind.JsonNode;
import io.tourniquet.kafka.KafkaClientConfig;
import io.tourniquet.config.Settings;
import io.tourniquet.config.TourniquetConfig;
import io.tourniquet.signing.CommandSigner;
import io.tourniquet.index.EsClients;
import io.tourniquet.json.Json;
import io.tourniquet.kafka.TopicReader;
import java.io.IOException;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import org.apache.kafka.clients.consumer.ConsumerRecord;

/** What the demo shows: counts from the output topics and indices, checked against the simulator's truth. */
public final class DemoReport {
    private static final Duration READ_TIMEOUT = Duration.ofSeconds(60);

    int eventsIn;
    int deadLetters;
    Map<String, Integer> deadLettersByReason = new TreeMap<>();
    Map<String, Integer> alertsByRule = new TreeMap<>();
    Set<String> flaggedApprovals = new TreeSet<>();
    Set<String> frozenAccounts = new TreeSet<>();
    Map<String, Integer> actionsByKind = new TreeMap<>();
    int badlySigned;
    Map<String, Long> documents = new LinkedHashMap<>();
    Map<String, Long> rootCause = new LinkedHashMap<>();
    Set<String> expectedFlagged = new TreeSet<>();
    Set<String> expectedUsers = new TreeSet<>();
    String compromisedVersion;
    /** Per rule other than unauthorized approval: the keys alerted, and the ground truth's. */
    Map<String, Set<String>> alertedKeys = new TreeMap<>();
    Map<String, Set<String>> expectedKeys = new TreeMap<>();
    Map<String, Integer> notificationsByKind = new TreeMap<>();
    int notificationsWithCode;
    int notificationsWithWrongCode;
    int notificationsChecked;
    /** The latest version of each incident, from the incidents topic. */
    Map<String, JsonNode> incidents = new TreeMap<>();
    long incidentDocuments;
    GroundTruth.ExpectedIncident expectedIncident;

    public static DemoReport collect(TourniquetConfig cfg, Simulation sim, int produced) throws IOException {
        DemoReport r = new DemoReport();
        java.util.Properties kafka = KafkaClientConfig.base(cfg);
        r.eventsIn = produced;
        GroundTruth truth = sim.groundTruth();
        truth.unauthorizedApprovals().forEach(u -> r.expectedFlagged.add(u.eventId()));
        r.expectedUsers.addAll(truth.affectedUsers());
        r.compromisedVersion = truth.compromisedServiceVersion();

        for (ConsumerRecord<byte[], byte[]> rec : TopicReader.readAll(kafka, cfg.get(Settings.TOPIC_DLQ), READ_TIMEOUT)) {
            r.deadLetters++;
            r.deadLettersByReason.merge(Json.MAPPER.readTree(rec.value()).path("reason_code").asText(), 1, Integer::sum);
        }
        GroundTruth.ExpectedAlerts expected = truth.expectedAlerts();
        r.expectedKeys.put("account_drain", new TreeSet<>(expected.accountDrains()));
        r.expectedKeys.put("new_address_withdrawal", new TreeSet<>(expected.newAddressWithdrawals()));
        r.expectedKeys.put("destination_concentration", new TreeSet<>(expected.destinationConcentration()));
        r.expectedKeys.put("bulk_drain", episodes(expected.bulkDrainEpisodes()));
        r.expectedIncident = truth.incident();
        int bulk = 0;
        for (ConsumerRecord<byte[], byte[]> rec : TopicReader.readAll(kafka, cfg.get(Settings.TOPIC_ALERTS), READ_TIMEOUT)) {
            JsonNode alert = Json.MAPPER.readTree(rec.value());
            String rule = alert.path("rule").asText();
            r.alertsByRule.merge(rule, 1, Integer::sum);
            switch (rule) {
                case "unauthorized_approval" -> r.flaggedApprovals.add(alert.path("evidence").path("event_ids").path(0).asText());
                case "account_drain" -> r.key(rule, alert.path("user_id").asText());
                case "new_address_withdrawal" -> r.key(rule, alert.path("withdrawal_id").asText());
                case "destination_concentration" -> r.key(rule, alert.path("evidence").path("destination_address").asText());
                case "bulk_drain" -> r.key(rule, "episode " + (++bulk));
                default -> { }
            }
        }
        for (ConsumerRecord<byte[], byte[]> rec : TopicReader.readAll(kafka, cfg.get(Settings.TOPIC_INCIDENTS), READ_TIMEOUT)) {
            JsonNode inc = Json.MAPPER.readTree(rec.value());
            JsonNode known = r.incidents.get(inc.path("incident_id").asText());
            if (known == null || known.path("version").asLong() < inc.path("version").asLong()) {
                r.incidents.put(inc.path("incident_id").asText(), inc);
            }
        }
        Map<String, String> codes = truth.antiPhishingCodes();
        for (ConsumerRecord<byte[], byte[]> rec : TopicReader.readAll(kafka, cfg.get(Settings.TOPIC_NOTIFICATIONS), READ_TIMEOUT)) {
            JsonNode n = Json.MAPPER.readTree(rec.value());
            r.notificationsByKind.merge(n.path("kind").asText(), 1, Integer::sum);
            String got = n.has("anti_phishing_code") ? n.path("anti_phishing_code").asText() : null;
            if (got != null) r.notificationsWithCode++;
            // The ground truth knows each user's final code, which every user set before any
            // withdrawal; a whitelist notice may predate a later change, so it is not compared.
            if (n.path("kind").asText().equals("whitelist_address_added")) continue;
            r.notificationsChecked++;
            if (!java.util.Objects.equals(codes.get(n.path("user_id").asText()), got)) r.notificationsWithWrongCode++;
        }
        CommandSigner verifier = new CommandSigner(cfg.get(Settings.SIGNING_KEY));
        for (ConsumerRecord<byte[], byte[]> rec : TopicReader.readAll(kafka, cfg.get(Settings.TOPIC_ACTIONS), READ_TIMEOUT)) {
            JsonNode action = Json.MAPPER.readTree(rec.value());
            if (!verifier.verify(action)) r.badlySigned++;
            r.actionsByKind.merge(action.path("action").asText(), 1, Integer::sum);
            if ("freeze_account".equals(action.path("action").asText())) {
                r.frozenAccounts.add(action.path("scope").path("user_id").asText());
            }
        }
        try (ElasticsearchClient client = EsClients.create(cfg)) {
            for (String alias : List.of(cfg.get(Settings.INDEX_EVENTS), cfg.get(Settings.INDEX_ALERTS),
                    cfg.get(Settings.INDEX_ACTIONS), cfg.get(Settings.INDEX_INCIDENTS))) {
                client.indices().refresh(x -> x.index(alias));
                r.documents.put(alias, client.count(c -> c.index(alias)).count());
            }
            SearchResponse<Void> rc = client.search(s -> s.index(cfg.get(Settings.INDEX_EVENTS)).size(0)
                    .query(q -> q.term(t -> t.field("exchange.mfa.authorized").value(false)))
                    .aggregations("by_version", a -> a.terms(t -> t.field("exchange.withdrawal.approval_service_version"))),
                    Void.class);
            for (StringTermsBucket b : rc.aggregations().get("by_version").sterms().buckets().array()) {
                r.rootCause.put(b.key().stringValue(), b.docCount());
            }
        }
        return r;
    }

    private void key(String rule, String key) {
        alertedKeys.computeIfAbsent(rule, k -> new TreeSet<>()).add(key);
    }

    private static Set<String> episodes(int n) {
        Set<String> out = new TreeSet<>();
        for (int i = 1; i <= n; i++) out.add("episode " + i);
        return out;
    }

    private boolean rulesMatch() {
        for (Map.Entry<String, Set<String>> e : expectedKeys.entrySet()) {
            if (!e.getValue().equals(alertedKeys.getOrDefault(e.getKey(), Set.of()))) return false;
        }
        return true;
    }

    /** The single incident's figures against the ground truth: users and per-asset sums to the last unit. */
    private boolean incidentMatches() {
        if (expectedIncident == null || incidents.size() != 1) return false;
        JsonNode inc = incidents.values().iterator().next();
        Set<String> users = new TreeSet<>();
        inc.path("user_ids").forEach(u -> users.add(u.asText()));
        if (!users.equals(new TreeSet<>(expectedIncident.affectedUsers()))) return false;
        Map<String, java.math.BigDecimal[]> got = new TreeMap<>();
        inc.path("impact").forEach(i -> got.put(i.path("asset").asText(), new java.math.BigDecimal[] {
                new java.math.BigDecimal(i.path("amount").asText()), i.path("usd_value").decimalValue()}));
        if (got.size() != expectedIncident.impact().size()) return false;
        for (GroundTruth.AssetTotal t : expectedIncident.impact().values()) {
            java.math.BigDecimal[] g = got.get(t.asset());
            if (g == null || g[0].compareTo(t.amount()) != 0 || g[1].compareTo(t.usdValue()) != 0) return false;
        }
        return true;
    }

    public boolean matchesGroundTruth() {
        return flaggedApprovals.equals(expectedFlagged) && frozenAccounts.equals(expectedUsers) && badlySigned == 0
                && rulesMatch() && incidentMatches() && notificationsWithWrongCode == 0
                && actionsByKind.getOrDefault("suspend_withdrawals", 0) == incidents.size();
    }

    public String render(double seconds) {
        StringBuilder b = new StringBuilder();
        b.append("=== Tourniquet demo report ===\n");
        b.append(String.format("replayed in %.1f s (both jobs, embedded Flink)%n", seconds));
        b.append(String.format("events in:            %d%n", eventsIn));
        b.append(String.format("dead-lettered:        %d %s%n", deadLetters, deadLettersByReason));
        b.append(String.format("alerts by rule:       %s%n", alertsByRule));
        b.append(String.format("commands issued:      %s (%d badly signed)%n", actionsByKind, badlySigned));
        b.append(String.format("accounts frozen:      %d%n", frozenAccounts.size()));
        b.append(String.format("documents indexed:    %s%n", documents));
        b.append("root cause (unauthorized approvals by approving backend version, one terms aggregation):\n");
        rootCause.forEach((v, n) -> b.append(String.format("    %-24s %d%s%n", v, n,
                v.equals(compromisedVersion) ? "   <- the simulated compromised backend" : "")));
        Set<String> missed = new TreeSet<>(expectedFlagged);
        missed.removeAll(flaggedApprovals);
        Set<String> extra = new TreeSet<>(flaggedApprovals);
        extra.removeAll(expectedFlagged);
        b.append("other rules against ground truth (keys alerted / expected):\n");
        for (Map.Entry<String, Set<String>> e : expectedKeys.entrySet()) {
            Set<String> got = alertedKeys.getOrDefault(e.getKey(), Set.of());
            b.append(String.format("    %-26s %3d / %-3d %s%n", e.getKey(), got.size(), e.getValue().size(),
                    got.equals(e.getValue()) ? "MATCH" : "MISMATCH"));
        }
        b.append(String.format("notifications:        %s; %d carry an anti-phishing code; of %d about alerts, %d "
                + "carry a code other than the user's%n", notificationsByKind, notificationsWithCode,
                notificationsChecked, notificationsWithWrongCode));
        for (JsonNode inc : incidents.values()) renderIncident(b, inc);
        b.append(String.format("ground truth:         %d unauthorized approvals of %d users; detected %d, missed %d, "
                + "false alerts %d -> %s%n", expectedFlagged.size(), expectedUsers.size(), flaggedApprovals.size(),
                missed.size(), extra.size(), matchesGroundTruth() ? "MATCH" : "MISMATCH " + missed + " " + extra));
        b.append(String.format("incident vs ground truth: users and per-asset amounts and US$ %s%n",
                incidentMatches() ? "MATCH (to the last unit)" : "MISMATCH"));
        return b.toString();
    }

    private void renderIncident(StringBuilder b, JsonNode inc) {
        b.append(String.format("incident %s: %s%n", inc.path("incident_id").asText(), inc.path("status").asText()));
        b.append(String.format("    started (first unauthorized approval, event time)  %s%n", inc.path("started_at").asText()));
        b.append(String.format("    detected (wall clock)                              %s%n", inc.path("detected_at").asText()));
        if (inc.hasNonNull("contained_at")) {
            java.time.Instant started = java.time.Instant.parse(inc.path("started_at").asText());
            java.time.Instant contained = java.time.Instant.parse(inc.path("contained_at").asText());
            b.append(String.format("    contained (platform withdrawals suspended)         %s, %s after the attack's first event%n",
                    inc.path("contained_at").asText(), human(Duration.between(started, contained))));
            if (expectedIncident != null && expectedIncident.containedAt() != null) {
                b.append(String.format("    earliest possible (ground truth: the %s victim's approval)  %s, %s later than that%n",
                        "5th", expectedIncident.containedAt(),
                        human(Duration.between(expectedIncident.containedAt(), contained))));
            }
        }
        b.append(String.format("    users affected: %d; alerts by rule: %s%n", inc.path("users_affected").asInt(),
                inc.path("alerts_by_rule")));
        b.append("    impact (unauthorized approvals, exact):   asset  withdrawals  amount  US$\n");
        inc.path("impact").forEach(i -> b.append(String.format("        %-6s %3d  %s  %,.2f%n", i.path("asset").asText(),
                i.path("withdrawals").asInt(), i.path("amount").asText(), i.path("usd_value").decimalValue())));
        b.append(String.format("        total US$ %,.2f%n", inc.path("usd_total").decimalValue()));
        b.append(String.format("    approved after containment (what the suspension and holds save once enforced): US$ %,.2f%n",
                inc.path("usd_after_containment").decimalValue()));
        inc.path("impact_after_containment").forEach(i -> b.append(String.format("        %-6s %3d  %s  %,.2f%n",
                i.path("asset").asText(), i.path("withdrawals").asInt(), i.path("amount").asText(),
                i.path("usd_value").decimalValue())));
    }

    private static String human(Duration d) {
        long s = d.getSeconds();
        return s >= 60 ? (s / 60) + " min " + (s % 60) + " s" : s + "." + String.format("%03d", d.toMillisPart()) + " s";
    }
}
