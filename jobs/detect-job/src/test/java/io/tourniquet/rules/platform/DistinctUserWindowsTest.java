package io.tourniquet.rules.platform;

import io.tourniquet.detect.AlertEpisode;
import io.tourniquet.detect.CountedAlert;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import io.tourniquet.rules.platform.DistinctUserWindows.Kind;
import io.tourniquet.rules.platform.DistinctUserWindows.Outcome;
import io.tourniquet.rules.platform.DistinctUserWindows.Window;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The counting both platform detectors share, on plain lists (no Flink). */
class DistinctUserWindowsTest {
    private static final long MIN = 60_000L;
    private static final long W = 10 * MIN;

    private static CountedAlert c(String id, String user, long minute) {
        return at(id, user, minute * MIN);
    }

    private static CountedAlert at(String id, String user, long millis) {
        CountedAlert a = new CountedAlert();
        a.alertId = id;
        a.userId = user;
        a.eventTime = millis;
        a.eventIds.add("ev-" + id);
        a.withdrawalIds.add("w-" + id);
        return a;
    }

    /** Feeds arrivals one by one as the detectors do, returning each outcome. */
    private static List<Outcome> feed(int minUsers, CountedAlert... arrivals) {
        List<CountedAlert> all = new ArrayList<>();
        AlertEpisode episode = null;
        List<Outcome> outcomes = new ArrayList<>();
        for (CountedAlert a : arrivals) {
            all.add(a);
            Outcome o = DistinctUserWindows.decide(all, a, episode, W, minUsers);
            episode = o.episode();
            outcomes.add(o);
        }
        return outcomes;
    }

    private static List<Kind> kinds(List<Outcome> outcomes) {
        return outcomes.stream().map(Outcome::kind).toList();
    }

    private static List<CountedAlert> sorted(CountedAlert... alerts) {
        List<CountedAlert> list = new ArrayList<>(List.of(alerts));
        list.sort(DistinctUserWindows.TIME_ORDER);
        return list;
    }

    @Test
    void fullestWindowCountsDistinctUsersInTimeOrder() {
        CountedAlert arrival = c("a5", "u5", 4);
        var all = sorted(c("a1", "u1", 0), c("a2", "u2", 1), c("a2b", "u2", 2), c("a3", "u3", 3), arrival);
        Window w = DistinctUserWindows.fullestWindowContaining(all, arrival, W);
        assertThat(w.userIds()).containsExactly("u1", "u2", "u3", "u5");
        assertThat(w.distinctUsers()).isEqualTo(4);
        assertThat(w.alertIds()).containsExactly("a1", "a2", "a2b", "a3", "a5");
        assertThat(w.eventIds()).containsExactly("ev-a1", "ev-a2", "ev-a2b", "ev-a3", "ev-a5");
        assertThat(w.withdrawalIds()).containsExactly("w-a1", "w-a2", "w-a2b", "w-a3", "w-a5");
        assertThat(w.start()).isEqualTo(0);
        assertThat(w.end()).isEqualTo(4 * MIN);
    }

    @Test
    void alertsExactlyOneWindowApartNeverShareOne() {
        CountedAlert arrival = c("b", "u2", 10);
        Window w = DistinctUserWindows.fullestWindowContaining(sorted(c("a", "u1", 0), arrival), arrival, W);
        assertThat(w.userIds()).containsExactly("u2");
        CountedAlert justInside = at("c", "u3", W - 1);
        w = DistinctUserWindows.fullestWindowContaining(sorted(c("a", "u1", 0), justInside), justInside, W);
        assertThat(w.userIds()).containsExactly("u1", "u3");
    }

    @Test
    void anArrivalInTheMiddleIsCheckedAgainstWindowsOnBothSides() {
        // Earlier side: u1,u2 at 0-1; later side: u4,u5,u6 at 12-14; the arrival (u3) at 6 min.
        CountedAlert arrival = c("a3", "u3", 6);
        var all = sorted(c("a1", "u1", 0), c("a2", "u2", 1), arrival,
                c("a4", "u4", 12), c("a5", "u5", 13), c("a6", "u6", 14));
        Window w = DistinctUserWindows.fullestWindowContaining(all, arrival, W);
        assertThat(w.userIds()).containsExactly("u3", "u4", "u5", "u6");
        assertThat(w.start()).isEqualTo(6 * MIN);
        assertThat(w.end()).isEqualTo(14 * MIN);
    }

    @Test
    void onATieTheEarliestWindowWins() {
        CountedAlert arrival = c("a2", "u2", 5);
        var all = sorted(c("a1", "u1", 0), arrival, c("a3", "u3", 12));
        Window w = DistinctUserWindows.fullestWindowContaining(all, arrival, W);
        assertThat(w.userIds()).containsExactly("u1", "u2");
    }

