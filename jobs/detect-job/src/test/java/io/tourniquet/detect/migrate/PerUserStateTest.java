package io.tourniquet.detect.migrate;

import io.tourniquet.detect.Challenge;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import java.util.List;
import java.util.Map;
import org.apache.flink.types.PojoTestUtils;
import org.junit.jupiter.api.Test;

/** The record that carries a user's state through the migration job. */
class PerUserStateTest {
    @Test
    void itIsAPojoWithoutKryo() {
        // Its maps hold the states' own value types (POJOs), so no field falls back to Kryo.
        PojoTestUtils.assertSerializedAsPojoWithoutKryo(PerUserState.class);
    }

    @Test
    void mergingAddsTheOtherOperatorsStatesAndTheUnionOfTimers() {
        PerUserState dedup = PerUserState.of("u1");
        dedup.seenEvents = Map.of("withdrawal/e1", 120_000L);
        dedup.eventTimeTimers = List.of(120_000L);
        PerUserState challenges = PerUserState.of("u1");
        Challenge c = new Challenge();
        c.challengeId = "c1";
        challenges.challenges = Map.of("c1", c);
        challenges.challengeCount = 1;
        challenges.eventTimeTimers = List.of(60_000L, 120_000L);
        challenges.processingTimeTimers = List.of(5L);

        PerUserState merged = dedup.merge(challenges);

        assertThat(merged.seenEvents).containsOnlyKeys("withdrawal/e1");
        assertThat(merged.challenges).containsOnlyKeys("c1");
        assertThat(merged.challengeCount).isEqualTo(1);
        assertThat(merged.eventTimeTimers).containsExactly(60_000L, 120_000L);
        assertThat(merged.processingTimeTimers).containsExactly(5L);
        assertThat(merged.anomalyProfile).isNull();
    }

    @Test
    void mergingTwoUsersIsRefused() {
        assertThatThrownBy(() -> PerUserState.of("u1").merge(PerUserState.of("u2")))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void everyStateOfTheFiveOldOperatorsHasItsSlotOnce() {
        assertThat(PerUserStateMigration.SLOTS).extracting(PerUserStateMigration.Slot::name).containsExactly(
                "seen-events", "whitelisted-addresses", "new-address-requests", "drain-request-balances",
                "drain-approvals", "drain-alerted-until", "challenges", "challenge-count", "pending-approvals",
                "anomaly-profile", "anomaly-sessions", "anomaly-requests", "anomaly-whitelist",
                "anomaly-pending-events", "anomaly-stall-watermark", "anomaly-stall-deadline");
        assertThat(PerUserStateMigration.SLOTS).extracting(PerUserStateMigration.Slot::oldUid)
                .containsOnlyElementsOf(PerUserStateMigration.OLD_UIDS);
    }
}
