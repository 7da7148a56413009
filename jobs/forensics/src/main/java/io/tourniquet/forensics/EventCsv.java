package io.tourniquet.forensics;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.List;

/**
 * Event documents as CSV (RFC 4180): one fixed column per field of {@code tourniquet-events}
 * that other tools are likely to want, named by its dotted path; multi-valued fields joined by
 * {@code ;}. Amounts stay the exact strings of the documents.
 *
 * <p>Cells an attacker wrote (a user agent, an address) reach an analyst's spreadsheet: one that
 * starts with {@code =}, {@code +}, {@code -}, {@code @}, a tab or a carriage return would be run
 * as a formula there, so it is neutralized with a leading apostrophe (OWASP's CSV-injection
 * advice). Hand-written rather than a CSV library: RFC 4180 quoting is four lines here.
 */
public final class EventCsv {
    public static final List<String> COLUMNS = List.of(
            "@timestamp", "event.id", "event.dataset", "event.action", "event.outcome", "user.id", "source.ip",
            "source.geo.country_iso_code", "device.id", "user_agent.original", "exchange.session_id",
            "exchange.login.auth_method", "exchange.login.device_jailbroken",
            "exchange.mfa.action", "exchange.mfa.challenge_id", "exchange.mfa.method", "exchange.mfa.purpose",
            "exchange.withdrawal.id", "exchange.withdrawal.status", "exchange.withdrawal.asset",
            "exchange.withdrawal.network", "exchange.withdrawal.amount", "exchange.withdrawal.usd_value",
            "exchange.withdrawal.destination_address", "exchange.withdrawal.mfa_challenge_id",
            "exchange.withdrawal.approval_service", "exchange.withdrawal.approval_service_version",
            "exchange.withdrawal.approval_channel", "exchange.withdrawal.tx_hash",
            "exchange.account.action", "exchange.account.address", "exchange.account.asset",
            "exchange.mfa.authorized", "exchange.mfa.decision_reason", "exchange.alert_ids", "exchange.incident_id",
            "exchange.late");

    private EventCsv() {}

    public static String header() {
        return line(COLUMNS);
    }

    /** One event document as a CSV line (no line break). */
    public static String row(JsonNode doc) {
        List<String> cells = new ArrayList<>(COLUMNS.size());
        for (String column : COLUMNS) cells.add(cell(doc.at("/" + column.replace('.', '/'))));
        return line(cells);
    }

    private static String cell(JsonNode v) {
        if (v.isMissingNode() || v.isNull()) return "";
        if (v.isArray()) {
            List<String> parts = new ArrayList<>();
            v.forEach(x -> parts.add(x.asText()));
            return String.join(";", parts);
        }
        return v.asText();
    }

    private static String line(List<String> cells) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < cells.size(); i++) {
            if (i > 0) sb.append(',');
            sb.append(quote(neutralize(cells.get(i))));
        }
        return sb.toString();
    }

    /** A cell a spreadsheet would take for a formula, made inert. */
    static String neutralize(String s) {
        if (s.isEmpty()) return s;
        char c = s.charAt(0);
        return c == '=' || c == '+' || c == '-' || c == '@' || c == '\t' || c == '\r' ? "'" + s : s;
    }

    static String quote(String s) {
        if (s.indexOf(',') < 0 && s.indexOf('"') < 0 && s.indexOf('\n') < 0 && s.indexOf('\r') < 0) return s;
        return '"' + s.replace("\"", "\"\"") + '"';
    }
}
