package io.tourniquet.rules.platform;

import io.tourniquet.detect.AlertEpisode;
import io.tourniquet.detect.CountedAlert;
import io.tourniquet.config.Settings;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.flink.api.common.functions.RuntimeContext;
import org.apache.flink.api.common.state.MapState;
import org.apache.flink.api.common.state.MapStateDescriptor;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.streaming.api.TimerService;

/**
 * "At least N distinct users within a sliding window of width W", in episodes: the counting that
 * bulk draining and destination concentration share (contract section 2), for one key.
 *
 * <p><b>Windows.</b> Alerts arrive out of order (from several upstream subtasks, some decided
 * after a grace), so a sliding window cannot simply trail the newest alert. On each arrival every
 * window of width W that contains the new alert is checked; a window's distinct users only change
 * at alert times, so it is enough to anchor windows at the counted alerts' times: window
 * {@code [s, s + W)} for every alert time {@code s} in {@code (t - W, t]}. "Within the window"
 * therefore means less than W apart: alerts exactly W apart never share one.
 *
 * <p><b>Episodes.</b> A key fires once per episode: when a window reaches N users the episode
 * runs until its last alert + W; every later-counted alert before that end joins it (and pushes
 * the end to its own time + W) without a new alert, because the incident tracker adds them to
 * the incident. Only an alert at or after the end can start, and fire, a new episode; by then no
 * alert of the old one can share a window with it.
 *
 * <p><b>Lateness and state.</b> An alert's event time can trail the watermark (an unauthorized
 * approval is decided a grace after it happened, or on the wall clock when event time stalls),
 * so each counted alert, and the episode, is kept one further window of event time before an
 * event-time timer forgets it: a late alert still meets the alerts it shares a window with and
 * still joins the episode it belongs to. Timers are never deleted (one that finds nothing due
 * does nothing), and every kept thing carries its own forget time, so state drains even when an
 * analyst changes the window meanwhile.
 *
 * <p><b>Reading ahead of event time.</b> Live, alerts arrive roughly in event-time order, so
 * firing on the arrival that completes a window is right and fast. Reading a backlog (a replay,
 * catching up after an outage), parallel readers race through hours of event time: one
 * partition's victims all arrive before another's, and the window completed first holds the
 * "wrong" N users, crossed minutes after the true crossing that the platform's suspension (and
 * the incident's {@code contained_at}) should be dated at. So when an arrival would fire at a
 * crossing further than {@code maxLead} ahead of the operator's watermark (or before any
 * watermark), it only marks a decision as due at that crossing and registers an event-time timer
 * there; arrivals meanwhile are counted (they join an episode in force as usual, but fire
 * nothing). When the watermark reaches the due time everything before it has arrived (late data
 * excepted), and the counted alerts are judged in time order: the earliest crossing fires, dated
 * at it and naming that window's alerts, and the episode logic goes on from there. The criterion
 * is event time only: live, the watermark trails the newest alert by less than the lead
 * ({@code input.max-out-of-orderness} and the unauthorized-approval grace), so nothing changes.
 */
final class DistinctUserWindows {
    static final MapStateDescriptor<String, CountedAlert> COUNTED =
            new MapStateDescriptor<>("counted-alerts", String.class, CountedAlert.class);
    static final ValueStateDescriptor<AlertEpisode> EPISODE =
            new ValueStateDescriptor<>("episode", AlertEpisode.class);
    /** Event time at which a decision put off while reading ahead of event time is due. */
    static final ValueStateDescriptor<Long> DUE = new ValueStateDescriptor<>("decision-due", Long.class);
    /**
     * The latest event time among the counted alerts, or later (forgetting alerts leaves it as it
     * is: it is only ever an upper bound). Absent in state from before it existed: then the first
     * arrival reads the counted alerts in full, as before, and sets it.
     */
    static final ValueStateDescriptor<Long> LATEST = new ValueStateDescriptor<>("counted-latest", Long.class);
    /** The window width the episode in force was last worked out with (see {@link #add}). */
    static final ValueStateDescriptor<Long> EPISODE_WIDTH = new ValueStateDescriptor<>("episode-width", Long.class);

