package io.tourniquet.forensics;

import co.elastic.clients.elasticsearch.ElasticsearchClient;
import co.elastic.clients.elasticsearch._types.FieldValue;
import co.elastic.clients.elasticsearch._types.SortOrder;
import co.elastic.clients.elasticsearch._types.aggregations.Aggregate;
import co.elastic.clients.elasticsearch._types.aggregations.Aggregation;
import co.elastic.clients.elasticsearch._types.aggregations.DateHistogramBucket;
import co.elastic.clients.elasticsearch._types.aggregations.FiltersBucket;
import co.elastic.clients.elasticsearch._types.aggregations.StringTermsBucket;
import co.elastic.clients.elasticsearch._types.mapping.FieldType;
import co.elastic.clients.elasticsearch._types.query_dsl.Query;
import co.elastic.clients.elasticsearch.core.SearchRequest;
import co.elastic.clients.elasticsearch.core.SearchResponse;
import co.elastic.clients.elasticsearch.core.search.Hit;
import co.elastic.clients.json.JsonData;
import co.elastic.clients.util.NamedValue;
import co.elastic.clients.util.ObjectBuilder;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import io.tourniquet.config.Settings;
import io.tourniquet.config.TourniquetConfig;
import io.tourniquet.index.EsClients;
import io.tourniquet.model.ControlRequest;
import io.tourniquet.json.Json;
import io.tourniquet.model.AssetImpact;
import io.tourniquet.model.Incident;
import io.tourniquet.util.Times;
import java.io.IOException;
import java.math.BigDecimal;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.SortedSet;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.function.Function;

/**
 * The analysts' questions after an incident, each answered by Elasticsearch queries and
 * aggregations over the forensic indexes (never by loading the events into memory), each returning
 * plain records: the CLI renders them, the incident report reuses them.
 *
 * <p>Every search names the index aliases of the configuration and tolerates missing indices (an
 * empty namespace answers "nothing", not an error). Failures to reach Elasticsearch surface as
 * {@link ElasticsearchUnreachableException}; an incident or user with nothing on record as
 * {@link UnknownIdException}.
 *
 * <p>An incident's <em>window</em> is its span of alerts widened by {@code forensics.lookback} on
 * both sides: {@code [started_at - lookback, last_alert_at + lookback]}. Attacker infrastructure,
 * export and eligibility look at the incident's users' events within it.
 */
public final class Forensics implements AutoCloseable {
    /** The transaction types an account's 2FA policy can cover (events' {@code exchange.account.mfa_policy.*}). */
    public static final List<String> MFA_TYPES = List.of("login", "withdrawal", "whitelist_address", "settings");
    /** The Account Protection Program's conditions the record cannot decide. */
    public static final List<String> APP_MANUAL_INPUTS = List.of("police report (copy submitted)",
            "forensic questionnaire (filled in)");

    /** Buckets asked for when every affected user or value must come back (terms aggregations). */
    static final int MAX_BUCKETS = 10_000;
    static final int EXPORT_PAGE = 1_000;
    /** Claims per request when listing an incident's claims; tests lower it to cross page boundaries. */
    static final int CLAIMS_PAGE = 1_000;
    private static final String EXPORT_KEEP_ALIVE = "2m";

    private final ElasticsearchClient es;
    private final boolean ownsClient;
    private final String url;
    private final io.tourniquet.index.EsSecurity security;
    private io.opentelemetry.api.trace.Tracer tracer =
            io.opentelemetry.api.OpenTelemetry.noop().getTracer("io.tourniquet.forensics");
    private final String events;
    private final String alerts;
    private final String actions;
    private final String incidents;
    private final String claims;
    private final String verdicts;
    private final Duration lookback;
    private final Duration codeMinAge;
    private final List<String> mfaTypes;
    /** Hits per export page; tests lower it to cross page boundaries on small data. */
    int exportPage = EXPORT_PAGE;
    int claimsPage = CLAIMS_PAGE;

    /** Uses the given client (not closed by {@link #close()}) with the configuration's aliases and cut-offs. */
    public Forensics(ElasticsearchClient es, TourniquetConfig cfg) {
        this(es, false, cfg);
    }

    private Forensics(ElasticsearchClient es, boolean ownsClient, TourniquetConfig cfg) {
        this.es = es;
        this.ownsClient = ownsClient;
        this.url = cfg.get(Settings.ES_URL);
        this.security = io.tourniquet.index.EsSecurity.from(cfg);
        this.events = cfg.get(Settings.INDEX_EVENTS);
        this.alerts = cfg.get(Settings.INDEX_ALERTS);
        this.actions = cfg.get(Settings.INDEX_ACTIONS);
        this.incidents = cfg.get(Settings.INDEX_INCIDENTS);
        this.claims = cfg.get(Settings.INDEX_CLAIMS);
        this.verdicts = cfg.get(Settings.INDEX_VERDICTS);
        this.lookback = cfg.get(Settings.FORENSICS_LOOKBACK);
        this.codeMinAge = cfg.get(Settings.APP_CODE_MIN_AGE);
        this.mfaTypes = mfaTypes(cfg.get(Settings.APP_MFA_TYPES));
    }

    /** Traces every Elasticsearch request as a client span of whatever span is current. */
    public Forensics traced(io.opentelemetry.api.OpenTelemetry openTelemetry) {
        this.tracer = openTelemetry.getTracer("io.tourniquet.forensics");
        return this;
    }

    /** A service with its own client for {@code elasticsearch.url}; closing it closes the client. */
    public static Forensics connect(TourniquetConfig cfg) {
        return new Forensics(EsClients.create(cfg), true, cfg);
    }

    static List<String> mfaTypes(String commaSeparated) {
        List<String> types = Arrays.stream(commaSeparated.split(",")).map(String::trim).filter(s -> !s.isEmpty())
                .distinct().toList();
        List<String> unknown = types.stream().filter(t -> !MFA_TYPES.contains(t)).toList();
        if (!unknown.isEmpty() || types.isEmpty()) {
            throw new IllegalArgumentException(Settings.APP_MFA_TYPES.key() + ": unknown transaction type(s) " + unknown
                    + " (known: " + String.join(", ", MFA_TYPES) + ")");
        }
        return types;
    }

    @Override
    public void close() throws IOException {
        if (ownsClient) es.close();
    }

    // ------------------------------------------------------------------------------------ records

    /** One asset's share of an incident's impact: the exact amount string and its US$ value. */
    public record AssetAmount(String asset, String amount, BigDecimal usdValue, int withdrawals) {
    }

