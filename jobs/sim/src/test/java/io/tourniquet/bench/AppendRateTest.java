package io.tourniquet.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;
import org.junit.jupiter.api.Test;

class AppendRateTest {

    @Test
    void firstToLastCountsTheRecordsAfterTheFirstOverTheSpan() {
        // 11 records, 100 ms apart: 10 gaps in 1 s.
        long[] t = new long[11];
        for (int i = 0; i < t.length; i++) t[i] = 5_000 + 100L * i;

        AppendRate r = AppendRate.of(t, 0);

        assertThat(r.records()).isEqualTo(11);
        assertThat(r.firstMillis()).isEqualTo(5_000);
        assertThat(r.lastMillis()).isEqualTo(6_000);
        assertThat(r.seconds()).isEqualTo(1.0);
        assertThat(r.perSecond()).isCloseTo(10.0, within(1e-9));
        assertThat(r.steadyRecords()).isEqualTo(11);
        assertThat(r.steadyPerSecond()).isCloseTo(10.0, within(1e-9));
    }

    @Test
    void theSteadyWindowLeavesOutTheSlowWarmUp() {
        // 10 records in the first second (warm-up), then 90 records 10 ms apart.
        long[] t = new long[100];
        for (int i = 0; i < 10; i++) t[i] = 100L * i;
        for (int i = 10; i < 100; i++) t[i] = 1_000 + 10L * (i - 10);

        AppendRate r = AppendRate.of(t, 0.10);

        assertThat(r.steadyRecords()).isEqualTo(90);
        assertThat(r.steadySeconds()).isEqualTo(0.89);
        assertThat(r.steadyPerSecond()).isCloseTo(100.0, within(1e-9));
        assertThat(r.perSecond()).isCloseTo(99 / 1.89, within(1e-9));
    }

    @Test
    void refusesWhatCannotMakeARate() {
        assertThatThrownBy(() -> AppendRate.of(new long[] {7}, 0)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> AppendRate.of(new long[] {7, 7, 7}, 0)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> AppendRate.of(new long[] {1, 2, 3}, 1.0)).isInstanceOf(IllegalArgumentException.class);
    }
}
