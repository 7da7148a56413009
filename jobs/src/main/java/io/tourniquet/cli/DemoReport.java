package io.tourniquet.cli;

import co.elastic.clients.elasticsearch.ElasticsearchClient;
import co.elastic.clients.elasticsearch._types.aggregations.StringTermsBucket;
import co.elastic.clients.elasticsearch.core.SearchResponse;
import com.fasterxml.jackson.databind.JsonNode;
import io.tourniquet.config.Settings;
import io.tourniquet.config.TourniquetConfig;
import io.tourniquet.detect.CommandSigner;
import io.tourniquet.index.EsClients;
import io.tourniquet.json.Json;
import io.tourniquet.kafka.TopicReader;
import io.tourniquet.sim.GroundTruth;
import io.tourniquet.sim.Simulation;
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
final class DemoReport {
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

    static DemoReport collect(TourniquetConfig cfg, Simulation sim, int produced) throws IOException {
        DemoReport r = new DemoReport();
        String kafka = cfg.get(Settings.KAFKA_BOOTSTRAP);
        r.eventsIn = produced;
        GroundTruth truth = sim.groundTruth();
        truth.unauthorizedApprovals().forEach(u -> r.expectedFlagged.add(u.eventId()));
        r.expectedUsers.addAll(truth.affectedUsers());
        r.compromisedVersion = truth.compromisedServiceVersion();

        for (ConsumerRecord<byte[], byte[]> rec : TopicReader.readAll(kafka, cfg.get(Settings.TOPIC_DLQ), READ_TIMEOUT)) {
            r.deadLetters++;
            r.deadLettersByReason.merge(Json.MAPPER.readTree(rec.value()).path("reason_code").asText(), 1, Integer::sum);
        }
        for (ConsumerRecord<byte[], byte[]> rec : TopicReader.readAll(kafka, cfg.get(Settings.TOPIC_ALERTS), READ_TIMEOUT)) {
            JsonNode alert = Json.MAPPER.readTree(rec.value());
            r.alertsByRule.merge(alert.path("rule").asText(), 1, Integer::sum);
            r.flaggedApprovals.add(alert.path("evidence").path("event_ids").path(0).asText());
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
                    cfg.get(Settings.INDEX_ACTIONS))) {
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

    boolean matchesGroundTruth() {
        return flaggedApprovals.equals(expectedFlagged) && frozenAccounts.equals(expectedUsers) && badlySigned == 0;
    }

    String render(double seconds) {
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
        b.append(String.format("ground truth:         %d unauthorized approvals of %d users; detected %d, missed %d, "
                + "false alerts %d -> %s%n", expectedFlagged.size(), expectedUsers.size(), flaggedApprovals.size(),
                missed.size(), extra.size(), matchesGroundTruth() ? "MATCH" : "MISMATCH " + missed + " " + extra));
        return b.toString();
    }
}
