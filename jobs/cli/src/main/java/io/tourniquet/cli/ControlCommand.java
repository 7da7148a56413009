package io.tourniquet.cli;

import io.tourniquet.kafka.KafkaClientConfig;
import io.tourniquet.config.Setting;
import io.tourniquet.config.Settings;
import io.tourniquet.config.TourniquetConfig;
import io.tourniquet.control.ControlRequests;
import io.tourniquet.signing.CommandSigner;
import io.tourniquet.model.ControlRequest;
import io.tourniquet.rules.catalog.RuleCatalog;
import io.tourniquet.util.Times;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code tourniquet control}: an analyst's signed request to the detect job, on {@code topic.control}.
 * Signed under the control key ({@code signing.control-key}, best given as the environment variable
 * {@code TOURNIQUET_SIGNING_CONTROL_KEY}: a {@code --set} value is visible to other local users).
 * The job accepts a request only if its signature verifies, it is fresh ({@code control.max-age},
 * {@code control.max-future}) and its id was never used; rule changes are validated by the job.
 * Under {@code control.two-person} the job holds a resume, and a rule change that weakens a rule,
 * until a second analyst sends {@code approve --request <its id>}.
 */
@Command(name = "control", mixinStandardHelpOptions = true,
        description = {"Send an analyst's signed control request to the detect job.",
                "The request goes to topic.control; it releases an account, resumes withdrawals, resolves an "
                        + "incident, changes a rule's thresholds, approves another analyst's held request, or works "
                        + "an Account Protection Programme claim (open, documents received, decision), or records a verdict on an alert.",
                "The control key comes from TOURNIQUET_SIGNING_CONTROL_KEY (at least 32 bytes)."},
        subcommands = {ControlCommand.Release.class, ControlCommand.Resume.class, ControlCommand.Resolve.class,
                ControlCommand.Rule.class, ControlCommand.Approve.class, ControlCommand.OpenClaim.class,
                ControlCommand.ClaimDocument.class, ControlCommand.ClaimDecision.class, ControlCommand.Verdict.class,
                ControlCommand.Promote.class, ControlCommand.DropShadow.class})
public final class ControlCommand implements Runnable {
    @Spec
    CommandSpec spec;

    @Override
    public void run() {
        throw new CommandLine.ParameterException(spec.commandLine(),
                "missing subcommand: release, resume, resolve, rule, approve, open-claim, claim-document, claim-decision, "
                        + "verdict, promote or drop-shadow");
    }

    /** Options every request has. */
    static final class Common {
        @Option(names = "--by", required = true, paramLabel = "WHO",
                description = "Who asks (e.g. your e-mail); kept with the request and on the commands it issues.")
        String by;

        @Option(names = {"--reason", "--note"}, required = true, paramLabel = "TEXT",
                description = "Why, in plain words (audit trail); --note is the same, for a verdict's note.")
        String reason;

        @Option(names = "--request-id", paramLabel = "ID",
                description = "Unique id of this request (default: a random UUID); the job refuses an id it has seen.")
        String requestId;

        @Option(names = "--print", description = "Print the signed request and do not send it.")
        boolean print;
    }

    /** A request, signed, with the exact bytes to publish. */
    public record Signed(ControlRequest request, byte[] json) {
        public String text() {
            return new String(json, StandardCharsets.UTF_8);
        }
    }

    /** What every subcommand does: build, check, sign, then print or send. */
    abstract static class Request implements Callable<Integer> {
        @Mixin
        ConfigOptions options;

        @Mixin
        Common common;

        @Spec
        CommandSpec spec;

        /** Fills the type-specific fields of {@code r}. */
        abstract void fill(ControlRequest r);

        /** Looks up, before {@link #fill}, what the request needs and the options did not give (default: nothing). */
        void complete(TourniquetConfig cfg) {}

