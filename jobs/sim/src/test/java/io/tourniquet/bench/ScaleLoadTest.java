package io.tourniquet.bench;

import static org.assertj.core.api.Assertions.assertThat;
import io.tourniquet.model.Event;
import io.tourniquet.util.Times;
import org.junit.jupiter.api.Test;

class ScaleLoadTest {
    private static Event withdrawal() {
        Event e = new Event();
        e.eventId = "ev-1";
        e.userId = "u-1";
        e.sessionId = "s-1";
        e.withdrawalId = "w-1";
        e.mfaChallengeId = "ch-1";
        e.eventTime = Times.parseMillis("2026-05-03T10:00:00Z");
        e.eventTimeRaw = "2026-05-03T10:00:00Z";
        return e;
    }

    @Test
    void aCopyIsAnotherUsersEventShiftedInTime() {
        Event e = withdrawal();
        ScaleLoad.relabel(e, "-c7", -2 * ScaleLoad.COPY_STEP.toMillis());

        assertThat(e.eventId).isEqualTo("ev-1-c7");
        assertThat(e.userId).isEqualTo("u-1-c7");
        assertThat(e.sessionId).isEqualTo("s-1-c7");
        assertThat(e.withdrawalId).isEqualTo("w-1-c7");
        assertThat(e.mfaChallengeId).isEqualTo("ch-1-c7");
        assertThat(e.challengeId).isNull(); // absent identifiers stay absent
        assertThat(e.eventTime).isEqualTo(Times.parseMillis("2026-05-03T08:00:00Z"));
        assertThat(Times.parseMillis(e.eventTimeRaw)).isEqualTo(e.eventTime);
    }
}
