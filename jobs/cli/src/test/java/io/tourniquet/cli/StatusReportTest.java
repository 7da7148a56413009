package io.tourniquet.cli;

import static org.assertj.core.api.Assertions.assertThat;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.tourniquet.cli.StatusReport.Checkpoint;
import io.tourniquet.cli.StatusReport.Health;
import io.tourniquet.cli.StatusReport.Job;
import io.tourniquet.cli.StatusReport.Lag;
import io.tourniquet.config.TourniquetConfig;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/** The health 'status' concludes from what it found (its exit code), and how it shows it. */
class StatusReportTest {
    static final long NOW = 1_800_000_000_000L;
    static final String WHERE = "127.0.0.1 ports 8081-8180";

    /** Everything fine: both jobs running with a checkpoint a second old, nothing behind. */
    static StatusReport healthy() {
        StatusReport r = new StatusReport();
        r.checkedAt = NOW;
        r.thresholds = StatusReport.Thresholds.from(TourniquetConfig.defaults());
        r.jobs.add(running("detect", 1_000));
        r.jobs.add(running("index", 1_000));
        r.lag = new ArrayList<>(List.of(new Lag("detect", "tourniquet-detect", "exchange.auth.mfa", 0),
                new Lag("index", "tourniquet-index", "tourniquet.alerts", 0)));
        r.watermarkLagMs = 31_000L;
        r.esPendingDocs = 12L;
        r.alertsByRule = new TreeMap<>(Map.of("unauthorized_approval", 12L, "bulk_drain", 1L));
        r.deadLettersByReason = new TreeMap<>(Map.of("not_json", 2L));
        r.openIncidents = new StatusReport.Incidents(1, Map.of("contained", 1), List.of("inc-1"));
        return r;
    }

    static Job running(String job, long checkpointAgeMs) {
        return new Job(job, "tourniquet-" + job, "RUNNING", job + "-jid", "http://127.0.0.1:8081", 600_000,
                new Checkpoint(42, NOW - checkpointAgeMs, checkpointAgeMs, "file:/cp/" + job + "/chk-42"), null);
    }

    static StatusReport with(String job, Job replacement) {
        StatusReport r = healthy();
        r.jobs.replaceAll(j -> j.job().equals(job) ? replacement : j);
        return r;
    }

    @Test
    void bothJobsRunningCheckpointingAndCaughtUpIsHealthy() {
        StatusReport.Verdict v = healthy().verdict();
        assertThat(v.health()).isEqualTo(Health.HEALTHY);
        assertThat(v.health().exitCode()).isZero();
        assertThat(v.reasons()).isEmpty();
    }

    @Test
    void theDetectJobNotRunningIsDownAndSaysWhereItWasLookedFor() {
        StatusReport.Verdict v = with("detect", Job.notFound("detect", "tourniquet-detect", WHERE)).verdict();
        assertThat(v.health()).isEqualTo(Health.DOWN);
        assertThat(v.health().exitCode()).isEqualTo(2);
        assertThat(v.reasons()).containsExactly("detect job not running (nothing is detected or frozen): "
                + "no tourniquet-detect at " + WHERE);

        Job restarting = new Job("detect", "tourniquet-detect", "RESTARTING", "jid", "http://jm:8081", 0, null, null);
        assertThat(with("detect", restarting).verdict().reasons())
                .containsExactly("detect job not running (nothing is detected or frozen): RESTARTING at http://jm:8081");
    }

    @Test
    void downComesFirstAndEveryOtherReasonIsStillListed() {
        StatusReport r = with("detect", Job.notFound("detect", "tourniquet-detect", WHERE));
        r.jobs.replaceAll(j -> j.job().equals("index") ? Job.notFound("index", "tourniquet-index", WHERE) : j);
        r.problems.add("Kafka at k:9092 (PLAINTEXT) did not answer in time");
        StatusReport.Verdict v = r.verdict();
        assertThat(v.health()).isEqualTo(Health.DOWN);
        assertThat(v.reasons()).hasSize(3);
        assertThat(v.reasons().get(0)).startsWith("detect job not running");
        assertThat(v.reasons().get(1)).startsWith("index job not running");
        assertThat(v.reasons().get(2)).isEqualTo("not measured: Kafka at k:9092 (PLAINTEXT) did not answer in time");
    }

    @Test
    void theIndexJobNotRunningIsDegraded() {
        StatusReport.Verdict v = with("index", Job.notFound("index", "tourniquet-index", WHERE)).verdict();
        assertThat(v.health()).isEqualTo(Health.DEGRADED);
        assertThat(v.health().exitCode()).isEqualTo(1);
        assertThat(v.reasons()).containsExactly("index job not running (Elasticsearch falls behind): "
                + "no tourniquet-index at " + WHERE);
    }

