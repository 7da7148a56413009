package io.tourniquet.detect;

import io.tourniquet.signing.CommandSigner;
import static org.assertj.core.api.Assertions.assertThat;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.tourniquet.json.Json;
import io.tourniquet.model.Action;
import io.tourniquet.model.ActionScope;
import io.tourniquet.testing.ReferenceVerifier;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Commands verify outside Java: the canonical form is RFC 8785 (JCS), checked against the
 * published vectors in {@code enforcer/vectors/} (two of them the RFC's own examples), and every
 * command this code signs verifies with {@code enforcer/verify_command.py}, an independent
 * implementation in Python's standard library, as an enforcer in another language would.
 */
class EnforcerVerificationTest {
    static final Path ENFORCER = ReferenceVerifier.ENFORCER;
    private static final String KEY = "enforcer-test-key-of-at-least-thirty-two-bytes";

    @TempDir
    Path dir;

    @Test
    void javaAndPythonBothGiveTheVectorsCanonicalForms() throws Exception {
        JsonNode vectors = Json.MAPPER.readTree(ENFORCER.resolve("vectors/jcs.json").toFile());
        assertThat(vectors.size()).isGreaterThanOrEqualTo(4);
        StringBuilder input = new StringBuilder();
        for (JsonNode v : vectors) {
            String raw = v.path("input").asText();
            assertThat(new String(Json.canonicalBytes(Json.MAPPER.readTree(raw)), StandardCharsets.UTF_8))
                    .as(v.path("name").asText()).isEqualTo(v.path("canonical").asText());
            input.append(raw).append('\n');
        }
        ReferenceVerifier.Result py = python(input.toString(), Map.of(), "--canonical");
        assertThat(py.exit()).as(py.output()).isZero();
        List<String> expected = new ArrayList<>();
        vectors.forEach(v -> expected.add(v.path("canonical").asText()));
        assertThat(py.output().lines().toList()).isEqualTo(expected);
    }

    @Test
    void theCommandVectorsSignAsPublished() throws Exception {
        JsonNode vectors = Json.MAPPER.readTree(ENFORCER.resolve("vectors/commands.json").toFile());
        StringBuilder signed = new StringBuilder();
        for (JsonNode v : vectors) {
            ObjectNode unsigned = (ObjectNode) v.path("unsigned");
            assertThat(new String(Json.canonicalBytes(unsigned), StandardCharsets.UTF_8)).isEqualTo(v.path("canonical").asText());
            byte[] record = new CommandSigner(v.path("key").asText()).sign(unsigned);
            assertThat(Json.MAPPER.readTree(record).path("signature").asText()).isEqualTo(v.path("signature").asText());
            signed.append(new String(record, StandardCharsets.UTF_8)).append('\n');
        }
        String key = vectors.get(0).path("key").asText();
        ReferenceVerifier.Result py = python(signed.toString(), Map.of("VECTOR_KEY", key), "--key-env", "VECTOR_KEY",
                "--now", "2022-01-17T10:30:00Z"); // within the worked example's expires_at
        assertThat(py.exit()).as(py.output()).isZero();
        assertThat(py.output().lines()).hasSize(vectors.size()).allMatch(l -> l.startsWith("ok "));
    }

    @Test
    void everySignedCommandVerifiesInPythonAndATamperedOneDoesNot() throws Exception {
        CommandSigner signer = new CommandSigner(KEY);
        List<String> lines = new ArrayList<>();
        String[] users = {"usr_000042", "usr_\u00fc\u20ac\ud83d\ude00", "usr_<script>&\"", "usr_tab\tand\u0001ctl"};
        for (int i = 0; i < users.length; i++) {
            Action a = new Action();
            a.actionId = io.tourniquet.util.Ids.of("freeze", users[i]);
            a.action = i % 2 == 0 ? "freeze_account" : "revoke_mfa_tokens";
            a.scope = ActionScope.user(users[i]);
            a.reason = "unauthorized_approval: approval without a verified 2FA challenge \u2014 " + users[i];
            a.alertIds = List.of("alert-" + i, "alert-\u00e9-" + i);
            a.eventTime = 1_642_413_600_000L + i;
            a.issuedAt = 1_642_413_600_500L + i;
            a.ruleVersion = i;
            a.expiresAt = a.issuedAt + 3_600_000L;
            lines.add(new String(signer.sign(a), StandardCharsets.UTF_8));
        }
        // One validly signed but expired by the time the enforcer reads it (10:30).
        Action late = new Action();
        late.actionId = io.tourniquet.util.Ids.of("freeze", "late");
        late.action = "freeze_account";
        late.scope = ActionScope.user("usr_late");
        late.reason = "unauthorized_approval";
        late.issuedAt = 1_642_413_600_000L - 7_200_000L;
        late.eventTime = late.issuedAt;
        late.expiresAt = late.issuedAt + 3_600_000L;
        String expired = new String(signer.sign(late), StandardCharsets.UTF_8);
        // The last one altered after signing, as an attacker on the topic would: another user frozen.
        ObjectNode tampered = (ObjectNode) Json.MAPPER.readTree(lines.get(0));
        ((ObjectNode) tampered.path("scope")).put("user_id", "usr_000043");
        lines.add(Json.MAPPER.writeValueAsString(tampered));
        lines.add(expired);

        ReferenceVerifier.Result py = python(String.join("\n", lines) + "\n", Map.of("ENFORCER_KEY", KEY),
                "--key-env", "ENFORCER_KEY", "--now", "2022-01-17T10:30:00Z");
        List<String> out = py.output().lines().toList();
        assertThat(out.subList(0, users.length)).as(py.output()).allMatch(l -> l.startsWith("ok "));
        assertThat(out.get(users.length)).isEqualTo("BAD " + (users.length + 1) + ": signature does not match");
        assertThat(out.get(users.length + 1)).isEqualTo("BAD " + (users.length + 2) + ": expired at 2022-01-17T09:00:00.000Z");
        assertThat(py.exit()).isEqualTo(1);
        // And the Java verifier agrees on both.
        assertThat(signer.verify(Json.MAPPER.readTree(lines.get(1)))).isTrue();
        assertThat(signer.verify(tampered)).isFalse();
    }

    private ReferenceVerifier.Result python(String stdin, Map<String, String> env, String... args) throws Exception {
        return ReferenceVerifier.run(dir, stdin, env, args);
    }
}
