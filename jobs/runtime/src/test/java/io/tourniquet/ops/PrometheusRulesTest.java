package io.tourniquet.ops;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@code infra/prometheus} checked by Prometheus's own {@code promtool}, from Debian's package as
 * {@code infra/prometheus/fetch} unpacks it (downloaded on first use; without it this test fails
 * and says why, it is never skipped): the scrape configuration and the alert rules are valid, the
 * rules' tests on synthetic series pass, and every alert has a test case where it fires and one
 * where it must not. promtool passes a test that names an alert the rules do not have, and a rule
 * that no test names; both are caught here.
 *
 * <p>The rules and their tests' series may use only the metric names of the contract between the
 * jobs and the rules ({@code infra/prometheus/metrics.txt}), so that renaming a metric on either
 * side fails a test instead of silencing an alert.
 */
class PrometheusRulesTest {
    static final Path REPO = repoRoot();
    static final Path DIR = REPO.resolve("infra/prometheus");
    static final Path ALERTS = DIR.resolve("alerts.yml");
    static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());
    static final Set<String> SEVERITIES = Set.of("critical", "warning");

    static Path promtool;

    private static Path repoRoot() {
        // Surefire runs in jobs/; an IDE may run from the repository root.
        for (Path p = Path.of("").toAbsolutePath(); p != null; p = p.getParent()) {
            if (Files.isRegularFile(p.resolve("infra/prometheus/alerts.yml"))) return p;
        }
        throw new IllegalStateException("infra/prometheus/alerts.yml not found above " + Path.of("").toAbsolutePath());
    }

    @BeforeAll
    static void fetchPromtool() throws Exception {
        promtool = io.tourniquet.testing.PrometheusDistribution.bin().resolve("promtool");
        assertThat(promtool).as("promtool from infra/prometheus/fetch").isExecutable();
    }

    record Run(int exit, String output) {
    }

    /** Runs promtool in infra/prometheus, so that paths are as in its README. */
    static Run promtool(String... args) throws Exception {
        List<String> command = new ArrayList<>(List.of(promtool.toString()));
        command.addAll(List.of(args));
        Path out = Files.createTempFile("promtool", ".log");
        try {
            Process p = new ProcessBuilder(command).directory(DIR.toFile()).redirectErrorStream(true)
                    .redirectOutput(out.toFile()).redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
                    .start();
            if (!p.waitFor(2, TimeUnit.MINUTES)) {
                p.destroyForcibly();
                fail("promtool " + String.join(" ", args) + " did not finish in 2 minutes:\n" + Files.readString(out));
            }
            return new Run(p.exitValue(), Files.readString(out));
        } finally {
            Files.deleteIfExists(out);
        }
    }

    static JsonNode yaml(Path file) throws IOException {
        return YAML.readTree(file.toFile());
    }

    /** Every alerting rule of alerts.yml, by name. */
    static Map<String, JsonNode> alerts() throws IOException {
        Map<String, JsonNode> alerts = new LinkedHashMap<>();
        for (JsonNode group : yaml(ALERTS).path("groups")) {
            for (JsonNode rule : group.path("rules")) {
                assertThat(rule.has("alert")).as("only alerting rules in alerts.yml: " + rule).isTrue();
                assertThat(alerts.put(rule.get("alert").asText(), rule)).as("alert names are unique").isNull();
            }
        }
        return alerts;
    }

    static List<Path> ruleTests() throws IOException {
        try (Stream<Path> files = Files.list(DIR.resolve("tests"))) {
            return files.filter(f -> f.toString().endsWith(".yml")).sorted().toList();
        }
    }

    /** One checked evaluation of a promtool test: alert, time, whether it must fire there, and where it is. */
    record Case(String alert, String evalTime, boolean fires, String where) {
    }

    static List<Case> cases() throws IOException {
        List<Case> cases = new ArrayList<>();
        for (Path file : ruleTests()) {
            JsonNode tests = yaml(file).path("tests");
            for (int i = 0; i < tests.size(); i++) {
                for (JsonNode c : tests.get(i).path("alert_rule_test")) {
                    cases.add(new Case(c.path("alertname").asText(), c.path("eval_time").asText(),
                            !c.path("exp_alerts").isEmpty(), file.getFileName() + " test " + (i + 1)));
                }
            }
        }
        return cases;
    }

    /** The contract's names: metrics.txt's first column ('#' starts a comment). */
    static Map<String, String[]> contract() throws IOException {
        Map<String, String[]> metrics = new LinkedHashMap<>();
        for (String line : Files.readAllLines(DIR.resolve("metrics.txt"), StandardCharsets.UTF_8)) {
            String data = line.replaceFirst("#.*", "").strip();
            if (data.isEmpty()) continue;
            String[] columns = data.split("\\s+");
            assertThat(columns).as("metrics.txt: name, origin, type, labels: " + line).hasSize(4);
            assertThat(columns[1]).as(line).isIn("ours", "flink");
            assertThat(columns[2]).as(line).isIn("counter", "gauge", "histogram");
            assertThat(metrics.put(columns[0], columns)).as("listed once: " + columns[0]).isNull();
        }
        return metrics;
    }

    /** The names Prometheus has for the contract's metrics: a histogram is a summary, with _count. */
    static Set<String> allowedNames() throws IOException {
        Set<String> names = new TreeSet<>();
        contract().forEach((name, columns) -> {
            names.add(name);
            if (columns[2].equals("histogram")) names.add(name + "_count");
        });
        return names;
    }

    private static final Pattern STRING = Pattern.compile("\"(?:[^\"\\\\]|\\\\.)*\"|'(?:[^'\\\\]|\\\\.)*'");
    private static final Pattern LABEL_LIST = Pattern.compile(
            "\\b(by|without|on|ignoring|group_left|group_right)\\s*\\([^)]*\\)");
    // An identifier that is not part of a number or duration (5m, 1e3) and not a function's name.
    private static final Pattern IDENTIFIER = Pattern.compile("(?<![\\w:.])[a-zA-Z_:][\\w:]*+(?!\\s*\\()");
    private static final Set<String> KEYWORDS = Set.of("and", "or", "unless", "by", "without", "on", "ignoring",
            "group_left", "group_right", "bool", "offset", "inf", "nan");

    /**
     * The metric names an expression selects. A scan, not a PromQL parser (there is none for Java):
     * with strings, label matchers, ranges and label lists removed, what is left that looks like a
     * name and is neither a keyword nor a function call is a metric name. Enough for rules written
     * as these are; {@link #theNameScanFindsSelectorsOnly} shows what it handles.
     */
    static Set<String> metricNames(String expr) {
        String s = STRING.matcher(expr).replaceAll("\"\"");
        s = s.replaceAll("#[^\n]*", " ");
        s = s.replaceAll("\\{[^}]*}", " ");
        s = s.replaceAll("\\[[^\\]]*]", " ");
        // Gone with its keyword, so that 'max by (x) (' leaves 'max (', a call.
        s = LABEL_LIST.matcher(s).replaceAll(" ");
        Set<String> names = new TreeSet<>();
        Matcher m = IDENTIFIER.matcher(s);
        while (m.find()) {
            if (!KEYWORDS.contains(m.group().toLowerCase())) names.add(m.group());
        }
        return names;
    }

    @Test
    void theScrapeConfigurationIsValid() throws Exception {
        // Also reads the rule files it names and the file_sd target files.
        Run r = promtool("check", "config", "prometheus.yml");
        assertThat(r.exit()).as(r.output()).isZero();
        assertThat(r.output()).contains("SUCCESS: 1 rule files found");
    }

    @Test
    void theAlertRulesAreValid() throws Exception {
        Run r = promtool("check", "rules", "alerts.yml");
        assertThat(r.exit()).as(r.output()).isZero();
        assertThat(r.output()).contains("SUCCESS: " + alerts().size() + " rules found");
    }

    @Test
    void theRulesPassTheirTestsOnSyntheticSeries() throws Exception {
        List<String> args = new ArrayList<>(List.of("test", "rules"));
        ruleTests().forEach(f -> args.add(DIR.relativize(f).toString()));
        assertThat(args).as("test files in infra/prometheus/tests").hasSizeGreaterThan(2);
        Run r = promtool(args.toArray(String[]::new));
        assertThat(r.exit()).as(r.output()).isZero();
        assertThat(r.output()).doesNotContain("FAILED");
    }

    @Test
    void everyAlertFiresInSomeTestAndStaysSilentInAnother() throws Exception {
        Set<String> alerts = alerts().keySet();
        List<Case> cases = cases();
        Set<String> named = cases.stream().map(Case::alert).collect(Collectors.toCollection(TreeSet::new));
        assertThat(named).as("alerts the tests name (a misspelt one would pass promtool silently)")
                .isSubsetOf(alerts);
        for (String alert : alerts) {
            assertThat(cases).as(alert + " fires in some test case")
                    .anyMatch(c -> c.alert().equals(alert) && c.fires());
            assertThat(cases).as(alert + " must not fire in some test case")
                    .anyMatch(c -> c.alert().equals(alert) && !c.fires());
        }
    }

    @Test
    void everyAlertHasASeveritySummaryDescriptionAndARunbookInTheReadme() throws Exception {
        Set<String> anchors = headingAnchors(REPO.resolve("README.md"));
        alerts().forEach((name, rule) -> {
            String severity = rule.path("labels").path("severity").asText();
            // Literal, or a template choosing between the two by job.
            Set<String> values = severity.contains("{{")
                    ? Pattern.compile("}}\\s*(\\w+)\\s*\\{\\{").matcher(severity).results().map(m -> m.group(1))
                            .collect(Collectors.toSet())
                    : Set.of(severity);
            assertThat(values).as(name + " severity " + severity).isNotEmpty().isSubsetOf(SEVERITIES);
            JsonNode annotations = rule.path("annotations");
            assertThat(annotations.path("summary").asText()).as(name + " summary").isNotBlank();
            assertThat(annotations.path("description").asText()).as(name + " description").isNotBlank();
            String anchor = name.toLowerCase();
            assertThat(annotations.path("runbook").asText()).as(name + " runbook").isEqualTo("README.md#" + anchor);
            assertThat(anchors).as("a README.md heading '" + name + "' (the runbook)").contains(anchor);
        });
    }

    /** GitHub's anchors of a Markdown file's headings: lower case, punctuation dropped, spaces as hyphens. */
    static Set<String> headingAnchors(Path markdown) throws IOException {
        Set<String> anchors = new TreeSet<>();
        boolean fenced = false;
        for (String line : Files.readAllLines(markdown, StandardCharsets.UTF_8)) {
            if (line.startsWith("```")) fenced = !fenced;
            if (fenced || !line.matches("#{1,6} .*")) continue;
            anchors.add(line.replaceFirst("#+ ", "").strip().toLowerCase()
                    .replaceAll("[^\\p{L}\\p{N} _-]", "").replace(' ', '-'));
        }
        return anchors;
    }

    @Test
    void theRulesUseOnlyTheContractsMetricNames() throws Exception {
        Set<String> allowed = allowedNames();
        alerts().forEach((name, rule) -> {
            Set<String> used = metricNames(rule.path("expr").asText());
            assertThat(used).as(name + " selects some metric").isNotEmpty();
            assertThat(used).as(name + ": metric names outside infra/prometheus/metrics.txt").isSubsetOf(allowed);
        });
    }

    @Test
    void theTestsSeriesUseOnlyTheContractsMetricNames() throws Exception {
        Set<String> allowed = allowedNames();
        for (Path file : ruleTests()) {
            for (JsonNode test : yaml(file).path("tests")) {
                for (JsonNode series : test.path("input_series")) {
                    String name = series.path("series").asText().replaceFirst("\\{.*", "").strip();
                    assertThat(name).as(file.getFileName() + ": " + series.path("series").asText()).isIn(allowed);
                }
            }
        }
    }

    @Test
    void theNameScanFindsSelectorsOnly() {
        assertThat(metricNames("""
                max by (job_name) (increase(a_b{job_name=~"x-(y|z)", reason="by"}[15m] offset 5m)) >= 3
                and on (job_name, instance) sum without (tm_id) (rate(c:d[5m:1m])) > 1e3 * 0.5
                or absent(e) unless ignoring (quantile) f{quantile="0.99"} > bool 2
                # g is a comment
                """)).containsExactlyInAnyOrder("a_b", "c:d", "e", "f");
        assertThat(metricNames("sum(rate(x[5m])) by (reason) > 3 * (y or vector(0))"))
                .containsExactlyInAnyOrder("x", "y");
    }

    @Test
    void theReadmesContractTableIsMetricsTxt() throws Exception {
        // infra/prometheus/README.md shows the contract as tables; metrics.txt is what tests read.
        Set<String> inReadme = Files.readAllLines(DIR.resolve("README.md"), StandardCharsets.UTF_8).stream()
                .filter(l -> l.startsWith("| `flink_") || l.startsWith("| flink_"))
                .map(l -> l.split("\\|")[1].replace("`", "").strip())
                .collect(Collectors.toCollection(TreeSet::new));
        assertThat(inReadme).isEqualTo(new TreeSet<>(contract().keySet()));
    }

    @Test
    void theLocalTargetsAreTheReportersPortRangeOnLoopback() throws Exception {
        JsonNode groups = yaml(DIR.resolve("targets/local.yml"));
        List<String> targets = new ArrayList<>();
        groups.forEach(g -> g.path("targets").forEach(t -> targets.add(t.asText())));
        // The embedded run's range (its setting's default) and the local cluster's (infra/local).
        assertThat(io.tourniquet.config.Settings.PROMETHEUS_PORTS.defaultText()).isEqualTo("9249-9259");
        assertThat(Files.readString(DIR.resolveSibling("local").resolve("lib.sh")))
                .contains("TOURNIQUET_FLINK_PROMETHEUS_PORTS:-9260-9269");
        assertThat(targets).containsExactlyElementsOf(
                IntStream.rangeClosed(9249, 9269).mapToObj(p -> "127.0.0.1:" + p).toList());
    }
}