    @Test
    void aCheckpointOlderThanTheLimitIsDegradedOneAtTheLimitIsNot() {
        long limit = Duration.ofMinutes(1).toMillis(); // status.checkpoint-max-age's default
        assertThat(with("detect", running("detect", limit)).verdict().health()).isEqualTo(Health.HEALTHY);
        StatusReport.Verdict v = with("index", running("index", limit + 1)).verdict();
        assertThat(v.health()).isEqualTo(Health.DEGRADED);
        assertThat(v.reasons()).containsExactly("index job: last completed checkpoint 1 min ago (limit 1 min)");
    }

    @Test
    void noCheckpointYetIsOnlyDegradedOnceTheJobHasRunLongerThanTheLimit() {
        Job justStarted = new Job("detect", "tourniquet-detect", "RUNNING", "jid", "http://x", 20_000, null, null);
        assertThat(with("detect", justStarted).verdict().health()).isEqualTo(Health.HEALTHY);
        Job neverCheckpointed = new Job("detect", "tourniquet-detect", "RUNNING", "jid", "http://x", 300_000, null, null);
        assertThat(with("detect", neverCheckpointed).verdict().reasons())
                .containsExactly("detect job: no completed checkpoint in 5 min since it started (limit 1 min)");
    }

    @Test
    void consumerLagAboveTheLimitOnAnyTopicIsDegraded() {
        StatusReport r = healthy();
        r.lag.add(new Lag("detect", "tourniquet-detect", "exchange.wallet.withdrawals", 10_000));
        assertThat(r.verdict().health()).as("at the limit").isEqualTo(Health.HEALTHY);
        r.lag.add(new Lag("index", "tourniquet-index", "tourniquet.events.enriched", 10_001));
        assertThat(r.verdict().reasons())
                .containsExactly("index job: 10,001 records behind on tourniquet.events.enriched (limit 10,000)");
    }

    @Test
    void watermarkLagAboveTheLimitOrNotReportedIsDegraded() {
        StatusReport r = healthy();
        r.watermarkLagMs = 120_000L;
        assertThat(r.verdict().health()).as("at the limit").isEqualTo(Health.HEALTHY);
        r.watermarkLagMs = 7_200_000L;
        assertThat(r.verdict().reasons())
                .containsExactly("detect job: event time 2 h behind the wall clock (limit 2 min)");
        r.watermarkLagMs = null;
        assertThat(r.verdict().reasons()).containsExactly("detect job: watermark lag not reported");
        // Not a second reason when the job is down: there is nothing to report it.
        StatusReport down = with("detect", Job.notFound("detect", "tourniquet-detect", WHERE));
        down.watermarkLagMs = null;
        assertThat(down.verdict().reasons()).hasSize(1);
    }

    @Test
    void whatCouldNotBeMeasuredIsDegraded() {
        StatusReport r = healthy();
        r.problems.add("consumer lag of tourniquet-index: Kafka at k:9092 (PLAINTEXT) refused access");
        assertThat(r.verdict().health()).isEqualTo(Health.DEGRADED);
        assertThat(r.verdict().reasons())
                .containsExactly("not measured: consumer lag of tourniquet-index: Kafka at k:9092 (PLAINTEXT) refused access");
    }

    @Test
    void thresholdsComeFromTheSettings() {
        StatusReport.Thresholds t = StatusReport.Thresholds.from(TourniquetConfig.load(Map.of(), Map.of(
                "status.checkpoint-max-age", "5 min", "status.consumer-lag-max", "7", "status.watermark-lag-max", "1 h")));
        assertThat(t).isEqualTo(new StatusReport.Thresholds(Duration.ofMinutes(5), 7, Duration.ofHours(1)));
        StatusReport r = healthy();
        r.thresholds = t;
        r.lag.add(new Lag("detect", "tourniquet-detect", "exchange.auth.logins", 8));
        assertThat(r.verdict().health()).isEqualTo(Health.DEGRADED);
    }

    @Test
    void theScreenShowsEveryPartAndTheVerdictFirst() {
        StatusReport r = with("index", Job.notFound("index", "tourniquet-index", WHERE));
        String text = text(r);
        assertThat(text.lines().findFirst().orElseThrow())
                .isEqualTo("Tourniquet DEGRADED (exit 1) at 2027-01-15T08:00:00.000Z");
        assertThat(text).contains("  - index job not running (Elasticsearch falls behind): no tourniquet-index at "
                + WHERE);
        assertThat(text).containsPattern("detect +RUNNING +detect-jid +http://127.0.0.1:8081 +#42 +1.0 s");
        assertThat(text).containsPattern("index +not running +- +- +- +-");
        assertThat(text).containsPattern("detect +tourniquet-detect +exchange.auth.mfa +0");
        assertThat(text).contains("Watermark lag (detect job):    31.0 s");
        assertThat(text).contains("Elasticsearch sink backlog:    12 documents");
        assertThat(text).contains("Open incidents:                1 (1 contained): inc-1");
        assertThat(text).contains("Alerts in the last 1 h:");
        assertThat(text).containsPattern("bulk_drain +1\n");
        assertThat(text).containsPattern("unauthorized_approval +12\n");
        assertThat(text).contains("Dead letters in the last 1 h:");
        assertThat(text).containsPattern("not_json +2\n");
    }

