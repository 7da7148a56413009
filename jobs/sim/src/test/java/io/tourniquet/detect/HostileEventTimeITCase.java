package io.tourniquet.detect;

import io.tourniquet.detect.job.DetectSinks;
import io.tourniquet.detect.job.DetectJob;
import io.tourniquet.signing.SignedAction;
import io.tourniquet.util.SerializableClock;
import static org.assertj.core.api.Assertions.assertThat;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.tourniquet.config.Settings;
import io.tourniquet.config.TourniquetConfig;
import io.tourniquet.json.Json;
import io.tourniquet.model.Alert;
import io.tourniquet.model.DeadLetter;
import io.tourniquet.model.EnrichedEvent;
import io.tourniquet.model.Incident;
import io.tourniquet.model.Notification;
import io.tourniquet.model.RawRecord;
import io.tourniquet.sim.SimRecord;
import io.tourniquet.sim.Simulation;
import io.tourniquet.sim.SimulationConfig;
import io.tourniquet.sim.Simulator;
import io.tourniquet.testing.CollectingSink;
import io.tourniquet.testing.ControlRecords;
import io.tourniquet.testing.SharedMiniCluster;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * An attacker who can write one record to an input topic cannot move event time: a simulated
 * incident with hostile records mixed in (valid events dated 9999 and 0001, and an invalid record
 * with a plausible date) raises exactly the alerts and commands it raises without them, through the
 * job's own watermarks ({@link DetectJob#watermarks}), and every hostile record is dead-lettered
 * with its reason. Before, {@code event_time} was read from any JSON object at the source, and one
 * record dated 9999 fired every timer at once.
 */
@ExtendWith(SharedMiniCluster.class)
class HostileEventTimeITCase {
    static final String KEY = "hostile-event-time-signing-key-0123456789";
    static final long NOW = 1_700_000_000_000L; // the parse step's clock: 2023-11-14

    @Test
    void hostileTimestampsChangeNoAlertAndNoCommandAndGoToTheDeadLetters() throws Exception {
        TourniquetConfig cfg = TourniquetConfig.defaults().with(Map.of(Settings.SIGNING_KEY.key(), KEY,
                Settings.CONTROL_KEY.key(), KEY, Settings.MAX_AGE.key(), "3650 d"));
        Simulation sim = Simulator.generate(SimulationConfig.builder()
                .seed(11).benignUsers(12).attackVictims(8).malformedCount(0).duplicateCount(0)
                .topicsFrom(cfg).build());
        List<RawRecord> clean = new ArrayList<>();
        Map<String, Long> offsets = new HashMap<>();
        for (SimRecord r : sim.records()) clean.add(record(r.topic(), r.value(), offsets));

        // Copies of real events (new ids) dated far ahead and far behind, early in the input, on
        // every topic; and a record of no valid kind carrying a plausible date.
        List<RawRecord> hostile = new ArrayList<>();
        Map<String, Long> hostileOffsets = new HashMap<>(offsets);
        int n = 0;
        for (SimRecord r : sim.records().subList(0, 40)) {
            ObjectNode copy = (ObjectNode) Json.MAPPER.readTree(r.value());
            copy.put("event_id", "hostile-" + n);
            copy.put("event_time", n % 2 == 0 ? "9999-12-31T23:59:59Z" : "0001-01-01T00:00:00Z");
            hostile.add(record(r.topic(), copy.toString(), hostileOffsets));
            n++;
        }
        hostile.add(record(sim.config().topicWithdrawals(),
                "{\"event_id\":\"hostile-invalid\",\"event_time\":\"2022-01-17T03:00:00Z\",\"user_id\":\"u\"}",
                hostileOffsets));
        List<RawRecord> mixed = new ArrayList<>();
        for (int i = 0; i < clean.size(); i++) {
            mixed.add(clean.get(i));
            if (i < hostile.size()) mixed.add(hostile.get(i));
        }

        Map<String, List<String>> without = run(cfg, clean, "hostile-off");
        Map<String, List<String>> with = run(cfg, mixed, "hostile-on");
        assertThat(without.get("alerts")).as("the incident alerts").hasSizeGreaterThan(20);
        assertThat(with.get("alerts")).isEqualTo(without.get("alerts"));
        assertThat(with.get("actions")).isEqualTo(without.get("actions"));
        assertThat(without.get("dlq")).isEmpty();
        Map<String, Integer> reasons = new TreeMap<>();
        for (String d : with.get("dlq")) reasons.merge(d, 1, Integer::sum);
        assertThat(reasons).containsEntry("from_future", 20).containsEntry("too_old", 20)
                .containsEntry("missing_field", 1);
    }

    static RawRecord record(String topic, String value, Map<String, Long> offsets) {
        long offset = offsets.merge(topic, 1L, Long::sum) - 1;
        return new RawRecord(topic, 0, offset, null, value.getBytes(StandardCharsets.UTF_8), -1);
    }

    /** Alerts and commands without wall-clock fields or incident ids (sorted), dead-letter reasons. */
    static Map<String, List<String>> run(TourniquetConfig cfg, List<RawRecord> input, String name) throws Exception {
        CollectingSink<Alert> alerts = CollectingSink.named(name + "-alerts");
        CollectingSink<SignedAction> actions = CollectingSink.named(name + "-actions");
        CollectingSink<EnrichedEvent> enriched = CollectingSink.named(name + "-enriched");
        CollectingSink<DeadLetter> dlq = CollectingSink.named(name + "-dlq");
        CollectingSink<Incident> incidents = CollectingSink.named(name + "-incidents");
        CollectingSink<Notification> notifications = CollectingSink.named(name + "-notifications");
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
        env.setParallelism(1); // one subtask each: the comparison is about event time, not races
        DetectJob.defineWorkflow(env.fromData(input, TypeInformation.of(RawRecord.class)).uid(name + "-input")
                        .assignTimestampsAndWatermarks(DetectJob.watermarks(cfg)).uid(name + "-watermarks"),
                ControlRecords.none(env),
                new DetectSinks(alerts, actions, enriched, dlq, incidents, notifications), cfg,
                SerializableClock.fixed(NOW));
        env.execute(name);
        Map<String, List<String>> out = new HashMap<>();
        List<String> a = new ArrayList<>();
        for (Alert x : alerts.results()) a.add(strip(Json.tree(x), "detected_at", "incident_id"));
        List<String> c = new ArrayList<>();
        for (SignedAction x : actions.results()) {
            c.add(strip(Json.MAPPER.readTree(x.json), "issued_at", "expires_at", "signature", "incident_id"));
        }
        a.sort(null);
        c.sort(null);
        out.put("alerts", a);
        out.put("actions", c);
        out.put("dlq", dlq.results().stream().map(d -> d.reasonCode).sorted().toList());
        return out;
    }

    static String strip(JsonNode node, String... fields) {
        ObjectNode n = ((ObjectNode) node).deepCopy();
        for (String f : fields) n.remove(f);
        return new String(Json.canonicalBytes(n), StandardCharsets.UTF_8);
    }
}
