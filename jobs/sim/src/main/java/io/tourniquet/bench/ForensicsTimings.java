package io.tourniquet.bench;

import co.elastic.clients.elasticsearch.ElasticsearchClient;
import com.google.common.math.Quantiles;
import io.tourniquet.forensics.Exports;
import io.tourniquet.forensics.Forensics;
import io.tourniquet.forensics.HtmlReport;
import io.tourniquet.forensics.ReportData;
import io.tourniquet.forensics.TimeRange;
import io.tourniquet.json.Json;
import java.io.IOException;
import java.io.OutputStream;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Times the analysts' questions as the CLI asks them (same calls, same default limits and ranges),
 * against whatever the configured indices hold. Before every run, Elasticsearch's caches of the
 * bench's indices are cleared (request, query and field-data caches, global ordinals with them):
 * on a live index, which refreshes every second, that is what the first question after an alert
 * meets.
 */
public final class ForensicsTimings {
    private ForensicsTimings() {}

    /** One question; returns how many items it produced (events exported, timeline entries, ...). */
    @FunctionalInterface
    public interface Ask {
        long ask(Forensics f) throws IOException;
    }

    public record Question(String command, Ask ask) {}

    /**
     * @param firstMillis  the first run after the load
     * @param medianMillis the median of the timed runs
     * @param items        what the last run produced
     */
    public record Timing(String command, int runs, double firstMillis, double medianMillis, double maxMillis,
                         long items) {
        public double itemsPerSecond() {
            return medianMillis == 0 ? 0 : items / (medianMillis / 1e3);
        }
    }

    /**
     * The questions of an incident: the CLI's defaults, the timeline of one of its users, and the
     * export of every account's events from its first alert to its last ({@code --window-of ID
     * --since --until}: the whole window, a day of lookback on either side, is half the bench's data).
     */
    public static List<Question> questions(String incidentId, String user, TimeRange alerted) {
        return List.of(
                new Question("incident", f -> f.incident(incidentId).usersAffected()),
                new Question("timeline", f -> f.timeline(user, TimeRange.ALL, 500).entries().size()),
                new Question("root-cause", f -> f.rootCause(incidentId, TimeRange.ALL).approvals()),
                new Question("attacker-infra", f -> f.attackerInfra(incidentId, TimeRange.ALL, false, 20).victims().size()),
                new Question("app-eligibility", f -> f.appEligibility(incidentId).users().size()),
                new Question("report", f -> HtmlReport.render(ReportData.assemble(f, incidentId, null, Instant.now()))
                        .length()),
                new Question("export", f -> f.export(incidentId, null, TimeRange.ALL, ndjson())),
                new Question("export-window", f -> f.exportWindow(incidentId, alerted, ndjson())));
    }

    /** As 'forensics export' writes: every document serialized as an NDJSON line (here to nowhere). */
    private static Exports.EventSink ndjson() {
        Writer out = new OutputStreamWriter(OutputStream.nullOutputStream(), StandardCharsets.UTF_8);
        return doc -> {
            out.write(Json.MAPPER.writeValueAsString(doc));
            out.write('\n');
        };
    }

    public static List<Timing> measure(Forensics f, ElasticsearchClient es, String indexPattern, List<Question> questions,
                                       int runs) throws IOException {
        List<Timing> out = new ArrayList<>();
        for (Question q : questions) {
            double first = 0;
            double[] timed = new double[runs];
            long items = 0;
            for (int i = 0; i <= runs; i++) {
                es.indices().clearCache(c -> c.index(indexPattern));
                long t = System.nanoTime();
                items = q.ask().ask(f);
                double millis = (System.nanoTime() - t) / 1e6;
                if (i == 0) first = millis;
                else timed[i - 1] = millis;
            }
            Arrays.sort(timed);
            out.add(new Timing(q.command(), runs, first, Quantiles.median().compute(timed), timed[runs - 1], items));
        }
        return out;
    }
}
