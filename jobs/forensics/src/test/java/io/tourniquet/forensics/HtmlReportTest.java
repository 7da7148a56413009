package io.tourniquet.forensics;

import static org.assertj.core.api.Assertions.assertThat;
import io.tourniquet.forensics.Activities.Activity;
import io.tourniquet.forensics.Activities.ActivityBucket;
import io.tourniquet.forensics.Incidents.AssetAmount;
import io.tourniquet.forensics.AttackerInfrastructure.AttackerInfra;
import io.tourniquet.forensics.RootCauses.BackendGroup;
import io.tourniquet.forensics.RootCauses.ChannelGroup;
import io.tourniquet.forensics.Incidents.IncidentView;
import io.tourniquet.forensics.AttackerInfrastructure.Indicator;
import io.tourniquet.forensics.RootCauses.RootCause;
import java.math.BigDecimal;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.jsoup.Jsoup;
import org.jsoup.nodes.Attribute;
import org.jsoup.nodes.Document;
import org.jsoup.nodes.Element;
import org.jsoup.parser.Parser;
import org.jsoup.select.Elements;
import org.junit.jupiter.api.Test;

/** The incident report from fixed data: its structure, its escaping, its self-containment and its chart. */
class HtmlReportTest {
    static final Instant T0 = Instant.parse("2022-01-17T10:00:00Z");
    static final String SCRIPT_ADDRESS = "<script>alert(1)</script>";
    static final String IMG_DEVICE = "\"><img src=x onerror=alert(2)>";
    static final String ODD_USER = "u-1&'\"<u>";
    static final String ODD_RULE = "rule<b>x</b>";

    static Instant at(int minutes, int seconds) {
        return T0.plusSeconds(minutes * 60L + seconds);
    }

    /** Ten one-minute buckets from 10:00; unauthorized approvals in minutes 2 to 6. */
    static final long[] UNAUTHORIZED = {0, 0, 3, 5, 2, 1, 1, 0, 0, 0};
    static final long[] APPROVALS = {1, 0, 4, 6, 2, 1, 3, 2, 0, 1};

    /** Two claims of the incident: one approved (paid), one of the odd user awaiting documents. */
    static Claims.IncidentClaims claims() {
        List<Claims.ClaimCondition> pass = List.of(new Claims.ClaimCondition("mfa_all_types", "pass", "2FA on"),
                new Claims.ClaimCondition("anti_phishing_code", "pass", "set 40 d before"),
                new Claims.ClaimCondition("no_jailbroken_device", "pass", "none"));
        List<Claims.ClaimCondition> odd = List.of(new Claims.ClaimCondition("mfa_all_types", "fail", "<i>off</i>"),
                new Claims.ClaimCondition("anti_phishing_code", "review", "record starts late"),
                new Claims.ClaimCondition("no_jailbroken_device", "pass", "none"));
        List<AssetAmount> btc = List.of(new AssetAmount("BTC", "1.23456789", new BigDecimal("52345.678"), 7));
        List<AssetAmount> eth = List.of(new AssetAmount("ETH", "10.000000000000000001", new BigDecimal("31000.004"), 5));
        List<Claims.ClaimView> list = List.of(
                new Claims.ClaimView("claim-a", "u-a", "approved", "eligible", pass, List.of(), btc,
                        new BigDecimal("52345.678"), btc, new BigDecimal("52345.678"), "approve", "ok", "alice@sec",
                        "bob@sec", at(30, 0), at(20, 0), "tourniquet", 4, at(30, 0)),
                new Claims.ClaimView("claim-odd", ODD_USER, "awaiting_documents", "not_eligible", odd,
                        List.of("police_report", "questionnaire"), eth, new BigDecimal("31000.004"), List.of(), null,
                        null, null, null, null, null, at(20, 0), "tourniquet", 1, at(20, 0)));
        return new Claims.IncidentClaims("inc-42", list, Claims.totals(list));
    }

