package io.tourniquet.cli;

import io.tourniquet.sim.Simulator;
import io.tourniquet.sim.SimulationWriter;
import io.tourniquet.sim.SimulationConfig;
import io.tourniquet.sim.Simulation;
import io.tourniquet.sim.GroundTruth;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code simulate}: generates exchange traffic with an attack, to NDJSON files or to Kafka. */
@Command(name = "simulate", mixinStandardHelpOptions = true,
        description = {
            "Generates deterministic exchange traffic (logins, MFA, withdrawals, account changes) with a "
                    + "January-2022-style attack: withdrawals approved without valid MFA by a compromised backend.",
            "Writes <topic>.ndjson files and ground-truth.json to --out-dir, or produces to Kafka at "
                    + "--bootstrap (the topics must exist). Durations: 500ms, 20s, 5m, 2h, 3d or ISO-8601 (PT2H)."},
        sortOptions = false)
public final class SimulateCommand implements Callable<Integer> {

    static final class Target {
        @Option(names = "--out-dir", paramLabel = "DIR", required = true,
                description = "Write NDJSON files and ground-truth.json here.")
        Path outDir;

        @Option(names = "--bootstrap", paramLabel = "HOST:PORT", required = true,
                description = "Produce to this Kafka cluster.")
        String bootstrap;
    }

    @ArgGroup(exclusive = true, multiplicity = "1")
    Target target;

    @Option(names = "--kafka-properties", paramLabel = "FILE",
            description = "Kafka client properties for --bootstrap (security.protocol, sasl.*, ssl.*, config providers); "
                    + "the file kafka.properties-file takes.")
    Path kafkaProperties;

    @Option(names = "--seed", description = "Random seed (default: ${DEFAULT-VALUE}).")
    long seed = SimulationConfig.DEFAULT_SEED;

    @Option(names = "--start", paramLabel = "INSTANT", converter = InstantConverter.class,
            description = "Simulation start, RFC 3339 (default: ${DEFAULT-VALUE}).")
    Instant start = SimulationConfig.DEFAULT_START;

    @Option(names = "--benign-users", description = "Benign users (default: ${DEFAULT-VALUE}).")
    int benignUsers = SimulationConfig.DEFAULT_BENIGN_USERS;

    @Option(names = "--withdrawals-per-user", description = "Withdrawals per benign user (default: ${DEFAULT-VALUE}).")
    int withdrawalsPerUser = SimulationConfig.DEFAULT_WITHDRAWALS_PER_BENIGN_USER;

    @Option(names = "--benign-window", paramLabel = "DURATION", converter = DurationConverter.class,
            description = "Benign sessions start within this window after --start (default: 4h).")
    Duration benignWindow = SimulationConfig.DEFAULT_BENIGN_WINDOW;

    @Option(names = "--victims", description = "Attack victims (default: ${DEFAULT-VALUE}).")
    int victims = SimulationConfig.DEFAULT_ATTACK_VICTIMS;

    @Option(names = "--attack-offset", paramLabel = "DURATION", converter = DurationConverter.class,
            description = "Attack start after --start (default: 2h).")
    Duration attackOffset = SimulationConfig.DEFAULT_ATTACK_START_OFFSET;

    @Option(names = "--attack-spacing", paramLabel = "DURATION", converter = DurationConverter.class,
            description = "Time between two victims' approvals (default: 20s).")
    Duration attackSpacing = SimulationConfig.DEFAULT_ATTACK_SPACING;

    @Option(names = "--legit-service", description = "Legitimate approval_service (default: ${DEFAULT-VALUE}).")
    String legitService = SimulationConfig.DEFAULT_APPROVAL_SERVICE;

    @Option(names = "--legit-version", description = "Legitimate approval_service_version (default: ${DEFAULT-VALUE}).")
    String legitVersion = SimulationConfig.DEFAULT_LEGITIMATE_VERSION;

    @Option(names = "--compromised-service", description = "Compromised approval_service (default: ${DEFAULT-VALUE}).")
    String compromisedService = SimulationConfig.DEFAULT_APPROVAL_SERVICE;

    @Option(names = "--compromised-version",
            description = "Compromised approval_service_version (default: ${DEFAULT-VALUE}).")
    String compromisedVersion = SimulationConfig.DEFAULT_COMPROMISED_VERSION;

    @Option(names = "--attack-channel", description = "approval_channel of the attack: ${COMPLETION-CANDIDATES} "
            + "(default: ${DEFAULT-VALUE}).", completionCandidates = Channels.class)
    String attackChannel = SimulationConfig.DEFAULT_ATTACK_CHANNEL;