    /** {@code rule.platform.max-lead} by default (ms), for callers that do not configure it. */
    static final long DEFAULT_MAX_LEAD_MILLIS = Settings.PLATFORM_MAX_LEAD
            .parse(Settings.PLATFORM_MAX_LEAD.defaultText()).toMillis();

    static long checkMaxLead(long maxLeadMillis) {
        if (maxLeadMillis < 0) throw new IllegalArgumentException("max lead must not be negative: " + maxLeadMillis);
        return maxLeadMillis;
    }

    /** Time order; the alert id breaks ties so the same input always gives the same window. */
    static final Comparator<CountedAlert> TIME_ORDER = Comparator
            .comparingLong((CountedAlert c) -> c.eventTime)
            .thenComparing(c -> c.alertId);

    private final MapState<String, CountedAlert> counted;
    private final ValueState<AlertEpisode> episode;
    private final ValueState<Long> due;
    private final ValueState<Long> latest;
    private final ValueState<Long> episodeWidth;
    /** Arrivals that joined the episode in force without reading the counted alerts (a metric). */
    private volatile long joinedInPlace;
    /**
     * How long after a crossing in event time the alerts that could precede it may still arrive
     * (alerts that are themselves decided some event time after their own time, such as an
     * unauthorized approval after its grace): a due decision waits for the watermark to pass the
     * crossing by this much.
     */
    private final long settleMillis;

    DistinctUserWindows(RuntimeContext runtime) {
        this(runtime, 0L);
    }

    DistinctUserWindows(RuntimeContext runtime, long settleMillis) {
        if (settleMillis < 0) throw new IllegalArgumentException("settle must not be negative: " + settleMillis);
        this.settleMillis = settleMillis;
        this.counted = runtime.getMapState(COUNTED);
        this.episode = runtime.getState(EPISODE);
        this.due = runtime.getState(DUE);
        this.latest = runtime.getState(LATEST);
        this.episodeWidth = runtime.getState(EPISODE_WIDTH);
    }

    /** How many arrivals so far joined the episode in force in constant time (see {@link #add}). */
    long joinedInPlace() {
        return joinedInPlace;
    }

    /** What one arrival did. */
    enum Kind {
        /** An alert id already counted (redelivered): nothing changes. */
        DUPLICATE,
        /** Counted; no window containing it reaches the threshold. */
        COUNTED,
        /** Counted into the episode already fired: no new alert. */
        JOINED,
        /** Its arrival made a window reach the threshold: a new episode, to be alerted. */
        FIRED,
        /**
         * Its arrival made a window reach the threshold, but far ahead of event time (or while a
         * decision is already due): counted, and judged when the watermark reaches the crossing.
         */
        DEFERRED
    }

    /**
     * @param window  on {@link Kind#FIRED} and {@link Kind#DEFERRED}, the window that reached the
     *                threshold with the arrival; else the fullest window containing the arrival
     *                (for {@link Kind#COUNTED}) or null
     * @param episode the episode in force after the arrival (null if none)
     */
    record Outcome(Kind kind, Window window, AlertEpisode episode) {}

    /**
     * The alerts counted in one window, in time order; {@code start}/{@code end} are the first and
     * last of their event times, {@code userIds} the distinct users in order of first appearance.
     */
    record Window(long start, long end, List<CountedAlert> alerts, List<String> userIds) {
        int distinctUsers() {
            return userIds.size();
        }

        List<String> alertIds() {
            return alerts.stream().map(a -> a.alertId).toList();
        }

        /**
         * When (event time) the window first held {@code minUsers} distinct users: the time of the
         * alert that brought the {@code minUsers}-th user. This, not the time of the alert that
         * happened to arrive last, is when the threshold was crossed; alerts from parallel
         * detectors can arrive in any order, most of all in a replay.
         */
        long crossedAt(int minUsers) {
            return crossing(minUsers).eventTime;
        }

        /** The alert that brought the {@code minUsers}-th user (the last one if it never got there). */
        CountedAlert crossing(int minUsers) {
            Set<String> seen = new HashSet<>();
            for (CountedAlert a : alerts) {
                if (seen.add(a.userId) && seen.size() == minUsers) return a;
            }
            return alerts.get(alerts.size() - 1);
        }

        List<String> eventIds() {
            return alerts.stream().flatMap(a -> a.eventIds.stream()).distinct().toList();
        }

