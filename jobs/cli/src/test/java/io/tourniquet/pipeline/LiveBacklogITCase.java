package io.tourniquet.pipeline;

import static org.assertj.core.api.Assertions.assertThat;
import com.fasterxml.jackson.databind.JsonNode;
import io.tourniquet.cli.SetupCommand;
import io.tourniquet.config.Settings;
import io.tourniquet.config.TourniquetConfig;
import io.tourniquet.detect.job.DetectJobRunner;
import io.tourniquet.json.Json;
import io.tourniquet.kafka.TopicReader;
import io.tourniquet.sim.GroundTruth;
import io.tourniquet.sim.Simulation;
import io.tourniquet.sim.SimulationConfig;
import io.tourniquet.sim.SimulationWriter;
import io.tourniquet.sim.Simulator;
import io.tourniquet.testing.LocalServices;
import io.tourniquet.testing.SharedMiniCluster;
import java.time.Duration;
import java.util.Map;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.apache.flink.core.execution.JobClient;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A live (unbounded) detect job started on a backlog — what every start, every recovery after an
 * outage and every lagging moment looks like — raises exactly the alerts and commands of a bounded
 * replay of the same input, and the simulator's ground truth. Reading a backlog, partitions are
 * served in turns; before {@code CaughtUpIdleness}, a partition waiting its turn was declared idle
 * and event time ran past the 2FA verifications it held (seen: 1,156 benign approvals flagged and
 * frozen in one replay of 3,500 users). Idleness is set short here so that a partition waiting its
 * turn for a second would already be overtaken; the wall-clock bound is the default.
 */
@ExtendWith({LocalServices.class, SharedMiniCluster.class})
class LiveBacklogITCase {
    static final String KEY = "live-backlog-itcase-signing-key-0123456789";
    static final String CONTROL_KEY = "live-backlog-itcase-control-key-0123456789";
    static final Duration DEADLINE = Duration.ofSeconds(180);

    @Test
    void aBacklogReadLiveRaisesExactlyTheAlertsAndCommandsOfABoundedReplay() throws Exception {
        String ns = "live" + UUID.randomUUID().toString().substring(0, 8) + "-";
        TourniquetConfig input = TourniquetConfig.load(Map.of(), Map.of(
                Settings.KAFKA_BOOTSTRAP.key(), LocalServices.kafkaBootstrap(),
                Settings.ES_URL.key(), LocalServices.elasticsearchUrl(),
                Settings.SIGNING_KEY.key(), KEY,
                Settings.CONTROL_KEY.key(), CONTROL_KEY,
                Settings.TOPIC_PARTITIONS.key(), "4",
                Settings.CHECKPOINT_INTERVAL.key(), "1 s",
                Settings.IDLENESS.key(), "1 s")).namespaced(ns);
        SetupCommand.apply(input);
        Simulation sim = Simulator.generate(SimulationConfig.builder()
                .seed(7).benignUsers(400).attackVictims(30).malformedCount(4).duplicateCount(10)
                .topicsFrom(input).build());
        GroundTruth truth = sim.groundTruth();
        SimulationWriter.writeToKafka(sim, input.get(Settings.KAFKA_BOOTSTRAP));

        // The same input topics, each run with its own outputs and consumer group.
        TourniquetConfig replay = outputs(input, "replay-");
        TourniquetConfig live = outputs(input, "live-");
        DetectJobRunner.build(replay, true).execute("backlog-replay");
        Map<String, String> replayAlerts = alertsById(replay);
        Map<String, String> replayActions = actionsById(replay);

        GroundTruth.ExpectedAlerts expected = truth.expectedAlerts();
        assertThat(count(replayAlerts, "unauthorized_approval")).isEqualTo(truth.unauthorizedApprovals().size());
        assertThat(count(replayAlerts, "new_address_withdrawal"))
                .isEqualTo(expected.newAddressWithdrawals().size()).isPositive();
        assertThat(count(replayAlerts, "account_drain")).isEqualTo(expected.accountDrains().size());

        JobClient job = DetectJobRunner.build(live, false).executeAsync("backlog-live");
        try {
            long deadline = System.nanoTime() + DEADLINE.toNanos();
            Map<String, String> liveAlerts = alertsById(live);
            while (liveAlerts.size() < replayAlerts.size() && System.nanoTime() < deadline) {
                Thread.sleep(500);
                liveAlerts = alertsById(live);
            }
            // The last approvals are decided on the wall clock once the input is idle (the count
            // waited for them); then long enough for anything more to show on the next checkpoints.
            Thread.sleep(Duration.ofSeconds(6).toMillis());
            liveAlerts = alertsById(live);
            assertThat(liveAlerts).as("live alerts (id -> rule/reason) against the replay's")
                    .isEqualTo(replayAlerts);
            assertThat(actionsById(live)).as("live commands against the replay's").isEqualTo(replayActions);
        } finally {
            job.cancel().get(30, TimeUnit.SECONDS);
        }
    }

    static TourniquetConfig outputs(TourniquetConfig input, String prefix) throws Exception {
        Map<String, String> o = new TreeMap<>();
        var inputs = java.util.List.of(Settings.TOPIC_LOGINS, Settings.TOPIC_MFA, Settings.TOPIC_WITHDRAWALS,
                Settings.TOPIC_ACCOUNT_CHANGES);
        for (var s : Settings.TOPICS) {
            if (!inputs.contains(s)) o.put(s.key(), prefix + input.get(s));
        }
        o.put(Settings.KAFKA_GROUP_PREFIX.key(), prefix + input.get(Settings.KAFKA_GROUP_PREFIX));
        TourniquetConfig cfg = input.with(o);
        SetupCommand.apply(cfg);
        return cfg;
    }

    static long count(Map<String, String> alerts, String rule) {
        return alerts.values().stream().filter(v -> v.startsWith(rule + "/")).count();
    }

    /** Alert id -> rule and reason: ids are deterministic, so equal maps mean the same alerts. */
    static Map<String, String> alertsById(TourniquetConfig cfg) throws Exception {
        Map<String, String> out = new TreeMap<>();
        for (ConsumerRecord<byte[], byte[]> r : TopicReader.readAll(cfg.get(Settings.KAFKA_BOOTSTRAP),
                cfg.get(Settings.TOPIC_ALERTS), Duration.ofSeconds(30))) {
            JsonNode a = Json.MAPPER.readTree(r.value());
            out.put(a.path("alert_id").asText(), a.path("rule").asText() + "/" + a.path("evidence").path("reason").asText()
                    + "/" + a.path("event_time").asText());
        }
        return out;
    }

    /** Action id -> action and scope: a freeze of a benign user would show here. */
    static Map<String, String> actionsById(TourniquetConfig cfg) throws Exception {
        Map<String, String> out = new TreeMap<>();
        for (ConsumerRecord<byte[], byte[]> r : TopicReader.readAll(cfg.get(Settings.KAFKA_BOOTSTRAP),
                cfg.get(Settings.TOPIC_ACTIONS), Duration.ofSeconds(30))) {
            JsonNode a = Json.MAPPER.readTree(r.value());
            out.put(a.path("action_id").asText(), a.path("action").asText() + " " + a.path("scope"));
        }
        return out;
    }
}