    /**
     * An incident as the incident index holds it, with its alerts counted by rule (alerts index)
     * and its commands counted by action (actions index).
     */
    public record IncidentView(String id, String status, Instant startedAt, Instant detectedAt, Instant containedAt,
                               Instant resolvedAt, String resolvedBy, Instant lastAlertAt, int usersAffected,
                               List<String> userIds, List<AssetAmount> impact, BigDecimal usdTotal,
                               List<AssetAmount> impactAfterContainment, BigDecimal usdAfterContainment,
                               Map<String, Long> alertsByRule, Map<String, Long> actionsByType) {
        /** Time from the first alert's event to containment, if contained. */
        public Duration timeToContainment() {
            return containedAt == null ? null : Duration.between(startedAt, containedAt);
        }
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

    /** Unauthorized approvals of one approving backend version. */
    public record BackendGroup(String service, String version, long approvals, long users, Instant firstSeen,
                               Instant lastSeen) {
    }

    /** Unauthorized approvals through one approval channel. */
    public record ChannelGroup(String channel, long approvals, long users, Instant firstSeen, Instant lastSeen) {
    }

    /**
     * Which component approved withdrawals without 2FA, and since when: unauthorized approvals
     * ({@code exchange.mfa.authorized: false}) grouped by approving service and version, and by channel.
     */
    public record RootCause(String incidentId, TimeRange range, long approvals, long users, Instant firstSeen,
                            Instant lastSeen, List<BackendGroup> byBackend, List<ChannelGroup> byChannel) {
    }

    /** One IP, device or destination address seen on the affected accounts. */
    public record Indicator(String value, long victims, long events, Instant firstSeen, Instant lastSeen) {
    }

    /**
     * IPs, devices and destination addresses on the affected accounts' events, ranked by how many
     * of those accounts each touches (then by first appearance).
     *
     * @param victims the affected accounts considered
     * @param window  the events' span that was searched
     * @param all     whether values touching a single account are included
     */
    public record AttackerInfra(String incidentId, List<String> victims, TimeRange window, boolean all,
                                List<Indicator> ips, List<Indicator> devices, List<Indicator> addresses) {
    }

    /**
     * One interval of an incident's activity. {@code unauthorizedApprovals}: the incident's
     * approvals without 2FA (as {@link #rootCause} counts them); {@code approvals}: every
     * {@code withdrawal_approved} event on the platform, for scale; {@code alertsByRule}: the
     * incident's alerts by rule (alerts carry their triggering event's time).
     */
    public record ActivityBucket(Instant start, long unauthorizedApprovals, long approvals,
                                 Map<String, Long> alertsByRule) {
    }

    /**
     * An incident's activity over {@code range} in buckets of {@code interval}, every bucket present
     * (empty ones too), in time order; {@code rules}: the alert rules that occur, sorted.
     */
    public record Activity(String incidentId, TimeRange range, Duration interval, List<ActivityBucket> buckets,
                           List<String> rules) {
        public long unauthorizedApprovals() {
            return buckets.stream().mapToLong(ActivityBucket::unauthorizedApprovals).sum();
        }

        public long approvals() {
            return buckets.stream().mapToLong(ActivityBucket::approvals).sum();
        }

        public long alerts() {
            return buckets.stream().flatMap(b -> b.alertsByRule().values().stream()).mapToLong(Long::longValue).sum();
        }
    }

    /** pass, fail or needs a person. */
    public enum Outcome { PASS, FAIL, REVIEW }

    public enum Verdict { ELIGIBLE, NOT_ELIGIBLE, NEEDS_MANUAL_REVIEW }

    /** One Account Protection Program condition for one user, with the reason read from the record. */
    public record ConditionCheck(String condition, Outcome outcome, String reason) {
    }

    /**
     * A user's Account Protection Program standing on what the record can decide. {@code verdict}:
     * not eligible if any condition fails, needs manual review if any cannot be decided, else
     * eligible; the manual inputs are outstanding in every case.
     */
    public record UserEligibility(String userId, Verdict verdict, Instant firstUnauthorizedAt,
                                  List<ConditionCheck> checks, List<String> outstanding) {
    }

    public record AppEligibility(String incidentId, Duration codeMinAge, List<String> mfaTypes,
                                 List<UserEligibility> users) {
    }

    /** Receives exported event documents one at a time. */
    @FunctionalInterface
    public interface EventSink {
        void accept(JsonNode eventDocument) throws IOException;
    }

    // ------------------------------------------------------------------------------------ incidents

    /** Incidents started in the range, newest first, at most {@code limit}. */
    public List<IncidentView> incidents(TimeRange range, int limit) {
        SearchResponse<JsonNode> r = search(s -> s.index(incidents).size(limit)
                .query(and(range.query("started_at")))
                .sort(so -> so.field(f -> f.field("started_at").order(SortOrder.Desc).unmappedType(FieldType.Date))),
                JsonNode.class);
        List<JsonNode> docs = r.hits().hits().stream().map(Hit::source).filter(Objects::nonNull).toList();
        List<String> ids = docs.stream().map(d -> d.path("incident_id").asText()).toList();
        Map<String, Map<String, Long>> alertCounts = countsPerIncident(alerts, "rule", ids);
        Map<String, Map<String, Long>> actionCounts = countsPerIncident(actions, "action", ids);
        return docs.stream().map(d -> view(d, alertCounts, actionCounts)).toList();
    }

    /** One incident; {@link UnknownIdException} if the incident index has no such incident. */
    public IncidentView incident(String incidentId) {
        JsonNode doc = incidentDoc(incidentId);
        List<String> ids = List.of(incidentId);
        return view(doc, countsPerIncident(alerts, "rule", ids), countsPerIncident(actions, "action", ids));
    }

    private JsonNode incidentDoc(String incidentId) {
        SearchResponse<JsonNode> r = search(s -> s.index(incidents).size(1)
                .query(q -> q.term(t -> t.field("incident.id").value(incidentId))), JsonNode.class);
        if (r.hits().hits().isEmpty() || r.hits().hits().get(0).source() == null) {
            throw new UnknownIdException("unknown incident '" + incidentId + "': not in " + incidents + " at " + url
                    + " (list them with 'tourniquet forensics incidents')");
        }
        return r.hits().hits().get(0).source();
    }

    /** Per incident id, the documents of {@code index} counted by {@code field}: one terms aggregation. */
    private Map<String, Map<String, Long>> countsPerIncident(String index, String field, List<String> ids) {
        Map<String, Map<String, Long>> out = new HashMap<>();
        if (ids.isEmpty()) return out;
        SearchResponse<Void> r = search(s -> s.index(index).size(0)
                .query(terms("incident_id", ids))
                .aggregations("by_incident", a -> a.terms(t -> t.field("incident_id").size(ids.size()))
                        .aggregations("by", b -> b.terms(t -> t.field(field).size(100)))), Void.class);
        for (StringTermsBucket b : buckets(r.aggregations().get("by_incident"))) {
            Map<String, Long> counts = new LinkedHashMap<>();
            for (StringTermsBucket c : buckets(b.aggregations().get("by"))) counts.put(key(c), c.docCount());
            out.put(key(b), counts);
        }
        return out;
    }

    private IncidentView view(JsonNode doc, Map<String, Map<String, Long>> alertCounts,
                              Map<String, Map<String, Long>> actionCounts) {
        Incident inc;
        try {
            inc = Json.MAPPER.treeToValue(doc, Incident.class);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("unreadable incident document: " + e.getOriginalMessage(), e);
        }
        return new IncidentView(inc.incidentId, inc.status, Instant.ofEpochMilli(inc.startedAt),
                Instant.ofEpochMilli(inc.detectedAt), instant(inc.containedAt), instant(inc.resolvedAt),
                inc.resolvedBy, Instant.ofEpochMilli(inc.lastAlertAt), inc.usersAffected, List.copyOf(inc.userIds),
                amounts(inc.impact), inc.usdTotal, amounts(inc.impactAfterContainment), inc.usdAfterContainment,
                alertCounts.getOrDefault(inc.incidentId, Map.of()), actionCounts.getOrDefault(inc.incidentId, Map.of()));
    }

    private static List<AssetAmount> amounts(List<AssetImpact> impact) {
        return impact.stream().map(i -> new AssetAmount(i.asset, i.amount, i.usdValue, i.withdrawals)).toList();
    }

    /** The incident's window: its alerts' span widened by the lookback on both sides. */
    public TimeRange window(IncidentView incident) {
        return TimeRange.closed(incident.startedAt().minus(lookback), incident.lastAlertAt().plus(lookback));
    }

    // ------------------------------------------------------------------------------------ timeline

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
        Map<String, JsonNode> judged = latestVerdicts(al.hits().hits().stream().map(h -> text(h.source(), "/alert_id"))
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

    /** The latest verdict (by {@code decided_at}) on each of {@code alertIds} that has one. */
    public Map<String, JsonNode> latestVerdicts(List<String> alertIds) {
        Map<String, JsonNode> latest = new java.util.HashMap<>();
        for (int from = 0; from < alertIds.size(); from += VERDICT_TERMS) {
            List<String> chunk = alertIds.subList(from, Math.min(alertIds.size(), from + VERDICT_TERMS));
            forEachVerdict(terms("alert_id", chunk), v -> latest.put(text(v, "/alert_id"), v));
        }
        return latest;
    }

    /**
     * The latest verdict's label of every alert of {@code rule} judged whose event time is in
     * {@code range}, by alert id (a backtest's truth).
     */
    public Map<String, String> latestLabels(String rule, TimeRange range) {
        Map<String, String> labels = new java.util.HashMap<>();
        forEachVerdict(and(term("rule", rule), range.query("alert_time")),
                v -> labels.put(text(v, "/alert_id"), text(v, "/label")));
        return labels;
    }

    /** An analyst's latest verdict on one alert, as a report shows it. */
    public record VerdictView(String alertId, String rule, String userId, String label, String by, String note,
                              Instant decidedAt, boolean suppressing) {
    }

    /** Alerts of an incident whose verdicts a report looks up, at most (the first by time). */
    static final int REPORT_ALERTS = 10_000;

    /** The latest verdict on each of the incident's alerts that has one, by the alerts' time. */
    public List<VerdictView> incidentVerdicts(String incidentId) {
        SearchResponse<JsonNode> al = search(s -> s.index(alerts).size(REPORT_ALERTS).query(term("incident_id", incidentId))
                .source(src -> src.filter(f -> f.includes("alert_id")))
                .sort(byTime("@timestamp")).sort(byKeyword("alert_id")), JsonNode.class);
        List<String> ids = al.hits().hits().stream().map(h -> text(h.source(), "/alert_id")).filter(Objects::nonNull)
                .toList();
        Map<String, JsonNode> latest = latestVerdicts(ids);
        List<VerdictView> out = new ArrayList<>();
        for (String id : ids) {
            JsonNode v = latest.get(id);
            if (v == null) continue;
            out.add(new VerdictView(id, text(v, "/rule"), text(v, "/user_id"), text(v, "/label"), text(v, "/by"),
                    text(v, "/note"), Instant.parse(text(v, "/decided_at")), v.at("/suppresses_until").isTextual()));
        }
        return out;
    }

    /** Alert ids per verdict query: well under Elasticsearch's 65,536 terms. */
    static final int VERDICT_TERMS = 1_000;
    /** Verdicts (and a shadow's alerts) per page: analysts write verdicts, so a page is most of them. */
    int verdictsPage = 1_000;

    /**
     * Every verdict {@code filter} matches, in the order they were decided (then by id), page by page
     * ({@code search_after}): a later one on the same alert comes after, so "the last one seen" is
     * the alert's verdict.
     */
    private void forEachVerdict(Query filter, java.util.function.Consumer<JsonNode> each) {
        forEachPage(verdicts, filter, "decided_at", "verdict_id", each);
    }

    /** Every document of {@code index} that {@code filter} matches, by time then id, page by page ({@code search_after}). */
    private void forEachPage(String index, Query filter, String timeField, String idField,
                             java.util.function.Consumer<JsonNode> each) {
        List<FieldValue> after = null;
        while (true) {
            List<FieldValue> cursor = after;
            SearchResponse<JsonNode> page = search(s -> {
                s.index(index).size(verdictsPage).query(filter).sort(byTime(timeField)).sort(byKeyword(idField));
                if (cursor != null) s.searchAfter(cursor);
                return s;
            }, JsonNode.class);
            var hits = page.hits().hits();
            for (var h : hits) each.accept(h.source());
            if (hits.size() < verdictsPage) return;
            after = hits.get(hits.size() - 1).sort();
        }
    }

    // ------------------------------------------------------------------------------------ shadow versions

    /** Alerts of shadow rule versions (every other alert lacks the field). */
    private static final Query SHADOW_ALERT = Query.of(q -> q.term(t -> t.field("shadow").value(true)));
    /** Alerts of the versions in force. */
    private static final Query NOT_SHADOW_ALERT = Query.of(q -> q.bool(b -> b.mustNot(SHADOW_ALERT)));

    /** A shadow rule version as its alerts name it: its number, and when it was accepted. */
    public record ShadowVersion(String rule, int version, Instant since) {
    }

    /** The highest shadow version of {@code rule} that raised an alert, if any did. */
    public java.util.Optional<ShadowVersion> latestShadow(String rule) {
        SearchResponse<JsonNode> r = search(s -> s.index(alerts).size(1)
                .query(and(term("rule", rule), SHADOW_ALERT))
                .sort(so -> so.field(f -> f.field("rule_version").order(SortOrder.Desc).unmappedType(FieldType.Integer)))
                .sort(byTime("detected_at")), JsonNode.class);
        if (r.hits().hits().isEmpty() || r.hits().hits().get(0).source() == null) return java.util.Optional.empty();
        JsonNode d = r.hits().hits().get(0).source();
        String since = text(d, "/shadow_since");
        return java.util.Optional.of(new ShadowVersion(rule, d.path("rule_version").asInt(),
                since == null ? null : Instant.parse(since)));
    }

    /**
     * When the first alert of {@code rule} not marked shadow, of version {@code version} or later,
     * was detected at or after {@code since}: the end of a shadow version that was promoted (the
     * promoted version keeps its number) or overtaken by a later version in force.
     */
    public java.util.Optional<Instant> firstInForceFrom(String rule, int version, Instant since) {
        SearchResponse<JsonNode> r = search(s -> s.index(alerts).size(1)
                .query(and(term("rule", rule), NOT_SHADOW_ALERT,
                        Query.of(q -> q.range(x -> x.number(n -> n.field("rule_version").gte((double) version)))),
                        new TimeRange(since, null).query("detected_at")))
                .sort(byTime("detected_at")), JsonNode.class);
        if (r.hits().hits().isEmpty() || r.hits().hits().get(0).source() == null) return java.util.Optional.empty();
        String at = text(r.hits().hits().get(0).source(), "/detected_at");
        return at == null ? java.util.Optional.empty() : java.util.Optional.of(Instant.parse(at));
    }

    /**
     * Every alert of {@code rule} detected (wall clock) in [{@code from}, {@code to}): those of the
     * shadow version {@code shadowVersion}, or, when it is null, those of the versions in force
     * (every alert not marked shadow). Paged in detection order.
     */
    public List<JsonNode> alertsDetected(String rule, Integer shadowVersion, Instant from, Instant to) {
        Query which = shadowVersion != null
                ? and(SHADOW_ALERT, Query.of(q -> q.term(t -> t.field("rule_version").value(shadowVersion))))
                : NOT_SHADOW_ALERT;
        List<JsonNode> out = new ArrayList<>();
        forEachPage(alerts, and(term("rule", rule), which, new TimeRange(from, to).query("detected_at")),
                "detected_at", "alert_id", out::add);
        return out;
    }

    /**
     * Analysts' verdicts on one rule's alerts.
     *
     * @param precision right detections ({@code true_positive} and {@code benign_true_positive}) over
     *                  judged alerts; null when none was judged
     */
    public record RulePrecision(String rule, long judged, long truePositives, long benignTruePositives,
                                long falsePositives, Double precision, long suppressing) {
    }

    /** Precision per rule over the alerts judged, by the alerts' event time. */
    public record Precision(TimeRange range, List<RulePrecision> rules, long judged) {
    }

    /**
     * Each rule's precision from analysts' verdicts: every alert whose event time is in
     * {@code range} and that has a verdict counts once, with its latest label.
     */
    public Precision precision(TimeRange range) {
        Map<String, JsonNode> latest = new java.util.LinkedHashMap<>();
        // Verdicts on shadow versions' alerts are the shadow's ('forensics shadow'), not the rule's.
        Query notShadow = Query.of(q -> q.bool(b -> b.mustNot(m -> m.term(t -> t.field("alert_shadow").value(true)))));
        forEachVerdict(and(range.query("alert_time"), notShadow), v -> latest.put(text(v, "/alert_id"), v));
        Map<String, long[]> byRule = new java.util.TreeMap<>();
        for (JsonNode v : latest.values()) {
            long[] c = byRule.computeIfAbsent(or(text(v, "/rule"), "?"), r -> new long[4]);
            switch (or(text(v, "/label"), "")) {
                case ControlRequest.TRUE_POSITIVE -> c[0]++;
                case ControlRequest.BENIGN_TRUE_POSITIVE -> c[1]++;
                case ControlRequest.FALSE_POSITIVE -> c[2]++;
                default -> { }
            }
            if (v.at("/suppresses_until").isTextual()) c[3]++;
        }
        List<RulePrecision> rules = new ArrayList<>();
        for (var e : byRule.entrySet()) {
            long[] c = e.getValue();
            long judged = c[0] + c[1] + c[2];
            rules.add(new RulePrecision(e.getKey(), judged, c[0], c[1], c[2],
                    judged == 0 ? null : (double) (c[0] + c[1]) / judged, c[3]));
        }
        return new Precision(range, rules, latest.size());
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

    // ------------------------------------------------------------------------------------ root cause

    /**
     * Unauthorized approvals grouped by approving service and version, and by channel, each with its
     * count, distinct users and first and last time: aggregations over {@code exchange.mfa.authorized:
     * false}, of one incident if {@code incidentId} is given (its approvals carry
     * {@code exchange.incident_id}).
     */
    public RootCause rootCause(String incidentId, TimeRange range) {
        if (incidentId != null) incidentDoc(incidentId); // unknown id: exit 2, not an empty table
        Query q = and(term("exchange.mfa.authorized", false),
                incidentId == null ? null : term("exchange.incident_id", incidentId), range.query("@timestamp"));
        SearchResponse<Void> r = search(s -> s.index(events).size(0).trackTotalHits(t -> t.enabled(true)).query(q)
                .aggregations("first", minTime()).aggregations("last", maxTime()).aggregations("users", users())
                .aggregations("by_service", a -> a.terms(t -> t.field("exchange.withdrawal.approval_service")
                                .missing("(none)").size(100))
                        .aggregations("by_version", v -> v.terms(t -> t.field("exchange.withdrawal.approval_service_version")
                                        .missing("(none)").size(100))
                                .aggregations(stats())))
                .aggregations("by_channel", a -> a.terms(t -> t.field("exchange.withdrawal.approval_channel")
                        .missing("(none)").size(100)).aggregations(stats())), Void.class);
        Map<String, Aggregate> aggs = r.aggregations();
        List<BackendGroup> byBackend = new ArrayList<>();
        for (StringTermsBucket service : buckets(aggs.get("by_service"))) {
            for (StringTermsBucket version : buckets(service.aggregations().get("by_version"))) {
                Map<String, Aggregate> m = version.aggregations();
                byBackend.add(new BackendGroup(key(service), key(version), version.docCount(), cardinality(m.get("users")),
                        min(m.get("first")), max(m.get("last"))));
            }
        }
        byBackend.sort(Comparator.comparingLong(BackendGroup::approvals).reversed()
                .thenComparing(BackendGroup::firstSeen, Comparator.nullsLast(Comparator.naturalOrder())));
        List<ChannelGroup> byChannel = new ArrayList<>();
        for (StringTermsBucket channel : buckets(aggs.get("by_channel"))) {
            Map<String, Aggregate> m = channel.aggregations();
            byChannel.add(new ChannelGroup(key(channel), channel.docCount(), cardinality(m.get("users")),
                    min(m.get("first")), max(m.get("last"))));
        }
        return new RootCause(incidentId, range, total(r), cardinality(aggs.get("users")), min(aggs.get("first")),
                max(aggs.get("last")), byBackend, byChannel);
    }

    private static Map<String, Aggregation> stats() {
        return Map.of("first", minTime(), "last", maxTime(), "users", users());
    }

    // ------------------------------------------------------------------------------------ activity

    /** Most buckets {@link #activity} answers: a chart's worth, not a way to page through events. */
    public static final int MAX_ACTIVITY_BUCKETS = 2_000;

    /**
     * The incident's activity per {@code interval} over the bounded {@code range}: two date
     * histograms (fixed interval, buckets aligned to multiples of it since the epoch), one over the
     * events with filter sub-aggregations for the incident's unauthorized approvals and for all
     * approvals, one over the incident's alerts with a terms sub-aggregation on the rule. Counts
     * only: no event is loaded. {@link UnknownIdException} for an unknown incident.
     */
    public Activity activity(String incidentId, TimeRange range, Duration interval) {
        if (range.since() == null || range.until() == null) {
            throw new IllegalArgumentException("activity needs a bounded range, got " + range);
        }
        long step = interval.toMillis();
        if (step < 1_000 || step % 1_000 != 0) {
            throw new IllegalArgumentException("the interval must be a whole number of seconds, at least 1 s: " + interval);
        }
        long from = Math.floorDiv(range.since().toEpochMilli(), step) * step;
        long lastStart = Math.floorDiv(range.until().toEpochMilli() - 1, step) * step;
        long n = (lastStart - from) / step + 1;
        if (n > MAX_ACTIVITY_BUCKETS) {
            throw new IllegalArgumentException(range + " in steps of " + interval + " is " + n + " buckets, more than "
                    + MAX_ACTIVITY_BUCKETS + ": choose a longer interval");
        }
        incidentDoc(incidentId); // unknown id: exit 2, not an empty chart
        String fixed = (step / 1_000) + "s";
        Query unauthorized = and(term("exchange.mfa.authorized", false), term("exchange.incident_id", incidentId));
        Query approved = term("event.action", "withdrawal_approved");
        SearchResponse<Void> ev = search(s -> s.index(events).size(0)
                .query(and(range.query("@timestamp"), Query.of(q -> q.bool(b -> b.minimumShouldMatch("1")
                        .should(unauthorized).should(approved)))))
                .aggregations("per", a -> a.dateHistogram(h -> h.field("@timestamp").fixedInterval(t -> t.time(fixed))
                                .minDocCount(1))
                        .aggregations("unauthorized", f -> f.filter(unauthorized))
                        .aggregations("approvals", f -> f.filter(approved))), Void.class);
        SearchResponse<Void> al = search(s -> s.index(alerts).size(0)
                .query(and(term("incident_id", incidentId), range.query("@timestamp")))
                .aggregations("per", a -> a.dateHistogram(h -> h.field("@timestamp").fixedInterval(t -> t.time(fixed))
                                .minDocCount(1))
                        .aggregations("rules", r -> r.terms(t -> t.field("rule").size(100)))), Void.class);

        Map<Long, long[]> counts = new HashMap<>();
        for (DateHistogramBucket b : histogram(ev.aggregations().get("per"))) {
            Map<String, Aggregate> m = b.aggregations();
            counts.put(b.key(), new long[] {m.get("unauthorized").filter().docCount(), m.get("approvals").filter().docCount()});
        }
        Map<Long, Map<String, Long>> alertCounts = new HashMap<>();
        SortedSet<String> rules = new TreeSet<>();
        for (DateHistogramBucket b : histogram(al.aggregations().get("per"))) {
            Map<String, Long> byRule = new TreeMap<>();
            for (StringTermsBucket r : buckets(b.aggregations().get("rules"))) {
                byRule.put(key(r), r.docCount());
                rules.add(key(r));
            }
            alertCounts.put(b.key(), byRule);
        }
        // Every bucket of the range, so a quiet minute is a zero and not a gap.
        List<ActivityBucket> out = new ArrayList<>();
        for (long t = from; t <= lastStart; t += step) {
            long[] c = counts.getOrDefault(t, new long[2]);
            out.add(new ActivityBucket(Instant.ofEpochMilli(t), c[0], c[1], alertCounts.getOrDefault(t, Map.of())));
        }
        return new Activity(incidentId, range, interval, out, List.copyOf(rules));
    }

    private static List<DateHistogramBucket> histogram(Aggregate a) {
        if (a == null || !a.isDateHistogram()) return List.of(); // no index yet: no buckets
        return a.dateHistogram().buckets().array();
    }

    // ------------------------------------------------------------------------------------ attacker infrastructure

    /**
     * IPs ({@code source.ip}), devices ({@code device.id}) and destination addresses
     * ({@code exchange.withdrawal.destination_address}) on every event of the affected accounts,
     * ranked by how many distinct accounts each touches (a cardinality sub-aggregation on
     * {@code user.id}), then by first appearance. Affected accounts: the incident's users, over the
     * incident's window; without an incident, every user with an unauthorized approval in the range,
     * from the first such approval minus the lookback to the last plus the lookback. Values touching
     * a single account are left out unless {@code all}. At most {@code limit} values of each kind.
     */
    public AttackerInfra attackerInfra(String incidentId, TimeRange range, boolean all, int limit) {
        if (limit < 1) throw new IllegalArgumentException("--limit must be at least 1");
        List<String> victims;
        TimeRange window;
        if (incidentId != null) {
            IncidentView inc = incident(incidentId);
            victims = inc.userIds();
            window = window(inc).intersect(range);
        } else {
            SearchResponse<Void> r = search(s -> s.index(events).size(0)
                    .query(and(term("exchange.mfa.authorized", false), range.query("@timestamp")))
                    .aggregations("first", minTime()).aggregations("last", maxTime())
                    .aggregations("victims", a -> a.terms(t -> t.field("user.id").size(MAX_BUCKETS))), Void.class);
            victims = buckets(r.aggregations().get("victims")).stream().map(Forensics::key).sorted().toList();
            Instant first = min(r.aggregations().get("first"));
            Instant last = max(r.aggregations().get("last"));
            window = first == null ? range : TimeRange.closed(first.minus(lookback), last.plus(lookback)).intersect(range);
        }
        if (victims.isEmpty()) {
            return new AttackerInfra(incidentId, victims, window, all, List.of(), List.of(), List.of());
        }
        Function<String, Aggregation> ranked = field -> Aggregation.of(a -> a.terms(t -> t.field(field).size(limit)
                        .shardSize(Math.max(MAX_BUCKETS, limit))
                        .order(List.of(NamedValue.of("victims", SortOrder.Desc), NamedValue.of("first", SortOrder.Asc),
                                NamedValue.of("_key", SortOrder.Asc))))
                .aggregations("victims", users()).aggregations("first", minTime()).aggregations("last", maxTime()));
        SearchResponse<Void> r = search(s -> s.index(events).size(0)
                .query(and(terms("user.id", victims), window.query("@timestamp")))
                .aggregations("ips", ranked.apply("source.ip"))
                .aggregations("devices", ranked.apply("device.id"))
                .aggregations("addresses", ranked.apply("exchange.withdrawal.destination_address")), Void.class);
        return new AttackerInfra(incidentId, victims, window, all, indicators(r, "ips", all),
                indicators(r, "devices", all), indicators(r, "addresses", all));
    }

    private static List<Indicator> indicators(SearchResponse<Void> r, String name, boolean all) {
        List<Indicator> out = new ArrayList<>();
        for (StringTermsBucket b : buckets(r.aggregations().get(name))) {
            Map<String, Aggregate> m = b.aggregations();
            long victims = cardinality(m.get("victims"));
            if (!all && victims < 2) break; // ranked by victims: the rest touch one account each
            out.add(new Indicator(key(b), victims, b.docCount(), min(m.get("first")), max(m.get("last"))));
        }
        return out;
    }

    // ------------------------------------------------------------------------------------ export

    /**
     * Streams the events of an incident (its users' events over its window) or of one user, in
     * time order, through a point in time with {@code search_after}: pages of 1,000, never more in
     * memory. Exactly one of {@code incidentId} and {@code userId}. Returns how many were written.
     */
    public long export(String incidentId, String userId, TimeRange range, EventSink sink) throws IOException {
        if ((incidentId == null) == (userId == null)) {
            throw new IllegalArgumentException("export needs exactly one of --incident and --user");
        }
        Query q;
        if (incidentId != null) {
            IncidentView inc = incident(incidentId);
            q = and(terms("user.id", inc.userIds()), window(inc).intersect(range).query("@timestamp"));
        } else {
            q = and(term("user.id", userId), range.query("@timestamp"));
            long n = call("count", () -> es.count(c -> c.index(events).ignoreUnavailable(true).allowNoIndices(true).query(q)))
                    .count();
            if (n == 0) {
                throw new UnknownIdException("unknown user '" + userId + "': no events"
                        + (range.unbounded() ? "" : " in " + range) + " in " + events + " at " + url);
            }
        }
        String pit;
        try {
            pit = call("open_point_in_time", () -> es.openPointInTime(p -> p.index(events).ignoreUnavailable(true)
                    .keepAlive(t -> t.time(EXPORT_KEEP_ALIVE)))).id();
        } catch (co.elastic.clients.elasticsearch._types.ElasticsearchException e) {
            if (e.status() == 404) return 0; // no events index at all
            throw e;
        }
        long written = 0;
        try {
            List<FieldValue> after = null;
            while (true) {
                String pitId = pit;
                List<FieldValue> from = after;
                SearchResponse<JsonNode> page = search(s -> {
                    s.pit(p -> p.id(pitId).keepAlive(t -> t.time(EXPORT_KEEP_ALIVE))).size(exportPage).query(q)
                            .sort(byTime("@timestamp")).sort(byKeyword("event.id"));
                    if (from != null) s.searchAfter(from);
                    return s;
                }, JsonNode.class, false);
                if (page.pitId() != null) pit = page.pitId();
                List<Hit<JsonNode>> hits = page.hits().hits();
                for (Hit<JsonNode> h : hits) {
                    sink.accept(h.source());
                    written++;
                }
                if (hits.size() < exportPage) break;
                after = hits.get(hits.size() - 1).sort();
            }
        } finally {
            String pitId = pit;
            try {
                es.closePointInTime(c -> c.id(pitId));
            } catch (IOException | RuntimeException e) {
                // It expires by itself after the keep-alive; the export itself is complete.
            }
        }
        return written;
    }

    // ------------------------------------------------------------------------------------ eligibility

    /**
     * For each of the incident's users, the Account Protection Program conditions the record can
     * decide, as of the user's first unauthorized withdrawal (its approval):
     * <ul>
     *   <li>{@code mfa_all_types}: the account's latest 2FA policy change before then requires 2FA for
     *       every type in {@code forensics.app.mfa-types} (no policy on record: manual review);</li>
     *   <li>{@code anti_phishing_code}: a code was first set at least {@code forensics.app.code-min-age}
     *       before then (none on record: fails, or manual review if the account's record starts after
     *       the cut-off);</li>
     *   <li>{@code no_jailbroken_device}: no login of the account from a jailbroken device within the
     *       incident's window.</li>
     * </ul>
     * Two requests besides the incident: one terms aggregation per user with filter sub-aggregations
     * (first unauthorized approval, earliest record, first code, jailbroken logins), then one filters
     * aggregation with each user's own cut-off for the latest policy.
     */
    public AppEligibility appEligibility(String incidentId) {
        IncidentView inc = incident(incidentId);
        List<String> users = inc.userIds();
        if (users.isEmpty()) return new AppEligibility(incidentId, codeMinAge, mfaTypes, List.of());
        TimeRange window = window(inc);
        Query jailbrokenLogins = and(term("event.action", "login"), term("exchange.login.device_jailbroken", true),
                window.query("@timestamp"));
        SearchResponse<Void> r = search(s -> s.index(events).size(0).query(terms("user.id", users))
                .aggregations("by_user", a -> a.terms(t -> t.field("user.id").size(users.size()))
                        .aggregations("earliest", minTime())
                        .aggregations("unauthorized", f -> f.filter(and(term("exchange.mfa.authorized", false),
                                term("exchange.incident_id", incidentId))).aggregations("first", minTime()))
                        .aggregations("codes", f -> f.filter(and(term("exchange.account.action", "anti_phishing_code_set"),
                                term("exchange.account.anti_phishing_code_set", true))).aggregations("first", minTime()))
                        .aggregations("jailbroken", f -> f.filter(jailbrokenLogins).aggregations("first",
                                h -> h.topHits(t -> t.size(1).sort(byTime("@timestamp"))
                                        .source(src -> src.filter(sf -> sf.includes("@timestamp", "device.id",
                                                "exchange.session_id", "source.ip"))))))), Void.class);
        Map<String, Map<String, Aggregate>> perUser = new HashMap<>();
        for (StringTermsBucket b : buckets(r.aggregations().get("by_user"))) perUser.put(key(b), b.aggregations());

        Map<String, Instant> firstUnauthorized = new LinkedHashMap<>();
        for (String u : users) {
            Map<String, Aggregate> m = perUser.getOrDefault(u, Map.of());
            Instant first = m.isEmpty() ? null : min(m.get("unauthorized").filter().aggregations().get("first"));
            firstUnauthorized.put(u, first != null ? first : inc.startedAt());
        }
        Map<String, JsonNode> policies = latestPolicies(firstUnauthorized);

        List<UserEligibility> out = new ArrayList<>();
        for (String u : users) {
            Map<String, Aggregate> m = perUser.getOrDefault(u, Map.of());
            Instant at = firstUnauthorized.get(u);
            List<ConditionCheck> checks = List.of(
                    mfaCheck(policies.get(u), at),
                    codeCheck(m.isEmpty() ? null : min(m.get("codes").filter().aggregations().get("first")),
                            m.isEmpty() ? null : min(m.get("earliest")), at),
                    jailbreakCheck(m.isEmpty() ? List.of()
                            : m.get("jailbroken").filter().aggregations().get("first").topHits().hits().hits(), window));
            out.add(new UserEligibility(u, verdict(checks), at, checks, APP_MANUAL_INPUTS));
        }
        return new AppEligibility(incidentId, codeMinAge, mfaTypes, out);
    }

    /** Per user, the latest 2FA policy change at or before that user's cut-off: one filters aggregation. */
    private Map<String, JsonNode> latestPolicies(Map<String, Instant> cutoffs) {
        Map<String, Query> filters = new LinkedHashMap<>();
        cutoffs.forEach((u, at) -> filters.put(u, and(term("user.id", u),
                TimeRange.closed(null, at).query("@timestamp"))));
        SearchResponse<Void> r = search(s -> s.index(events).size(0)
                .query(and(terms("user.id", List.copyOf(cutoffs.keySet())),
                        term("exchange.account.action", "mfa_policy_changed")))
                .aggregations("by_user", a -> a.filters(f -> f.filters(b -> b.keyed(filters)))
                        .aggregations("latest", h -> h.topHits(t -> t.size(1)
                                .sort(so -> so.field(f -> f.field("@timestamp").order(SortOrder.Desc)))
                                .source(src -> src.filter(sf -> sf.includes("@timestamp", "exchange.account.mfa_policy")))))),
                Void.class);
        Map<String, JsonNode> out = new HashMap<>();
        Map<String, FiltersBucket> keyed = r.aggregations().get("by_user").filters().buckets().keyed();
        keyed.forEach((u, b) -> {
            List<Hit<JsonData>> hits = b.aggregations().get("latest").topHits().hits().hits();
            if (!hits.isEmpty()) out.put(u, hits.get(0).source().to(JsonNode.class));
        });
        return out;
    }

    private ConditionCheck mfaCheck(JsonNode policyEvent, Instant at) {
        String name = "mfa_all_types";
        if (policyEvent == null) {
            return new ConditionCheck(name, Outcome.REVIEW, "no 2FA policy on record before " + fmt(at));
        }
        JsonNode policy = policyEvent.at("/exchange/account/mfa_policy");
        String when = policyEvent.path("@timestamp").asText();
        List<String> off = mfaTypes.stream().filter(t -> !policy.path(t).asBoolean(false)).toList();
        if (!off.isEmpty()) {
            return new ConditionCheck(name, Outcome.FAIL, "2FA off for " + String.join(", ", off)
                    + " (policy of " + when + ")");
        }
        return new ConditionCheck(name, Outcome.PASS, "2FA required for " + String.join(", ", mfaTypes)
                + " (policy of " + when + ")");
    }

    private ConditionCheck codeCheck(Instant firstCode, Instant earliestRecord, Instant at) {
        String name = "anti_phishing_code";
        Instant cutoff = at.minus(codeMinAge);
        String need = "needed by " + fmt(cutoff) + ", " + days(codeMinAge) + " before " + fmt(at);
        if (firstCode == null) {
            if (earliestRecord != null && earliestRecord.isAfter(cutoff)) {
                return new ConditionCheck(name, Outcome.REVIEW, "none on record, but the record starts "
                        + fmt(earliestRecord) + ", after the cut-off (" + need + ")");
            }
            return new ConditionCheck(name, Outcome.FAIL, "never set (" + need + ")");
        }
        if (firstCode.isAfter(cutoff)) {
            return new ConditionCheck(name, Outcome.FAIL, "first set " + fmt(firstCode) + ", "
                    + days(Duration.between(firstCode, at)) + " before (" + need + ")");
        }
        return new ConditionCheck(name, Outcome.PASS, "set " + fmt(firstCode) + ", "
                + days(Duration.between(firstCode, at)) + " before " + fmt(at));
    }

    private static ConditionCheck jailbreakCheck(List<Hit<JsonData>> jailbroken, TimeRange window) {
        String name = "no_jailbroken_device";
        if (jailbroken.isEmpty()) {
            return new ConditionCheck(name, Outcome.PASS, "no login from a jailbroken device in " + window);
        }
        JsonNode d = jailbroken.get(0).source().to(JsonNode.class);
        return new ConditionCheck(name, Outcome.FAIL, "login from jailbroken device " + text(d, "/device/id") + " at "
                + text(d, "/@timestamp") + " (session " + text(d, "/exchange/session_id") + ", ip "
                + text(d, "/source/ip") + ")");
    }

    static Verdict verdict(List<ConditionCheck> checks) {
        if (checks.stream().anyMatch(c -> c.outcome() == Outcome.FAIL)) return Verdict.NOT_ELIGIBLE;
        if (checks.stream().anyMatch(c -> c.outcome() == Outcome.REVIEW)) return Verdict.NEEDS_MANUAL_REVIEW;
        return Verdict.ELIGIBLE;
    }

    private static String days(Duration d) {
        long days = d.toDays();
        long hours = d.minusDays(days).toHours();
        return days + " d" + (hours == 0 ? "" : " " + hours + " h");
    }

    // ------------------------------------------------------------------------------------ claims

    /** One programme condition of a claim as the detect job decided it: pass, fail or review, and why. */
    public record ClaimCondition(String name, String outcome, String detail) {
    }

    /**
     * One Account Protection Programme claim as the claims index holds it: its highest version.
     * {@code payout} and {@code payoutUsd} are set once approved; the decision fields once decided.
     */
    public record ClaimView(String claimId, String userId, String status, String eligibility,
                            List<ClaimCondition> conditions, List<String> outstanding, List<AssetAmount> loss,
                            BigDecimal lossUsd, List<AssetAmount> payout, BigDecimal payoutUsd, String decision,
                            String decisionReason, String decidedBy, String decisionApprovedBy, Instant decidedAt,
                            Instant openedAt, String openedBy, long version, Instant updatedAt) {
        /** Not decided yet: awaiting documents or under review. */
        public boolean pending() {
            return !"approved".equals(status) && !"denied".equals(status);
        }
    }

    /**
     * An incident's claims counted: {@code eligible} by the conditions the record decides;
     * {@code paidUsd} the payouts of the approved claims (what the programme pays); {@code pending}
     * the claims not decided yet, and {@code pendingLossUsd} their losses (what may still be paid,
     * before the programme limit). Exact sums of the indexed decimals.
     */
    public record ClaimTotals(int claims, int eligible, int approved, BigDecimal paidUsd, int denied, int pending,
                              BigDecimal pendingLossUsd, BigDecimal lossUsd) {
    }

    /** An incident's claims, by user, and their totals. */
    public record IncidentClaims(String incidentId, List<ClaimView> claims, ClaimTotals totals) {
    }

    /**
     * Every claim of the incident, sorted by user: pages of {@code search_after} on the claim id,
     * so an incident of any size is listed whole and the totals are exact. No claims: the incident
     * must exist ({@link UnknownIdException} otherwise), and the answer is an empty list.
     */
    public IncidentClaims claims(String incidentId) {
        List<ClaimView> out = new ArrayList<>();
        List<FieldValue> after = null;
        while (true) {
            List<FieldValue> from = after;
            SearchResponse<JsonNode> page = search(s -> {
                s.index(claims).size(claimsPage).query(term("incident_id", incidentId)).sort(byKeyword("claim_id"));
                if (from != null) s.searchAfter(from);
                return s;
            }, JsonNode.class);
            List<Hit<JsonNode>> hits = page.hits().hits();
            for (Hit<JsonNode> h : hits) {
                if (h.source() != null) out.add(claimView(h.source()));
            }
            if (hits.size() < claimsPage) break;
            after = hits.get(hits.size() - 1).sort();
        }
        if (out.isEmpty()) incidentDoc(incidentId); // unknown id: exit 2, not "no claims"
        out.sort(Comparator.comparing(ClaimView::userId, Comparator.nullsLast(Comparator.naturalOrder()))
                .thenComparing(ClaimView::claimId));
        return new IncidentClaims(incidentId, List.copyOf(out), totals(out));
    }

    public static ClaimTotals totals(List<ClaimView> list) {
        int eligible = 0;
        int approved = 0;
        int denied = 0;
        int pending = 0;
        BigDecimal paid = BigDecimal.ZERO;
        BigDecimal pendingLoss = BigDecimal.ZERO;
        BigDecimal loss = BigDecimal.ZERO;
        for (ClaimView c : list) {
            if ("eligible".equals(c.eligibility())) eligible++;
            BigDecimal l = c.lossUsd() == null ? BigDecimal.ZERO : c.lossUsd();
            loss = loss.add(l);
            if ("approved".equals(c.status())) {
                approved++;
                if (c.payoutUsd() != null) paid = paid.add(c.payoutUsd());
            } else if ("denied".equals(c.status())) {
                denied++;
            } else {
                pending++;
                pendingLoss = pendingLoss.add(l);
            }
        }
        return new ClaimTotals(list.size(), eligible, approved, paid, denied, pending, pendingLoss, loss);
    }

    /** A claim document read field by field: its times may be RFC 3339 strings or epoch millis. */
    static ClaimView claimView(JsonNode d) {
        List<ClaimCondition> conditions = new ArrayList<>();
        for (JsonNode c : d.path("conditions")) {
            conditions.add(new ClaimCondition(text(c, "/name"), text(c, "/outcome"), text(c, "/detail")));
        }
        List<String> outstanding = new ArrayList<>();
        for (JsonNode o : d.path("outstanding")) outstanding.add(o.asText());
        return new ClaimView(text(d, "/claim_id"), text(d, "/user_id"), text(d, "/status"), text(d, "/eligibility"),
                List.copyOf(conditions), List.copyOf(outstanding), assetAmounts(d.path("loss")),
                decimal(d.path("loss_usd")), assetAmounts(d.path("payout")), decimal(d.path("payout_usd")),
                text(d, "/decision"), text(d, "/decision_reason"), text(d, "/decided_by"),
                text(d, "/decision_approved_by"), time(d.path("decided_at")), time(d.path("opened_at")),
                text(d, "/opened_by"), d.path("version").asLong(), time(d.path("updated_at")));
    }

    private static List<AssetAmount> assetAmounts(JsonNode list) {
        List<AssetAmount> out = new ArrayList<>();
        for (JsonNode a : list) {
            out.add(new AssetAmount(text(a, "/asset"), text(a, "/amount"), decimal(a.path("usd_value")),
                    a.path("withdrawals").asInt()));
        }
        return List.copyOf(out);
    }

    /** A decimal as written (a JSON number, or a string if ever so); null when absent. */
    private static BigDecimal decimal(JsonNode n) {
        if (n.isNumber()) return n.decimalValue();
        if (n.isTextual()) return new BigDecimal(n.asText());
        return null;
    }

    private static Instant time(JsonNode n) {
        if (n.isNumber()) return Instant.ofEpochMilli(n.asLong());
        if (n.isTextual()) return Times.parse(n.asText());
        return null;
    }

    // ------------------------------------------------------------------------------------ plumbing

    @FunctionalInterface
    private interface EsCall<T> {
        T run() throws IOException;
    }

    /**
     * Runs a request in a client span (OpenTelemetry database conventions: {@code db.system},
     * {@code db.operation.name}, {@code server.address}); a transport failure means Elasticsearch
     * is not there to answer. Without a configured endpoint the tracer is a no-op.
     */
    private <T> T call(String operation, EsCall<T> c) {
        io.opentelemetry.api.trace.Span span = tracer.spanBuilder("elasticsearch " + operation)
                .setSpanKind(io.opentelemetry.api.trace.SpanKind.CLIENT)
                .setAttribute("db.system", "elasticsearch")
                .setAttribute("db.operation.name", operation)
                .setAttribute("server.address", url)
                .startSpan();
        try (io.opentelemetry.context.Scope ignored = span.makeCurrent()) {
            return c.run();
        } catch (IOException | RuntimeException e) {
            span.recordException(e);
            span.setStatus(io.opentelemetry.api.trace.StatusCode.ERROR);
            String explained = io.tourniquet.index.EsClients.explain(List.of(url), security, e);
            if (explained != null) throw ElasticsearchUnreachableException.explained(explained, e);
            if (e instanceof RuntimeException re) throw re;
            throw new ElasticsearchUnreachableException(url, e);
        } finally {
            span.end();
        }
    }

    private <T> SearchResponse<T> search(Function<SearchRequest.Builder, ObjectBuilder<SearchRequest>> request,
                                         Class<T> type) {
        return search(request, type, true);
    }

    /** A search over aliases that may not exist yet (then: no hits); with a point in time, no index is named. */
    private <T> SearchResponse<T> search(Function<SearchRequest.Builder, ObjectBuilder<SearchRequest>> request,
                                         Class<T> type, boolean tolerateMissing) {
        return call("search", () -> es.search(s -> {
            request.apply(s);
            if (tolerateMissing) s.ignoreUnavailable(true).allowNoIndices(true);
            return s;
        }, type));
    }

    static Query term(String field, String value) {
        return Query.of(q -> q.term(t -> t.field(field).value(value)));
    }

    static Query term(String field, boolean value) {
        return Query.of(q -> q.term(t -> t.field(field).value(value)));
    }

    static Query terms(String field, List<String> values) {
        List<FieldValue> v = values.stream().map(FieldValue::of).toList();
        return Query.of(q -> q.terms(t -> t.field(field).terms(tv -> tv.value(v))));
    }

    /** All of the given filters (nulls skipped); match-all when none. */
    static Query and(Query... filters) {
        List<Query> present = Arrays.stream(filters).filter(Objects::nonNull).toList();
        if (present.isEmpty()) return Query.of(q -> q.matchAll(m -> m));
        return Query.of(q -> q.bool(b -> b.filter(present)));
    }

    private static co.elastic.clients.elasticsearch._types.SortOptions byTime(String field) {
        return co.elastic.clients.elasticsearch._types.SortOptions.of(so -> so.field(f -> f.field(field)
                .order(SortOrder.Asc).unmappedType(FieldType.Date)));
    }

    private static co.elastic.clients.elasticsearch._types.SortOptions byKeyword(String field) {
        return co.elastic.clients.elasticsearch._types.SortOptions.of(so -> so.field(f -> f.field(field)
                .order(SortOrder.Asc).unmappedType(FieldType.Keyword)));
    }

    private static Aggregation minTime() {
        return Aggregation.of(a -> a.min(m -> m.field("@timestamp")));
    }

    private static Aggregation maxTime() {
        return Aggregation.of(a -> a.max(m -> m.field("@timestamp")));
    }

    /** Distinct users, exact up to 40,000 (the highest precision threshold). */
    private static Aggregation users() {
        return Aggregation.of(a -> a.cardinality(c -> c.field("user.id").precisionThreshold(40_000)));
    }

    private static List<StringTermsBucket> buckets(Aggregate a) {
        if (a == null || !a.isSterms()) return List.of(); // unmapped field: no buckets
        return a.sterms().buckets().array();
    }

    private static String key(StringTermsBucket b) {
        return b.key().stringValue();
    }

    private static long total(SearchResponse<?> r) {
        return r.hits().total() == null ? r.hits().hits().size() : r.hits().total().value();
    }

    private static long cardinality(Aggregate a) {
        return a == null ? 0 : a.cardinality().value();
    }

    private static Instant min(Aggregate a) {
        return a == null ? null : instant(a.min());
    }

    private static Instant max(Aggregate a) {
        return a == null ? null : instant(a.max());
    }

    /**
     * A min or max of {@code @timestamp}; null over no documents. The client reads Elasticsearch's
     * {@code "value": null} as 0, so emptiness is told by the absent {@code value_as_string}, which a
     * date field always has when there is a value.
     */
    private static Instant instant(co.elastic.clients.elasticsearch._types.aggregations.SingleMetricAggregateBase m) {
        if (m.valueAsString() == null || !Double.isFinite(m.value())) return null;
        return Instant.ofEpochMilli((long) m.value());
    }

    private static Instant instant(Long epochMillis) {
        return epochMillis == null ? null : Instant.ofEpochMilli(epochMillis);
    }

    static String fmt(Instant t) {
        return t == null ? "-" : Times.format(t.toEpochMilli());
    }

    static String text(JsonNode n, String pointer) {
        JsonNode v = n.at(pointer);
        return v.isMissingNode() || v.isNull() ? null : v.asText();
    }

    private static Boolean bool(JsonNode n, String pointer) {
        JsonNode v = n.at(pointer);
        return v.isBoolean() ? v.asBoolean() : null;
    }

    private static String or(String v, String otherwise) {
        return v == null ? otherwise : v;
    }

    private static void append(StringBuilder sb, String label, String value) {
        if (value == null || value.isEmpty()) return;
        if (!sb.isEmpty()) sb.append(' ');
        sb.append(label).append('=').append(value);
    }
}
