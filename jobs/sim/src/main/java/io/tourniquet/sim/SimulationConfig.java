package io.tourniquet.sim;

import java.time.Duration;
import java.time.Instant;
import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;

/**
 * Everything that determines a simulation. Two equal configs always produce the same records:
 * nothing depends on the wall clock or on an unseeded random source.
 *
 * <p>Build one with {@link #builder()} (every field starts at its default) or take
 * {@link #defaults()}.
 */
public record SimulationConfig(
        long seed,
        Instant start,
        int benignUsers,
        int withdrawalsPerBenignUser,
        Duration benignWindow,
        int attackVictims,
        Duration attackStartOffset,
        Duration attackSpacing,
        String legitimateService,
        String legitimateServiceVersion,
        String compromisedService,
        String compromisedServiceVersion,
        String attackChannel,
        int malformedCount,
        int oversizedBytes,
        int duplicateCount,
        Duration maxArrivalDelay,
        String topicLogins,
        String topicMfa,
        String topicWithdrawals,
        String topicAccountChanges,
        int legitimateDrainers,
        int newAddressUsers,
        int popularAddressUsers,
        int antiPhishingChanges,
        int withoutAntiPhishingCode) {

    public static final long DEFAULT_SEED = 42L;
    public static final Instant DEFAULT_START = Instant.parse("2022-01-17T00:00:00Z");
    public static final int DEFAULT_BENIGN_USERS = 50;
    public static final int DEFAULT_WITHDRAWALS_PER_BENIGN_USER = 2;
    public static final Duration DEFAULT_BENIGN_WINDOW = Duration.ofHours(4);
    public static final int DEFAULT_ATTACK_VICTIMS = 20;
    public static final Duration DEFAULT_ATTACK_START_OFFSET = Duration.ofHours(2);
    public static final Duration DEFAULT_ATTACK_SPACING = Duration.ofSeconds(20);
    public static final String DEFAULT_APPROVAL_SERVICE = "withdrawal-approver";
    public static final String DEFAULT_LEGITIMATE_VERSION = "2.13.4";
    public static final String DEFAULT_COMPROMISED_VERSION = "2.14.0-rc1";
    public static final String DEFAULT_ATTACK_CHANNEL = "internal";
    public static final int DEFAULT_MALFORMED_COUNT = 0;
    /** An oversized record is at least this many bytes (256 KiB + 1). */
    public static final int DEFAULT_OVERSIZED_BYTES = 256 * 1024 + 1;
    public static final int DEFAULT_DUPLICATE_COUNT = 3;
    public static final Duration DEFAULT_MAX_ARRIVAL_DELAY = Duration.ofSeconds(20);
    public static final String DEFAULT_TOPIC_LOGINS = "exchange.auth.logins";
    public static final String DEFAULT_TOPIC_MFA = "exchange.auth.mfa";
    public static final String DEFAULT_TOPIC_WITHDRAWALS = "exchange.wallet.withdrawals";
    public static final String DEFAULT_TOPIC_ACCOUNT_CHANGES = "exchange.account.changes";
    /**
     * Benign users who, with proper 2FA, withdraw at least 80 % of their balance within an hour: true
     * positives of account drain (medium), never part of an incident. They are spaced 30 min apart and
     * kept away from the attack, so they never add up to a bulk drain.
     */
    public static final int DEFAULT_LEGITIMATE_DRAINERS = 2;
    /** Benign users who whitelist a fresh address of their own and withdraw to it within 24 h (2FA'd). */
    public static final int DEFAULT_NEW_ADDRESS_USERS = 3;
    /**
     * Benign users who whitelisted one exchange deposit address 3 to 30 days before the start and
     * withdraw to it within 10 minutes of each other: must raise nothing.
     */
    public static final int DEFAULT_POPULAR_ADDRESS_USERS = 8;
    /** Users (of all kinds) who set their anti-phishing code twice; the later one is current. */
    public static final int DEFAULT_ANTI_PHISHING_CHANGES = 10;
    /** Users (of all kinds) who never set an anti-phishing code. */
    public static final int DEFAULT_WITHOUT_ANTI_PHISHING_CODE = 5;

    /** The values the contract allows for {@code approval_channel}. */
    public static final List<String> APPROVAL_CHANNELS = List.of("web", "app", "api", "internal");

    public SimulationConfig {
        Objects.requireNonNull(start, "start");
        requireNonNegative(benignUsers, "benignUsers");
        requireNonNegative(withdrawalsPerBenignUser, "withdrawalsPerBenignUser");
        requirePositive(benignWindow, "benignWindow");
        requireNonNegative(attackVictims, "attackVictims");
        requireNonNegative(attackStartOffset, "attackStartOffset");
        requireNonNegative(attackSpacing, "attackSpacing");
        requireText(legitimateService, "legitimateService");
        requireText(legitimateServiceVersion, "legitimateServiceVersion");
        requireText(compromisedService, "compromisedService");
        requireText(compromisedServiceVersion, "compromisedServiceVersion");
        if (!APPROVAL_CHANNELS.contains(attackChannel)) {
            throw new IllegalArgumentException("attackChannel must be one of " + APPROVAL_CHANNELS + ": " + attackChannel);
        }
        requireNonNegative(malformedCount, "malformedCount");
        if (oversizedBytes < 1024) {
            throw new IllegalArgumentException("oversizedBytes must be at least 1024: " + oversizedBytes);
        }
        requireNonNegative(duplicateCount, "duplicateCount");
        Objects.requireNonNull(maxArrivalDelay, "maxArrivalDelay");
        if (maxArrivalDelay.compareTo(Duration.ofSeconds(1)) < 0) {
            // The late-verification case needs room to arrive after its approval.
            throw new IllegalArgumentException("maxArrivalDelay must be at least 1 s: " + maxArrivalDelay);
        }
        requireText(topicLogins, "topicLogins");
        requireText(topicMfa, "topicMfa");
        requireText(topicWithdrawals, "topicWithdrawals");
        requireText(topicAccountChanges, "topicAccountChanges");
        Set<String> distinct = new HashSet<>(List.of(topicLogins, topicMfa, topicWithdrawals, topicAccountChanges));
        if (distinct.size() != 4) {
            throw new IllegalArgumentException("the four topic names must differ");
        }
        requireNonNegative(legitimateDrainers, "legitimateDrainers");
        requireNonNegative(newAddressUsers, "newAddressUsers");
        requireNonNegative(popularAddressUsers, "popularAddressUsers");
        requireNonNegative(antiPhishingChanges, "antiPhishingChanges");
        requireNonNegative(withoutAntiPhishingCode, "withoutAntiPhishingCode");
    }

    /** Every user the simulation creates: benign, scenario users and attack victims. */
    public int totalUsers() {
        return benignUsers + legitimateDrainers + newAddressUsers + popularAddressUsers + attackVictims;
    }

    public static SimulationConfig defaults() {
        return builder().build();
    }

    public static Builder builder() {
        return new Builder();
    }

    public Builder toBuilder() {
        return new Builder(this);
    }

    /** The four input topics: logins, mfa, withdrawals, account changes. */
    public List<String> topics() {
        return List.of(topicLogins, topicMfa, topicWithdrawals, topicAccountChanges);
    }

    private static void requireNonNegative(int value, String name) {
        if (value < 0) {
            throw new IllegalArgumentException(name + " must not be negative: " + value);
        }
    }

    private static void requireNonNegative(Duration value, String name) {
        Objects.requireNonNull(value, name);
        if (value.isNegative()) {
            throw new IllegalArgumentException(name + " must not be negative: " + value);
        }
    }

    private static void requirePositive(Duration value, String name) {
        requireNonNegative(value, name);
        if (value.isZero()) {
            throw new IllegalArgumentException(name + " must be positive");
        }
    }

    private static void requireText(String value, String name) {
        if (value == null || value.isBlank()) {
            throw new IllegalArgumentException(name + " must not be blank");
        }
    }

    /** Mutable builder; every field starts at its default. */
    public static final class Builder {
        private long seed = DEFAULT_SEED;
        private Instant start = DEFAULT_START;
        private int benignUsers = DEFAULT_BENIGN_USERS;
        private int withdrawalsPerBenignUser = DEFAULT_WITHDRAWALS_PER_BENIGN_USER;
        private Duration benignWindow = DEFAULT_BENIGN_WINDOW;
        private int attackVictims = DEFAULT_ATTACK_VICTIMS;
        private Duration attackStartOffset = DEFAULT_ATTACK_START_OFFSET;
        private Duration attackSpacing = DEFAULT_ATTACK_SPACING;
        private String legitimateService = DEFAULT_APPROVAL_SERVICE;
        private String legitimateServiceVersion = DEFAULT_LEGITIMATE_VERSION;
        private String compromisedService = DEFAULT_APPROVAL_SERVICE;
        private String compromisedServiceVersion = DEFAULT_COMPROMISED_VERSION;
        private String attackChannel = DEFAULT_ATTACK_CHANNEL;
        private int malformedCount = DEFAULT_MALFORMED_COUNT;
        private int oversizedBytes = DEFAULT_OVERSIZED_BYTES;
        private int duplicateCount = DEFAULT_DUPLICATE_COUNT;
        private Duration maxArrivalDelay = DEFAULT_MAX_ARRIVAL_DELAY;
        private String topicLogins = DEFAULT_TOPIC_LOGINS;
        private String topicMfa = DEFAULT_TOPIC_MFA;
        private String topicWithdrawals = DEFAULT_TOPIC_WITHDRAWALS;
        private String topicAccountChanges = DEFAULT_TOPIC_ACCOUNT_CHANGES;
        private int legitimateDrainers = DEFAULT_LEGITIMATE_DRAINERS;
        private int newAddressUsers = DEFAULT_NEW_ADDRESS_USERS;
        private int popularAddressUsers = DEFAULT_POPULAR_ADDRESS_USERS;
        private int antiPhishingChanges = DEFAULT_ANTI_PHISHING_CHANGES;
        private int withoutAntiPhishingCode = DEFAULT_WITHOUT_ANTI_PHISHING_CODE;

        private Builder() {
        }

        private Builder(SimulationConfig c) {
            seed = c.seed;
            start = c.start;
            benignUsers = c.benignUsers;
            withdrawalsPerBenignUser = c.withdrawalsPerBenignUser;
            benignWindow = c.benignWindow;
            attackVictims = c.attackVictims;
            attackStartOffset = c.attackStartOffset;
            attackSpacing = c.attackSpacing;
            legitimateService = c.legitimateService;
            legitimateServiceVersion = c.legitimateServiceVersion;
            compromisedService = c.compromisedService;
            compromisedServiceVersion = c.compromisedServiceVersion;
            attackChannel = c.attackChannel;
            malformedCount = c.malformedCount;
            oversizedBytes = c.oversizedBytes;
            duplicateCount = c.duplicateCount;
            maxArrivalDelay = c.maxArrivalDelay;
            topicLogins = c.topicLogins;
            topicMfa = c.topicMfa;
            topicWithdrawals = c.topicWithdrawals;
            topicAccountChanges = c.topicAccountChanges;
            legitimateDrainers = c.legitimateDrainers;
            newAddressUsers = c.newAddressUsers;
            popularAddressUsers = c.popularAddressUsers;
            antiPhishingChanges = c.antiPhishingChanges;
            withoutAntiPhishingCode = c.withoutAntiPhishingCode;
        }

        public Builder seed(long v) { seed = v; return this; }
        public Builder start(Instant v) { start = v; return this; }
        public Builder benignUsers(int v) { benignUsers = v; return this; }
        public Builder withdrawalsPerBenignUser(int v) { withdrawalsPerBenignUser = v; return this; }
        public Builder benignWindow(Duration v) { benignWindow = v; return this; }
        public Builder attackVictims(int v) { attackVictims = v; return this; }
        public Builder attackStartOffset(Duration v) { attackStartOffset = v; return this; }
        public Builder attackSpacing(Duration v) { attackSpacing = v; return this; }
        public Builder legitimateService(String v) { legitimateService = v; return this; }
        public Builder legitimateServiceVersion(String v) { legitimateServiceVersion = v; return this; }
        public Builder compromisedService(String v) { compromisedService = v; return this; }
        public Builder compromisedServiceVersion(String v) { compromisedServiceVersion = v; return this; }
        public Builder attackChannel(String v) { attackChannel = v; return this; }
        public Builder malformedCount(int v) { malformedCount = v; return this; }
        public Builder oversizedBytes(int v) { oversizedBytes = v; return this; }
        public Builder duplicateCount(int v) { duplicateCount = v; return this; }
        public Builder maxArrivalDelay(Duration v) { maxArrivalDelay = v; return this; }
        public Builder topicLogins(String v) { topicLogins = v; return this; }
        public Builder topicMfa(String v) { topicMfa = v; return this; }
        public Builder topicWithdrawals(String v) { topicWithdrawals = v; return this; }
        public Builder topicAccountChanges(String v) { topicAccountChanges = v; return this; }
        public Builder legitimateDrainers(int v) { legitimateDrainers = v; return this; }
        public Builder newAddressUsers(int v) { newAddressUsers = v; return this; }
        public Builder popularAddressUsers(int v) { popularAddressUsers = v; return this; }
        public Builder antiPhishingChanges(int v) { antiPhishingChanges = v; return this; }
        public Builder withoutAntiPhishingCode(int v) { withoutAntiPhishingCode = v; return this; }

        /** Turns off every scenario added on top of the attack (drainers, new addresses, popular address). */
        public Builder withoutScenarios() {
            return legitimateDrainers(0).newAddressUsers(0).popularAddressUsers(0);
        }

        /** The four input topics as the pipeline is configured to read them. */
        public Builder topicsFrom(io.tourniquet.config.TourniquetConfig cfg) {
            return topicLogins(cfg.get(io.tourniquet.config.Settings.TOPIC_LOGINS))
                    .topicMfa(cfg.get(io.tourniquet.config.Settings.TOPIC_MFA))
                    .topicWithdrawals(cfg.get(io.tourniquet.config.Settings.TOPIC_WITHDRAWALS))
                    .topicAccountChanges(cfg.get(io.tourniquet.config.Settings.TOPIC_ACCOUNT_CHANGES));
        }

        public SimulationConfig build() {
            return new SimulationConfig(seed, start, benignUsers, withdrawalsPerBenignUser, benignWindow,
                    attackVictims, attackStartOffset, attackSpacing, legitimateService, legitimateServiceVersion,
                    compromisedService, compromisedServiceVersion, attackChannel, malformedCount, oversizedBytes,
                    duplicateCount, maxArrivalDelay, topicLogins, topicMfa, topicWithdrawals, topicAccountChanges,
                legitimateDrainers, newAddressUsers, popularAddressUsers, antiPhishingChanges,
                withoutAntiPhishingCode);
        }
    }
}
