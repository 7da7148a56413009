package io.tourniquet.backtest;

import static org.assertj.core.api.Assertions.assertThat;
import io.tourniquet.model.Action;
import io.tourniquet.model.ActionScope;
import io.tourniquet.model.Alert;
import io.tourniquet.model.ControlRequest;
import io.tourniquet.rules.catalog.RuleCatalog;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The comparison of two sides and their quality against verdicts, on hand-made outputs. */
class BacktestTest {
    static final long T = Instant.parse("2026-11-02T10:00:00Z").toEpochMilli();
    static final String NA = RuleCatalog.NEW_ADDRESS_WITHDRAWAL;

    private static Alert alert(String id, String rule, String user, String withdrawal, long t) {
        Alert a = new Alert();
        a.alertId = id;
        a.rule = rule;
        a.userId = user;
        a.withdrawalId = withdrawal;
        a.eventTime = t;
        a.summary = "s-" + id;
        return a;
    }

    private static Action hold(String withdrawal, String user, long t) {
        Action a = new Action();
        a.actionId = "act-" + withdrawal;
        a.action = "hold_withdrawal";
        a.scope = ActionScope.withdrawal(withdrawal, user);
        a.reason = NA;
        a.eventTime = t;
        return a;
    }

    @Test
    void onlyOneSidesAlertsAndCommandsAreMatchedByWhatTheyAreAboutNotById() {
        // The same alert under another id (e.g. another rule version) is the same alert.
        Backtest.Side inForce = new Backtest.Side(
                List.of(alert("a1", NA, "u1", "w1", T), alert("a2", NA, "u2", "w2", T + 1),
                        alert("d1", RuleCatalog.ACCOUNT_DRAIN, "u1", null, T + 2)),
                List.of(hold("w1", "u1", T), hold("w2", "u2", T + 1)));
        Backtest.Side candidate = new Backtest.Side(
                List.of(alert("a1-v2", NA, "u1", "w1", T), alert("d1", RuleCatalog.ACCOUNT_DRAIN, "u1", null, T + 2),
                        alert("a3", NA, "u3", "w3", T + 3)),
                List.of(hold("w1", "u1", T), hold("w3", "u3", T + 3)));
        Map<String, String> labels = Map.of("a1", ControlRequest.TRUE_POSITIVE, "a2", ControlRequest.FALSE_POSITIVE,
                "a9", ControlRequest.BENIGN_TRUE_POSITIVE);
        Backtest.Report r = Backtest.compare(NA, Map.of("rule.new-address-withdrawal.min-age", "1 h"),
                Instant.ofEpochMilli(T), Instant.ofEpochMilli(T + 10), inForce, candidate, (rule, f, t) -> labels);

        assertThat(r.onlyInForce()).extracting(Backtest.AlertLine::alertId).containsExactly("a2");
        assertThat(r.onlyCandidate()).extracting(Backtest.AlertLine::alertId).containsExactly("a3");
        assertThat(r.commandsOnlyInForce()).extracting(Backtest.CommandLine::scope).containsExactly("w2");
        assertThat(r.commandsOnlyCandidate()).extracting(Backtest.CommandLine::scope).containsExactly("w3");
        assertThat(r.alertsPerRule()).contains(new Backtest.Count(NA, 2, 2),
                new Backtest.Count(RuleCatalog.ACCOUNT_DRAIN, 1, 1), new Backtest.Count(RuleCatalog.BULK_DRAIN, 0, 0));
        assertThat(r.commandsPerAction()).containsExactly(new Backtest.Count("hold_withdrawal", 2, 2));

        // Right = true or benign true positive: a1 and a9, so recall is over 2.
        assertThat(r.quality().verdicts()).isEqualTo(3);
        assertThat(r.quality().judgedRight()).isEqualTo(2);
        assertThat(r.quality().inForce()).isEqualTo(new Backtest.SideQuality(2, 1, 0.5, 0.5));
        // The candidate's a1 is matched to its verdict by id only: a1-v2 has none.
        assertThat(r.quality().candidate()).isEqualTo(new Backtest.SideQuality(0, 0, null, 0.0));

        StringWriter text = new StringWriter();
        BacktestReport.text(r, new PrintWriter(text, true));
        assertThat(text.toString()).contains("Alerts only the rules in force raise (the candidate would not): 1")
                .contains("user u2  withdrawal w2").contains("in force:  2 judged raised, 1 right; precision 50.0 %, recall 50.0 %");
        assertThat(BacktestReport.html(r)).contains("<code>u3</code>").doesNotContain("<script");
    }

    @Test
    void verdictsThatCannotBeReadLeaveTheDiffAndSaySo() {
        Backtest.Side empty = new Backtest.Side(List.of(), List.of());
        Backtest.Report r = Backtest.compare(NA, Map.of(), Instant.ofEpochMilli(T), Instant.ofEpochMilli(T + 1), empty,
                empty, (rule, f, t) -> {
                    throw new java.io.IOException("Elasticsearch at http://127.0.0.1:1 unreachable");
                });
        assertThat(r.quality()).isNull();
        assertThat(r.qualityNote()).isEqualTo("verdicts unavailable: Elasticsearch at http://127.0.0.1:1 unreachable");
        assertThat(Backtest.compare(NA, Map.of(), Instant.ofEpochMilli(T), Instant.ofEpochMilli(T + 1), empty, empty,
                null).qualityNote()).isEqualTo("no verdicts asked for");
    }
}
