package io.tourniquet.forensics;

import io.tourniquet.forensics.Activities.Activity;
import io.tourniquet.forensics.AttackerInfrastructure.AttackerInfra;
import io.tourniquet.forensics.Claims.IncidentClaims;
import io.tourniquet.forensics.Incidents.IncidentView;
import io.tourniquet.forensics.RootCauses.RootCause;
import java.time.Duration;
import java.time.Instant;
import java.util.List;

/**
 * Everything an incident report shows, each part the answer of the same {@link Forensics} method
 * the CLI calls ({@code incident}, {@code root-cause --incident}, {@code attacker-infra --incident}
 * with its default limit, {@code claims --incident}), plus the activity histogram behind the chart. {@link HtmlReport} renders
 * it without asking anything else.
 *
 * @param generatedAt when the report was made (wall clock), shown in its footer
 * @param chart       the span of event time the chart covers: the incident from its start to its
 *                    last alert or its containment, whichever is later, with a margin
 */
public record ReportData(Instant generatedAt, IncidentView incident, TimeRange window, RootCause rootCause,
                         AttackerInfra attackerInfra, Activity activity, TimeRange chart, IncidentClaims claims,
                         List<Verdicts.VerdictView> verdicts) {

    /** A report without analysts' verdicts. */
    public ReportData(Instant generatedAt, IncidentView incident, TimeRange window, RootCause rootCause,
                      AttackerInfra attackerInfra, Activity activity, TimeRange chart, IncidentClaims claims) {
        this(generatedAt, incident, window, rootCause, attackerInfra, activity, chart, claims, List.of());
    }

    /** As many values of each kind of attacker infrastructure as {@code forensics attacker-infra} shows. */
    public static final int INFRA_LIMIT = 20;
    /** The chart's bucket sizes, the finest that keeps it within {@link #MAX_BARS} bars is taken. */
    static final List<Duration> INTERVALS = List.of(Duration.ofMinutes(1), Duration.ofMinutes(2),
            Duration.ofMinutes(5), Duration.ofMinutes(10), Duration.ofMinutes(15), Duration.ofMinutes(30),
            Duration.ofHours(1), Duration.ofHours(2), Duration.ofHours(6), Duration.ofHours(12), Duration.ofDays(1));
    static final int MAX_BARS = 120;
    /** Least margin on each side of the incident, so the first bars and the start line are not on the edge. */
    static final Duration MIN_MARGIN = Duration.ofMinutes(2);

    /**
     * Asks {@code forensics} everything the report of {@code incidentId} shows. {@code interval}:
     * the chart's bucket size, or null for the finest of {@link #INTERVALS} giving at most
     * {@link #MAX_BARS} bars (per minute for an incident of up to about 1.5 hours).
     */
    public static ReportData assemble(Forensics forensics, String incidentId, Duration interval, Instant now) {
        IncidentView incident = forensics.incident(incidentId);
        TimeRange span = chartSpan(incident);
        Duration step = interval != null ? interval : interval(span);
        TimeRange chart = align(span, step);
        return new ReportData(now, incident, forensics.window(incident),
                forensics.rootCause(incidentId, TimeRange.ALL),
                forensics.attackerInfra(incidentId, TimeRange.ALL, false, INFRA_LIMIT),
                forensics.activity(incidentId, chart, step), chart, forensics.claims(incidentId),
                forensics.incidentVerdicts(incidentId));
    }

    /** From the start to the later of the last alert and containment, widened by a tenth (at least 2 min) each side. */
    static TimeRange chartSpan(IncidentView i) {
        Instant end = i.lastAlertAt();
        if (i.containedAt() != null && i.containedAt().isAfter(end)) end = i.containedAt();
        Duration margin = Duration.between(i.startedAt(), end).dividedBy(10);
        if (margin.compareTo(MIN_MARGIN) < 0) margin = MIN_MARGIN;
        return new TimeRange(i.startedAt().minus(margin), end.plus(margin));
    }

    static Duration interval(TimeRange span) {
        long ms = Duration.between(span.since(), span.until()).toMillis();
        for (Duration d : INTERVALS) {
            if (ms / d.toMillis() + 2 <= MAX_BARS) return d;
        }
        return INTERVALS.get(INTERVALS.size() - 1);
    }

    /** The span widened to whole buckets, so the first and last bars are as wide as the others. */
    static TimeRange align(TimeRange span, Duration step) {
        long s = step.toMillis();
        long from = Math.floorDiv(span.since().toEpochMilli(), s) * s;
        long to = Math.floorDiv(span.until().toEpochMilli() + s - 1, s) * s;
        return new TimeRange(Instant.ofEpochMilli(from), Instant.ofEpochMilli(Math.max(to, from + s)));
    }
}
