package io.tourniquet.index;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.tourniquet.json.Json;
import io.tourniquet.model.Action;
import io.tourniquet.model.Alert;
import io.tourniquet.model.Anomaly;
import io.tourniquet.model.Claim;
import io.tourniquet.model.EnrichedEvent;
import io.tourniquet.models.WithdrawalFeatures;
import java.util.LinkedHashMap;
import java.util.Map;
import io.tourniquet.model.Incident;
import io.tourniquet.model.Event;
import io.tourniquet.util.Times;
import java.math.BigDecimal;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.Iterator;
import java.util.List;

/**
 * Maps the pipeline's records to forensic-index documents (contract section 4): ECS field names
 * where ECS has one, exchange-specific fields under {@code exchange.}. Pure functions.
 *
 * <p>Every document goes to a monthly index {@code <alias>-yyyy.MM} (UTC), and its id is the
 * record's own id, so indexing the same record again, at any time, overwrites the same document in
 * the same index. An event's month is that of its ingestion (the input record's Kafka timestamp,
 * {@code exchange.kafka.timestamp}), not of its event time: a replay of years of history, or a record dated
 * by an attacker, fills this month's index instead of creating one index per day it names (one
 * replay left 895 daily shards on one node; Elasticsearch refuses new shards past 1,000 a node and
 * dropped documents). Queries go through the alias and filter on {@code @timestamp} (event time).
 * Alerts and commands go to the month they were raised ({@code detected_at}) and issued
 * ({@code issued_at}): fixed in their records, and, unlike event time, not something a record
 * dated decades back can multiply. Null fields are omitted.
 *
 * <p>The anti-phishing code of an account change is a user secret (it is shown in messages to
 * prove they come from the exchange): only whether one was set is indexed, never the code.
 */
public final class EcsDocuments {
    private static final DateTimeFormatter MONTH = DateTimeFormatter.ofPattern("yyyy.MM").withZone(ZoneOffset.UTC);

    private EcsDocuments() {}

    /** The concrete monthly index {@code <alias>-yyyy.MM} of the UTC month of {@code millis}. */
    public static String monthlyIndex(String alias, long millis) {
        return alias + "-" + MONTH.format(Instant.ofEpochMilli(millis));
    }

    /** An event's index: the month it was ingested in, or of its event time when that is unknown. */
    static String eventIndex(String alias, Event e) {
        return monthlyIndex(alias, e.sourceTimestamp > 0 ? e.sourceTimestamp : e.eventTime);
    }

