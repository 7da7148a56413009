package io.tourniquet.bench;

import static org.assertj.core.api.Assertions.assertThat;
import org.junit.jupiter.api.Test;

class RatePacerTest {
    private static final long MS = 1_000_000L;

    @Test
    void releasesWhatIsDueSinceTheStartWhateverTheTicks() {
        RatePacer p = new RatePacer(10_000, 1_000 * MS, 10_000);

        assertThat(p.release(1_000 * MS)).isZero();
        assertThat(p.release(1_005 * MS)).isEqualTo(50);
        // A late tick makes up for the missed ones.
        assertThat(p.release(1_023 * MS)).isEqualTo(180);
        assertThat(p.release(1_023 * MS)).isZero();
        assertThat(p.released()).isEqualTo(230);
        assertThat(p.dropped()).isZero();
    }

    @Test
    void fractionsCarryOverSoTheTotalFollowsTheRate() {
        RatePacer p = new RatePacer(300, 0, 1_000);
        long total = 0;
        for (long t = 1; t <= 1_000; t++) total += p.release(t * MS);
        assertThat(total).isEqualTo(300);
    }

    @Test
    void aStallBeyondTheBurstIsDroppedAndCounted() {
        RatePacer p = new RatePacer(1_000, 0, 500);

        assertThat(p.release(2_000 * MS)).isEqualTo(500);
        assertThat(p.dropped()).isEqualTo(1_500);
        // Afterwards the rate goes on from there, without making up for the dropped ones.
        assertThat(p.release(2_010 * MS)).isEqualTo(10);
        assertThat(p.released() + p.dropped()).isEqualTo(2_010);
    }
}