        List<String> withdrawalIds() {
            return alerts.stream().flatMap(a -> a.withdrawalIds.stream()).distinct().toList();
        }
    }

    /**
     * Counts one alert for the current key, registering the timers that will forget it. A window
     * it completes fires now, unless its crossing is more than {@code maxLead} ahead of the
     * watermark or a decision is already due: then the decision is due at the earliest such
     * crossing, for {@link #decideDue} on the timer registered there.
     */
    Outcome add(CountedAlert arrival, long width, int minUsers, long maxLead, TimerService timers) throws Exception {
        if (counted.contains(arrival.alertId)) return new Outcome(Kind.DUPLICATE, null, episode.value());
        arrival.keepUntil = keepUntil(arrival.eventTime, width);
        counted.put(arrival.alertId, arrival);
        timers.registerEventTimeTimer(onForgetGrid(arrival.keepUntil));
        AlertEpisode before = episode.value();
        Long latestBefore = latest.value();
        // A flood (thousands of victims in one episode, on the one key every freeze passes
        // through) made reading and sorting every counted alert per arrival quadratic. An arrival
        // inside the episode in force only joins it, and then the episode's new end needs only
        // the arrival, not the other alerts: every counted alert before the end is already at
        // least a width before it (the episode's end was worked out so, with this width), and
        // when no counted alert lies at or after the end (the latest is before it) none can be
        // chained in by the end moving out. Exactly what decide() gives, in O(1) state accesses.
        if (before != null && arrival.eventTime < before.until && latestBefore != null
                && latestBefore < before.until && Long.valueOf(width).equals(episodeWidth.value())) {
            joinedInPlace++;
            long until = Math.max(before.until, arrival.eventTime + width);
            if (arrival.eventTime > latestBefore) latest.update(arrival.eventTime);
            if (until == before.until) return new Outcome(Kind.JOINED, null, before);
            AlertEpisode grown = new AlertEpisode(until, Math.max(before.dropAt, until + lateness(width)));
            episode.update(grown);
            timers.registerEventTimeTimer(onForgetGrid(grown.dropAt));
            return new Outcome(Kind.JOINED, null, grown);
        }
        List<CountedAlert> all = new ArrayList<>();
        long newest = Long.MIN_VALUE;
        for (CountedAlert c : counted.values()) {
            all.add(c);
            newest = Math.max(newest, c.eventTime);
        }
        latest.update(newest);
        Outcome outcome = decide(all, arrival, before, width, minUsers);
        if (outcome.kind() == Kind.FIRED) {
            long crossed = outcome.window().crossedAt(minUsers);
            Long dueAt = due.value();
            if (dueAt != null || readingAhead(crossed + settleMillis, timers.currentWatermark(), maxLead)) {
                // Once a decision is due, firing on a later arrival could pass over an earlier
                // crossing still unjudged: every crossing waits for event time until then.
                if (dueAt == null || crossed < dueAt) {
                    due.update(crossed);
                    timers.registerEventTimeTimer(crossed + settleMillis);
                }
                return new Outcome(Kind.DEFERRED, outcome.window(), before);
            }
        }
        if (outcome.episode() != null && !outcome.episode().equals(before)) {
            episode.update(outcome.episode());
            timers.registerEventTimeTimer(onForgetGrid(outcome.episode().dropAt));
        }
        if (outcome.kind() == Kind.JOINED || outcome.kind() == Kind.FIRED) episodeWidth.update(width);
        return outcome;
    }