    static ReportData data(Instant containedAt) {
        List<AssetAmount> impact = List.of(new AssetAmount("BTC", "1.23456789", new BigDecimal("52345.678"), 7),
                new AssetAmount("ETH", "10.000000000000000001", new BigDecimal("31000.004"), 5));
        List<AssetAmount> after = List.of(new AssetAmount("ETH", "0.5", new BigDecimal("1550.25"), 1));
        Map<String, Long> alerts = new LinkedHashMap<>();
        alerts.put("unauthorized_approval", 12L);
        alerts.put(ODD_RULE, 1L);
        IncidentView incident = new IncidentView("inc-42", containedAt == null ? "open" : "contained", at(2, 30),
                at(2, 31), containedAt, null, null, at(6, 10), 3, List.of("u-a", "u-b", ODD_USER), impact,
                new BigDecimal("83345.682"), containedAt == null ? List.of() : after,
                containedAt == null ? BigDecimal.ZERO : new BigDecimal("1550.25"), alerts,
                Map.of("freeze_account", 12L, "suspend_withdrawals", 1L));
        TimeRange window = TimeRange.closed(at(2, 30).minus(Duration.ofDays(1)), at(6, 10).plus(Duration.ofDays(1)));
        RootCause rootCause = new RootCause("inc-42", TimeRange.ALL, 12, 3, at(2, 30), at(6, 10),
                List.of(new BackendGroup("withdrawal-approver", "2.14.0-rc1", 12, 3, at(2, 30), at(6, 10))),
                List.of(new ChannelGroup("internal", 12, 3, at(2, 30), at(6, 10))));
        AttackerInfra infra = new AttackerInfra("inc-42", incident.userIds(), window, false,
                List.of(new Indicator("203.0.113.33", 3, 9, at(1, 0), at(6, 0)),
                        new Indicator("198.51.100.7", 2, 4, at(1, 30), at(5, 0))),
                List.of(new Indicator(IMG_DEVICE, 2, 5, at(1, 0), at(6, 0))),
                List.of(new Indicator(SCRIPT_ADDRESS, 3, 12, at(2, 0), at(7, 0)),
                        new Indicator("bc1qxeqzjm25esjk7cphsjplfumjmf0kj4zk7exuqn", 2, 6, at(2, 40), at(6, 10))));
        List<ActivityBucket> buckets = new ArrayList<>();
        for (int m = 0; m < 10; m++) {
            Map<String, Long> byRule = new LinkedHashMap<>();
            if (UNAUTHORIZED[m] > 0) byRule.put("unauthorized_approval", UNAUTHORIZED[m]);
            if (m == 3) byRule.put(ODD_RULE, 1L);
            buckets.add(new ActivityBucket(at(m, 0), UNAUTHORIZED[m], APPROVALS[m], byRule));
        }
        TimeRange chart = new TimeRange(T0, at(10, 0));
        Activity activity = new Activity("inc-42", chart, Duration.ofMinutes(1), buckets,
                List.of(ODD_RULE, "unauthorized_approval"));
        return new ReportData(Instant.parse("2022-01-18T09:00:00Z"), incident, window, rootCause, infra, activity, chart,
                claims());
    }

    static final ReportData DATA = data(at(4, 0));
    static final String HTML = HtmlReport.render(DATA);

    static Document parse(String html) {
        return Jsoup.parse(html);
    }

    static List<String> column(Element table, int index) {
        return table.select("tbody tr").stream().map(r -> r.child(index).text()).toList();
    }

