package io.tourniquet.cli;

import com.fasterxml.jackson.databind.JsonNode;
import io.tourniquet.config.Settings;
import io.tourniquet.config.TourniquetConfig;
import io.tourniquet.json.Json;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Where the jobs' Flink REST API is and what it lists, for the commands that look at running jobs
 * ({@code savepoint}, {@code status}): a cluster's JobManager given with {@code --rest}, or a
 * running {@code tourniquet run} on loopback, whose embedded clusters (one per job) each take the
 * first free port of {@code job.rest-ports}. The JDK's HTTP client and Jackson; no Flink client jar.
 */
final class FlinkRest {
    static final Duration CONNECT = Duration.ofMillis(500);

    private FlinkRest() {}

    /** A job as {@code /jobs/overview} lists it, with the endpoint that listed it. */
    record FoundJob(String endpoint, String jid, String name, String state, long startTime) {
        boolean running() {
            return state.equals("RUNNING");
        }
    }

    /** What a scan found: the endpoints that answered as a JobManager and every job they list. */
    record Scan(List<String> answered, List<FoundJob> jobs) {}

    static HttpClient client() {
        return HttpClient.newBuilder().connectTimeout(CONNECT).build();
    }

    /** {@code --rest URL} alone, or every port of the configured range on loopback. */
    static List<String> endpoints(TourniquetConfig cfg, String rest) {
        return rest != null ? List.of(rest.replaceAll("/+$", "")) : loopbackEndpoints(cfg);
    }

    /** Where {@link #endpoints} looks, for messages. */
    static String where(TourniquetConfig cfg, String rest) {
        return rest != null ? rest : "127.0.0.1 ports " + cfg.get(Settings.REST_PORTS);
    }

    /** Every port of the configured range on loopback (a refused connection costs well under a millisecond). */
    static List<String> loopbackEndpoints(TourniquetConfig cfg) {
        String[] range = cfg.get(Settings.REST_PORTS).split("-");
        int from = Integer.parseInt(range[0]);
        int to = range.length > 1 ? Integer.parseInt(range[1]) : from;
        List<String> out = new ArrayList<>();
        for (int port = from; port <= to; port++) out.add("http://127.0.0.1:" + port);
        return out;
    }

    /** The jobs every endpoint lists (running or not); endpoints where nothing answers are skipped. */
    static Scan scan(HttpClient http, List<String> endpoints) throws InterruptedException {
        List<String> answered = new ArrayList<>();
        List<FoundJob> jobs = new ArrayList<>();
        for (String endpoint : endpoints) {
            Optional<JsonNode> overview = get(http, endpoint + "/jobs/overview");
            if (overview.isEmpty() || !overview.get().has("jobs")) continue;
            answered.add(endpoint);
            for (JsonNode j : overview.get().path("jobs")) {
                jobs.add(new FoundJob(endpoint, j.path("jid").asText(), j.path("name").asText(),
                        j.path("state").asText(), j.path("start-time").asLong(-1)));
            }
        }
        return new Scan(answered, jobs);
    }

    static boolean isTerminal(String state) {
        return state.equals("FINISHED") || state.equals("CANCELED") || state.equals("FAILED");
    }

    /** GET as JSON; empty when nothing listens there (a free port of the range) or it is not JSON. */
    static Optional<JsonNode> get(HttpClient http, String url) throws InterruptedException {
        try {
            HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(10))
                    .GET().build(), HttpResponse.BodyHandlers.ofString());
            if (r.statusCode() / 100 != 2) return Optional.empty();
            return Optional.of(Json.MAPPER.readTree(r.body()));
        } catch (IOException e) {
            // Refused, timed out, reset, or not JSON: no JobManager there (a free port of the range,
            // or another service on it).
            return Optional.empty();
        }
    }
}
