package io.tourniquet.control;

import com.fasterxml.jackson.databind.JsonNode;
import io.tourniquet.config.Settings;
import io.tourniquet.config.SigningKeys;
import io.tourniquet.config.TourniquetConfig;
import io.tourniquet.signing.CommandSigner;
import io.tourniquet.json.Json;
import java.io.IOException;
import java.io.Serializable;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Each analyst's own control key, by key id ({@code signing.analyst-keys-file}). With one shared
 * control key, {@code requested_by} is a claim anyone holding the key can make in anyone's name;
 * with a key per analyst, the audit trail says who really asked, and one analyst's key can be
 * revoked alone.
 */
public final class AnalystKeys implements Serializable {
    private static final long serialVersionUID = 1L;

    /** One key: whose it is, and the signer that verifies under it. */
    public record Entry(String analyst, CommandSigner signer) implements Serializable {}

    private final HashMap<String, Entry> byId;

    private AnalystKeys(Map<String, Entry> byId) {
        this.byId = new HashMap<>(byId);
    }

    /** The keys of {@code signing.analyst-keys-file}, read now; empty when it is not set. */
    public static Optional<AnalystKeys> from(TourniquetConfig cfg) {
        Optional<String> file = cfg.find(Settings.ANALYST_KEYS_FILE);
        if (file.isEmpty()) return Optional.empty();
        JsonNode root;
        try {
            root = Json.MAPPER.readTree(Path.of(file.get()).toFile());
        } catch (IOException e) {
            throw new IllegalArgumentException(Settings.ANALYST_KEYS_FILE.key() + ": cannot read " + file.get()
                    + ": " + e.getMessage());
        }
        String command = cfg.find(Settings.SIGNING_KEY).orElse(null);
        return Optional.of(parse(root, command, file.get()));
    }

    static AnalystKeys parse(JsonNode root, String commandKey, String where) {
        List<String> problems = new ArrayList<>();
        Map<String, Entry> out = new HashMap<>();
        if (root == null || !root.isObject() || root.isEmpty()) {
            problems.add("expected a JSON object of key id -> {analyst, key}, with at least one key");
        } else {
            for (Iterator<Map.Entry<String, JsonNode>> it = root.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> e = it.next();
                String id = e.getKey();
                String analyst = e.getValue().path("analyst").asText("");
                String key = e.getValue().path("key").asText("");
                // Never the key itself in a message: only which id is wrong and why.
                if (!id.matches("[A-Za-z0-9._@-]{1,128}")) problems.add("key id '" + id + "': letters, digits, . _ @ - only");
                if (analyst.isBlank()) problems.add("key " + id + ": analyst missing");
                if (key.getBytes(StandardCharsets.UTF_8).length < CommandSigner.MIN_KEY_BYTES) {
                    problems.add("key " + id + ": shorter than " + CommandSigner.MIN_KEY_BYTES + " bytes");
                } else if (key.equals(SigningKeys.DEMO_SIGNING_KEY) || key.equals(SigningKeys.DEMO_CONTROL_KEY)) {
                    problems.add("key " + id + ": a public demo key");
                } else if (key.equals(commandKey)) {
                    problems.add("key " + id + ": equals the command key (an analyst could sign commands)");
                } else {
                    out.put(id, new Entry(analyst, new CommandSigner(key)));
                }
            }
        }
        if (!problems.isEmpty()) {
            throw new IllegalArgumentException(Settings.ANALYST_KEYS_FILE.key() + " (" + where + "): "
                    + String.join("; ", problems));
        }
        return new AnalystKeys(out);
    }

    /** The key with this id, or null. */
    public Entry get(String keyId) {
        return keyId == null ? null : byId.get(keyId);
    }
}
