package io.tourniquet.signing;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.tourniquet.json.Json;
import io.tourniquet.model.Action;
import java.io.Serializable;
import java.nio.charset.StandardCharsets;
import java.security.InvalidKeyException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * Signs commands as the contract says: {@code hmac-sha256:} + lowercase hex HMAC-SHA256, under the
 * configured key, of the record's canonical JSON without the {@code signature} field. Enforcers
 * (and our tests) verify with {@link #verify(JsonNode)}.
 */
public final class CommandSigner implements Serializable {
    private static final long serialVersionUID = 1L;
    public static final String PREFIX = "hmac-sha256:";
    private static final String ALGORITHM = "HmacSHA256";
    /** Shorter keys are refused: HMAC-SHA256 wants at least its output size of key material. */
    public static final int MIN_KEY_BYTES = 32;

    private final byte[] key;
    /** Set on every command this signs ({@code key_id}); null: none (control requests, tests). */
    private final String keyId;

    public CommandSigner(String key) {
        this(key, null);
    }

    /** Signs commands with {@code key} and names it {@code keyId} in each (key rotation). */
    public CommandSigner(String key, String keyId) {
        if (key == null || key.getBytes(StandardCharsets.UTF_8).length < MIN_KEY_BYTES) {
            throw new IllegalArgumentException("signing key must be at least " + MIN_KEY_BYTES + " bytes");
        }
        this.key = key.getBytes(StandardCharsets.UTF_8);
        this.keyId = keyId;
    }

    /** Sets {@code action.signature} and returns the signed record exactly as it is published. */
    public byte[] sign(Action action) {
        action.signature = null;
        if (keyId != null) action.keyId = keyId;
        ObjectNode tree = (ObjectNode) Json.tree(action);
        tree.remove("signature");
        action.signature = signatureOf(tree);
        tree.put("signature", action.signature);
        return Json.canonicalBytes(tree);
    }

    /** Signs any JSON object the same way (control requests): returns its canonical signed bytes. */
    public byte[] sign(ObjectNode unsigned) {
        ObjectNode tree = unsigned.deepCopy();
        tree.remove("signature");
        tree.put("signature", signatureOf(tree));
        return Json.canonicalBytes(tree);
    }

    /** True if {@code record} carries a valid signature under this key. */
    public boolean verify(JsonNode record) {
        if (record == null || !record.isObject() || !record.path("signature").isTextual()) return false;
        ObjectNode copy = ((ObjectNode) record).deepCopy();
        String claimed = copy.remove("signature").asText();
        byte[] expected = signatureOf(copy).getBytes(StandardCharsets.US_ASCII);
        return MessageDigest.isEqual(expected, claimed.getBytes(StandardCharsets.US_ASCII));
    }

    /** {@code hmac-sha256:<hex>} over the canonical bytes of {@code unsigned}. */
    public String signatureOf(JsonNode unsigned) {
        try {
            Mac mac = Mac.getInstance(ALGORITHM);
            mac.init(new SecretKeySpec(key, ALGORITHM));
            return PREFIX + HexFormat.of().formatHex(mac.doFinal(Json.canonicalBytes(unsigned)));
        } catch (NoSuchAlgorithmException | InvalidKeyException e) {
            throw new IllegalStateException("HmacSHA256 is mandatory in every JVM", e);
        }
    }
}