        /**
         * The signed request these arguments make, dated {@code now}: the testable core.
         *
         * @throws IllegalArgumentException if the control key is unset or short, or the request is malformed
         */
        Signed prepare(TourniquetConfig cfg, Instant now) {
            CommandSigner signer = ControlRequests.controlSigner(cfg); // first: a missing key is the likeliest error
            ControlRequest r = new ControlRequest();
            r.requestId = common.requestId != null ? common.requestId : UUID.randomUUID().toString();
            r.requestedBy = common.by;
            r.requestedAt = Times.format(now.toEpochMilli());
            r.reason = common.reason;
            r.keyId = cfg.find(Settings.CONTROL_KEY_ID).orElse(null);
            complete(cfg);
            fill(r);
            String problem = ControlRequests.problemWith(r);
            if (problem != null) throw new IllegalArgumentException("invalid request: " + problem);
            return new Signed(r, ControlRequests.sign(r, signer));
        }

        @Override
        public Integer call() throws Exception {
            TourniquetConfig cfg = options.resolve();
            Signed signed = prepare(cfg, Instant.now());
            PrintWriter out = spec.commandLine().getOut();
            if (common.print) {
                out.println(signed.text());
            } else {
                String topic = cfg.get(Settings.TOPIC_CONTROL);
                RecordMetadata m = send(cfg, signed);
                out.println("sent " + signed.request().type + " request " + signed.request().requestId + " to "
                        + topic + " (partition " + m.partition() + ", offset " + m.offset() + "):");
                out.println(signed.text());
                String held = heldNote(cfg, signed.request());
                if (held != null) out.println(held);
            }
            out.flush();
            return 0;
        }
    }

    @Command(name = "release", mixinStandardHelpOptions = true,
            description = "Release a frozen account: the job issues a signed release_account command for it.")
    static final class Release extends Request {
        @Option(names = "--user", required = true, paramLabel = "USER_ID", description = "The account to release.")
        String user;

        @Option(names = "--incident", paramLabel = "INCIDENT_ID", description = "The incident this answers, if any.")
        String incident;

        @Override
        void fill(ControlRequest r) {
            r.type = ControlRequest.RELEASE_ACCOUNT;
            r.userId = user;
            r.incidentId = incident;
        }
    }

    @Command(name = "resume", mixinStandardHelpOptions = true,
            description = {"Resume withdrawals platform-wide: the job issues a signed resume_withdrawals command.",
                    "Under control.two-person (the default) only once a second analyst approves it ('approve')."})
    static final class Resume extends Request {
        @Option(names = "--incident", paramLabel = "INCIDENT_ID", description = "The incident this answers, if any.")
        String incident;

        @Override
        void fill(ControlRequest r) {
            r.type = ControlRequest.RESUME_WITHDRAWALS;
            r.incidentId = incident;
        }
    }

    @Command(name = "resolve", mixinStandardHelpOptions = true, description = "Mark an incident resolved.")
    static final class Resolve extends Request {
        @Option(names = "--incident", required = true, paramLabel = "INCIDENT_ID", description = "The incident.")
        String incident;

        @Override
        void fill(ControlRequest r) {
            r.type = ControlRequest.RESOLVE_INCIDENT;
            r.incidentId = incident;
        }
    }

    @Command(name = "rule", mixinStandardHelpOptions = true,
            description = {"Change a rule's thresholds without a restart; the job makes the rule's next version.",
                    "Rules and their settings: see 'tourniquet config' (keys rule.*). A change that weakens a rule "
                            + "(each setting's description says which direction does) waits for a second "
                            + "analyst's approval under control.two-person ('approve')."})
    static final class Rule extends Request {
        @Option(names = "--rule", required = true, paramLabel = "RULE",
                description = "account_drain, unauthorized_approval, new_address_withdrawal, bulk_drain, "
                        + "destination_concentration or incident.")
        String rule;

        @Option(names = "--param", required = true, paramLabel = "KEY=VALUE",
                description = "A full setting key of the rule and its new value, e.g. rule.account-drain.share=0.7; repeatable.")
        Map<String, String> params = new LinkedHashMap<>();

        @Option(names = "--shadow",
                description = "Make a shadow version: evaluated beside the version in force on live traffic, its alerts "
                        + "marked shadow and acted on by nothing (account_drain, new_address_withdrawal); "
                        + "then 'promote' or 'drop-shadow'. Never held for approval.")
        boolean shadow;

