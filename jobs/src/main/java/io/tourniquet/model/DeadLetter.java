package io.tourniquet.model;

import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.Base64;

/** A rejected input record ({@code tourniquet.dlq}, contract section 3). */
public class DeadLetter {
    /** The original bytes as a string: UTF-8 when they decode as such, else base64. */
    public String original;
    /** {@code utf-8} or {@code base64}: how to get the original bytes back from {@link #original}. */
    public String originalEncoding;
    public String key;
    public String topic;
    public int partition;
    public long offset;
    /** Stable machine-readable class of the problem, e.g. {@code not_json}, {@code missing_field}. */
    public String reasonCode;
    /** One human-readable sentence naming the field and the problem. */
    public String reason;
    /** Wall-clock time (ms) the pipeline rejected it. */
    public long rejectedAt;

    public DeadLetter() {}

    /** A dead letter for {@code raw}, keeping its bytes recoverable whatever their encoding. */
    public static DeadLetter of(RawRecord raw, String code, String reason, long rejectedAt) {
        DeadLetter d = new DeadLetter();
        byte[] value = raw.value == null ? new byte[0] : raw.value;
        String text = utf8OrNull(value);
        d.original = text != null ? text : Base64.getEncoder().encodeToString(value);
        d.originalEncoding = text != null ? "utf-8" : "base64";
        d.key = raw.key == null ? null : new String(raw.key, StandardCharsets.UTF_8);
        d.topic = raw.topic;
        d.partition = raw.partition;
        d.offset = raw.offset;
        d.reasonCode = code;
        d.reason = reason;
        d.rejectedAt = rejectedAt;
        return d;
    }

    private static String utf8OrNull(byte[] bytes) {
        try {
            return StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(bytes)).toString();
        } catch (CharacterCodingException e) {
            return null;
        }
    }

    @Override
    public String toString() {
        return "DeadLetter{" + topic + "/" + partition + "@" + offset + " " + reasonCode + ": " + reason + "}";
    }
}