    @Test
    void isWellFormedHtmlWithEverySection() {
        Parser parser = Parser.htmlParser().setTrackErrors(50);
        Document doc = Jsoup.parse(HTML, "", parser);
        assertThat(parser.getErrors()).as("HTML parse errors").isEmpty();
        assertThat(HTML).startsWith("<!DOCTYPE html>");
        assertThat(doc.title()).contains("inc-42");
        assertThat(doc.selectFirst("meta[charset]").attr("charset")).isEqualToIgnoringCase("utf-8");
        for (String id : List.of("summary", "timeline", "impact", "response", "root-cause", "attacker-infra", "users",
                "claims", "claims-table", "verdicts", "chart", "impact-table", "after-containment-table", "root-cause-backends", "root-cause-channels",
                "infra-ips", "infra-devices", "infra-addresses", "alerts-table", "actions-table")) {
            assertThat(doc.getElementById(id)).as("#" + id).isNotNull();
        }
        assertThat(doc.select("#timeline > svg")).hasSize(1);
        // Every body row has as many cells as its table has header cells.
        for (Element table : doc.select("table:has(thead)")) {
            int columns = table.select("thead th").size();
            for (Element row : table.select("tbody tr")) {
                int cells = row.children().stream().mapToInt(c -> c.hasAttr("colspan")
                        ? Integer.parseInt(c.attr("colspan")) : 1).sum();
                assertThat(cells).as(table.id() + " row " + row.text()).isEqualTo(columns);
            }
        }
        assertThat(HtmlReport.render(DATA)).as("a pure function").isEqualTo(HTML);
    }

    @Test
    void showsTheSummaryImpactRootCauseAndInfrastructure() {
        Document doc = parse(HTML);
        assertThat(doc.selectFirst("[data-field=status]").text()).isEqualTo("contained");
        assertThat(doc.selectFirst("[data-field=users-affected]").text()).isEqualTo("3");
        assertThat(doc.selectFirst("[data-field=usd-total]").text()).isEqualTo("US$ 83,345.68");
        assertThat(doc.selectFirst("[data-field=usd-after-containment]").text()).isEqualTo("US$ 1,550.25");
        assertThat(doc.selectFirst("[data-field=time-to-containment]").text()).isEqualTo("1m30s");
        assertThat(doc.selectFirst("[data-field=started]").text()).startsWith("2022-01-17T10:02:30.000Z");
        assertThat(doc.selectFirst("[data-field=contained]").text()).startsWith("2022-01-17T10:04:00.000Z");
        assertThat(doc.selectFirst("[data-field=resolved]").text()).isEqualTo("-");

        Element impact = doc.getElementById("impact-table");
        assertThat(column(impact, 0)).containsExactly("BTC", "ETH");
        assertThat(column(impact, 1)).as("exact amount strings").containsExactly("1.23456789", "10.000000000000000001");
        assertThat(column(impact, 2)).containsExactly("52,345.68", "31,000.00");
        assertThat(column(impact, 3)).containsExactly("7", "5");
        assertThat(impact.select("tfoot td").stream().map(Element::text).toList()).containsExactly("Total", "", "83,345.68", "12");
        assertThat(column(doc.getElementById("after-containment-table"), 1)).containsExactly("0.5");
        assertThat(impact.select("tbody td.num")).hasSize(6);

        Element backends = doc.getElementById("root-cause-backends");
        assertThat(backends.select("tbody tr").first().children().eachText()).containsExactly("withdrawal-approver",
                "2.14.0-rc1", "12", "3", "2022-01-17T10:02:30.000Z", "2022-01-17T10:06:10.000Z");
        assertThat(doc.getElementById("root-cause-channels").select("tbody tr").first().children().eachText())
                .containsExactly("internal", "12", "3", "2022-01-17T10:02:30.000Z", "2022-01-17T10:06:10.000Z");

        assertThat(column(doc.getElementById("infra-ips"), 0)).containsExactly("203.0.113.33", "198.51.100.7");
        assertThat(column(doc.getElementById("infra-ips"), 1)).containsExactly("3", "2");
        assertThat(column(doc.getElementById("infra-ips"), 3))
                .containsExactly("2022-01-17T10:01:00.000Z", "2022-01-17T10:01:30.000Z");
        assertThat(column(doc.getElementById("infra-addresses"), 0)).containsExactly(SCRIPT_ADDRESS,
                "bc1qxeqzjm25esjk7cphsjplfumjmf0kj4zk7exuqn");
        assertThat(column(doc.getElementById("alerts-table"), 0)).containsExactly("unauthorized_approval", ODD_RULE);
        assertThat(doc.select("#user-ids code").eachText()).containsExactly("u-a", "u-b", ODD_USER);
    }

