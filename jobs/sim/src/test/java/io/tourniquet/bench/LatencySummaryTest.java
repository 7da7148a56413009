package io.tourniquet.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;
import org.junit.jupiter.api.Test;

class LatencySummaryTest {

    @Test
    void percentilesExtremesAndTheTenthsInSendOrder() {
        // 1..100 ms, sent in increasing order: a job falling behind.
        long[] lat = new long[100];
        for (int i = 0; i < lat.length; i++) lat[i] = i + 1;

        LatencySummary s = LatencySummary.of(lat, 0);

        assertThat(s.count()).isEqualTo(100);
        assertThat(s.p50Millis()).isCloseTo(50.5, within(1e-9));
        assertThat(s.p99Millis()).isCloseTo(99.01, within(1e-9));
        assertThat(s.maxMillis()).isEqualTo(100);
        assertThat(s.minMillis()).isEqualTo(1);
        assertThat(s.firstTenthP50Millis()).isCloseTo(5.5, within(1e-9));
        assertThat(s.lastTenthP50Millis()).isCloseTo(95.5, within(1e-9));
    }

    @Test
    void oneLatencyIsItsOwnEverything() {
        LatencySummary s = LatencySummary.of(new long[] {42}, 0);
        assertThat(s.p50Millis()).isEqualTo(42.0);
        assertThat(s.p99Millis()).isEqualTo(42.0);
        assertThat(s.firstTenthP50Millis()).isEqualTo(42.0);
        assertThat(s.lastTenthP50Millis()).isEqualTo(42.0);
    }

    @Test
    void theTrendComparesTheTenthsAndIgnoresSmallDifferences() {
        long[] rising = new long[100];
        long[] falling = new long[100];
        long[] flat = new long[100];
        for (int i = 0; i < 100; i++) {
            rising[i] = 10 + 10L * i;   // first tenth ~55 ms, last ~965 ms
            falling[i] = 1_000 - 10L * i;
            flat[i] = 15 + i % 3 + (i >= 90 ? 30 : 0); // last tenth 46 ms: three times, but 30 ms above
        }
        assertThat(LatencySummary.of(rising, 0).trend()).startsWith("falls behind");
        assertThat(LatencySummary.of(falling, 0).trend()).startsWith("catches up");
        assertThat(LatencySummary.of(flat, 0).trend()).isEqualTo("keeps up");
    }
}
