package io.tourniquet.control;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import io.tourniquet.config.Settings;
import io.tourniquet.config.TourniquetConfig;
import io.tourniquet.signing.CommandSigner;
import io.tourniquet.detect.EventKeys;
import io.tourniquet.util.SerializableClock;
import io.tourniquet.streams.Tags;
import io.tourniquet.model.ControlRequest;
import io.tourniquet.model.DeadLetter;
import io.tourniquet.model.RawRecord;
import io.tourniquet.util.Times;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.streaming.api.operators.KeyedProcessOperator;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.util.KeyedOneInputStreamOperatorTestHarness;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * With a key per analyst, {@code requested_by} is what the key proves, not a claim: a request
 * signed with Bob's key in Alice's name is refused, as is one under the old shared key or an
 * unknown key id; Alice's own request is accepted.
 */
class AnalystKeysTest {
    private static final String ALICE_KEY = "alice-own-key-0123456789-0123456789-0123";
    private static final String BOB_KEY = "bob-own-key-0123456789-0123456789-0123456";
    /** Alice's previous key, not yet revoked (rotation): still Alice. */
    private static final String ALICE_OLD_KEY = "alice-old-key-0123456789-0123456789-0123";
    private static final String SHARED_KEY = "shared-control-key-0123456789-0123456789";
    private static final String COMMAND_KEY = "command-key-0123456789-0123456789-0123456789";
    private static final long NOW = 1_700_000_000_000L;
    private static final String TOPIC = "tourniquet.control";

    @TempDir
    Path dir;

    private KeyedOneInputStreamOperatorTestHarness<String, RawRecord, ControlSignal> harness;
    private long offset;

    @BeforeEach
    void open() throws Exception {
        Path keys = Files.writeString(dir.resolve("analyst-keys.json"), "{"
                + "\"alice-2026\": {\"analyst\": \"alice@exchange.example\", \"key\": \"" + ALICE_KEY + "\"},"
                + "\"alice-2025\": {\"analyst\": \"alice@exchange.example\", \"key\": \"" + ALICE_OLD_KEY + "\"},"
                + "\"bob-2026\": {\"analyst\": \"bob@exchange.example\", \"key\": \"" + BOB_KEY + "\"}}");
        TourniquetConfig cfg = TourniquetConfig.load(Map.of(), Map.of(
                Settings.ANALYST_KEYS_FILE.key(), keys.toString(), Settings.SIGNING_KEY.key(), COMMAND_KEY));
        // No shared control key at all: with analysts' own keys the job needs none.
        harness = new KeyedOneInputStreamOperatorTestHarness<>(new KeyedProcessOperator<>(new ControlProcessor(
                null, new CommandSigner(COMMAND_KEY), cfg, SerializableClock.fixed(NOW))),
                EventKeys.platform(), Types.STRING);
        harness.setProcessingTime(NOW);
        harness.open();
    }

    @AfterEach
    void close() throws Exception {
        harness.close();
    }

    private static ControlRequest release(String id, String by, String keyId) {
        ControlRequest r = new ControlRequest();
        r.type = ControlRequest.RELEASE_ACCOUNT;
        r.requestId = id;
        r.requestedBy = by;
        r.requestedAt = Times.format(NOW - 10_000);
        r.reason = "customer confirmed by phone";
        r.userId = "u1";
        r.keyId = keyId;
        return r;
    }

    private void send(ControlRequest r, String key) throws Exception {
        byte[] value = ControlRequests.sign(r, new CommandSigner(key));
        harness.processElement(new StreamRecord<>(new RawRecord(TOPIC, 0, offset++, null, value, NOW), NOW));
    }

    private List<String> rejections() {
        List<String> out = new ArrayList<>();
        var q = harness.getSideOutput(Tags.DEAD_LETTERS);
        if (q != null) q.forEach(r -> out.add(((DeadLetter) r.getValue()).reasonCode + ": " + ((DeadLetter) r.getValue()).reason));
        return out;
    }

    @Test
    void anAnalystsOwnKeyInHerOwnNameIsAccepted() throws Exception {
        send(release("r-1", "alice@exchange.example", "alice-2026"), ALICE_KEY);
        assertThat(rejections()).isEmpty();
        assertThat(harness.extractOutputValues()).singleElement()
                .satisfies(s -> assertThat(s.requestedBy).isEqualTo("alice@exchange.example"));
    }