    @Test
    void theClaimsSectionGivesTheTotalsAndARowPerClaim() {
        Document doc = parse(HTML);
        assertThat(doc.selectFirst("[data-field=claims-count]").text()).isEqualTo("2");
        assertThat(doc.selectFirst("[data-field=claims-eligible]").text()).isEqualTo("1");
        assertThat(doc.selectFirst("[data-field=claims-paid-usd]").text()).isEqualTo("US$ 52,345.68");
        assertThat(doc.selectFirst("[data-field=claims-pending]").text()).isEqualTo("1");
        Element table = doc.getElementById("claims-table");
        assertThat(table.select("tbody tr").eachAttr("data-claim")).containsExactly("claim-a", "claim-odd");
        assertThat(column(table, 0)).containsExactly("u-a", ODD_USER);
        assertThat(column(table, 1)).containsExactly("approved", "awaiting_documents");
        assertThat(column(table, 2)).containsExactly("eligible", "not_eligible");
        assertThat(table.select("tbody tr").get(1).select("span.condition").eachText()).containsExactly(
                "mfa_all_types=fail", "anti_phishing_code=review", "no_jailbroken_device=pass");
        assertThat(table.select("tbody tr").get(1).selectFirst("span.condition").attr("title")).isEqualTo("<i>off</i>");
        assertThat(column(table, 4)).containsExactly("-", "police_report, questionnaire");
        assertThat(column(table, 5)).containsExactly("52,345.68", "31,000.00");
        assertThat(column(table, 6)).containsExactly("52,345.68", "-");
        assertThat(column(table, 7)).containsExactly("alice@sec (approved by bob@sec)", "-");
        assertThat(doc.selectFirst("[data-field=claims-loss-usd]").text()).isEqualTo("83,345.68");
        assertThat(doc.select("[data-field=claims-none]")).isEmpty();
        assertThat(doc.select("#claims i")).as("a condition's detail is text, never markup").isEmpty();
    }

    @Test
    void theVerdictsSectionListsEachJudgedAlertOrSaysThereAreNone() {
        ReportData d = DATA;
        Document none = parse(HTML);
        assertThat(none.selectFirst("#verdicts [data-field=verdicts-none]").text()).startsWith("No alert of this incident has a verdict yet");
        ReportData judged = new ReportData(d.generatedAt(), d.incident(), d.window(), d.rootCause(), d.attackerInfra(),
                d.activity(), d.chart(), d.claims(), List.of(
                        new Verdicts.VerdictView("al-1", "unauthorized_approval", "u-1", "true_positive", "alice@sec",
                                "confirmed with the user <by phone>", Instant.parse("2022-01-18T08:00:00Z"), false),
                        new Verdicts.VerdictView("al-2", "bulk_drain", null, "benign_true_positive", "bob@sec", null,
                                Instant.parse("2022-01-18T08:30:00Z"), false)));
        Document doc = parse(HtmlReport.render(judged));
        assertThat(doc.getElementById("verdicts-table")).isNotNull();
        assertThat(doc.select("#verdicts-table tbody tr")).extracting(Element::text).containsExactly(
                "al-1 unauthorized_approval u-1 true_positive alice@sec 2022-01-18T08:00:00Z confirmed with the user <by phone>",
                "al-2 bulk_drain - benign_true_positive bob@sec 2022-01-18T08:30:00Z");
        assertThat(doc.select("#verdicts [data-field=verdicts-none]")).isEmpty();
    }

