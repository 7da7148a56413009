package io.tourniquet.forensics;

import co.elastic.clients.elasticsearch._types.query_dsl.Query;
import co.elastic.clients.elasticsearch.core.SearchResponse;
import com.fasterxml.jackson.databind.JsonNode;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/** One account's history: its events, the alerts about it and the commands on it, in time order. */
public final class Timelines extends ForensicsQuery {
    private final Verdicts verdictLookup;

    Timelines(Context context, Verdicts verdictLookup) {
        super(context);
        this.verdictLookup = verdictLookup;
    }

    /**
     * One line of an account's history: an input event, an alert about the account, or a command
     * on it. Fields that do not apply are null.
     *
     * @param source  {@code event}, {@code alert} or {@code action}
     * @param kind    the event's {@code event.action} (login, challenge_verified, withdrawal_approved,
     *                whitelist_address_added, ...), the alert's rule, or the command
     * @param outcome the event's outcome (success, failure, unknown), the alert's severity, or the
     *                command's reason
     * @param detail  a one-line human summary
     */
    public record TimelineEntry(Instant time, String source, String kind, String id, String outcome, String ip,
                                String deviceId, Boolean jailbroken, String sessionId, String withdrawalId,
                                String status, String asset, String amount, String destination,
                                Boolean mfaAuthorized, String incidentId, String detail) {
    }

    /**
     * An account's history in time order, at most {@code limit} entries.
     *
     * @param events   how many events the account has in the range (all of them, not just those shown)
     * @param truncated whether entries were left out because of the limit
     */
    public record Timeline(String userId, TimeRange range, List<TimelineEntry> entries, long events, long alerts,
                           long actions, boolean truncated) {
    }

    /**
     * Every event, alert and action of one account in time order: one sorted query per index, each
     * at most {@code limit} hits, merged by time. Alerts count when they are about the account or
     * name it among the users of a platform-wide alert. {@link UnknownIdException} if none of the
     * three indexes has anything on the account in the range.
     */
    public Timeline timeline(String userId, TimeRange range, int limit) {
        if (limit < 1) throw new IllegalArgumentException("--limit must be at least 1");
        SearchResponse<JsonNode> ev = search(s -> s.index(events).size(limit).trackTotalHits(t -> t.enabled(true))
                .query(and(term("user.id", userId), range.query("@timestamp")))
                .sort(byTime("@timestamp")).sort(byKeyword("event.id")), JsonNode.class);
        Query aboutUser = Query.of(q -> q.bool(b -> b.minimumShouldMatch("1")
                .should(term("user_id", userId)).should(term("evidence.user_ids", userId))));
        SearchResponse<JsonNode> al = search(s -> s.index(alerts).size(limit).trackTotalHits(t -> t.enabled(true))
                .query(and(aboutUser, range.query("@timestamp")))
                .sort(byTime("@timestamp")).sort(byKeyword("alert_id")), JsonNode.class);
        SearchResponse<JsonNode> ac = search(s -> s.index(actions).size(limit).trackTotalHits(t -> t.enabled(true))
                .query(and(term("scope.user_id", userId), range.query("@timestamp")))
                .sort(byTime("@timestamp")).sort(byKeyword("action_id")), JsonNode.class);

        long nEvents = total(ev);
        long nAlerts = total(al);
        long nActions = total(ac);
        if (nEvents + nAlerts + nActions == 0) {
            throw new UnknownIdException("unknown user '" + userId + "': no events, alerts or actions"
                    + (range.unbounded() ? "" : " in " + range) + " in " + events + ", " + alerts + ", " + actions
                    + " at " + url);
        }
        List<TimelineEntry> entries = new ArrayList<>();
        ev.hits().hits().forEach(h -> entries.add(eventEntry(h.source())));
        Map<String, JsonNode> judged = verdictLookup.latestVerdicts(al.hits().hits().stream().map(h -> text(h.source(), "/alert_id"))
                .filter(Objects::nonNull).toList());
        al.hits().hits().forEach(h -> entries.add(alertEntry(h.source(), judged.get(text(h.source(), "/alert_id")))));
        ac.hits().hits().forEach(h -> entries.add(actionEntry(h.source())));
        Map<String, Integer> rank = Map.of("event", 0, "alert", 1, "action", 2);
        // An alert and its commands carry the triggering event's time: event, then alert, then action.
        entries.sort(Comparator.comparing(TimelineEntry::time).thenComparing(e -> rank.get(e.source()))
                .thenComparing(TimelineEntry::id, Comparator.nullsFirst(Comparator.naturalOrder())));
        boolean truncated = nEvents + nAlerts + nActions > limit;
        List<TimelineEntry> shown = entries.size() > limit ? List.copyOf(entries.subList(0, limit)) : entries;
        return new Timeline(userId, range, shown, nEvents, nAlerts, nActions, truncated);
    }