    /**
     * On an event-time timer at {@code timestamp}: if a decision is due by then, judges the counted
     * alerts in time order and returns the windows to alert, earliest first (normally one): each
     * the earliest crossing after the episode in force, which it then starts. A crossing still
     * ahead of {@code timestamp} (an episode's growth swallowed the one that was due) is due in
     * turn; none at all, and nothing happens. Call after {@link #forgetDue}.
     */
    List<Window> decideDue(long timestamp, long width, int minUsers, TimerService timers) throws Exception {
        Long dueAt = due.value();
        long judged = timestamp - settleMillis; // everything up to here has arrived
        if (dueAt == null || dueAt > judged) return List.of(); // timers are never deleted
        due.clear();
        List<CountedAlert> sorted = new ArrayList<>();
        for (CountedAlert c : counted.values()) sorted.add(c);
        sorted.sort(TIME_ORDER);
        List<Window> fired = new ArrayList<>();
        AlertEpisode current = episode.value();
        while (true) {
            Window w = earliestCrossing(sorted, current == null ? Long.MIN_VALUE : current.until, width, minUsers);
            if (w == null) break;
            if (w.end() > judged) {
                due.update(w.end());
                timers.registerEventTimeTimer(w.end() + settleMillis);
                break;
            }
            fired.add(w);
            long until = episodeEnd(sorted, w.end() + width, width);
            current = new AlertEpisode(until, until + lateness(width));
            episode.update(current);
            episodeWidth.update(width);
            timers.registerEventTimeTimer(onForgetGrid(current.dropAt));
        }
        return fired;
    }

    /** Forgets what event time {@code timestamp} has made useless; returns how many alerts it forgot. */
    int forgetDue(long timestamp) throws Exception {
        List<String> due = new ArrayList<>();
        for (Map.Entry<String, CountedAlert> e : counted.entries()) {
            if (e.getValue().keepUntil <= timestamp) due.add(e.getKey());
        }
        for (String id : due) counted.remove(id);
        if (counted.isEmpty()) latest.clear();
        AlertEpisode current = episode.value();
        if (current != null && current.dropAt <= timestamp) {
            episode.clear();
            episodeWidth.clear();
        }
        return due.size();
    }

    // ---- the counting itself: pure functions over the counted alerts, tested on their own ----

    /**
     * Whether a window crossed at {@code crossedAt} is further than {@code maxLead} ahead of the
     * watermark: alerts that belong before it may still be on their way. Before the first
     * watermark nothing is known of event time, and a backlog's first alerts come before it.
     */
    static boolean readingAhead(long crossedAt, long watermark, long maxLead) {
        return watermark == Long.MIN_VALUE || crossedAt - watermark > maxLead;
    }

    /** Forgetting happens on a grid of event time this fine (see {@link #onForgetGrid}). */
    static final long FORGET_GRID_MILLIS = 60_000L;

    /**
     * The timer that forgets something due at {@code dueAt}: the next point of a one-minute grid.
     * One timer per alert, each of which read every counted alert to find what was due, made a
     * flood lasting longer than two windows quadratic; on the grid a key has at most one such
     * timer per minute of event time. Forgetting up to a minute late changes nothing for alerts
     * that arrive in time; one more than a window late may still meet an alert it shares a window with.
     */
    static long onForgetGrid(long dueAt) {
        long rem = Math.floorMod(dueAt, FORGET_GRID_MILLIS);
        return rem == 0 || dueAt > Long.MAX_VALUE - FORGET_GRID_MILLIS ? dueAt : dueAt - rem + FORGET_GRID_MILLIS;
    }

    /** A counted alert may still share a window with an alert up to one window late. */
    static long keepUntil(long eventTime, long width) {
        return eventTime + width + lateness(width);
    }

    /** How far behind the watermark an arriving alert's event time may be and still be counted in full. */
    static long lateness(long width) {
        return width;
    }

    /**
     * What the arrival of {@code arrival} (already among {@code all}) does, given the episode in
     * force ({@code null} if none).
     */
    static Outcome decide(Collection<CountedAlert> all, CountedAlert arrival, AlertEpisode current, long width,
                          int minUsers) {
        List<CountedAlert> sorted = new ArrayList<>(all);
        sorted.sort(TIME_ORDER);
        if (current != null && arrival.eventTime < current.until) {
            long until = episodeEnd(sorted, current.until, width);
            return new Outcome(Kind.JOINED, null, until == current.until ? current
                    : new AlertEpisode(until, Math.max(current.dropAt, until + lateness(width))));
        }
        Window fullest = fullestWindowContaining(sorted, arrival, width);
        if (fullest.distinctUsers() < minUsers) return new Outcome(Kind.COUNTED, fullest, current);
        long until = episodeEnd(sorted, fullest.end() + width, width);
        return new Outcome(Kind.FIRED, fullest, new AlertEpisode(until, until + lateness(width)));
    }