    @Option(names = "--malformed", description = "Malformed records for the DLQ (default: ${DEFAULT-VALUE}).")
    int malformed = SimulationConfig.DEFAULT_MALFORMED_COUNT;

    @Option(names = "--oversized-bytes", description = "Size of an oversized malformed record (default: ${DEFAULT-VALUE}).")
    int oversizedBytes = SimulationConfig.DEFAULT_OVERSIZED_BYTES;

    @Option(names = "--duplicates", description = "Redelivered duplicates, same bytes (default: ${DEFAULT-VALUE}).")
    int duplicates = SimulationConfig.DEFAULT_DUPLICATE_COUNT;

    @Option(names = "--max-delay", paramLabel = "DURATION", converter = DurationConverter.class,
            description = "Maximum arrival delay within a topic; keep it below the pipeline's "
                    + "out-of-orderness bound (default: 20s).")
    Duration maxDelay = SimulationConfig.DEFAULT_MAX_ARRIVAL_DELAY;

    @Option(names = "--legit-drainers", description = "Benign users who drain their own account with proper 2FA "
            + "(account drain, no incident) (default: ${DEFAULT-VALUE}).")
    int legitDrainers = SimulationConfig.DEFAULT_LEGITIMATE_DRAINERS;

    @Option(names = "--new-address-users", description = "Benign users who withdraw to an address of their own "
            + "whitelisted hours before (new-address withdrawal) (default: ${DEFAULT-VALUE}).")
    int newAddressUsers = SimulationConfig.DEFAULT_NEW_ADDRESS_USERS;

    @Option(names = "--popular-address-users", description = "Benign users who withdraw, within 10 minutes, to one "
            + "deposit address they all whitelisted days ago (must raise nothing) (default: ${DEFAULT-VALUE}).")
    int popularAddressUsers = SimulationConfig.DEFAULT_POPULAR_ADDRESS_USERS;

    @Option(names = "--anti-phishing-changes", description = "Users who set their anti-phishing code twice "
            + "(default: ${DEFAULT-VALUE}).")
    int antiPhishingChanges = SimulationConfig.DEFAULT_ANTI_PHISHING_CHANGES;

    @Option(names = "--without-anti-phishing", description = "Users who never set an anti-phishing code "
            + "(default: ${DEFAULT-VALUE}).")
    int withoutAntiPhishing = SimulationConfig.DEFAULT_WITHOUT_ANTI_PHISHING_CODE;

    @Option(names = "--topic-logins", description = "(default: ${DEFAULT-VALUE})")
    String topicLogins = SimulationConfig.DEFAULT_TOPIC_LOGINS;

    @Option(names = "--topic-mfa", description = "(default: ${DEFAULT-VALUE})")
    String topicMfa = SimulationConfig.DEFAULT_TOPIC_MFA;

    @Option(names = "--topic-withdrawals", description = "(default: ${DEFAULT-VALUE})")
    String topicWithdrawals = SimulationConfig.DEFAULT_TOPIC_WITHDRAWALS;

    @Option(names = "--topic-account-changes", description = "(default: ${DEFAULT-VALUE})")
    String topicAccountChanges = SimulationConfig.DEFAULT_TOPIC_ACCOUNT_CHANGES;

    @Spec
    CommandSpec spec;

