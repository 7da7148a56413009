package io.tourniquet.forensics;

import static org.assertj.core.api.Assertions.assertThat;
import io.tourniquet.forensics.Incidents.AssetAmount;
import io.tourniquet.forensics.AttackerInfrastructure.AttackerInfra;
import io.tourniquet.forensics.RootCauses.BackendGroup;
import io.tourniquet.forensics.RootCauses.ChannelGroup;
import io.tourniquet.forensics.Incidents.IncidentView;
import io.tourniquet.forensics.AttackerInfrastructure.Indicator;
import io.tourniquet.forensics.RootCauses.RootCause;
import io.tourniquet.forensics.Timelines.Timeline;
import io.tourniquet.forensics.Timelines.TimelineEntry;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.math.BigDecimal;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The forensic answers as text tables: exact output for known records. */
class TextReportTest {
    static final Instant T0 = Instant.parse("2022-01-17T02:00:00Z");

    private static String render(java.util.function.Consumer<PrintWriter> renderer) {
        StringWriter s = new StringWriter();
        PrintWriter w = new PrintWriter(s);
        renderer.accept(w);
        w.flush();
        return s.toString().replace(System.lineSeparator(), "\n");
    }

    @Test
    void rootCauseTableNamesTheVersionAndItsFirstAndLastApproval() {
        RootCause r = new RootCause(null, TimeRange.ALL, 12, 11, T0, T0.plusSeconds(220),
                List.of(new BackendGroup("withdrawal-approver", "2.14.0-rc1", 12, 11, T0, T0.plusSeconds(220))),
                List.of(new ChannelGroup("internal", 12, 11, T0, T0.plusSeconds(220))));
        assertThat(render(w -> TextReport.renderRootCause(r, w))).isEqualTo("""
                Unauthorized approvals (exchange.mfa.authorized: false): 12 approvals of 11 users, first 2022-01-17T02:00:00.000Z, last 2022-01-17T02:03:40.000Z

                SERVICE              VERSION     APPROVALS  USERS  FIRST SEEN                LAST SEEN
                withdrawal-approver  2.14.0-rc1         12     11  2022-01-17T02:00:00.000Z  2022-01-17T02:03:40.000Z

                CHANNEL   APPROVALS  USERS  FIRST SEEN                LAST SEEN
                internal         12     11  2022-01-17T02:00:00.000Z  2022-01-17T02:03:40.000Z
                """);
    }

    @Test
    void incidentShowsTimesImpactAlertsAndActions() {
        IncidentView i = new IncidentView("inc-1", "contained", T0, T0.plusSeconds(2), T0.plusSeconds(281), null, null,
                T0.plusSeconds(380), 2, List.of("u-1", "u-2"),
                List.of(new AssetAmount("BTC", "1.50000001", new BigDecimal("63000.0004"), 1),
                        new AssetAmount("ETH", "20", new BigDecimal("64200"), 1)),
                new BigDecimal("127200.0004"), List.of(), BigDecimal.ZERO,
                Map.of("unauthorized_approval", 2L), Map.of("freeze_account", 2L));
        String text = render(w -> TextReport.renderIncident(i, w));
        assertThat(text).contains("incident   inc-1\n", "status     contained\n",
                "contained  2022-01-17T02:04:41.000Z   (4m41s after the start)\n",
                "users      2: u-1, u-2\n", "total US$ 127200.00\n",
                "ASSET      AMOUNT       US$  WITHDRAWALS\n",
                "BTC    1.50000001  63000.00            1\n",
                "ETH            20  64200.00            1\n",
                "unauthorized_approval       2\n", "freeze_account         2\n");
        assertThat(text).doesNotContain("Approved after containment");
        assertThat(render(w -> TextReport.renderIncidents(List.of(i), w)))
                .contains("inc-1     contained  2022-01-17T02:00:00.000Z  2022-01-17T02:04:41.000Z  -             2  127200.00  "
                        + "1.50000001 BTC, 20 ETH  unauthorized_approval=2  freeze_account=2");
    }