    /**
     * Among the windows of width {@code width} that contain {@code arrival}, the one with the most
     * distinct users (the earliest on a tie). {@code sorted} is in {@link #TIME_ORDER} and holds
     * {@code arrival}.
     */
    static Window fullestWindowContaining(List<CountedAlert> sorted, CountedAlert arrival, long width) {
        // One pass with two pointers: window [sorted[i].time, + width) holds sorted[i..j), and
        // alertsOf counts each user's alerts in it, so a burst of thousands of alerts stays linear.
        long t = arrival.eventTime;
        Map<String, Integer> alertsOf = new HashMap<>();
        int bestFrom = -1;
        int bestTo = -1;
        int bestUsers = 0;
        int j = 0;
        for (int i = 0; i < sorted.size(); i++) {
            long start = sorted.get(i).eventTime;
            if (start > t) break;
            boolean anchor = start > t - width && (i == 0 || sorted.get(i - 1).eventTime != start);
            if (anchor) {
                if (j < i) j = i;
                while (j < sorted.size() && sorted.get(j).eventTime < start + width) {
                    alertsOf.merge(sorted.get(j).userId, 1, Integer::sum);
                    j++;
                }
                if (alertsOf.size() > bestUsers) {
                    bestUsers = alertsOf.size();
                    bestFrom = i;
                    bestTo = j;
                }
            }
            if (j > i) alertsOf.computeIfPresent(sorted.get(i).userId, (u, n) -> n == 1 ? null : n - 1);
        }
        if (bestFrom < 0) throw new IllegalArgumentException("the arrival " + arrival + " is not among the alerts");
        return windowOf(sorted.subList(bestFrom, bestTo));
    }

    /**
     * The earliest crossing at or after {@code from}: for the first alert time {@code t >= from}
     * at which the alerts in {@code (t - width, t]} hold at least {@code minUsers} distinct users,
     * that window (all alerts at {@code t} included, so its end is {@code t} and it crossed at
     * {@code t}); null if there is none. {@code sorted} is in {@link #TIME_ORDER}. Alerts before
     * {@code from} belong to the episode in force and are not counted again; they are all at
     * least a width before its end anyway (see {@link #episodeEnd}) unless an analyst has since
     * widened the window.
     */
    static Window earliestCrossing(List<CountedAlert> sorted, long from, long width, int minUsers) {
        // Two pointers: sorted[i..j) is the window ending at the time of sorted[j - 1].
        Map<String, Integer> alertsOf = new HashMap<>();
        int i = 0;
        while (i < sorted.size() && sorted.get(i).eventTime < from) i++;
        int j = i;
        while (j < sorted.size()) {
            long t = sorted.get(j).eventTime;
            while (j < sorted.size() && sorted.get(j).eventTime == t) {
                alertsOf.merge(sorted.get(j).userId, 1, Integer::sum);
                j++;
            }
            while (sorted.get(i).eventTime <= t - width) {
                alertsOf.computeIfPresent(sorted.get(i).userId, (u, n) -> n == 1 ? null : n - 1);
                i++;
            }
            if (alertsOf.size() >= minUsers) return windowOf(sorted.subList(i, j));
        }
        return null;
    }

    private static Window windowOf(List<CountedAlert> alerts) {
        List<CountedAlert> in = List.copyOf(alerts);
        Set<String> users = new LinkedHashSet<>();
        for (CountedAlert c : in) users.add(c.userId);
        return new Window(in.get(0).eventTime, in.get(in.size() - 1).eventTime, in, List.copyOf(users));
    }

    /**
     * Where an episode that runs at least until {@code until} ends: every alert before the end
     * belongs to it and pushes the end to its own time + {@code width}, so that no alert of the
     * episode can share a window with one at or after the end.
     */
    static long episodeEnd(List<CountedAlert> sorted, long until, long width) {
        long end = until;
        for (CountedAlert c : sorted) {
            if (c.eventTime >= end) break;
            end = Math.max(end, c.eventTime + width);
        }
        return end;
    }

    /** A window width as people write it, e.g. {@code 10 min}, {@code 90 s}. */
    static String describe(long millis) {
        if (millis % 3_600_000L == 0) return millis / 3_600_000L + " h";
        if (millis % 60_000L == 0) return millis / 60_000L + " min";
        if (millis % 1_000L == 0) return millis / 1_000L + " s";
        return millis + " ms";
    }
}