    /** The config the options describe. */
    SimulationConfig config() {
        return SimulationConfig.builder()
                .seed(seed).start(start).benignUsers(benignUsers).withdrawalsPerBenignUser(withdrawalsPerUser)
                .benignWindow(benignWindow).attackVictims(victims).attackStartOffset(attackOffset)
                .attackSpacing(attackSpacing).legitimateService(legitService).legitimateServiceVersion(legitVersion)
                .compromisedService(compromisedService).compromisedServiceVersion(compromisedVersion)
                .attackChannel(attackChannel).malformedCount(malformed).oversizedBytes(oversizedBytes)
                .duplicateCount(duplicates).maxArrivalDelay(maxDelay).topicLogins(topicLogins).topicMfa(topicMfa)
                .topicWithdrawals(topicWithdrawals).topicAccountChanges(topicAccountChanges)
                .legitimateDrainers(legitDrainers).newAddressUsers(newAddressUsers)
                .popularAddressUsers(popularAddressUsers).antiPhishingChanges(antiPhishingChanges)
                .withoutAntiPhishingCode(withoutAntiPhishing)
                .build();
    }

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        SimulationConfig config;
        try {
            config = config();
        } catch (IllegalArgumentException e) {
            spec.commandLine().getErr().println("simulate: " + e.getMessage());
            return 2;
        }
        if (config.maxArrivalDelay().compareTo(Duration.ofSeconds(30)) >= 0) {
            spec.commandLine().getErr().println("simulate: warning: --max-delay " + config.maxArrivalDelay()
                    + " is not below the default 30 s out-of-orderness bound; some records will be late");
        }
        Simulation sim = Simulator.generate(config);
        if (target.outDir != null) {
            SimulationWriter.writeToFiles(sim, target.outDir);
            out.printf("Wrote %d records to %s%n", sim.records().size(), target.outDir.toAbsolutePath());
        } else {
            java.util.Properties client = kafkaProperties == null
                    ? io.tourniquet.kafka.KafkaClientConfig.plain(target.bootstrap)
                    : io.tourniquet.kafka.KafkaClientConfig.base(io.tourniquet.config.TourniquetConfig.load(Map.of(),
                            Map.of("kafka.bootstrap", target.bootstrap, "kafka.properties-file", kafkaProperties.toString())));
            int n = SimulationWriter.writeToKafka(sim, client);
            out.printf("Produced %d records to %s%n", n, target.bootstrap);
        }
        printSummary(sim, out);
        out.flush();
        return 0;
    }

    static void printSummary(Simulation sim, PrintWriter out) {
        GroundTruth gt = sim.groundTruth();
        Map<String, int[]> perTopic = new LinkedHashMap<>();
        sim.config().topics().forEach(t -> perTopic.put(t, new int[1]));
        sim.records().forEach(r -> perTopic.get(r.topic())[0]++);
        out.println("Records per topic (including duplicates and malformed):");
        perTopic.forEach((t, n) -> out.printf("  %-32s %7d (valid events %d)%n", t, n[0], gt.validEventsByTopic().get(t)));
        out.printf("Duplicates %d, malformed %d%n", gt.duplicatesEmitted(), gt.malformedEmitted());
        out.printf("Attack: %d unauthorized approvals, %d users affected, backend %s %s, channel %s%n",
                gt.unauthorizedApprovals().size(), gt.usersAffected(), gt.compromisedService(),
                gt.compromisedServiceVersion(), gt.attackChannel());
        for (GroundTruth.AssetTotal t : gt.totalsByAsset().values()) {
            out.printf(Locale.ROOT, "  %-5s %3d approvals %28s  US$ %,15.2f%n", t.asset(), t.approvals(),
                    t.amount().toPlainString(), t.usdValue());
        }
        out.printf(Locale.ROOT, "  total                                          US$ %,15.2f%n", gt.usdTotal());
        GroundTruth.ExpectedAlerts a = gt.expectedAlerts();
        out.printf("Expected alerts (default rule settings): unauthorized_approval %d, account_drain %d, "
                        + "new_address_withdrawal %d, destination_concentration %d, bulk_drain %d; incidents %d%n",
                a.unauthorizedApprovals().size(), a.accountDrains().size(), a.newAddressWithdrawals().size(),
                a.destinationConcentration().size(), a.bulkDrainEpisodes(), a.incidents());
        GroundTruth.ExpectedIncident i = gt.incident();
        if (i != null) {
            out.printf(Locale.ROOT, "Attack incident: started %s, contained %s; approved after containment US$ %,.2f "
                    + "of US$ %,.2f%n", i.startedAt(), i.containedAt() == null ? "never" : i.containedAt(),
                    i.usdAfterContainment(), i.usdTotal());
        }
    }

    /** Accepts {@code 500ms}, {@code 20s}, {@code 5m}, {@code 2h}, {@code 3d} or ISO-8601 ({@code PT2H}). */
    static final class DurationConverter implements ITypeConverter<Duration> {
        private static final Pattern SIMPLE = Pattern.compile("(\\d+)(ms|s|m|h|d)");

        @Override
        public Duration convert(String value) {
            Matcher m = SIMPLE.matcher(value.trim().toLowerCase(Locale.ROOT));
            if (m.matches()) {
                long n = Long.parseLong(m.group(1));
                return switch (m.group(2)) {
                    case "ms" -> Duration.ofMillis(n);
                    case "s" -> Duration.ofSeconds(n);
                    case "m" -> Duration.ofMinutes(n);
                    case "h" -> Duration.ofHours(n);
                    default -> Duration.ofDays(n);
                };
            }
            return Duration.parse(value.trim());
        }
    }

    /** Accepts any RFC 3339 timestamp with an offset. */
    static final class InstantConverter implements ITypeConverter<Instant> {
        @Override
        public Instant convert(String value) {
            return OffsetDateTime.parse(value.trim()).toInstant();
        }
    }

    static final class Channels extends java.util.ArrayList<String> {
        Channels() {
            super(SimulationConfig.APPROVAL_CHANNELS);
        }
    }
}
