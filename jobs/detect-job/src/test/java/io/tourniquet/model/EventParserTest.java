package io.tourniquet.model;

import io.tourniquet.detect.RawEventTime;
import io.tourniquet.detect.job.DetectJob;
import io.tourniquet.util.SerializableClock;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import io.tourniquet.config.TourniquetConfig;
import io.tourniquet.model.Event;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class EventParserTest {
    private static final String LOGINS = "exchange.auth.logins";
    private static final String MFA = "exchange.auth.mfa";
    private static final String WITHDRAWALS = "exchange.wallet.withdrawals";
    private static final String CHANGES = "exchange.account.changes";
    private final EventParser parser = new EventParser(EventParser.kindByTopic(TourniquetConfig.defaults()), 2048);

    private static final String APPROVED = """
            {"event_id":"e1","event_time":"2022-01-17T12:00:00.123+01:00","user_id":"u1","session_id":"s1",
             "ip":"2001:db8::1","device_id":null,"withdrawal_id":"w1","status":"approved","asset":"ETH",
             "network":"ethereum","amount":"12.345678901234567890","usd_value":39000.5,
             "destination_address":"0xabc","mfa_challenge_id":null,"approval_channel":"internal",
             "approval_service":"withdrawal-approver","approval_service_version":"2.14.0-rc1","extra":"ok"}""";

    private Event parse(String topic, String json) throws InvalidEventException {
        return parser.parse(topic, 0, 7, json.getBytes(StandardCharsets.UTF_8));
    }

    @Test
    void anEventTimeFarAheadOfTheClockOrOlderThanTheBoundIsRefusedAndTheRecordHasNoTimestamp() throws Exception {
        long now = java.time.Instant.parse("2022-01-17T11:00:00Z").toEpochMilli();
        EventParser bounded = new EventParser(EventParser.kindByTopic(TourniquetConfig.defaults()), 2048,
                5 * 60_000L, 24 * 3_600_000L, SerializableClock.fixed(now));
        RawEventTime timestamps = new RawEventTime(bounded);
        String inBounds = APPROVED.replace("2022-01-17T12:00:00.123+01:00", "2022-01-17T11:04:59Z");
        assertThat(bounded.parse(WITHDRAWALS, 0, 1, inBounds.getBytes(StandardCharsets.UTF_8)).eventTime)
                .isEqualTo(now + 299_000L);
        for (String[] c : new String[][] {{"9999-12-31T23:59:59Z", "from_future"},
                {"2022-01-17T11:05:00.001Z", "from_future"}, {"0001-01-01T00:00:00Z", "too_old"},
                {"2022-01-16T10:59:59.999Z", "too_old"}}) {
            byte[] hostile = APPROVED.replace("2022-01-17T12:00:00.123+01:00", c[0]).getBytes(StandardCharsets.UTF_8);
            assertThatThrownBy(() -> bounded.parse(WITHDRAWALS, 0, 1, hostile)).as(c[0])
                    .isInstanceOf(InvalidEventException.class)
                    .satisfies(e -> assertThat(((InvalidEventException) e).code()).isEqualTo(c[1]));
            var raw = new io.tourniquet.model.RawRecord(WITHDRAWALS, 0, 1, null, hostile, 0L);
            assertThat(timestamps.extractTimestamp(raw, 0L)).as("never moves event time: " + c[0])
                    .isEqualTo(Long.MIN_VALUE);
        }
        // A record that fails validation has no timestamp either, however plausible its date.
        var invalid = new io.tourniquet.model.RawRecord(WITHDRAWALS, 0, 1, null,
                "{\"event_id\":\"x\",\"event_time\":\"2022-01-17T11:00:00Z\"}".getBytes(StandardCharsets.UTF_8), 0L);
        assertThat(timestamps.extractTimestamp(invalid, 0L)).isEqualTo(Long.MIN_VALUE);
    }

    @Test
    void parsesAnApprovalExactly() throws Exception {
        Event e = parse(WITHDRAWALS, APPROVED);
        assertThat(e.kind).isEqualTo(Event.Kind.WITHDRAWAL);
        assertThat(e.isApproval()).isTrue();
        assertThat(e.eventTime).isEqualTo(java.time.Instant.parse("2022-01-17T11:00:00.123Z").toEpochMilli());
        assertThat(e.eventTimeRaw).isEqualTo("2022-01-17T12:00:00.123+01:00");
        assertThat(e.amount).isEqualTo("12.345678901234567890");
        assertThat(e.usdValue).isEqualTo(39000.5);
        assertThat(e.mfaChallengeId).isNull();
        assertThat(e.deviceId).isNull();
        assertThat(e.ip).isEqualTo("2001:db8::1");
        assertThat(e.approvalServiceVersion).isEqualTo("2.14.0-rc1");
        assertThat(e.sourceTopic).isEqualTo(WITHDRAWALS);
        assertThat(e.sourceOffset).isEqualTo(7);
    }

    @Test
    void parsesEveryTopic() throws Exception {
        Event login = parse(LOGINS, """
                {"event_id":"l1","event_time":"2022-01-17T10:00:00Z","user_id":"u1","session_id":null,"ip":"198.51.100.4",
                 "device_id":"d1","outcome":"failure","auth_method":"api_key","device_jailbroken":true,"user_agent":null,
                 "geo":{"country":"SG","lat":1.29,"lon":103.85}}""");
        assertThat(login.deviceJailbroken).isTrue();
        assertThat(login.geoCountry).isEqualTo("SG");
        assertThat(login.geoLon).isEqualTo(103.85);

        Event mfa = parse(MFA, """
                {"event_id":"m1","event_time":"2022-01-17T10:00:00Z","user_id":"u1","action":"challenge_verified",
                 "challenge_id":"c1","method":"webauthn","purpose":"withdrawal","withdrawal_id":"w1"}""");
        assertThat(mfa.isMfaChallenge()).isTrue();
        assertThat(mfa.withdrawalId).isEqualTo("w1");

        Event policy = parse(CHANGES, """
                {"event_id":"c1","event_time":"2022-01-17T10:00:00Z","user_id":"u1","action":"mfa_policy_changed",
                 "mfa_policy":{"login":true,"withdrawal":true,"whitelist_address":false,"settings":true}}""");
        assertThat(policy.mfaPolicyWhitelistAddress).isFalse();

        Event code = parse(CHANGES, """
                {"event_id":"c2","event_time":"2022-01-17T10:00:00Z","user_id":"u1","action":"anti_phishing_code_set",
                 "anti_phishing_code":"  Tq-7F3A "}""");
        assertThat(code.antiPhishingCode).as("kept exactly as set").isEqualTo("  Tq-7F3A ");
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
        "not json                 | not_json      | {\"event_id\":",
        "array                    | not_json      | []",
        "duplicate key            | not_json      | {\"event_id\":\"a\",\"event_id\":\"b\"}",
        "missing event_id         | missing_field | {\"event_time\":\"2022-01-17T10:00:00Z\",\"user_id\":\"u\"}",
        "empty user_id            | missing_field | {\"event_id\":\"e\",\"event_time\":\"2022-01-17T10:00:00Z\",\"user_id\":\"\"}",
        "numeric user_id          | wrong_type    | {\"event_id\":\"e\",\"event_time\":\"2022-01-17T10:00:00Z\",\"user_id\":5}",
        "no offset in time        | invalid_value | {\"event_id\":\"e\",\"event_time\":\"2022-01-17T10:00:00\",\"user_id\":\"u\"}",
        "impossible date          | invalid_value | {\"event_id\":\"e\",\"event_time\":\"2022-02-30T10:00:00Z\",\"user_id\":\"u\"}",
        "bad ip                   | invalid_value | {\"event_id\":\"e\",\"event_time\":\"2022-01-17T10:00:00Z\",\"user_id\":\"u\",\"ip\":\"evil.example\"}",
    })
    void rejectsCommonProblems(String name, String code, String json) {
        assertThatThrownBy(() -> parse(WITHDRAWALS, json))
                .isInstanceOfSatisfying(InvalidEventException.class, e -> assertThat(e.code()).isEqualTo(code));
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
        "negative amount          | invalid_value | \"amount\":\"12.5\"          | \"amount\":\"-12.5\"",
        "float amount             | wrong_type    | \"amount\":\"12.5\"          | \"amount\":12.5",
        "19 fraction digits       | invalid_value | \"amount\":\"12.5\"          | \"amount\":\"1.1234567890123456789\"",
        "exponent amount          | invalid_value | \"amount\":\"12.5\"          | \"amount\":\"1e5\"",
        "unknown status           | invalid_value | \"status\":\"approved\"      | \"status\":\"approvd\"",
        "unknown channel          | invalid_value | \"approval_channel\":\"web\" | \"approval_channel\":\"fax\"",
        "missing service version  | missing_field | \"approval_service_version\":\"1\" | \"x\":\"1\"",
        "negative usd             | invalid_value | \"usd_value\":10           | \"usd_value\":-10",
    })
    void rejectsBadWithdrawals(String name, String code, String good, String bad) throws Exception {
        String template = """
                {"event_id":"e","event_time":"2022-01-17T10:00:00Z","user_id":"u","withdrawal_id":"w","status":"approved",
                 "asset":"BTC","network":"bitcoin","amount":"12.5","usd_value":10,"destination_address":"x",
                 "approval_channel":"web","approval_service":"s","approval_service_version":"1"}""";
        assertThat(parse(WITHDRAWALS, template).amount).isEqualTo("12.5");
        String broken = template.replace(good, bad);
        assertThat(broken).isNotEqualTo(template);
        assertThatThrownBy(() -> parse(WITHDRAWALS, broken))
                .isInstanceOfSatisfying(InvalidEventException.class, e -> assertThat(e.code()).isEqualTo(code));
    }

    @Test
    void requiresStatusSpecificFields() {
        String requested = """
                {"event_id":"e","event_time":"2022-01-17T10:00:00Z","user_id":"u","withdrawal_id":"w","status":"requested",
                 "asset":"BTC","network":"bitcoin","amount":"1","usd_value":10,"destination_address":"x"}""";
        assertThatThrownBy(() -> parse(WITHDRAWALS, requested)).hasMessageContaining("account_balance_usd");
        String broadcast = requested.replace("requested", "broadcast");
        assertThatThrownBy(() -> parse(WITHDRAWALS, broadcast)).hasMessageContaining("tx_hash");
        String mfa = """
                {"event_id":"m","event_time":"2022-01-17T10:00:00Z","user_id":"u","action":"challenge_verified",
                 "challenge_id":"c","method":"totp","purpose":"withdrawal"}""";
        assertThatThrownBy(() -> parse(MFA, mfa)).hasMessageContaining("withdrawal_id");
    }

    @Test
    void rejectsOversizedAndUnknownTopics() {
        String big = "{\"pad\":\"" + "x".repeat(3000) + "\"}";
        assertThatThrownBy(() -> parse(LOGINS, big))
                .isInstanceOfSatisfying(InvalidEventException.class, e -> assertThat(e.code()).isEqualTo("oversized"));
        assertThatThrownBy(() -> parse("other.topic", APPROVED))
                .isInstanceOfSatisfying(InvalidEventException.class, e -> assertThat(e.code()).isEqualTo("unknown_topic"));
    }

    /**
     * Parse once: what the source's deserializer keeps on the record, read by the parse step with
     * its own clock, is exactly what parsing the bytes there gives: the event, or the same reason
     * (an event time out of bounds still wins over a field broken further on), on every kind of
     * record. And the record keeps it through the copy Flink makes between chained operators.
     */
    @Test
    void anEventParsedAtTheSourceIsWhatTheParseStepWouldHaveParsed() throws Exception {
        long now = java.time.Instant.parse("2022-01-17T11:00:00Z").toEpochMilli();
        EventParser bounded = new EventParser(EventParser.kindByTopic(TourniquetConfig.defaults()), 2048,
                5 * 60_000L, 24 * 3_600_000L, SerializableClock.fixed(now));
        // The source's parser runs on another clock: the bounds are not its business.
        EventParser atSource = new EventParser(EventParser.kindByTopic(TourniquetConfig.defaults()), 2048,
                5 * 60_000L, 24 * 3_600_000L, SerializableClock.fixed(0L));
        String inBounds = APPROVED.replace("2022-01-17T12:00:00.123+01:00", "2022-01-17T10:00:00Z");
        String[][] records = {
            {WITHDRAWALS, inBounds},
            {WITHDRAWALS, inBounds.replace("2001:db8::1", "evil.example")},
            {WITHDRAWALS, APPROVED.replace("2022-01-17T12:00:00.123+01:00", "9999-12-31T23:59:59Z")},
            {WITHDRAWALS, APPROVED.replace("2022-01-17T12:00:00.123+01:00", "9999-12-31T23:59:59Z")
                    .replace("2001:db8::1", "evil.example")},
            {WITHDRAWALS, APPROVED.replace("2022-01-17T12:00:00.123+01:00", "0001-01-01T00:00:00Z")
                    .replace("\"approved\"", "\"approvd\"")},
            {WITHDRAWALS, inBounds.replace("\"event_id\":\"e1\"", "\"event_id\":5")},
            {WITHDRAWALS, "{\"event_id\":"},
            {WITHDRAWALS, ""},
            {"other.topic", inBounds},
            {LOGINS, "{\"pad\":\"" + "x".repeat(3000) + "\"}"},
        };
        var serializer = org.apache.flink.api.common.typeinfo.TypeInformation.of(io.tourniquet.model.RawRecord.class)
                .createSerializer(new org.apache.flink.api.common.serialization.SerializerConfigImpl());
        assertThat(serializer).isInstanceOf(org.apache.flink.api.java.typeutils.runtime.PojoSerializer.class);
        int valid = 0;
        for (String[] r : records) {
            byte[] bytes = r[1].getBytes(StandardCharsets.UTF_8);
            Object direct;
            try {
                direct = bounded.parse(r[0], 0, 9, bytes);
                valid++;
            } catch (InvalidEventException e) {
                direct = e.code() + ": " + e.getMessage();
            }
            var raw = new io.tourniquet.model.RawRecord(r[0], 0, 9, null, bytes, 0L);
            atSource.parseAtSource(raw);
            assertThat(raw.parsed()).as(r[1]).isTrue();
            io.tourniquet.model.RawRecord copied = serializer.copy(raw);
            assertThat(copied.parsed()).as("kept through the chain's copy").isTrue();
            Object once;
            try {
                once = bounded.parse(copied);
            } catch (InvalidEventException e) {
                once = e.code() + ": " + e.getMessage();
            }
            assertThat(once).as(r[1]).isEqualTo(direct);
        }
        assertThat(valid).as("the cases include a valid event").isEqualTo(1);
        // A record the source did not parse (a test's, a control request) is parsed from its bytes.
        var unparsed = new io.tourniquet.model.RawRecord(WITHDRAWALS, 0, 9, null, inBounds.getBytes(StandardCharsets.UTF_8), 0L);
        assertThat(unparsed.parsed()).isFalse();
        assertThat(bounded.parse(unparsed)).isEqualTo(bounded.parse(WITHDRAWALS, 0, 9, unparsed.value));
    }
}