    @Test
    void agreesWithCountingEveryWindowAfresh() {
        java.util.Random random = new java.util.Random(42); // fixed seed: the same cases every run
        for (int round = 0; round < 300; round++) {
            List<CountedAlert> all = new ArrayList<>();
            int n = 1 + random.nextInt(25);
            for (int k = 0; k < n; k++) {
                // Coarse times (whole minutes over 40 min) so ties and exact-width gaps occur often.
                all.add(c("a" + k, "u" + random.nextInt(8), random.nextInt(40)));
            }
            all.sort(DistinctUserWindows.TIME_ORDER);
            CountedAlert arrival = all.get(random.nextInt(n));
            Window w = DistinctUserWindows.fullestWindowContaining(all, arrival, W);

            long bestStart = -1;
            int bestUsers = 0;
            for (CountedAlert anchor : all) {
                long s = anchor.eventTime;
                if (s > arrival.eventTime || s <= arrival.eventTime - W) continue;
                long users = all.stream().filter(x -> x.eventTime >= s && x.eventTime < s + W)
                        .map(x -> x.userId).distinct().count();
                if (users > bestUsers || (users == bestUsers && s < bestStart)) {
                    bestUsers = (int) users;
                    bestStart = s;
                }
            }
            long start = bestStart;
            List<String> expected = all.stream().filter(x -> x.eventTime >= start && x.eventTime < start + W)
                    .map(x -> x.alertId).toList();
            assertThat(w.start()).as("round " + round).isEqualTo(bestStart);
            assertThat(w.distinctUsers()).as("round " + round).isEqualTo(bestUsers);
            assertThat(w.alertIds()).as("round " + round).isEqualTo(expected);
            assertThat(w.alerts()).as("round " + round).contains(arrival);
        }
    }