    @Test
    void bobsKeyCannotSpeakForAlice() throws Exception {
        send(release("r-2", "alice@exchange.example", "bob-2026"), BOB_KEY);
        assertThat(rejections()).containsExactly(
                "not_key_owner: requested_by alice@exchange.example, but key bob-2026 is bob@exchange.example's");
        assertThat(harness.extractOutputValues()).isEmpty();
    }

    @Test
    void theSharedKeyAnUnknownIdOrAnotherKeysSignatureAreRefused() throws Exception {
        send(release("r-3", "alice@exchange.example", null), SHARED_KEY);
        send(release("r-4", "alice@exchange.example", "carol-2026"), ALICE_KEY);
        send(release("r-5", "alice@exchange.example", "alice-2026"), BOB_KEY);
        assertThat(rejections()).containsExactly(
                "unknown_key: key_id: missing; this job verifies each analyst's own key",
                "unknown_key: key_id \"carol-2026\": not an analyst key of this job",
                "bad_signature: signature: does not verify under analyst key alice-2026");
        assertThat(harness.extractOutputValues()).isEmpty();
        assertThat(harness.numKeyedStateEntries()).isZero();
    }

    /**
     * Two-person approval with analysts' own keys: the approver is the owner of the approving key,
     * so neither a second key of the requester nor the requester's key in another's name approves.
     */
    @Test
    void onlyAnotherAnalystsOwnKeyApprovesAHeldResume() throws Exception {
        ControlRequest resume = release("r-10", "alice@exchange.example", "alice-2026");
        resume.type = ControlRequest.RESUME_WITHDRAWALS;
        resume.userId = null;
        send(resume, ALICE_KEY);
        send(approval("a-1", "alice@exchange.example", "alice-2025"), ALICE_OLD_KEY);
        send(approval("a-2", "bob@exchange.example", "alice-2026"), ALICE_KEY);
        assertThat(rejections()).containsExactly(
                "self_approval: approves r-10, which alice@exchange.example requested: a second analyst must approve it",
                "not_key_owner: requested_by bob@exchange.example, but key alice-2026 is alice@exchange.example's");
        assertThat(harness.extractOutputValues()).as("held").isEmpty();

        send(approval("a-3", "bob@exchange.example", "bob-2026"), BOB_KEY);
        assertThat(harness.extractOutputValues()).singleElement().satisfies(s -> {
            assertThat(s.requestedBy).isEqualTo("alice@exchange.example");
            assertThat(s.approvedBy).isEqualTo("bob@exchange.example");
        });
        assertThat(rejections()).hasSize(2);
    }

    private static ControlRequest approval(String id, String by, String keyId) {
        ControlRequest r = release(id, by, keyId);
        r.type = ControlRequest.APPROVE;
        r.userId = null;
        r.approves = "r-10";
        return r;
    }

    @Test
    void theJobStartsWithoutASharedControlKeyOnlyWhenAnalystsHaveTheirOwn() throws Exception {
        Path keys = dir.resolve("analyst-keys.json");
        io.tourniquet.config.SigningKeys.requireOwn(TourniquetConfig.load(Map.of(), Map.of(
                Settings.SIGNING_KEY.key(), COMMAND_KEY, Settings.ANALYST_KEYS_FILE.key(), keys.toString())));
        assertThatThrownBy(() -> new ControlProcessor(null, new CommandSigner(COMMAND_KEY),
                TourniquetConfig.load(Map.of(), Map.of(Settings.SIGNING_KEY.key(), COMMAND_KEY)), SerializableClock.fixed(NOW)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("signing.analyst-keys-file");
    }

    @Test
    void aBadKeysFileIsRefusedAtStartWithEveryProblemAndNoKey() throws Exception {
        Path keys = Files.writeString(dir.resolve("bad.json"), "{"
                + "\"a\": {\"analyst\": \"\", \"key\": \"short\"},"
                + "\"b\": {\"analyst\": \"b@x\", \"key\": \"" + COMMAND_KEY + "\"}}", StandardCharsets.UTF_8);
        TourniquetConfig cfg = TourniquetConfig.load(Map.of(), Map.of(
                Settings.ANALYST_KEYS_FILE.key(), keys.toString(), Settings.SIGNING_KEY.key(), COMMAND_KEY));
        assertThatThrownBy(() -> AnalystKeys.from(cfg))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("key a: analyst missing")
                .hasMessageContaining("key a: shorter than 32 bytes")
                .hasMessageContaining("key b: equals the command key")
                .hasMessageNotContaining(COMMAND_KEY);
    }
}