    @Test
    void theScreenSaysUnknownForWhatWasNotMeasuredAndNoneForAnEmptyWindow() {
        StatusReport r = healthy();
        r.lag = null;
        r.watermarkLagMs = null;
        r.esPendingDocs = null;
        r.openIncidents = null;
        r.alertsByRule = null;
        r.deadLettersByReason = new TreeMap<>();
        String text = text(r);
        assertThat(text).contains("Consumer lag (records not yet committed by the job's checkpoints):\n  unknown");
        assertThat(text).contains("Watermark lag (detect job):    -");
        assertThat(text).contains("Elasticsearch sink backlog:    -");
        assertThat(text).contains("Open incidents:                -");
        assertThat(text).contains("Alerts in the last 1 h: unknown");
        assertThat(text).contains("Dead letters in the last 1 h: none");
    }

    @Test
    void theJsonHasItsDocumentedFieldsWithNullForTheUnknown() {
        ObjectNode json = healthy().toJson();
        assertThat(fieldNames(json)).containsExactly("status", "exit_code", "reasons", "checked_at", "jobs",
                "consumer_lag", "watermark_lag_ms", "elasticsearch_pending_docs", "window_ms", "alerts_by_rule",
                "dead_letters_by_reason", "open_incidents", "thresholds", "problems");
        assertThat(json.path("status").asText()).isEqualTo("healthy");
        assertThat(json.path("exit_code").asInt()).isZero();
        JsonNode detect = json.path("jobs").get(0);
        assertThat(fieldNames(detect)).containsExactly("job", "name", "state", "running", "job_id", "rest",
                "running_for_ms", "last_checkpoint");
        assertThat(fieldNames(detect.path("last_checkpoint"))).containsExactly("id", "completed_at", "age_ms", "path");
        assertThat(detect.path("last_checkpoint").path("age_ms").asLong()).isEqualTo(1_000);
        assertThat(fieldNames(json.path("consumer_lag").get(0))).containsExactly("job", "group", "topic", "lag");
        assertThat(json.path("alerts_by_rule").path("unauthorized_approval").asLong()).isEqualTo(12);
        assertThat(json.path("dead_letters_by_reason").path("not_json").asLong()).isEqualTo(2);
        assertThat(fieldNames(json.path("open_incidents"))).containsExactly("count", "by_status", "ids");
        assertThat(fieldNames(json.path("thresholds")))
                .containsExactly("checkpoint_max_age_ms", "consumer_lag_max", "watermark_lag_max_ms");

        StatusReport down = with("detect", Job.notFound("detect", "tourniquet-detect", WHERE));
        down.lag = null;
        down.watermarkLagMs = null;
        down.alertsByRule = null;
        down.openIncidents = null;
        down.problems.add("Kafka did not answer");
        ObjectNode d = down.toJson();
        assertThat(d.path("status").asText()).isEqualTo("down");
        assertThat(d.path("exit_code").asInt()).isEqualTo(2);
        JsonNode notFound = d.path("jobs").get(0);
        assertThat(notFound.path("state").asText()).isEqualTo("NOT_FOUND");
        assertThat(notFound.path("running").asBoolean()).isFalse();
        assertThat(notFound.path("looked_at").asText()).isEqualTo(WHERE);
        assertThat(notFound.path("last_checkpoint").isNull()).isTrue();
        for (String f : List.of("consumer_lag", "watermark_lag_ms", "alerts_by_rule", "open_incidents")) {
            assertThat(d.path(f).isNull()).as(f).isTrue();
        }
        assertThat(d.path("problems").get(0).asText()).isEqualTo("Kafka did not answer");
    }

    @Test
    void durationsReadAsAPersonWouldSayThem() {
        assertThat(StatusReport.human(850)).isEqualTo("850 ms");
        assertThat(StatusReport.human(12_345)).isEqualTo("12.3 s");
        assertThat(StatusReport.human(245_000)).isEqualTo("4 min 5 s");
        assertThat(StatusReport.human(3_600_000)).isEqualTo("1 h");
        assertThat(StatusReport.human(12_000_000)).isEqualTo("3 h 20 min");
        assertThat(StatusReport.human(187_200_000)).isEqualTo("2 d 4 h");
    }

    static String text(StatusReport r) {
        StringWriter w = new StringWriter();
        r.printText(new PrintWriter(w));
        return w.toString();
    }

    static List<String> fieldNames(JsonNode n) {
        List<String> out = new ArrayList<>();
        n.fieldNames().forEachRemaining(out::add);
        return out;
    }
}