        @Override
        void fill(ControlRequest r) {
            checkLocally(rule, params);
            if (shadow) RuleCatalog.requireShadowable(rule);
            r.type = ControlRequest.UPDATE_RULE;
            r.rule = rule;
            r.params = new LinkedHashMap<>(params);
            if (shadow) r.mode = ControlRequest.MODE_SHADOW;
        }
    }

    /** A request about a rule's shadow version: it names the rule only. */
    abstract static class ShadowRequest extends Request {
        @Option(names = "--rule", required = true, paramLabel = "RULE",
                description = "The rule whose shadow version it is (account_drain or new_address_withdrawal).")
        String rule;

        abstract String type();

        @Override
        void fill(ControlRequest r) {
            RuleCatalog.settingsOf(rule); // throws naming the known rules
            r.type = type();
            r.rule = rule;
        }
    }

    @Command(name = "promote", mixinStandardHelpOptions = true,
            description = {"Make a rule's shadow version the version in force, from this request on.",
                    "Compare it first: 'tourniquet forensics shadow --rule RULE'. A promotion that weakens the "
                            + "version in force waits for a second analyst under control.two-person ('approve')."})
    static final class Promote extends ShadowRequest {
        @Override
        String type() {
            return ControlRequest.PROMOTE_RULE;
        }
    }

    @Command(name = "drop-shadow", mixinStandardHelpOptions = true,
            description = {"End a rule's shadow version without using it.",
                    "Its alerts stay indexed; the version in force is unchanged."})
    static final class DropShadow extends ShadowRequest {
        @Override
        String type() {
            return ControlRequest.DROP_SHADOW;
        }
    }

    @Command(name = "approve", mixinStandardHelpOptions = true,
            description = {"Approve another analyst's request that the job holds for a second analyst "
                    + "(control.two-person): a resume, or a rule change that weakens a rule.",
                    "It then takes effect. Your own request, one never held, or one past control.approval-window "
                            + "is refused (DLQ: self_approval, unknown_request, approval_expired)."})
    static final class Approve extends Request {
        @Option(names = "--request", required = true, paramLabel = "REQUEST_ID",
                description = "The request_id of the held request (its sender's 'control' printed it).")
        String request;

        @Override
        void fill(ControlRequest r) {
            r.type = ControlRequest.APPROVE;
            r.approves = request;
        }
    }

    /** The claim a claim request is about: one per user and incident. */
    abstract static class ClaimRequest extends Request {
        @Option(names = "--user", required = true, paramLabel = "USER_ID", description = "The claimant.")
        String user;

        @Option(names = "--incident", required = true, paramLabel = "INCIDENT_ID", description = "The incident claimed for.")
        String incident;

        void claim(ControlRequest r, String type) {
            r.type = type;
            r.userId = user;
            r.incidentId = incident;
        }
    }

    @Command(name = "open-claim", mixinStandardHelpOptions = true,
            description = {"Open an Account Protection Programme claim for a victim of an incident that is still open.",
                    "Claims open by themselves for every victim when their incident is resolved."})
    static final class OpenClaim extends ClaimRequest {
        @Override
        void fill(ControlRequest r) {
            claim(r, ControlRequest.OPEN_CLAIM);
        }
    }

    @Command(name = "claim-document", mixinStandardHelpOptions = true,
            description = "Record that the claimant sent one of the claim's documents; the user is told.")
    static final class ClaimDocument extends ClaimRequest {
        @Option(names = "--document", required = true, paramLabel = "NAME",
                description = "police_report or questionnaire.")
        String document;

        @Override
        void fill(ControlRequest r) {
            claim(r, ControlRequest.CLAIM_DOCUMENT);
            r.document = document;
        }
    }

    @Command(name = "claim-decision", mixinStandardHelpOptions = true,
            description = {"Approve or deny a claim; --reason is what the user is told when it is denied.",
                    "An approval pays the loss up to claims.limit-usd; it needs every document, no failed condition, "
                            + "and under control.two-person a second analyst's 'approve'."})
    static final class ClaimDecision extends ClaimRequest {
        @Option(names = "--decision", required = true, paramLabel = "approve|deny", description = "approve or deny.")
        String decision;

