package io.tourniquet.model;

import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.Base64;

/**
 * A rejected input record ({@code tourniquet.dlq}, contract section 3).
 *
 * <p>The copy of the original is bounded: its first {@link #MAX_ORIGINAL_BYTES} bytes, with the
 * whole record's length and SHA-256, so that the original can be recognised and fetched from the
 * input topic by its coordinates. A full copy let one record stop detection: 200 KB of control
 * characters grow sixfold when escaped in JSON, past the producer's 1 MB limit, and the failing
 * dead-letter sink failed the job.
 */
public class DeadLetter {
    /** Bytes of the original kept in {@link #original} (a JSON-escaped copy stays far below 1 MB). */
    public static final int MAX_ORIGINAL_BYTES = 16 * 1024;
    /** Characters of the key and of the reason kept. */
    static final int MAX_TEXT = 1024;

    /** The original bytes (the first {@link #MAX_ORIGINAL_BYTES}) as a string: UTF-8 when they decode as such, else base64. */
    public String original;
    /** Length in bytes of the whole original record value. */
    public long originalBytes;
    /** Lowercase hex SHA-256 of the whole original record value. */
    public String originalSha256;
    /** True when {@link #original} holds only the first {@link #MAX_ORIGINAL_BYTES} bytes. */
    public boolean originalTruncated;
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
        d.originalBytes = value.length;
        d.originalSha256 = sha256(value);
        byte[] kept = value;
        if (value.length > MAX_ORIGINAL_BYTES) {
            d.originalTruncated = true;
            int end = MAX_ORIGINAL_BYTES;
            // Cut at a character boundary when it is UTF-8 (continuation bytes are 10xxxxxx).
            while (end > MAX_ORIGINAL_BYTES - 4 && end > 0 && (value[end] & 0xC0) == 0x80) end--;
            kept = java.util.Arrays.copyOf(value, end);
        }
        String text = utf8OrNull(kept);
        d.original = text != null ? text : Base64.getEncoder().encodeToString(kept);
        d.originalEncoding = text != null ? "utf-8" : "base64";
        d.key = raw.key == null ? null : bounded(new String(raw.key, StandardCharsets.UTF_8));
        d.topic = raw.topic;
        d.partition = raw.partition;
        d.offset = raw.offset;
        d.reasonCode = code;
        d.reason = reason == null ? null : bounded(reason);
        d.rejectedAt = rejectedAt;
        return d;
    }

    private static String bounded(String s) {
        return s.length() <= MAX_TEXT ? s : s.substring(0, MAX_TEXT) + "…";
    }

    private static String sha256(byte[] bytes) {
        try {
            return java.util.HexFormat.of().formatHex(java.security.MessageDigest.getInstance("SHA-256").digest(bytes));
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is mandatory in every JVM", e);
        }
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