    @Test
    void anIncidentWithoutClaimsSaysSo() {
        ReportData d = DATA;
        ReportData none = new ReportData(d.generatedAt(), d.incident(), d.window(), d.rootCause(), d.attackerInfra(),
                d.activity(), d.chart(), new Claims.IncidentClaims("inc-42", List.of(), Claims.totals(List.of())));
        Document doc = parse(HtmlReport.render(none));
        assertThat(doc.selectFirst("#claims [data-field=claims-none]").text())
                .isEqualTo("No claims have been opened for this incident.");
        assertThat(doc.getElementById("claims-table")).isNull();
    }

    @Test
    void escapesEveryValue() {
        // The hostile strings come back as text, never as markup.
        assertThat(HTML).doesNotContain(SCRIPT_ADDRESS).doesNotContain("<img").doesNotContain("<u>")
                .doesNotContain("<b>x</b>");
        assertThat(HTML).contains("&lt;script&gt;alert(1)&lt;/script&gt;");
        Document doc = parse(HTML);
        assertThat(doc.select("script, img, u, b")).isEmpty();
        assertThat(doc.select("#infra-devices tbody td code").first().text()).isEqualTo(IMG_DEVICE);
        assertThat(doc.select("#chart g.lane").eachAttr("data-rule")).containsExactly(ODD_RULE, "unauthorized_approval");
        for (Element e : doc.getAllElements()) {
            for (Attribute a : e.attributes()) {
                assertThat(a.getKey()).as("event handler on <" + e.tagName() + ">").doesNotStartWith("on");
            }
        }
        assertThat(HtmlReport.esc("<>&\"'")).isEqualTo("&lt;&gt;&amp;&quot;&#39;");
        assertThat(HtmlReport.esc(null)).isEqualTo("-");
    }

    @Test
    void referencesNothingOutsideTheFile() {
        Document doc = parse(HTML);
        assertThat(doc.select("script, link, iframe, object, embed, img, image, use, audio, video, source, base"))
                .isEmpty();
        for (Element e : doc.getAllElements()) {
            for (Attribute a : e.attributes()) {
                assertThat(a.getKey()).as("a reference on <" + e.tagName() + ">")
                        .doesNotEndWith("href").isNotIn("src", "srcset", "action", "data", "poster");
            }
        }
        assertThat(HTML).doesNotContain("http://").doesNotContain("https://").doesNotContain("<script")
                .doesNotContain("<link").doesNotContain("url(").doesNotContain("@import").doesNotContain("//fonts");
        assertThat(doc.select("style")).hasSize(1);
    }

