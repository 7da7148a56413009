package io.tourniquet.cli;

import static org.assertj.core.api.Assertions.assertThat;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/**
 * {@code ./tourniquet --help} lists each command with the first line of its description only, so a
 * description whose sentence goes on to a second line shows cut in the list.
 */
class MainUsageTest {
    private static final Pattern LISTED = Pattern.compile("^  (\\S+)\\s+(.*)$");
    private static final Pattern SENTENCE_BREAK = Pattern.compile("[.!?;:]\\s+[A-Z]");

    @Test
    void everyListedCommandShowsOneCompleteSentence() {
        Map<String, String> listed = commandList();

        assertThat(listed.keySet()).containsExactlyElementsOf(Main.commandLine().getSubcommands().keySet());
        assertThat(listed).allSatisfy((command, summary) ->
                assertThat(isOneCompleteSentence(summary)).as("%s: \"%s\"", command, summary).isTrue());
    }

    @Test
    void theSentenceCheckRejectsCutAndRunOnSummaries() {
        // The summaries issue 9 reported, as the list showed them.
        assertThat(isOneCompleteSentence("Measure the detect job on real Kafka, in one run:")).isFalse();
        assertThat(isOneCompleteSentence("Run the detect job and the index job on an embedded Flink against the "
                + "given Kafka and")).isFalse();
        assertThat(isOneCompleteSentence("Send an analyst's signed control request to the detect job "
                + "(topic.control):")).isFalse();
        assertThat(isOneCompleteSentence("Create missing topics and apply index templates. Idempotent; jobs also "
                + "do this at start.")).isFalse();
        assertThat(isOneCompleteSentence("replay the incident.")).isFalse();
        assertThat(isOneCompleteSentence("Create missing topics and apply index templates.")).isTrue();
        assertThat(isOneCompleteSentence("Generates traffic with a January-2022-style attack: withdrawals approved "
                + "without valid MFA (logins, MFA).")).isTrue();
    }

    /**
     * Command name to summary, from the usage message picocli prints for {@code tourniquet --help}. Wide,
     * so that no summary wraps: what is tested is the text shown, not where the terminal breaks it.
     */
    private static Map<String, String> commandList() {
        CommandLine cl = Main.commandLine();
        cl.setUsageHelpWidth(1_000);
        String usage = cl.getUsageMessage(CommandLine.Help.Ansi.OFF);
        String section = usage.substring(usage.indexOf("Commands:") + "Commands:".length()).replaceFirst("^\\R", "");
        Map<String, String> listed = new LinkedHashMap<>();
        String last = null;
        for (String line : section.split("\\R")) {
            if (line.isBlank()) break;
            Matcher m = LISTED.matcher(line);
            if (m.matches()) {
                last = m.group(1);
                listed.put(last, m.group(2).strip());
            } else if (last != null) {
                listed.merge(last, " " + line.strip(), String::concat);
            }
        }
        return listed;
    }

    /** Starts with a capital, ends with a period, and has no second sentence or clause break before it. */
    static boolean isOneCompleteSentence(String summary) {
        String s = summary.strip();
        if (s.isEmpty() || !Character.isUpperCase(s.charAt(0)) || !s.endsWith(".") || s.endsWith("..")) return false;
        if (s.chars().filter(c -> c == '(').count() != s.chars().filter(c -> c == ')').count()) return false;
        return !SENTENCE_BREAK.matcher(s.substring(0, s.length() - 1)).find();
    }
}
