package io.tourniquet.pipeline;

import static org.assertj.core.api.Assertions.assertThat;
import co.elastic.clients.elasticsearch.ElasticsearchClient;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.tourniquet.config.Settings;
import io.tourniquet.config.TourniquetConfig;
import io.tourniquet.detect.job.DetectJobRunner;
import io.tourniquet.index.EsClients;
import io.tourniquet.index.IndexJobRunner;
import io.tourniquet.json.Json;
import io.tourniquet.pipeline.IncidentAftercareITCase.Tail;
import io.tourniquet.testing.CliProcess;
import io.tourniquet.testing.InProcessCli;
import io.tourniquet.testing.LiveInput;
import io.tourniquet.testing.LocalServices;
import io.tourniquet.testing.ReplayedIncident;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Predicate;
import org.apache.flink.core.execution.JobClient;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Shadow rule versions on live traffic through the real services, started with the CLI.
 *
 * <p>(1) A shadow version of the new-address rule (minimum age 48 h instead of 24 h) alerts,
 * marked shadow, on a withdrawal the version in force lets through: no hold, no notification
 * (asserted on the real topics). (2) A shadow version of the account-drain rule (share 0.5 instead
 * of 0.8) is promoted: every withdrawal is judged by exactly one of the two, the shadow before the
 * promotion's position in the stream and the promoted version after. (3) {@code forensics shadow}
 * compares the drain shadow with the version in force from what the index job indexed.
 *
 * <p>When the job takes a control request is not visible on any topic, so each step sends probes:
 * a withdrawal only the candidate alerts on, then a marker withdrawal both alert on, and waits for
 * the marker's alert. The job runs at parallelism 1 with one key per input topic: the probe's events
 * precede the marker's in every topic and task, so once the marker's alert is committed, whatever
 * the probe raised was committed with it or before ({@link Tail#readToEnd}). Drain probes are
 * decided when their approval arrives (its request came before it on the same topic), never later
 * on a timer, so which version judged them is the one in force at that point.
 */
@ExtendWith(LocalServices.class)
class ShadowRuleITCase {
    static final String KEY = "shadow-itcase-signing-key-0123456789abcdef";
    static final String CONTROL_KEY = "shadow-itcase-control-key-0123456789abcdef";
    static final String RULE = "new_address_withdrawal";
    static final String DRAIN = "account_drain";
    static final int MAX_PROBES = 40;
    /** Far enough back that the last probe (40 h apart) is still in the past. */
    static final Instant T = Instant.now().truncatedTo(java.time.temporal.ChronoUnit.HOURS).minus(Duration.ofDays(200));
    static final Path dir = Path.of("target", "shadow-itcase").toAbsolutePath();

    TourniquetConfig cfg;
    LiveInput input;
    Tail alerts;
    Tail actions;
    Tail notifications;
    JobClient detect;
    int probes;

    @Test
    void aShadowVersionAlertsAndActsOnNothingUntilPromotedAtOnePointOfTheStream() throws Exception {
        CliProcess.deleteRecursively(dir);
        Files.createDirectories(dir);
        cfg = ReplayedIncident.config("shadow", KEY, CONTROL_KEY).with(Map.of(
                Settings.PARALLELISM.key(), "1",
                Settings.CHECKPOINT_DIR.key(), dir.resolve("checkpoints").toUri().toString(),
                Settings.PROMETHEUS_PORTS.key(), "none",
                Settings.REST_PORTS.key(), "18581-18680"));
        String bootstrap = cfg.get(Settings.KAFKA_BOOTSTRAP);
        input = LiveInput.open(cfg, "shadow");
        detect = DetectJobRunner.build(cfg, false, Optional.empty()).executeAsync("shadow-detect");
        JobClient index = IndexJobRunner.build(cfg, false).executeAsync("shadow-index");
        try (LiveInput closing = input;
             ElasticsearchClient es = EsClients.create(cfg);
             Tail a = new Tail(bootstrap, cfg.get(Settings.TOPIC_ALERTS));
             Tail c = new Tail(bootstrap, cfg.get(Settings.TOPIC_ACTIONS));
             Tail n = new Tail(bootstrap, cfg.get(Settings.TOPIC_NOTIFICATIONS))) {
            alerts = a;
            actions = c;
            notifications = n;

            // (1) The shadow version, by the CLI. Until the job has it, probes raise nothing.
            InProcessCli.Run started = control("rule", "--rule", RULE, "--param",
                    "rule.new-address-withdrawal.min-age=48 h", "--shadow");
            assertThat(started.code()).as(started.out() + started.err()).isZero();
            String shadowOnly = null;
            while (shadowOnly == null) {
                String w = probe();
                List<JsonNode> raised = alertsOf(w);
                if (!raised.isEmpty()) {
                    assertThat(raised).singleElement().satisfies(s -> {
                        assertThat(s.path("shadow").asBoolean()).isTrue();
                        assertThat(s.path("rule_version").asInt()).isEqualTo(2);
                        assertThat(s.path("rule").asText()).isEqualTo(RULE);
                        assertThat(s.path("shadow_since").isTextual()).isTrue();
                        assertThat(s.path("summary").asText()).contains("less than 48 h");
                    });
                    shadowOnly = w;
                }
            }
            // Its marker was judged by both: the version in force held it, the shadow alerted beside.
            String marker = "m-" + (probes - 1);
            assertThat(alertsOf(marker)).extracting(x -> x.path("rule_version").asInt() + "/" + x.path("shadow").asBoolean())
                    .containsExactlyInAnyOrder("1/false", "2/true");
            actions.await(all -> all.stream().anyMatch(hold(marker)), "the hold of " + marker, detect);
            notifications.await(all -> all.stream().anyMatch(aboutUser("u-" + marker).and(kind(RULE))),
                    "u-" + marker + "'s notice", detect);
            actions.readToEnd(detect);
            notifications.readToEnd(detect);
            String shadowUser = "u-" + shadowOnly;
            String shadowWithdrawal = shadowOnly;
            assertThat(actions.all).as("no command for a shadow alert").noneMatch(hold(shadowWithdrawal))
                    .noneMatch(x -> x.path("scope").path("user_id").asText().equals(shadowUser));
            // (Told of the whitelisting itself, as every user is: an account change, not the alert.)
            assertThat(notifications.all).as("no notice of a shadow alert")
                    .noneMatch(aboutUser(shadowUser).and(kind(RULE)));
            assertThat(notifications.all).anyMatch(aboutUser("u-" + marker).and(kind(RULE)));

            // (2) A drain shadow, promoted. Every probe until the promotion shows is judged by exactly
            // one version: the shadow before the promotion, the promoted version in force after.
            InProcessCli.Run drainShadow = control("rule", "--rule", DRAIN, "--param", "rule.account-drain.share=0.5",
                    "--shadow");
            assertThat(drainShadow.code()).as(drainShadow.out() + drainShadow.err()).isZero();
            String firstShadow = null;
            while (firstShadow == null) {
                String w = drainProbe();
                List<JsonNode> raised = alertsOf(w);
                if (!raised.isEmpty()) {
                    assertThat(raised).singleElement().satisfies(x -> assertThat(x.path("shadow").asBoolean()).isTrue());
                    firstShadow = w;
                }
            }
            notifications.readToEnd(detect);
            String drainedUser = "u-" + firstShadow;
            assertThat(notifications.all).as("no notice of a shadow alert").noneMatch(aboutUser(drainedUser).and(kind(DRAIN)));

            InProcessCli.Run promoted = control("promote", "--rule", DRAIN);
            assertThat(promoted.code()).as(promoted.out() + promoted.err()).isZero();
            List<String> kinds = new ArrayList<>();
            while (kinds.isEmpty() || kinds.get(kinds.size() - 1).equals("shadow")) {
                String w = drainProbe();
                List<JsonNode> raised = alertsOf(w);
                assertThat(raised).as("probe " + w + " judged by exactly one version").hasSize(1);
                JsonNode x = raised.get(0);
                assertThat(x.path("rule_version").asInt()).isEqualTo(2);
                kinds.add(x.path("shadow").asBoolean() ? "shadow" : "in force");
            }
            // After the promotion, the marker is judged once, by v2 in force; its user is told.
            String lastMarker = "m-" + (probes - 1);
            assertThat(alertsOf(lastMarker)).extracting(x -> x.path("rule_version").asInt() + "/" + x.has("shadow"))
                    .containsExactly("2/false");
            String promotedUser = "u-p-" + (probes - 1);
            notifications.await(all -> all.stream().anyMatch(aboutUser(promotedUser).and(kind(DRAIN))),
                    "the promoted version's notice to " + promotedUser, detect);

            // (3) The comparison from the index: what the topic says, recomputed here.
            List<JsonNode> ruleAlerts = alerts.all.stream().filter(x -> x.path("rule").asText().equals(DRAIN)).toList();
            Instant since = Instant.parse(ruleAlerts.stream().filter(x -> x.has("shadow")).findFirst().orElseThrow()
                    .path("shadow_since").asText());
            // It ended when the promoted version (which kept its number) raised its first alert.
            Instant end = ruleAlerts.stream().filter(x -> !x.has("shadow") && x.path("rule_version").asInt() >= 2)
                    .map(x -> Instant.parse(x.path("detected_at").asText())).filter(t -> !t.isBefore(since))
                    .min(Instant::compareTo).orElseThrow();
            Predicate<JsonNode> inWindow = x -> {
                Instant t = Instant.parse(x.path("detected_at").asText());
                return !t.isBefore(since) && t.isBefore(end);
            };
            List<JsonNode> shadows = ruleAlerts.stream().filter(x -> x.has("shadow")).toList();
            List<JsonNode> inForce = ruleAlerts.stream().filter(x -> !x.has("shadow")).filter(inWindow).toList();
            assertThat(shadows).allMatch(inWindow);
            String lastId = ruleAlerts.get(ruleAlerts.size() - 1).path("alert_id").asText();
            awaitIndexed(es, lastId, index);
            InProcessCli.Run compared = InProcessCli.onIndices(cfg, "forensics", "shadow", "--rule", DRAIN, "--json");
            assertThat(compared.code()).as(compared.err()).isZero();
            JsonNode r = Json.MAPPER.readTree(compared.out());
            assertThat(r.path("version").asInt()).isEqualTo(2);
            assertThat(Instant.parse(r.path("since").asText())).isEqualTo(since);
            assertThat(Instant.parse(r.path("until").asText())).isEqualTo(end);
            assertThat(r.path("ended").asBoolean()).isTrue();
            assertThat(r.path("shadow").asInt()).isEqualTo(shadows.size());
            assertThat(r.path("in_force").asInt()).isEqualTo(inForce.size());
            assertThat(withdrawals(r.path("only_shadow"))).isEqualTo(onlyIn(shadows, inForce)).contains(firstShadow);
            assertThat(withdrawals(r.path("only_in_force"))).isEqualTo(onlyIn(inForce, shadows));
            InProcessCli.Run table = InProcessCli.onIndices(cfg, "forensics", "shadow", "--rule", DRAIN);
            assertThat(table.out()).contains("Shadow version 2 of " + DRAIN, "Alerts only the shadow raised: "
                    + onlyIn(shadows, inForce).size(), "It ended at " + end);
        } finally {
            detect.cancel().get();
            index.cancel().get();
        }
    }

    /**
     * New-address probe k: a withdrawal to an address whitelisted 30 h before (new only under
     * 48 h), and its marker, whitelisted 1 h before (new under both). The probe's withdrawal id.
     */
    private String probe() throws Exception {
        int k = next();
        Instant at = T.plus(Duration.ofHours(40L * k));
        String w = "p-" + k;
        String marker = "m-" + k;
        whitelisted("u-" + w, "0xp" + k, at);
        whitelisted("u-" + marker, "0xm" + k, at.plus(Duration.ofHours(29)));
        requested("u-" + w, w, "0xp" + k, at.plus(Duration.ofHours(30)), 1_500, 40_000);
        requested("u-" + marker, marker, "0xm" + k, at.plus(Duration.ofHours(30)), 1_500, 40_000);
        input.tick(at.plus(Duration.ofHours(31)));
        awaitMarker(marker);
        return w;
    }

    /**
     * Drain probe k: approved withdrawals of 60 % of the balance (a drain only under a share of
     * 0.5), and its marker, 90 % (a drain under both); each approved through a verified 2FA
     * challenge, and to an address never whitelisted (no new-address alert). The probe's id.
     */
    private String drainProbe() throws Exception {
        int k = next();
        Instant at = T.plus(Duration.ofHours(40L * k));
        String w = "p-" + k;
        String marker = "m-" + k;
        for (String id : List.of(w, marker)) {
            double usd = id.equals(w) ? 6_000 : 9_000;
            requested("u-" + id, id, "0xd" + id, at, usd, 10_000);
            verified("u-" + id, "c-" + id, id, at.plus(Duration.ofMinutes(1)));
            approved("u-" + id, id, "0xd" + id, at.plus(Duration.ofMinutes(2)), usd, "c-" + id);
        }
        input.tick(at.plus(Duration.ofHours(1)));
        awaitMarker(marker);
        return w;
    }

    private int next() {
        if (probes >= MAX_PROBES) {
            throw new AssertionError("the job did not take the control request within " + MAX_PROBES + " probes");
        }
        return probes++;
    }

    /** Waits for the marker's alert of the version in force, then reads everything committed with it. */
    private void awaitMarker(String marker) throws Exception {
        alerts.await(all -> all.stream().anyMatch(x -> x.path("withdrawal_id").asText().equals(marker) && !x.has("shadow")),
                "the marker " + marker + "'s alert", detect);
        alerts.readToEnd(detect);
    }

    private List<JsonNode> alertsOf(String withdrawal) {
        return alerts.all.stream().filter(x -> x.path("withdrawal_id").asText().equals(withdrawal)).toList();
    }

    private static Set<String> withdrawals(JsonNode lines) {
        Set<String> out = new TreeSet<>();
        lines.forEach(l -> out.add(l.path("withdrawal_id").asText()));
        return out;
    }

    /** Withdrawals of {@code mine} that no alert of {@code theirs} names with the same user and time. */
    private static Set<String> onlyIn(List<JsonNode> mine, List<JsonNode> theirs) {
        Set<String> other = new TreeSet<>();
        for (JsonNode x : theirs) other.add(key(x));
        Set<String> out = new TreeSet<>();
        for (JsonNode x : mine) if (!other.contains(key(x))) out.add(x.path("withdrawal_id").asText());
        return out;
    }

    private static String key(JsonNode x) {
        return x.path("user_id").asText() + "/" + x.path("withdrawal_id").asText() + "/"
                + Instant.parse(x.path("event_time").asText()).toEpochMilli();
    }

    private static Predicate<JsonNode> hold(String withdrawal) {
        return a -> a.path("action").asText().equals("hold_withdrawal")
                && a.path("scope").path("withdrawal_id").asText().equals(withdrawal);
    }

    private static Predicate<JsonNode> kind(String kind) {
        return x -> x.path("kind").asText().equals(kind);
    }

    private static Predicate<JsonNode> aboutUser(String user) {
        return x -> x.path("user_id").asText().equals(user);
    }

    private InProcessCli.Run control(String... args) {
        List<String> all = new ArrayList<>(List.of("control"));
        all.addAll(List.of(args));
        all.addAll(List.of("--by", "alice@sec", "--reason", "fewer missed new-address withdrawals",
                "--kafka", cfg.get(Settings.KAFKA_BOOTSTRAP),
                "--set", Settings.TOPIC_CONTROL.key() + "=" + cfg.get(Settings.TOPIC_CONTROL),
                "--set", Settings.CONTROL_KEY.key() + "=" + CONTROL_KEY));
        return InProcessCli.onIndices(cfg, all.toArray(String[]::new));
    }

    private void awaitIndexed(ElasticsearchClient es, String alertId, JobClient index) {
        String alias = cfg.get(Settings.INDEX_ALERTS);
        Awaitility.await("alert " + alertId + " in " + alias).atMost(Duration.ofMinutes(2))
                .pollInterval(Duration.ofMillis(200)).until(() -> {
                    if (index.getJobStatus().get().isGloballyTerminalState()) {
                        throw new AssertionError("the index job ended while waiting for " + alertId);
                    }
                    es.indices().refresh(r -> r.index(alias).ignoreUnavailable(true).allowNoIndices(true));
                    return es.count(q -> q.index(alias).ignoreUnavailable(true).allowNoIndices(true)
                            .query(x -> x.term(t -> t.field("alert_id").value(alertId)))).count() > 0;
                });
    }

    private void whitelisted(String user, String address, Instant at) throws Exception {
        ObjectNode e = input.event(user, at);
        e.put("action", "whitelist_address_added");
        e.put("address", address);
        e.put("asset", "ETH");
        e.put("network", "ethereum");
        input.send(Settings.TOPIC_ACCOUNT_CHANGES, e);
    }

    private ObjectNode withdrawal(String user, String withdrawal, String address, Instant at, double usd) {
        ObjectNode e = input.event(user, at);
        e.put("withdrawal_id", withdrawal);
        e.put("asset", "ETH");
        e.put("network", "ethereum");
        e.put("amount", "0.5");
        e.put("usd_value", usd);
        e.put("destination_address", address);
        return e;
    }

    private void requested(String user, String withdrawal, String address, Instant at, double usd, double balance)
            throws Exception {
        ObjectNode e = withdrawal(user, withdrawal, address, at, usd);
        e.put("status", "requested");
        e.put("account_balance_usd", balance);
        input.send(Settings.TOPIC_WITHDRAWALS, e);
    }

    private void verified(String user, String challenge, String withdrawal, Instant at) throws Exception {
        ObjectNode e = input.event(user, at);
        e.put("action", "challenge_verified");
        e.put("challenge_id", challenge);
        e.put("method", "totp");
        e.put("purpose", "withdrawal");
        e.put("withdrawal_id", withdrawal);
        input.send(Settings.TOPIC_MFA, e);
    }

    private void approved(String user, String withdrawal, String address, Instant at, double usd, String challenge)
            throws Exception {
        ObjectNode e = withdrawal(user, withdrawal, address, at, usd);
        e.put("status", "approved");
        e.put("mfa_challenge_id", challenge);
        e.put("approval_channel", "app");
        e.put("approval_service", "withdrawal-approver");
        e.put("approval_service_version", "2.13.4");
        input.send(Settings.TOPIC_WITHDRAWALS, e);
    }
}