        @Override
        void fill(ControlRequest r) {
            claim(r, ControlRequest.CLAIM_DECISION);
            r.decision = decision;
        }
    }

    @Command(name = "verdict", mixinStandardHelpOptions = true,
            description = {"Record your verdict on an alert: true_positive, false_positive or benign_true_positive.",
                    "The job publishes it on topic.verdicts (indexed in index.verdicts). A false positive of "
                            + "account_drain, new_address_withdrawal or anomaly_score also suppresses that user's "
                            + "alerts of the same rule for verdict.suppress-for (event time, from the judged alert's): "
                            + "raised and indexed, marked suppressed_by, but no command and no notification. "
                            + "Never for unauthorized_approval or the platform rules.",
                    "The alert's rule, user and event time are looked up in index.alerts unless all are given."})
    static final class Verdict extends Request {
        @Option(names = "--alert", required = true, paramLabel = "ALERT_ID", description = "The alert judged.")
        String alert;

        @Option(names = "--label", required = true, paramLabel = "LABEL",
                description = "true_positive, false_positive or benign_true_positive.")
        String label;

        @Option(names = "--rule", paramLabel = "RULE", description = "The alert's rule (else looked up).")
        String rule;

        @Option(names = "--user", paramLabel = "USER_ID",
                description = "The alert's user (else looked up; none for a platform alert).")
        String user;

        @Option(names = "--alert-time", paramLabel = "RFC3339", description = "The alert's event time (else looked up).")
        String alertTime;

        @Option(names = "--shadow-alert",
                description = "The alert is a shadow rule version's (else looked up): its verdict suppresses nothing.")
        boolean shadowAlert;

        @Override
        void complete(TourniquetConfig cfg) {
            // Before any lookup: a typo should not cost a round trip to Elasticsearch.
            String problem = ControlRequests.labelProblem(label);
            if (problem != null) throw new IllegalArgumentException("invalid request: " + problem);
            if (rule != null && alertTime != null) return;
            AlertFacts facts = AlertFacts.lookUp(cfg, alert);
            shadowAlert |= facts.shadow();
            if (rule == null) rule = facts.rule();
            if (user == null) user = facts.userId();
            if (alertTime == null) alertTime = facts.eventTime();
        }

        @Override
        void fill(ControlRequest r) {
            r.type = ControlRequest.VERDICT;
            r.alertId = alert;
            r.label = label;
            r.rule = rule;
            r.userId = user;
            r.alertTime = alertTime;
            if (shadowAlert) r.alertShadow = Boolean.TRUE;
        }
    }

    /** What a verdict needs to know of its alert, as the forensic index has it. */
    record AlertFacts(String rule, String userId, String eventTime, boolean shadow) {
        static AlertFacts lookUp(TourniquetConfig cfg, String alertId) {
            String alias = cfg.get(Settings.INDEX_ALERTS);
            try {
                return io.tourniquet.index.EsClients.with(cfg, client -> {
                    var response = client.search(s -> s.index(alias).size(1)
                                    .query(q -> q.term(t -> t.field("alert_id").value(alertId))),
                            com.fasterxml.jackson.databind.JsonNode.class);
                    if (response.hits().hits().isEmpty() || response.hits().hits().get(0).source() == null) {
                        throw new IllegalArgumentException("alert " + alertId + " is not in " + alias
                                + " (not indexed yet, or a typo?); give --rule, --alert-time and --user yourself");
                    }
                    var d = response.hits().hits().get(0).source();
                    String user = d.path("user_id").isTextual() ? d.path("user_id").asText() : null;
                    // Alerts are indexed with their times as on the wire: RFC 3339.
                    return new AlertFacts(d.path("rule").asText(null), user, d.path("event_time").asText(null),
                            d.path("shadow").asBoolean(false));
                });
            } catch (IllegalArgumentException e) {
                throw e;
            } catch (Exception e) {
                throw new IllegalArgumentException("cannot look up alert " + alertId + " in " + alias + ": "
                        + e.getMessage() + "; give --rule, --alert-time and --user yourself", e);
            }
        }
    }