    @Test
    void theArrivalMustBeAmongTheAlerts() {
        assertThatThrownBy(() -> DistinctUserWindows.fullestWindowContaining(
                sorted(c("a1", "u1", 0)), c("x", "u9", 30), W)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void firesWhenTheThresholdIsReachedAndOnlyThen() {
        List<Outcome> out = feed(5, c("a1", "u1", 0), c("a2", "u2", 1), c("a3", "u3", 2), c("a4", "u4", 3),
                c("a5", "u5", 4), c("a6", "u6", 5));
        assertThat(kinds(out)).containsExactly(Kind.COUNTED, Kind.COUNTED, Kind.COUNTED, Kind.COUNTED,
                Kind.FIRED, Kind.JOINED);
        Outcome fired = out.get(4);
        assertThat(fired.window().userIds()).containsExactly("u1", "u2", "u3", "u4", "u5");
        // The episode runs one window past its last alert, and is kept one further window for late alerts.
        assertThat(fired.episode().until).isEqualTo(14 * MIN);
        assertThat(fired.episode().dropAt).isEqualTo(24 * MIN);
        assertThat(out.get(5).episode().until).as("a joining alert extends the episode").isEqualTo(15 * MIN);
        assertThat(out.get(5).episode().dropAt).isEqualTo(25 * MIN);
    }

    @Test
    void theSameUserCountsOnce() {
        List<Outcome> out = feed(3, c("a1", "u1", 0), c("a2", "u1", 1), c("a3", "u1", 2), c("a4", "u2", 3));
        assertThat(kinds(out)).containsOnly(Kind.COUNTED);
        assertThat(out.get(3).window().distinctUsers()).isEqualTo(2);
    }

    @Test
    void usersSpreadWiderThanTheWindowDoNotFire() {
        List<Outcome> out = feed(5, c("a1", "u1", 0), c("a2", "u2", 3), c("a3", "u3", 6), c("a4", "u4", 9),
                c("a5", "u5", 12), c("a6", "u6", 15), c("a7", "u7", 18));
        assertThat(kinds(out)).containsOnly(Kind.COUNTED);
        // Exactly the window apart is outside it too: 0 … 10 min is not "within 10 min".
        out = feed(5, at("b1", "u1", 0), at("b2", "u2", 2 * MIN + MIN / 2), c("b3", "u3", 5),
                at("b4", "u4", 7 * MIN + MIN / 2), c("b5", "u5", 10));
        assertThat(kinds(out)).containsOnly(Kind.COUNTED);
    }

    @Test
    void outOfOrderArrivalFiresOnTheArrivalThatCompletesTheWindow() {
        List<Outcome> out = feed(5, c("a5", "u5", 4), c("a1", "u1", 0), c("a4", "u4", 3), c("a2", "u2", 1),
                c("a3", "u3", 2));
        assertThat(kinds(out)).containsExactly(Kind.COUNTED, Kind.COUNTED, Kind.COUNTED, Kind.COUNTED, Kind.FIRED);
        assertThat(out.get(4).window().userIds()).containsExactly("u1", "u2", "u3", "u4", "u5");
        assertThat(out.get(4).window().start()).isZero();
        assertThat(out.get(4).window().end()).isEqualTo(4 * MIN);
    }

    @Test
    void aNewEpisodeStartsOnlyOnceNoAlertOfTheOldOneCanShareItsWindow() {
        List<Outcome> out = feed(3,
                c("a1", "u1", 0), c("a2", "u2", 1), c("a3", "u3", 2),      // fires; episode until 12
                c("a4", "u4", 11),                                             // joins; until 21
                c("a5", "u5", 21), c("a6", "u6", 22), c("a7", "u7", 23));   // at/after 21: a new episode
        assertThat(kinds(out)).containsExactly(Kind.COUNTED, Kind.COUNTED, Kind.FIRED, Kind.JOINED,
                Kind.COUNTED, Kind.COUNTED, Kind.FIRED);
        assertThat(out.get(3).episode().until).isEqualTo(21 * MIN);
        assertThat(out.get(6).window().userIds()).containsExactly("u5", "u6", "u7");
        assertThat(out.get(6).episode().until).isEqualTo(33 * MIN);
    }

    @Test
    void aLateAlertBridgingToEarlierArrivalsPullsThemIntoTheEpisode() {
        // u9 at 20 min arrived early (out of order) and did not fire; u4 at 11 min joins the
        // episode and bridges to it, so the episode runs to 30 min: u9 and u10 raise nothing new.
        List<Outcome> out = feed(3, c("a9", "u9", 20), c("a1", "u1", 0), c("a2", "u2", 1), c("a3", "u3", 2),
                c("a4", "u4", 11), c("a10", "u10", 25), c("a11", "u11", 29));
        assertThat(kinds(out)).containsExactly(Kind.COUNTED, Kind.COUNTED, Kind.COUNTED, Kind.FIRED,
                Kind.JOINED, Kind.JOINED, Kind.JOINED);
        assertThat(out.get(4).episode().until).isEqualTo(30 * MIN);
    }

    @Test
    void theEpisodeEndFollowsTheChainOfAlertsLessThanAWindowApart() {
        var all = sorted(c("a1", "u1", 0), c("a2", "u2", 9), c("a3", "u3", 18), c("a4", "u4", 27), c("a5", "u5", 40));
        assertThat(DistinctUserWindows.episodeEnd(all, 10 * MIN, W)).isEqualTo(37 * MIN);
        assertThat(DistinctUserWindows.episodeEnd(all, 5 * MIN, W)).isEqualTo(37 * MIN);
        // A gap of exactly one window breaks the chain.
        var broken = sorted(c("a1", "u1", 0), c("a2", "u2", 9), c("a3", "u3", 19), c("a4", "u4", 25));
        assertThat(DistinctUserWindows.episodeEnd(broken, 10 * MIN, W)).isEqualTo(19 * MIN);
        assertThat(DistinctUserWindows.episodeEnd(List.of(), 5 * MIN, W)).isEqualTo(5 * MIN);
    }

    @Test
    void theEarliestCrossingIsTheFirstAlertTimeWhoseWindowHoldsEnoughUsers() {
        // Read as a backlog: u5…u9 at 3…7 min (one a minute) and u0…u4 at 0…4 min; in time order
        // the 5th user fell at 3 min (u0, u1, u2, then u3 and u5, both at 3 min).
        List<CountedAlert> all = new ArrayList<>();
        for (int m = 3; m <= 7; m++) all.add(c("a" + m, "u" + (m + 2), m));
        for (int m = 0; m <= 4; m++) all.add(c("b" + m, "u" + m, m));
        all.sort(DistinctUserWindows.TIME_ORDER);
        Window w = DistinctUserWindows.earliestCrossing(all, Long.MIN_VALUE, W, 5);
        assertThat(w.end()).isEqualTo(3 * MIN);
        assertThat(w.crossedAt(5)).isEqualTo(3 * MIN);
        assertThat(w.crossing(5).alertId).as("a3 before b3 at the same time (alert id order)").isEqualTo("b3");
        assertThat(w.alertIds()).containsExactly("b0", "b1", "b2", "a3", "b3");
        assertThat(w.userIds()).containsExactly("u0", "u1", "u2", "u5", "u3");
        assertThat(w.start()).isZero();
        // Not before the end of an episode in force; and none where there is none.
        assertThat(DistinctUserWindows.earliestCrossing(all, 3 * MIN + 1, W, 5).end())
                .as("u6, u4, u7, u8, u9 from 4 min").isEqualTo(7 * MIN);
        assertThat(DistinctUserWindows.earliestCrossing(all, 8 * MIN, W, 5)).isNull();
        assertThat(DistinctUserWindows.earliestCrossing(all, Long.MIN_VALUE, W, 11)).isNull();
        assertThat(DistinctUserWindows.earliestCrossing(all, MIN, W, 5).alertIds())
                .as("alerts before an episode's end are not counted again").startsWith("b1", "b2", "a3", "b3");
        assertThat(DistinctUserWindows.earliestCrossing(List.of(), Long.MIN_VALUE, W, 2)).isNull();
    }

    @Test
    void theEarliestCrossingWindowIsLessThanAWidthWide() {
        // u1 at 0 and u3 at 10 min are exactly a window apart: the window ending at 10 min is (0, 10].
        var all = sorted(c("a1", "u1", 0), c("a2", "u2", 5), c("a3", "u3", 10));
        assertThat(DistinctUserWindows.earliestCrossing(all, Long.MIN_VALUE, W, 3)).isNull();
        all = sorted(c("a1", "u1", 0), c("a2", "u2", 5), at("a3", "u3", W - 1));
        assertThat(DistinctUserWindows.earliestCrossing(all, Long.MIN_VALUE, W, 3).alertIds())
                .containsExactly("a1", "a2", "a3");
    }

    @Test
    void theEarliestCrossingAgreesWithCheckingEveryAlertTimeAfresh() {
        java.util.Random random = new java.util.Random(4242); // fixed seed: the same cases every run
        int found = 0;
        for (int round = 0; round < 500; round++) {
            List<CountedAlert> all = new ArrayList<>();
            int n = random.nextInt(30);
            for (int k = 0; k < n; k++) {
                // Coarse times (whole minutes over 40 min) so ties and exact-width gaps occur often.
                all.add(c("a" + k, "u" + random.nextInt(10), random.nextInt(40)));
            }
            all.sort(DistinctUserWindows.TIME_ORDER);
            int minUsers = 2 + random.nextInt(5);
            long from = random.nextInt(4) == 0 ? Long.MIN_VALUE : random.nextInt(40) * MIN;
            Window w = DistinctUserWindows.earliestCrossing(all, from, W, minUsers);

            List<String> expected = null;
            long expectedEnd = -1;
            for (CountedAlert candidate : all) { // in time order: the first that holds enough users
                long t = candidate.eventTime;
                if (t < from) continue;
                List<CountedAlert> in = all.stream()
                        .filter(x -> x.eventTime >= from && x.eventTime > t - W && x.eventTime <= t).toList();
                if (in.stream().map(x -> x.userId).distinct().count() >= minUsers) {
                    expected = in.stream().map(x -> x.alertId).toList();
                    expectedEnd = t;
                    break;
                }
            }
            if (expected == null) {
                assertThat(w).as("round " + round).isNull();
                continue;
            }
            found++;
            assertThat(w).as("round " + round).isNotNull();
            assertThat(w.end()).as("round " + round).isEqualTo(expectedEnd);
            assertThat(w.alertIds()).as("round " + round).isEqualTo(expected);
            assertThat(w.distinctUsers()).as("round " + round).isGreaterThanOrEqualTo(minUsers);
            assertThat(w.crossedAt(minUsers)).as("round " + round + ": crossed at its end").isEqualTo(expectedEnd);
        }
        assertThat(found).as("the cases include crossings and none").isBetween(50, 450);
    }

    @Test
    void readingAheadIsACrossingFurtherThanTheLeadAheadOfTheWatermarkOrNoWatermarkYet() {
        assertThat(DistinctUserWindows.readingAhead(10 * MIN, 9 * MIN, MIN)).isFalse();
        assertThat(DistinctUserWindows.readingAhead(10 * MIN, 9 * MIN - 1, MIN)).isTrue();
        assertThat(DistinctUserWindows.readingAhead(10 * MIN, 20 * MIN, MIN)).as("behind the watermark").isFalse();
        assertThat(DistinctUserWindows.readingAhead(10 * MIN, 10 * MIN, 0)).isFalse();
        assertThat(DistinctUserWindows.readingAhead(10 * MIN, Long.MIN_VALUE, Long.MAX_VALUE)).isTrue();
    }

    @Test
    void keepsEachAlertOneWindowPlusOneWindowOfLateness() {
        assertThat(DistinctUserWindows.keepUntil(5 * MIN, W)).isEqualTo(25 * MIN);
    }

    @Test
    void describesWindowsAsPeopleWriteThem() {
        assertThat(DistinctUserWindows.describe(10 * MIN)).isEqualTo("10 min");
        assertThat(DistinctUserWindows.describe(60 * MIN)).isEqualTo("1 h");
        assertThat(DistinctUserWindows.describe(90_000)).isEqualTo("90 s");
        assertThat(DistinctUserWindows.describe(1_500)).isEqualTo("1500 ms");
    }
}
