package io.tourniquet.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import io.tourniquet.config.TourniquetConfig;
import io.tourniquet.detect.job.DetectJob;
import io.tourniquet.model.EventParser;
import io.tourniquet.model.InvalidEventException;
import io.tourniquet.json.Json;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Arrays;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Hostile records must not stop detection: each is refused with a reason, and its dead letter
 * stays far below the producer's 1 MB limit whatever the record holds.
 */
class DeadLetterTest {
    static final String WITHDRAWALS = "exchange.wallet.withdrawals";
    static final int PRODUCER_LIMIT = 1 << 20;

    static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    static String approval(String usdValue) {
        return "{\"event_id\":\"e1\",\"event_time\":\"2022-01-17T10:00:00Z\",\"user_id\":\"u1\",\"session_id\":null,"
                + "\"ip\":null,\"device_id\":null,\"withdrawal_id\":\"w1\",\"status\":\"approved\",\"asset\":\"ETH\","
                + "\"network\":\"ethereum\",\"amount\":\"1.5\",\"usd_value\":" + usdValue + ",\"destination_address\":\"0xa\","
                + "\"mfa_challenge_id\":null,\"approval_channel\":\"web\",\"approval_service\":\"s\","
                + "\"approval_service_version\":\"1\"}";
    }

    @Test
    void everyHostileRecordIsRefusedWithAReasonAndItsDeadLetterIsBoundedAndIdentifiable() throws Exception {
        EventParser parser = new EventParser(EventParser.kindByTopic(TourniquetConfig.defaults()), 65_536);
        byte[] controls = new byte[200 * 1024];
        Arrays.fill(controls, (byte) 1);
        byte[] twoMegabytes = utf8("{\"event_id\":\"" + "x".repeat(2 * 1024 * 1024) + "\"}");
        byte[] deep = utf8("[".repeat(10_000) + "]".repeat(10_000));
        byte[] invalidUtf8 = {'{', '"', 'a', '"', ':', (byte) 0xC3, (byte) 0x28, '}'};
        byte[] huge = utf8(approval("1e999"));
        for (byte[] hostile : List.of(controls, utf8("\"" + new String(controls, StandardCharsets.UTF_8) + "\""),
                twoMegabytes, deep, invalidUtf8, huge)) {
            var raw = new RawRecord(WITHDRAWALS, 0, 7, hostile, hostile, 0L);
            InvalidEventException refused = (InvalidEventException) catchRefusal(() -> parser.parse(WITHDRAWALS, 0, 7,
                    hostile));
            DeadLetter d = DeadLetter.of(raw, refused.code(), refused.getMessage(), 0L);
            byte[] record = Json.MAPPER.writeValueAsBytes(d);
            assertThat(record.length).as(refused.code() + ": the dead letter's size").isLessThan(PRODUCER_LIMIT / 4);
            assertThat(d.originalBytes).isEqualTo(hostile.length);
            assertThat(d.originalSha256).isEqualTo(HexFormat.of().formatHex(
                    MessageDigest.getInstance("SHA-256").digest(hostile)));
            assertThat(d.originalTruncated).isEqualTo(hostile.length > DeadLetter.MAX_ORIGINAL_BYTES);
            byte[] kept = "base64".equals(d.originalEncoding) ? Base64.getDecoder().decode(d.original)
                    : utf8(d.original);
            assertThat(hostile).as("the copy is the original's beginning").startsWith(kept);
            assertThat(kept.length).isLessThanOrEqualTo(DeadLetter.MAX_ORIGINAL_BYTES);
            assertThat(d.key.length()).isLessThanOrEqualTo(DeadLetter.MAX_TEXT + 1);
        }
        assertThat(DeadLetter.of(new RawRecord(WITHDRAWALS, 0, 1, null, invalidUtf8, 0L), "not_json", "r", 0L)
                .originalEncoding).isEqualTo("base64");
    }

    @Test
    void aSmallRecordIsKeptWhole() {
        byte[] value = utf8("{\"not\":\"an event\"}");
        DeadLetter d = DeadLetter.of(new RawRecord(WITHDRAWALS, 0, 1, null, value, 0L), "missing_field", "r", 0L);
        assertThat(d.original).isEqualTo("{\"not\":\"an event\"}");
        assertThat(d.originalEncoding).isEqualTo("utf-8");
        assertThat(d.originalTruncated).isFalse();
    }

    @Test
    void aNumberTooLargeForADoubleIsRefusedNotTakenAsInfinity() {
        EventParser parser = new EventParser(EventParser.kindByTopic(TourniquetConfig.defaults()), 65_536);
        assertThatThrownBy(() -> parser.parse(WITHDRAWALS, 0, 1, utf8(approval("1e999"))))
                .isInstanceOf(InvalidEventException.class);
    }

    interface Parse {
        Object run() throws Exception;
    }

    static Throwable catchRefusal(Parse p) {
        try {
            p.run();
        } catch (Throwable t) {
            assertThat(t).as("refused as invalid input, not thrown at the job").isInstanceOf(InvalidEventException.class);
            return t;
        }
        throw new AssertionError("accepted a hostile record");
    }
}