    /**
     * What to tell the sender of a request the job will hold, or null. Only what this machine's
     * configuration can tell: whether a rule change weakens depends on the thresholds in force,
     * which only the job knows.
     */
    static String heldNote(TourniquetConfig cfg, ControlRequest r) {
        if (!cfg.get(Settings.CONTROL_TWO_PERSON)) return null;
        String approve = "'tourniquet control approve --request " + r.requestId + " --by <who> --reason <why>'"
                + " within control.approval-window (" + cfg.describe().get(Settings.CONTROL_APPROVAL_WINDOW.key()) + ")";
        return switch (r.type) {
            case ControlRequest.RESUME_WITHDRAWALS ->
                    "held by the job until a second analyst approves it: " + approve;
            case ControlRequest.UPDATE_RULE -> ControlRequest.MODE_SHADOW.equals(r.mode) ? null
                    : "if it weakens the rule, held by the job until a second analyst approves it: " + approve;
            case ControlRequest.PROMOTE_RULE ->
                    "if the shadow version weakens the rule in force, held by the job until a second analyst"
                            + " approves it: " + approve;
            case ControlRequest.CLAIM_DECISION -> ControlRequest.APPROVE_CLAIM.equals(r.decision)
                    ? "held by the job until a second analyst approves the payout: " + approve : null;
            default -> null;
        };
    }

    /**
     * Catches typos before anything is signed: the rule exists, every key is one of its settings
     * and every value parses on its own. Checks across settings are left to the job, which knows
     * the thresholds in force (they may differ from this machine's configuration).
     */
    static void checkLocally(String rule, Map<String, String> params) {
        List<Setting<?>> own = RuleCatalog.settingsOf(rule); // throws naming the known rules
        List<String> problems = new ArrayList<>();
        for (Map.Entry<String, String> p : params.entrySet()) {
            Setting<?> setting = own.stream().filter(s -> s.key().equals(p.getKey())).findFirst().orElse(null);
            if (setting == null) {
                problems.add(p.getKey() + ": not a setting of rule " + rule + " (its settings: "
                        + own.stream().map(Setting::key).toList() + ")");
                continue;
            }
            try {
                setting.parse(p.getValue());
            } catch (IllegalArgumentException e) {
                problems.add(e.getMessage());
            }
        }
        if (!problems.isEmpty()) throw new IllegalArgumentException(String.join("; ", problems));
    }

    /**
     * Publishes the signed bytes to {@code topic.control}, keyed by the request id (an approval by
     * the id it approves: same key, same partition, so the job never reads an approval before the
     * request it approves), and waits for the acknowledgement of every in-sync replica ({@code acks=all}).
     */
    static RecordMetadata send(TourniquetConfig cfg, Signed signed) throws IOException {
        String bootstrap = cfg.get(Settings.KAFKA_BOOTSTRAP);
        String topic = cfg.get(Settings.TOPIC_CONTROL);
        Properties props = KafkaClientConfig.base(cfg);
        props.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
        props.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
        props.put(ProducerConfig.ACKS_CONFIG, "all");
        props.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true");
        props.put(ProducerConfig.CLIENT_ID_CONFIG, "tourniquet-control");
        // An analyst at a terminal: fail within seconds, not the producer's default minutes.
        props.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, "15000");
        props.put(ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, "15000");
        props.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, "30000");
        try (KafkaProducer<String, byte[]> producer = new KafkaProducer<>(props)) {
            return producer.send(new ProducerRecord<>(topic, recordKey(signed.request()), signed.json()))
                    .get(45, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while sending to " + topic, e);
        } catch (ExecutionException | TimeoutException | RuntimeException e) {
            throw new IOException("could not send to topic " + topic + " at " + bootstrap
                    + " (is Kafka up, and the topic created by 'tourniquet setup'?)", e);
        }
    }

    /** The Kafka key of a request's record (see {@link #send}). */
    static String recordKey(ControlRequest r) {
        return ControlRequest.APPROVE.equals(r.type) ? r.approves : r.requestId;
    }
}
