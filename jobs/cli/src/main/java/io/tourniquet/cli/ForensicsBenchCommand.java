package io.tourniquet.cli;

import io.tourniquet.forensics.Incidents;
import co.elastic.clients.elasticsearch.ElasticsearchClient;
import co.elastic.clients.elasticsearch._types.ElasticsearchException;
import io.tourniquet.bench.ForensicsTimings;
import io.tourniquet.bench.IndexComparison;
import io.tourniquet.bench.ScaleLoad;
import io.tourniquet.config.Settings;
import io.tourniquet.config.TourniquetConfig;
import io.tourniquet.forensics.Forensics;
import io.tourniquet.forensics.TimeRange;
import io.tourniquet.index.EsClients;
import io.tourniquet.json.Json;
import io.tourniquet.sim.Simulation;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import org.apache.flink.util.FileUtils;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "bench-forensics", mixinStandardHelpOptions = true,
        description = {"Measure the analysts' questions at scale, and the index job against a plain client.",
                "Works on its own topics and indices (prefix " + ForensicsBenchCommand.PREFIX + "), never the pipeline's:",
                " 1. load (skipped when the indices already hold --events events; --reload to",
                "    redo): an incident of --victims victims among ordinary users, simulated",
                "    and replayed by the detect job; the ordinary users' enriched events copied",
                "    under other ids, shifted by whole hours, up to --events; all indexed by",
                "    the index job (its rate is printed);",
                " 2. the index job against one thread with a plain BulkIngester, both writing",
                "    the same --compare-events documents to fresh indices of the same",
                "    Elasticsearch, one after the other: a warm-up round, then --compare-rounds",
                "    rounds in ABBA order (the job's rate over the cluster's net runtime);",
                " 3. each forensics question of the largest incident (incident, timeline,",
                "    root-cause, attacker-infra, app-eligibility, report, export, and",
                "    export-window: every account's events from its first alert to its last),",
                "    --runs times after a first run, Elasticsearch's caches cleared before each:",
                "    median and max, with the number of documents;",
                "then one line 'BENCH_JSON {...}' with every figure. For 10 M events give",
                "Elasticsearch the heap the figures in jobs/README had:",
                "TOURNIQUET_ES_HEAP=4g infra/local/up. Loading 10 M events takes about 25",
                "minutes on 2 cores; the rest about 6."})
public final class ForensicsBenchCommand implements Callable<Integer> {
    static final String PREFIX = "fbench-";

    @Mixin
    ConfigOptions options;

    @Option(names = "--events", description = "Events in the forensic indices (default: ${DEFAULT-VALUE}).")
    long events = 10_000_000;

    @Option(names = "--victims", description = "Victims of the simulated incident (default: ${DEFAULT-VALUE}).")
    int victims = 500;

    @Option(names = "--ordinary-users", description = "Simulated ordinary users, whose events are copied (default: ${DEFAULT-VALUE}).")
    int ordinaryUsers = 3_000;

    @Option(names = "--seed", description = "Simulation seed (default: ${DEFAULT-VALUE}).")
    long seed = 11;

    @Option(names = "--runs", description = "Timed runs per question, after a first (default: ${DEFAULT-VALUE}).")
    int runs = 5;

    @Option(names = "--compare-events", description = "Documents for the index job vs plain client comparison;"
            + " 0 skips it (default: ${DEFAULT-VALUE}).")
    long compareEvents = 1_000_000;

    @Option(names = "--compare-rounds", description = "Rounds of the comparison, each one run of either side"
            + " (default: ${DEFAULT-VALUE}).")
    int compareRounds = 2;

    @Option(names = "--reload", description = "Load again even if the indices already hold --events events.")
    boolean reload;

    record Report(long documents, int victims, ScaleLoad.Result load, IndexComparison.Result comparison,
                  String incident, List<ForensicsTimings.Timing> questions) {}

    @Override
    public Integer call() throws Exception {
        if (runs < 1) throw new IllegalArgumentException("--runs must be at least 1");
        if (compareRounds < 1) throw new IllegalArgumentException("--compare-rounds must be at least 1");
        Path checkpoints = Files.createTempDirectory("tourniquet-bench-forensics-");
        try {
            TourniquetConfig base = options.resolve(Map.of(
                    Settings.CHECKPOINT_DIR.key(), checkpoints.toUri().toString(),
                    Settings.SIGNING_KEY.key(), DemoCommand.DEMO_SIGNING_KEY,
                    Settings.CONTROL_KEY.key(), DemoCommand.DEMO_CONTROL_KEY));
            return measure(base);
        } finally {
            try {
                FileUtils.deleteDirectory(checkpoints.toFile());
            } catch (IOException e) {
                System.err.printf("could not delete the bench's checkpoints in %s: %s%n", checkpoints, e);
            }
        }
    }