    @Test
    void timelineAndAttackerInfraTables() {
        Timeline t = new Timeline("u-1", TimeRange.ALL, List.of(
                new TimelineEntry(T0, "event", "withdrawal_approved", "e1", "success", null, null, null, null, "w1",
                        "approved", "BTC", "1", "bc1q", false, "inc-1", "w1 approved 1 BTC"),
                new TimelineEntry(T0, "alert", "unauthorized_approval", "a1", "high", null, null, null, null, "w1",
                        null, null, null, null, null, "inc-1", "approved without 2FA")), 1, 1, 3, true);
        assertThat(render(w -> TextReport.renderTimeline(t, w))).isEqualTo("""
                TIME                      SOURCE  WHAT                          DETAIL
                2022-01-17T02:00:00.000Z  event   withdrawal_approved           w1 approved 1 BTC
                2022-01-17T02:00:00.000Z  alert   unauthorized_approval (high)  approved without 2FA

                user u-1: 1 events, 1 alerts, 3 actions; showing the first 2 (--limit)
                """);

        AttackerInfra a = new AttackerInfra("inc-1", List.of("u-1", "u-2"), new TimeRange(T0, T0.plusSeconds(1)), false,
                List.of(new Indicator("203.0.113.9", 2, 6, T0, T0.plusSeconds(1))), List.of(), List.of());
        assertThat(render(w -> TextReport.renderAttackerInfra(a, w))).contains(
                "Affected accounts: 2 (incident inc-1)",
                "KIND  VALUE        VICTIMS  EVENTS  FIRST SEEN                LAST SEEN\n"
                        + "ip    203.0.113.9        2       6  2022-01-17T02:00:00.000Z  2022-01-17T02:00:01.000Z\n");
        AttackerInfra none = new AttackerInfra(null, List.of(), TimeRange.ALL, true, List.of(), List.of(), List.of());
        assertThat(render(w -> TextReport.renderAttackerInfra(none, w)))
                .contains("nothing shared between affected accounts");
    }

    @Test
    void eligibilityTableGivesVerdictsReasonsAndTheManualInputs() {
        var checks = List.of(new Eligibility.ConditionCheck("mfa_all_types", Eligibility.Outcome.PASS, "ok"),
                new Eligibility.ConditionCheck("anti_phishing_code", Eligibility.Outcome.FAIL, "never set"),
                new Eligibility.ConditionCheck("no_jailbroken_device", Eligibility.Outcome.PASS, "none"));
        var a = new Eligibility.AppEligibility("inc-1", java.time.Duration.ofDays(21), List.of("withdrawal"),
                List.of(new Eligibility.UserEligibility("u-1", Eligibility.Verdict.NOT_ELIGIBLE, T0, checks,
                        Eligibility.APP_MANUAL_INPUTS)));
        String text = render(w -> TextReport.renderEligibility(a, w));
        assertThat(text).contains("u-1   not eligible  2022-01-17T02:00:00.000Z  pass           fail",
                "u-1  anti_phishing_code fail: never set",
                "at least 21 d before", "police report");
    }

    @Test
    void claimsTableGivesEachClaimItsConditionsAndTheTotals() {
        List<Claims.ClaimCondition> pass = List.of(new Claims.ClaimCondition("mfa_all_types", "pass", "2FA on"),
                new Claims.ClaimCondition("no_jailbroken_device", "pass", "none"));
        List<Claims.ClaimCondition> review = List.of(new Claims.ClaimCondition("mfa_all_types", "review",
                "no policy on record"), new Claims.ClaimCondition("no_jailbroken_device", "pass", "none"));
        List<AssetAmount> btc = List.of(new AssetAmount("BTC", "1.5", new BigDecimal("63000.0004"), 1));
        List<AssetAmount> eth = List.of(new AssetAmount("ETH", "20", new BigDecimal("64200"), 1));
        List<Claims.ClaimView> list = List.of(
                new Claims.ClaimView("c-1", "u-1", "approved", "eligible", pass, List.of(), btc,
                        new BigDecimal("63000.0004"), btc, new BigDecimal("63000.0004"), "approve", "ok", "alice@sec",
                        "bob@sec", T0, T0, "tourniquet", 4, T0),
                new Claims.ClaimView("c-2", "u-2", "awaiting_documents", "needs_manual_review", review,
                        List.of("police_report"), eth, new BigDecimal("64200"), List.of(), null, null, null, null, null,
                        null, T0, "tourniquet", 2, T0));
        var claims = new Claims.IncidentClaims("inc-1", list, Claims.totals(list));
        assertThat(render(w -> TextReport.renderClaims(claims, w))).isEqualTo("""
                Account Protection Programme claims of incident inc-1 (each claim's latest version; US$ at request time)

                USER  STATUS              ELIGIBILITY          CONDITIONS                                       OUTSTANDING    LOSS US$  PAYOUT US$  DECIDED BY
                u-1   approved            eligible             mfa_all_types=pass, no_jailbroken_device=pass    -              63000.00    63000.00  alice@sec (approved by bob@sec)
                u-2   awaiting_documents  needs_manual_review  mfa_all_types=review, no_jailbroken_device=pass  police_report  64200.00           -  -

                Conditions:
                  u-1  mfa_all_types pass: 2FA on
                  u-1  no_jailbroken_device pass: none
                  u-2  mfa_all_types review: no policy on record
                  u-2  no_jailbroken_device pass: none

                Totals: 2 claims, 1 eligible; 1 approved, US$ 63000.00 paid; 0 denied; 1 pending (loss US$ 64200.00); loss of all claims US$ 127200.00
                """);
        var none = new Claims.IncidentClaims("inc-2", List.of(), Claims.totals(List.of()));
        assertThat(render(w -> TextReport.renderClaims(none, w))).isEqualTo("no claims for incident inc-2\n");
    }
}
