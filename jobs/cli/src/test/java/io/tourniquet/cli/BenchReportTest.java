package io.tourniquet.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;
import com.fasterxml.jackson.databind.JsonNode;
import io.tourniquet.bench.AppendRate;
import io.tourniquet.bench.FreezeLatency;
import io.tourniquet.bench.GcPauses;
import io.tourniquet.bench.LatencySummary;
import io.tourniquet.bench.LimitRun;
import io.tourniquet.json.Json;
import org.junit.jupiter.api.Test;

/** The BENCH_JSON line's shape, from fixed figures: what tracking scripts read. */
class BenchReportTest {

    @Test
    void oneFlatEnoughObjectWithEveryFigureInSnakeCase() throws Exception {
        GcPauses.Window gc = new GcPauses.Window(3, 120, 60);
        AppendRate rate = AppendRate.of(new long[] {0, 500, 1_000, 1_500, 2_000}, 0);
        BenchCommand.Report report = new BenchCommand.Report("r1", 2, 2, 4, "none", "G1 Young Generation", 5,
                new BenchCommand.Limit(new LimitRun.Result(5, 5, 0, 2.5, gc), rate),
                new BenchCommand.Detect(rate, 8.0, 1.5, 12.0, gc), new BenchCommand.Ratio(0.5, 0.4),
                new BenchCommand.Latency(2_000, 200, 20, 10_000, new FreezeLatency.Result(
                        LatencySummary.of(new long[] {10, 20, 30}, 0), 45.0, 9_990.0, 0, 0, gc)));

        JsonNode j = Json.MAPPER.readTree(Json.toString(report));

        assertThat(j.path("input_events").asLong()).isEqualTo(5);
        assertThat(j.path("limit").path("produced").asLong()).isEqualTo(5);
        assertThat(j.path("limit").path("output").path("per_second").asDouble()).isEqualTo(2.0);
        assertThat(j.path("detect").path("output").path("steady_per_second").asDouble()).isEqualTo(2.0);
        assertThat(j.path("detect").path("draining_seconds").asDouble()).isEqualTo(1.5);
        assertThat(j.path("ratio").path("first_to_last").asDouble()).isEqualTo(0.5);
        assertThat(j.path("latency").path("p99_millis").asDouble()).isCloseTo(29.8, within(1e-9));
        assertThat(j.path("latency").path("censored").asInt()).isZero();
        assertThat(j.path("latency").path("background_per_second").asDouble()).isEqualTo(9_990.0);
        assertThat(j.path("latency").path("gc").path("total_millis").asLong()).isEqualTo(120);
    }
}
