package io.tourniquet.forensics;

import co.elastic.clients.elasticsearch._types.query_dsl.Query;
import io.tourniquet.util.Times;
import java.time.Instant;

/**
 * A span of event time: {@code since} inclusive, {@code until} exclusive; either end may be open
 * (null). Every forensic question can be narrowed to one.
 */
public record TimeRange(Instant since, Instant until) {
    public static final TimeRange ALL = new TimeRange(null, null);

    public TimeRange {
        if (since != null && until != null && since.isAfter(until)) {
            throw new IllegalArgumentException("--since (" + since + ") is after --until (" + until + ")");
        }
    }

    /** The closed span {@code [from, to]}, as a range whose exclusive end is one millisecond later. */
    public static TimeRange closed(Instant from, Instant to) {
        return new TimeRange(from, to == null ? null : to.plusMillis(1));
    }

    public boolean unbounded() {
        return since == null && until == null;
    }

    /** Both ranges at once; an empty intersection is a range of zero length at its start. */
    public TimeRange intersect(TimeRange other) {
        Instant s = later(since, other.since);
        Instant u = earlier(until, other.until);
        if (s != null && u != null && s.isAfter(u)) u = s;
        return new TimeRange(s, u);
    }

    /** A range query on a date field, or null when the range is unbounded. */
    Query query(String field) {
        if (unbounded()) return null;
        return Query.of(q -> q.range(r -> r.date(d -> {
            d.field(field);
            if (since != null) d.gte(Times.format(since.toEpochMilli()));
            if (until != null) d.lt(Times.format(until.toEpochMilli()));
            return d;
        })));
    }

    @Override
    public String toString() {
        return "[" + (since == null ? "-inf" : Times.format(since.toEpochMilli())) + ", "
                + (until == null ? "+inf" : Times.format(until.toEpochMilli())) + ")";
    }

    private static Instant later(Instant a, Instant b) {
        if (a == null) return b;
        if (b == null) return a;
        return a.isAfter(b) ? a : b;
    }

    private static Instant earlier(Instant a, Instant b) {
        if (a == null) return b;
        if (b == null) return a;
        return a.isBefore(b) ? a : b;
    }
}