    /** A {@code tourniquet-events} document: one per input event. */
    public static IndexDoc event(EnrichedEvent enriched, String alias) {
        Event e = enriched.event;
        Doc d = new Doc();
        d.put("@timestamp", Times.format(e.eventTime));
        d.put("event.id", e.eventId);
        d.put("event.kind", "event");
        d.put("event.category", category(e));
        d.put("event.dataset", e.sourceTopic);
        d.put("event.action", action(e));
        d.put("event.outcome", outcome(e));
        d.put("user.id", e.userId);
        d.put("source.ip", e.ip);
        d.put("device.id", e.deviceId);
        d.put("exchange.session_id", e.sessionId);

        if (e.kind == Event.Kind.LOGIN) {
            d.put("exchange.login.auth_method", e.authMethod);
            d.put("exchange.login.device_jailbroken", e.deviceJailbroken);
            d.put("user_agent.original", e.userAgent);
            d.put("source.geo.country_iso_code", e.geoCountry);
            if (e.geoLat != null && e.geoLon != null) {
                d.put("source.geo.location.lat", e.geoLat);
                d.put("source.geo.location.lon", e.geoLon);
            }
        }
        if (e.kind == Event.Kind.MFA) {
            d.put("exchange.mfa.action", e.action);
            d.put("exchange.mfa.challenge_id", e.challengeId);
            d.put("exchange.mfa.method", e.method);
            d.put("exchange.mfa.purpose", e.purpose);
            d.put("exchange.withdrawal.id", e.withdrawalId);
        }
        if (e.kind == Event.Kind.WITHDRAWAL) {
            d.put("exchange.withdrawal.id", e.withdrawalId);
            d.put("exchange.withdrawal.status", e.status);
            d.put("exchange.withdrawal.asset", e.asset);
            d.put("exchange.withdrawal.network", e.network);
            d.put("exchange.withdrawal.amount", e.amount);
            d.put("exchange.withdrawal.amount_value", decimalValue(e.amount));
            d.put("exchange.withdrawal.usd_value", e.usdValue);
            d.put("exchange.withdrawal.account_balance_usd", e.accountBalanceUsd);
            d.put("exchange.withdrawal.destination_address", e.destinationAddress);
            d.put("exchange.withdrawal.mfa_challenge_id", e.mfaChallengeId);
            d.put("exchange.withdrawal.approval_channel", e.approvalChannel);
            d.put("exchange.withdrawal.approval_service", e.approvalService);
            d.put("exchange.withdrawal.approval_service_version", e.approvalServiceVersion);
            d.put("exchange.withdrawal.tx_hash", e.txHash);
        }
        if (e.kind == Event.Kind.ACCOUNT_CHANGE) {
            d.put("exchange.account.action", e.action);
            d.put("exchange.account.address", e.address);
            d.put("exchange.account.asset", e.asset);
            d.put("exchange.account.network", e.network);
            if ("anti_phishing_code_set".equals(e.action)) {
                // The code itself is a secret: never copied into the document.
                d.put("exchange.account.anti_phishing_code_set", e.antiPhishingCode != null && !e.antiPhishingCode.isEmpty());
            }
            d.put("exchange.account.mfa_policy.login", e.mfaPolicyLogin);
            d.put("exchange.account.mfa_policy.withdrawal", e.mfaPolicyWithdrawal);
            d.put("exchange.account.mfa_policy.whitelist_address", e.mfaPolicyWhitelistAddress);
            d.put("exchange.account.mfa_policy.settings", e.mfaPolicySettings);
        }

        // Enrichment by the detect job.
        d.put("exchange.mfa.authorized", enriched.mfaAuthorized);
        d.put("exchange.mfa.decision_reason", enriched.mfaDecisionReason);
        d.put("exchange.alert_ids", enriched.alertIds);
        d.put("exchange.incident_id", enriched.incidentId);
        d.put("exchange.late", enriched.late);
        if (enriched.anomaly != null) {
            // The features are the training data ('models export' reads them back); the score and
            // model version say which model judged the approval, if any.
            Anomaly an = enriched.anomaly;
            Map<String, Double> features = new LinkedHashMap<>();
            for (String name : WithdrawalFeatures.names()) {
                if (an.features.containsKey(name)) features.put(name, an.features.get(name));
            }
            d.put("exchange.anomaly.schema_version", an.schemaVersion);
            d.put("exchange.anomaly.schema_hash", an.schemaHash);
            d.put("exchange.anomaly.features", features);
            d.put("exchange.anomaly.model_version", an.modelVersion);
            d.put("exchange.anomaly.score", an.score);
            d.put("exchange.anomaly.threshold", an.threshold);
            d.put("exchange.anomaly.top_contributions", an.topContributions);
        }

        if (e.sourceTopic != null) {
            d.put("exchange.kafka.topic", e.sourceTopic);
            d.put("exchange.kafka.partition", e.sourcePartition);
            d.put("exchange.kafka.offset", e.sourceOffset);
            if (e.sourceTimestamp > 0) d.put("exchange.kafka.timestamp", Times.format(e.sourceTimestamp));
        }
        return new IndexDoc(eventIndex(alias, e), e.eventId, d.json());
    }

    /** A {@code tourniquet-alerts} document: the Kafka record's fields plus {@code @timestamp} and ECS copies. */
    public static IndexDoc alert(Alert alert, String alias) {
        Doc d = Doc.of(Json.MAPPER.valueToTree(alert));
        d.put("@timestamp", Times.format(alert.eventTime));
        d.put("event.kind", "alert");
        // ECS rule.name is the multi-field 'rule.name' of the record's 'rule' (see alerts.json).
        d.put("user.id", alert.userId);
        return new IndexDoc(monthlyIndex(alias, alert.detectedAt > 0 ? alert.detectedAt : alert.eventTime), alert.alertId,
                d.json());
    }

    /** A {@code tourniquet-actions} document: the signed command as it was issued, plus {@code @timestamp}. */
    public static IndexDoc action(Action action, String alias) {
        Doc d = Doc.of(Json.MAPPER.valueToTree(action));
        d.put("@timestamp", Times.format(action.eventTime));
        d.put("event.action", action.action);
        return new IndexDoc(monthlyIndex(alias, action.issuedAt > 0 ? action.issuedAt : action.eventTime),
                action.actionId, d.json());
    }

