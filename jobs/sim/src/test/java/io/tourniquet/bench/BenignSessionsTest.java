package io.tourniquet.bench;

import static org.assertj.core.api.Assertions.assertThat;
import io.tourniquet.model.EventParser;
import io.tourniquet.model.Event;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class BenignSessionsTest {
    private static final long NOW = 1_767_225_600_000L;
    private final BenignSessions sessions = new BenignSessions("logins", "mfa", "withdrawals", "r1", 3);
    private final EventParser parser = new EventParser(Map.of("logins", Event.Kind.LOGIN, "mfa", Event.Kind.MFA,
            "withdrawals", Event.Kind.WITHDRAWAL), 64 * 1024);

    private List<Event> session(long first) throws Exception {
        List<Event> out = new ArrayList<>();
        for (long seq = first; seq < first + BenignSessions.EVENTS_PER_SESSION; seq++) {
            BenignSessions.Out o = sessions.event(seq, NOW + seq);
            Event e = parser.parse(o.topic(), 0, seq, o.json().getBytes(StandardCharsets.UTF_8));
            assertThat(o.key()).isEqualTo(e.userId);
            out.add(e);
        }
        return out;
    }

    @Test
    void everyEventOfASessionIsValidInput() throws Exception {
        List<Event> s = session(0);

        assertThat(s).extracting(e -> e.kind).containsExactly(Event.Kind.LOGIN, Event.Kind.WITHDRAWAL, Event.Kind.MFA,
                Event.Kind.MFA, Event.Kind.WITHDRAWAL, Event.Kind.WITHDRAWAL, Event.Kind.WITHDRAWAL);
        assertThat(s).extracting(e -> e.userId).containsOnly("bg-0");
        assertThat(s).extracting(e -> e.eventTime).isSorted();
        assertThat(s.get(1).status).isEqualTo("requested");
        assertThat(s.get(6).status).isEqualTo("completed");
    }

    @Test
    void theApprovalNamesTheChallengeVerifiedForItsWithdrawal() throws Exception {
        List<Event> s = session(0);
        Event verified = s.get(3);
        Event approved = s.get(4);

        assertThat(verified.action).isEqualTo("challenge_verified");
        assertThat(verified.purpose).isEqualTo("withdrawal");
        assertThat(approved.status).isEqualTo("approved");
        assertThat(approved.mfaChallengeId).isEqualTo(verified.challengeId);
        assertThat(approved.withdrawalId).isEqualTo(verified.withdrawalId).isEqualTo(s.get(1).withdrawalId);
        // A small share of the balance: no account drain.
        assertThat(approved.usdValue / s.get(1).accountBalanceUsd).isLessThan(0.001);
    }

    @Test
    void sessionsCycleOverThePoolWithFreshIds() throws Exception {
        List<Event> second = session(BenignSessions.EVENTS_PER_SESSION);
        List<Event> fourth = session(3L * BenignSessions.EVENTS_PER_SESSION);

        assertThat(second).extracting(e -> e.userId).containsOnly("bg-1");
        assertThat(fourth).extracting(e -> e.userId).containsOnly("bg-0");
        assertThat(fourth.get(4).withdrawalId).isNotEqualTo(session(0).get(4).withdrawalId);
        assertThat(fourth.get(0).eventId).isNotEqualTo(session(0).get(0).eventId);
    }
}