    private int measure(TourniquetConfig base) throws Exception {
        TourniquetConfig cfg = base.namespaced(PREFIX);
        String eventsAlias = cfg.get(Settings.INDEX_EVENTS);
        System.out.printf("bench-forensics: Kafka %s, Elasticsearch %s, indices %s*%n", cfg.get(Settings.KAFKA_BOOTSTRAP),
                cfg.get(Settings.ES_URL), PREFIX);
        System.out.println(Main.logFileLine());

        ScaleLoad.Result load = null;
        long documents = count(cfg, eventsAlias);
        System.out.printf("%n1. load: %s holds %,d events%n", eventsAlias, documents);
        if (reload || documents < events) {
            DemoReset.reset(cfg);
            SetupCommand.apply(cfg);
            Simulation sim = ScaleLoad.simulate(cfg, seed, victims, ordinaryUsers);
            load = ScaleLoad.run(cfg, sim, events);
            documents = count(cfg, eventsAlias);
            System.out.printf("   index job: %,d events indexed in %.1f s wall clock (net runtime %.1f s):"
                            + " %,.0f events/s%n", documents, load.index().wallSeconds(), load.index().netRuntimeSeconds(),
                    documents / load.index().wallSeconds());
        } else {
            System.out.println("   already loaded; --reload to load again");
        }

        IndexComparison.Result comparison = null;
        if (compareEvents > 0) {
            System.out.printf("%n2. index job vs plain BulkIngester, %,d documents each run, fresh indices, %d rounds"
                    + " (ABBA order)%n", compareEvents, compareRounds);
            comparison = compare(base, cfg.get(Settings.TOPIC_ENRICHED));
            System.out.printf("   median index job %,.0f documents/s, plain BulkIngester %,.0f documents/s%n",
                    comparison.jobPerSecond(), comparison.plainPerSecond());
            System.out.printf("   ratio index job / plain (medians): %.2f%n", comparison.ratio());
        }

        System.out.printf("%n3. forensics questions over %,d events (%d runs each after a first, caches cleared"
                + " before every run)%n", documents, runs);
        List<ForensicsTimings.Timing> timings;
        String incidentId;
        try (ElasticsearchClient es = EsClients.create(cfg); Forensics f = new Forensics(es, cfg)) {
            Incidents.IncidentView incident = f.incidents(TimeRange.ALL, 50).stream()
                    .max(Comparator.comparingInt(Incidents.IncidentView::usersAffected))
                    .orElseThrow(() -> new IllegalStateException("no incident in " + cfg.get(Settings.INDEX_INCIDENTS)));
            incidentId = incident.id();
            String user = incident.userIds().get(0);
            System.out.printf("   incident %s: %,d users affected; timeline of %s%n", incidentId,
                    incident.usersAffected(), user);
            TimeRange alerted = TimeRange.closed(incident.startedAt(), incident.lastAlertAt());
            timings = ForensicsTimings.measure(f, es, PREFIX + "*", ForensicsTimings.questions(incidentId, user, alerted),
                    runs);
        }
        System.out.printf("   %-16s %10s %10s %10s %12s%n", "command", "first ms", "median ms", "max ms", "items");
        for (ForensicsTimings.Timing t : timings) {
            System.out.printf("   %-16s %,10.0f %,10.0f %,10.0f %,12d%s%n", t.command(), t.firstMillis(),
                    t.medianMillis(), t.maxMillis(), t.items(),
                    t.command().startsWith("export") ? String.format(" (%,.0f events/s)", t.itemsPerSecond()) : "");
        }
        System.out.println();
        System.out.println("BENCH_JSON " + Json.toString(new Report(documents, victims, load, comparison, incidentId,
                timings)));
        return 0;
    }

    /** Fresh topics and indices for the two sides, then the comparison. */
    private IndexComparison.Result compare(TourniquetConfig base, String loadedTopic) throws Exception {
        String topic = PREFIX + "compare.events.enriched";
        TourniquetConfig jobCfg = base.namespaced(PREFIX + "cmpjob-").with(Settings.TOPIC_ENRICHED, topic);
        TourniquetConfig plainCfg = base.namespaced(PREFIX + "cmpplain-");
        DemoReset.deleteTopics(jobCfg, List.of(topic));
        SetupCommand.applyTopics(jobCfg);
        return IndexComparison.run(jobCfg, plainCfg, loadedTopic, compareEvents, compareRounds, new IndexComparison.Indices() {
            @Override
            public void reset(TourniquetConfig c) throws Exception {
                DemoReset.deleteIndices(c);
                SetupCommand.applyIndexTemplates(c);
            }

            @Override
            public long count(TourniquetConfig c, String alias) throws Exception {
                return ForensicsBenchCommand.count(c, alias);
            }
        });
    }

    static long count(TourniquetConfig cfg, String alias) throws Exception {
        try (ElasticsearchClient es = EsClients.create(cfg)) {
            es.indices().refresh(r -> r.index(alias).allowNoIndices(true).ignoreUnavailable(true));
            return es.count(c -> c.index(alias).allowNoIndices(true).ignoreUnavailable(true)).count();
        } catch (ElasticsearchException e) {
            if (e.status() == 404) return 0;
            throw e;
        }
    }
}