    /**
     * A {@code tourniquet-incidents} document, one per incident (id = incident id) in the single
     * incidents index, versioned externally by the incident's version so a replayed or reordered
     * older update can never overwrite a newer one.
     */
    public static IndexDoc incident(Incident incident, String alias) {
        ObjectNode tree = (ObjectNode) Json.MAPPER.valueToTree(incident);
        // Beside each exact amount string, its numeric value for range queries and sums.
        for (JsonNode list : List.of(tree.path("impact"), tree.path("impact_after_containment"))) {
            if (!list.isArray()) continue;
            for (JsonNode item : list) amountValue((ObjectNode) item);
        }
        Doc d = Doc.of(tree);
        d.put("@timestamp", Times.format(incident.startedAt));
        d.put("incident.id", incident.incidentId);
        d.put("event.kind", "incident");
        return new IndexDoc(IndexTemplates.incidentsIndex(alias), incident.incidentId, d.json(), incident.version);
    }

    /**
     * A {@code tourniquet-claims} document, one per claim (id = claim id) in the single claims
     * index, versioned externally by the claim's version: versions may arrive in any order (a
     * replay, a retry, two partitions), and Elasticsearch keeps the highest.
     *
     * <p>The record's fields as they are, with its times as RFC 3339 (whatever the wire carries:
     * epoch millis or already a string), {@code amount_value} beside each exact amount, ECS
     * {@code user.id} and {@code incident.id} so the claim joins the other indexes by the same
     * names, and {@code condition_outcome.<name>}: the nested conditions flattened to one keyword
     * each, so "claims failing no_jailbroken_device" is a plain term query or Lens breakdown.
     */
    public static IndexDoc claim(Claim claim, String alias) {
        ObjectNode tree = (ObjectNode) Json.MAPPER.valueToTree(claim);
        for (String field : List.of("opened_at", "decided_at", "updated_at")) rfc3339(tree, field);
        for (JsonNode w : tree.path("withdrawals")) {
            rfc3339((ObjectNode) w, "event_time");
            amountValue((ObjectNode) w);
        }
        for (JsonNode d : tree.path("documents")) rfc3339((ObjectNode) d, "received_at");
        for (JsonNode h : tree.path("history")) rfc3339((ObjectNode) h, "at");
        for (String list : List.of("loss", "payout")) {
            for (JsonNode item : tree.path(list)) amountValue((ObjectNode) item);
        }
        ObjectNode outcomes = Json.MAPPER.createObjectNode();
        for (JsonNode c : tree.path("conditions")) {
            String name = c.path("name").asText(null);
            String outcome = c.path("outcome").asText(null);
            // Elasticsearch refuses an empty field name: a nameless condition (an upstream bug) must not
            // send the whole claim to the dead letters over this convenience copy; it stays in 'conditions'.
            if (name != null && !name.isBlank() && outcome != null) outcomes.put(name, outcome);
        }
        Doc d = Doc.of(tree);
        d.put("@timestamp", Times.format(claim.openedAt));
        d.put("user.id", claim.userId);
        d.put("incident.id", claim.incidentId);
        if (!outcomes.isEmpty()) d.put("condition_outcome", outcomes);
        return new IndexDoc(IndexTemplates.claimsIndex(alias), claim.claimId, d.json(), claim.version);
    }

    /**
     * A {@code tourniquet-verdicts} document, one per verdict (id = verdict id) in the single
     * verdicts index: the record's fields (its times RFC 3339, as on the wire), {@code @timestamp} =
     * when the analyst decided, and ECS {@code user.id}, so verdicts join alerts and events by the
     * same names.
     */
    public static IndexDoc verdict(io.tourniquet.model.Verdict verdict, String alias) {
        Doc d = Doc.of(Json.MAPPER.valueToTree(verdict));
        d.put("@timestamp", Times.format(verdict.decidedAt));
        d.put("event.kind", "verdict");
        d.put("user.id", verdict.userId);
        return new IndexDoc(IndexTemplates.verdictsIndex(alias), verdict.verdictId, d.json());
    }

    /** An epoch-millis field as RFC 3339; a string (already formatted) or a null is left as it is. */
    private static void rfc3339(ObjectNode node, String field) {
        JsonNode v = node.get(field);
        if (v != null && v.isNumber()) node.put(field, Times.format(v.asLong()));
    }

    private static void amountValue(ObjectNode item) {
        Double v = decimalValue(item.path("amount").asText(null));
        if (v != null) item.put("amount_value", v);
    }