    @Test
    void theChartHasABarPerBucketAndTheStartAndContainmentLinesInPlace() {
        Document doc = parse(HTML);
        Element svg = doc.getElementById("chart");
        Elements buckets = svg.select("g.bucket");
        assertThat(buckets).hasSize(10);
        assertThat(svg.select("rect.unauthorized")).hasSize(10);
        assertThat(svg.select("rect.approvals")).hasSize(10);
        double plot = HtmlReport.PLOT_RIGHT - HtmlReport.PLOT_LEFT;
        double maxHeight = 0;
        for (int m = 0; m < 10; m++) {
            Element b = buckets.get(m);
            assertThat(b.attr("data-start")).isEqualTo(io.tourniquet.util.Times.format(at(m, 0).toEpochMilli()));
            assertThat(b.attr("data-unauthorized")).isEqualTo(String.valueOf(UNAUTHORIZED[m]));
            Element bad = b.selectFirst("rect.unauthorized");
            Element all = b.selectFirst("rect.approvals");
            double x = Double.parseDouble(bad.attr("x"));
            assertThat(x).as("bucket %d within its minute", m)
                    .isBetween(HtmlReport.PLOT_LEFT + m * plot / 10, HtmlReport.PLOT_LEFT + (m + 1) * plot / 10);
            double hBad = Double.parseDouble(bad.attr("height"));
            double hAll = Double.parseDouble(all.attr("height"));
            // Heights proportional to the counts, on one scale (the busiest bucket: 6 approvals).
            assertThat(hBad).isCloseTo(hAll * UNAUTHORIZED[m] / Math.max(1, APPROVALS[m]), org.assertj.core.data.Offset.offset(0.15));
            assertThat(hBad == 0).isEqualTo(UNAUTHORIZED[m] == 0);
            maxHeight = Math.max(maxHeight, hAll);
        }
        assertThat(maxHeight).isGreaterThan(HtmlReport.PLOT_HEIGHT / 2.0).isLessThanOrEqualTo(HtmlReport.PLOT_HEIGHT);

        // 10:02:30 is a quarter of the way through 10:00–10:10, 10:04:00 two fifths.
        Element started = svg.selectFirst("line.marker.started");
        Element contained = svg.selectFirst("line.marker.contained");
        assertThat(Double.parseDouble(started.attr("x1"))).isCloseTo(HtmlReport.PLOT_LEFT + plot / 4,
                org.assertj.core.data.Offset.offset(0.05));
        assertThat(started.attr("x2")).isEqualTo(started.attr("x1"));
        assertThat(Double.parseDouble(contained.attr("x1"))).isCloseTo(HtmlReport.PLOT_LEFT + plot * 2 / 5,
                org.assertj.core.data.Offset.offset(0.05));
        assertThat(started.attr("data-time")).isEqualTo("2022-01-17T10:02:30.000Z");

        // Alerts: a marker per bucket and rule that has some, in its rule's lane.
        assertThat(svg.select("g.lane[data-rule=unauthorized_approval] circle.alert")).hasSize(5);
        assertThat(svg.select("g.lane[data-rule=unauthorized_approval] circle.alert").eachAttr("data-count"))
                .containsExactly("3", "5", "2", "1", "1");
        assertThat(svg.select("circle.alert")).hasSize(6);

        // X axis in UTC, a label per round time.
        assertThat(svg.select("text.tick-label").eachText()).containsExactly("10:00", "10:01", "10:02", "10:03",
                "10:04", "10:05", "10:06", "10:07", "10:08", "10:09", "10:10");
        assertThat(svg.text()).contains("event time (UTC, 2022-01-17)");
    }

    @Test
    void anOpenIncidentHasNoContainmentLine() {
        String html = HtmlReport.render(data(null));
        Document doc = parse(html);
        assertThat(doc.select("line.marker.started")).hasSize(1);
        assertThat(doc.select("line.marker.contained")).isEmpty();
        assertThat(doc.selectFirst("[data-field=time-to-containment]").text()).isEqualTo("not contained");
        assertThat(doc.getElementById("after-containment-table")).isNull();
    }

    @Test
    void theChartSpansTheIncidentPerMinuteUnlessItIsLong() {
        IncidentView short_ = DATA.incident();
        TimeRange span = ReportData.chartSpan(short_);
        assertThat(span).isEqualTo(new TimeRange(at(0, 30), at(8, 10))); // 2 min margins
        assertThat(ReportData.interval(span)).isEqualTo(Duration.ofMinutes(1));
        assertThat(ReportData.align(span, Duration.ofMinutes(1))).isEqualTo(new TimeRange(T0, at(9, 0)));

        TimeRange fiveHours = new TimeRange(T0, T0.plus(Duration.ofHours(5)));
        assertThat(ReportData.interval(fiveHours)).isEqualTo(Duration.ofMinutes(5));
        assertThat(ReportData.interval(new TimeRange(T0, T0.plus(Duration.ofDays(30))))).isEqualTo(Duration.ofHours(12));
        assertThat(ReportData.interval(new TimeRange(T0, T0.plus(Duration.ofDays(100))))).isEqualTo(Duration.ofDays(1));
        assertThat(HtmlReport.niceStep(0.25)).isEqualTo(1);
        assertThat(HtmlReport.niceStep(1.5)).isEqualTo(2);
        assertThat(HtmlReport.niceStep(31)).isEqualTo(50);
    }
}