    static TimelineEntry eventEntry(JsonNode d) {
        String action = text(d, "/event/action");
        StringBuilder detail = new StringBuilder();
        String ip = text(d, "/source/ip");
        String device = text(d, "/device/id");
        Boolean jailbroken = bool(d, "/exchange/login/device_jailbroken");
        String wid = text(d, "/exchange/withdrawal/id");
        String status = text(d, "/exchange/withdrawal/status");
        String asset = text(d, "/exchange/withdrawal/asset");
        String amount = text(d, "/exchange/withdrawal/amount");
        String destination = text(d, "/exchange/withdrawal/destination_address");
        Boolean authorized = bool(d, "/exchange/mfa/authorized");
        if ("login".equals(action)) {
            detail.append(text(d, "/event/outcome")).append(" from ").append(or(ip, "?"))
                    .append(" device ").append(or(device, "?"));
            if (Boolean.TRUE.equals(jailbroken)) detail.append(" JAILBROKEN");
            append(detail, "country", text(d, "/source/geo/country_iso_code"));
            append(detail, "auth", text(d, "/exchange/login/auth_method"));
        } else if (d.at("/exchange/mfa/action").isTextual()) {
            append(detail, "challenge", text(d, "/exchange/mfa/challenge_id"));
            append(detail, "method", text(d, "/exchange/mfa/method"));
            append(detail, "purpose", text(d, "/exchange/mfa/purpose"));
            append(detail, "withdrawal", wid);
        } else if (status != null) {
            detail.append(wid).append(' ').append(status);
            if (amount != null) detail.append(' ').append(amount).append(' ').append(or(asset, ""));
            append(detail, "to", destination);
            if (d.at("/exchange/withdrawal/approval_service").isTextual()) {
                append(detail, "by", text(d, "/exchange/withdrawal/approval_service") + " "
                        + or(text(d, "/exchange/withdrawal/approval_service_version"), "?"));
                append(detail, "channel", text(d, "/exchange/withdrawal/approval_channel"));
            }
            if (authorized != null) append(detail, "2fa", authorized ? "verified" : "NOT VERIFIED");
        } else if (d.at("/exchange/account/action").isTextual()) {
            append(detail, "address", text(d, "/exchange/account/address"));
            append(detail, "asset", text(d, "/exchange/account/asset"));
            JsonNode policy = d.at("/exchange/account/mfa_policy");
            if (policy.isObject()) {
                List<String> on = new ArrayList<>();
                policy.fields().forEachRemaining(f -> on.add(f.getKey() + "=" + (f.getValue().asBoolean() ? "on" : "off")));
                append(detail, "2fa policy", String.join(",", on));
            }
        }
        if (!"login".equals(action) && ip != null) append(detail, "ip", ip);
        append(detail, "incident", text(d, "/exchange/incident_id"));
        return new TimelineEntry(Instant.parse(text(d, "/@timestamp")), "event", action, text(d, "/event/id"),
                text(d, "/event/outcome"), ip, device, jailbroken, text(d, "/exchange/session_id"), wid, status, asset,
                amount, destination, authorized, text(d, "/exchange/incident_id"), detail.toString().trim());
    }

    /**
     * An alert on the timeline; its detail ends with the analyst's latest verdict on it, if any,
     * and says when a false-positive verdict on an earlier alert suppressed it (no command, no notice).
     */
    static TimelineEntry alertEntry(JsonNode d, JsonNode verdict) {
        StringBuilder detail = new StringBuilder(or(text(d, "/summary"), ""));
        if (d.path("shadow").asBoolean(false)) {
            detail.append(" [SHADOW v").append(d.path("rule_version").asInt())
                    .append(": a candidate under evaluation; nothing was done]");
        }
        if (d.at("/suppressed_by/verdict_id").isTextual()) {
            detail.append(" [SUPPRESSED by ").append(or(text(d, "/suppressed_by/by"), "?"))
                    .append("'s false-positive verdict on ").append(text(d, "/suppressed_by/judged_alert_id"))
                    .append(": no command, no notification]");
        }
        if (verdict != null) {
            detail.append(" [verdict: ").append(text(verdict, "/label")).append(" by ").append(or(text(verdict, "/by"), "?"));
            if (text(verdict, "/note") != null) detail.append(" (").append(text(verdict, "/note")).append(')');
            detail.append(']');
        }
        return new TimelineEntry(Instant.parse(text(d, "/@timestamp")), "alert", text(d, "/rule"),
                text(d, "/alert_id"), text(d, "/severity"), text(d, "/evidence/ip"), text(d, "/evidence/device_id"),
                null, text(d, "/evidence/session_id"), text(d, "/withdrawal_id"), null, text(d, "/evidence/asset"),
                text(d, "/evidence/amount"), text(d, "/evidence/destination_address"), null, text(d, "/incident_id"),
                detail.toString().trim());
    }

    static TimelineEntry actionEntry(JsonNode d) {
        StringBuilder detail = new StringBuilder();
        JsonNode scope = d.path("scope");
        append(detail, "withdrawal", text(scope, "/withdrawal_id"));
        append(detail, "reason", text(d, "/reason"));
        append(detail, "by", text(d, "/requested_by"));
        append(detail, "hold until", text(d, "/hold_until"));
        return new TimelineEntry(Instant.parse(text(d, "/@timestamp")), "action", text(d, "/action"),
                text(d, "/action_id"), text(d, "/reason"), null, null, null, null, text(scope, "/withdrawal_id"),
                null, null, null, null, null, text(d, "/incident_id"), detail.toString().trim());
    }
}