    static List<String> category(Event e) {
        if (e.kind == null) return null;
        return switch (e.kind) {
            case LOGIN, MFA -> List.of("authentication");
            case ACCOUNT_CHANGE -> List.of("iam");
            // No ECS category describes a movement of funds; leaving it out is more honest than a wrong one.
            case WITHDRAWAL -> null;
        };
    }

    static String action(Event e) {
        if (e.kind == null) return null;
        return switch (e.kind) {
            case LOGIN -> "login";
            case MFA, ACCOUNT_CHANGE -> e.action;
            case WITHDRAWAL -> e.status == null ? null : "withdrawal_" + e.status;
        };
    }

    /** ECS {@code event.outcome}: success, failure or unknown. */
    static String outcome(Event e) {
        if (e.kind == Event.Kind.LOGIN) {
            return "success".equals(e.outcome) || "failure".equals(e.outcome) ? e.outcome : "unknown";
        }
        if (e.kind == Event.Kind.MFA) {
            if ("challenge_verified".equals(e.action)) return "success";
            if ("challenge_failed".equals(e.action)) return "failure";
            return "unknown";
        }
        if (e.kind == Event.Kind.WITHDRAWAL && e.status != null) {
            return "rejected".equals(e.status) || "cancelled".equals(e.status) ? "failure" : "success";
        }
        return "unknown";
    }

    /** The decimal string as a double, for range queries and sums; the exact string stays in {@code amount}. */
    static Double decimalValue(String amount) {
        if (amount == null) return null;
        try {
            return new BigDecimal(amount).doubleValue();
        } catch (NumberFormatException ex) {
            return null;
        }
    }

    /** A JSON object built by dotted paths, skipping nulls. */
    private static final class Doc {
        /** Field paths split once: a regex split per field of every document was a fifth of the mapping's CPU. */
        private static final java.util.concurrent.ConcurrentMap<String, String[]> PATHS =
                new java.util.concurrent.ConcurrentHashMap<>();

        private final ObjectNode root;

        Doc() {
            this(Json.MAPPER.createObjectNode());
        }

        private Doc(ObjectNode root) {
            this.root = root;
        }

        static Doc of(JsonNode record) {
            ObjectNode copy = ((ObjectNode) record).deepCopy();
            removeNulls(copy);
            return new Doc(copy);
        }

        void put(String path, Object value) {
            if (value == null) return;
            if (value instanceof List<?> list && list.isEmpty()) return;
            String[] parts = PATHS.computeIfAbsent(path, p -> p.split("\\."));
            ObjectNode node = root;
            for (int i = 0; i < parts.length - 1; i++) {
                JsonNode child = node.get(parts[i]);
                if (child == null || !child.isObject()) {
                    child = node.putObject(parts[i]);
                }
                node = (ObjectNode) child;
            }
            node.set(parts[parts.length - 1], tree(value));
        }

        /**
         * Strings, booleans and plain numbers, most of a document's fields, made directly: {@code valueToTree}
         * serializes each value to a buffer and reads it back, which was the largest cost of
         * mapping an event (bench-forensics profile). Anything else keeps the mapper's rules.
         */
        private static JsonNode tree(Object value) {
            if (value instanceof String text) return com.fasterxml.jackson.databind.node.TextNode.valueOf(text);
            if (value instanceof Boolean bool) return com.fasterxml.jackson.databind.node.BooleanNode.valueOf(bool);
            if (value instanceof Integer i) return com.fasterxml.jackson.databind.node.IntNode.valueOf(i);
            if (value instanceof Long l) return com.fasterxml.jackson.databind.node.LongNode.valueOf(l);
            if (value instanceof Double d) return com.fasterxml.jackson.databind.node.DoubleNode.valueOf(d);
            return Json.MAPPER.valueToTree(value);
        }

        String json() {
            try {
                return Json.MAPPER.writeValueAsString(root);
            } catch (JsonProcessingException ex) {
                throw new IllegalStateException(ex);
            }
        }

        private static void removeNulls(JsonNode node) {
            if (node instanceof ObjectNode obj) {
                for (Iterator<Map.Entry<String, JsonNode>> it = obj.fields(); it.hasNext(); ) {
                    Map.Entry<String, JsonNode> field = it.next();
                    if (field.getValue().isNull()) {
                        it.remove();
                    } else {
                        removeNulls(field.getValue());
                    }
                }
            } else if (node instanceof ArrayNode arr) {
                arr.forEach(Doc::removeNulls);
            }
        }
    }
}
