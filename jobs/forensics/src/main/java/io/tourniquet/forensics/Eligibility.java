package io.tourniquet.forensics;

import co.elastic.clients.elasticsearch._types.SortOrder;
import co.elastic.clients.elasticsearch._types.aggregations.Aggregate;
import co.elastic.clients.elasticsearch._types.aggregations.FiltersBucket;
import co.elastic.clients.elasticsearch._types.aggregations.StringTermsBucket;
import co.elastic.clients.elasticsearch._types.query_dsl.Query;
import co.elastic.clients.elasticsearch.core.SearchResponse;
import co.elastic.clients.elasticsearch.core.search.Hit;
import co.elastic.clients.json.JsonData;
import com.fasterxml.jackson.databind.JsonNode;
import io.tourniquet.config.Settings;
import io.tourniquet.forensics.Incidents.IncidentView;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Account Protection Program eligibility of an incident's users, by the conditions the record decides. */
public final class Eligibility extends ForensicsQuery {
    /** The transaction types an account's 2FA policy can cover (events' {@code exchange.account.mfa_policy.*}). */
    public static final List<String> MFA_TYPES = List.of("login", "withdrawal", "whitelist_address", "settings");
    /** The Account Protection Program's conditions the record cannot decide. */
    public static final List<String> APP_MANUAL_INPUTS = List.of("police report (copy submitted)",
            "forensic questionnaire (filled in)");

    private final Incidents incidentLookup;
    private final Duration codeMinAge;
    private final List<String> mfaTypes;

    Eligibility(Context context, Incidents incidentLookup) {
        super(context);
        this.incidentLookup = incidentLookup;
        this.codeMinAge = context.cfg.get(Settings.APP_CODE_MIN_AGE);
        this.mfaTypes = context.mfaTypes;
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
        IncidentView inc = incidentLookup.summary(incidentId);
        List<String> users = inc.userIds();
        if (users.isEmpty()) return new AppEligibility(incidentId, codeMinAge, mfaTypes, List.of());
        TimeRange window = incidentLookup.window(inc);
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
}
