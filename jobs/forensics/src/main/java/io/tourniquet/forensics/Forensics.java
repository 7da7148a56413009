package io.tourniquet.forensics;

import co.elastic.clients.elasticsearch.ElasticsearchClient;
import com.fasterxml.jackson.databind.JsonNode;
import io.tourniquet.config.TourniquetConfig;
import io.tourniquet.forensics.Activities.Activity;
import io.tourniquet.forensics.AttackerInfrastructure.AttackerInfra;
import io.tourniquet.forensics.Claims.IncidentClaims;
import io.tourniquet.forensics.Eligibility.AppEligibility;
import io.tourniquet.forensics.Exports.EventSink;
import io.tourniquet.forensics.Incidents.IncidentView;
import io.tourniquet.forensics.RootCauses.RootCause;
import io.tourniquet.forensics.Timelines.Timeline;
import io.tourniquet.forensics.Verdicts.Precision;
import io.tourniquet.forensics.Verdicts.ShadowVersion;
import io.tourniquet.forensics.Verdicts.VerdictView;
import io.tourniquet.index.EsClients;
import java.io.IOException;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;

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
 *
 * <p>This class is the front door: it connects, and hands each question to the class that answers
 * it ({@link Incidents}, {@link Timelines}, {@link RootCauses}, {@link Activities},
 * {@link AttackerInfrastructure}, {@link Exports}, {@link Eligibility}, {@link Claims},
 * {@link Verdicts}), which holds the question's queries and its answer's records.
 */
public final class Forensics implements AutoCloseable {
    /** Shared with every question; tests lower its page sizes to cross page boundaries on small data. */
    final ForensicsQuery.Context context;
    private final boolean ownsClient;
    private final Incidents incidents;
    private final Timelines timelines;
    private final Verdicts verdicts;
    private final TrainingRows trainingRows;
    private final RootCauses rootCauses;
    private final Activities activities;
    private final AttackerInfrastructure attackerInfrastructure;
    private final Exports exports;
    private final Eligibility eligibility;
    private final Claims claims;

    /** Uses the given client (not closed by {@link #close()}) with the configuration's aliases and cut-offs. */
    public Forensics(ElasticsearchClient es, TourniquetConfig cfg) {
        this(es, false, cfg);
    }

    private Forensics(ElasticsearchClient es, boolean ownsClient, TourniquetConfig cfg) {
        this.context = new ForensicsQuery.Context(es, cfg);
        this.ownsClient = ownsClient;
        this.incidents = new Incidents(context);
        this.verdicts = new Verdicts(context);
        this.trainingRows = new TrainingRows(context, verdicts);
        this.timelines = new Timelines(context, verdicts);
        this.rootCauses = new RootCauses(context, incidents);
        this.activities = new Activities(context, incidents);
        this.attackerInfrastructure = new AttackerInfrastructure(context, incidents);
        this.exports = new Exports(context, incidents);
        this.eligibility = new Eligibility(context, incidents);
        this.claims = new Claims(context, incidents);
    }

    /** Traces every Elasticsearch request as a client span of whatever span is current. */
    public Forensics traced(io.opentelemetry.api.OpenTelemetry openTelemetry) {
        context.tracer = openTelemetry.getTracer("io.tourniquet.forensics");
        return this;
    }

    /** A service with its own client for {@code elasticsearch.url}; closing it closes the client. */
    public static Forensics connect(TourniquetConfig cfg) {
        return new Forensics(EsClients.create(cfg), true, cfg);
    }

    @Override
    public void close() throws IOException {
        if (ownsClient) context.es.close();
    }

    /** See {@link Incidents#incidents}. */
    public List<IncidentView> incidents(TimeRange range, int limit) {
        return incidents.incidents(range, limit);
    }

    /** See {@link Incidents#incident}. */
    public IncidentView incident(String incidentId) {
        return incidents.incident(incidentId);
    }

    /** See {@link Incidents#window}. */
    public TimeRange window(IncidentView incident) {
        return incidents.window(incident);
    }

    /** See {@link Timelines#timeline}. */
    public Timeline timeline(String userId, TimeRange range, int limit) {
        return timelines.timeline(userId, range, limit);
    }

    /** See {@link TrainingRows#export}. */
    public TrainingRows.Written exportTrainingRows(java.nio.file.Path out, java.util.Set<String> attacks, boolean verdicts)
            throws java.io.IOException {
        return trainingRows.export(out, attacks, verdicts);
    }

    /** See {@link Verdicts#latestVerdicts}. */
    public Map<String, JsonNode> latestVerdicts(List<String> alertIds) {
        return verdicts.latestVerdicts(alertIds);
    }

    /** See {@link Verdicts#latestLabels}. */
    public Map<String, String> latestLabels(String rule, TimeRange range) {
        return verdicts.latestLabels(rule, range);
    }

    /** See {@link Verdicts#incidentVerdicts}. */
    public List<VerdictView> incidentVerdicts(String incidentId) {
        return verdicts.incidentVerdicts(incidentId);
    }

    /** See {@link Verdicts#latestShadow}. */
    public Optional<ShadowVersion> latestShadow(String rule) {
        return verdicts.latestShadow(rule);
    }

    /** See {@link Verdicts#firstInForceFrom}. */
    public Optional<Instant> firstInForceFrom(String rule, int version, Instant since) {
        return verdicts.firstInForceFrom(rule, version, since);
    }

    /** See {@link Verdicts#alertsDetected}. */
    public List<JsonNode> alertsDetected(String rule, Integer shadowVersion, Instant from, Instant to) {
        return verdicts.alertsDetected(rule, shadowVersion, from, to);
    }

    /** See {@link Verdicts#precision}. */
    public Precision precision(TimeRange range) {
        return verdicts.precision(range);
    }

    /** See {@link RootCauses#rootCause}. */
    public RootCause rootCause(String incidentId, TimeRange range) {
        return rootCauses.rootCause(incidentId, range);
    }

    /** See {@link Activities#activity}. */
    public Activity activity(String incidentId, TimeRange range, Duration interval) {
        return activities.activity(incidentId, range, interval);
    }

    /** See {@link AttackerInfrastructure#attackerInfra}. */
    public AttackerInfra attackerInfra(String incidentId, TimeRange range, boolean all, int limit) {
        return attackerInfrastructure.attackerInfra(incidentId, range, all, limit);
    }

    /** See {@link Exports#export}. */
    public long export(String incidentId, String userId, TimeRange range, EventSink sink) throws IOException {
        return exports.export(incidentId, userId, range, sink);
    }

    /** See {@link Exports#exportWindow}. */
    public long exportWindow(String incidentId, TimeRange range, EventSink sink) throws IOException {
        return exports.exportWindow(incidentId, range, sink);
    }

    /** See {@link Eligibility#appEligibility}. */
    public AppEligibility appEligibility(String incidentId) {
        return eligibility.appEligibility(incidentId);
    }

    /** See {@link Claims#claims}. */
    public IncidentClaims claims(String incidentId) {
        return claims.claims(incidentId);
    }
}
