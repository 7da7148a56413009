package io.tourniquet.util;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * Deterministic identifiers: the same trigger always yields the same id, so enforcers and
 * Elasticsearch can de-duplicate what at-least-once delivery repeats.
 */
public final class Ids {
    private Ids() {}

    /**
     * First 128 bits of SHA-256 over the parts, each followed by a NUL byte. A part is input (an
     * event id may hold any character), so NUL and the escape byte 0x01 inside it are escaped
     * (0x01 0x01, 0x01 0x02): otherwise {@code ("a\0b", "c")} and {@code ("a", "b", "c")} would
     * collide. Parts without either byte hash as they always did, so existing ids are unchanged.
     */
    public static String of(String... parts) {
        try {
            MessageDigest sha = MessageDigest.getInstance("SHA-256");
            for (String part : parts) {
                sha.update(escape(String.valueOf(part).getBytes(StandardCharsets.UTF_8)));
                sha.update((byte) 0);
            }
            return HexFormat.of().formatHex(sha.digest(), 0, 16);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is mandatory in every JVM", e);
        }
    }

    private static byte[] escape(byte[] bytes) {
        int extra = 0;
        for (byte x : bytes) if (x == 0 || x == 1) extra++;
        if (extra == 0) return bytes;
        byte[] out = new byte[bytes.length + extra];
        int i = 0;
        for (byte x : bytes) {
            if (x == 0 || x == 1) {
                out[i++] = 1;
                out[i++] = (byte) (x == 1 ? 1 : 2);
            } else {
                out[i++] = x;
            }
        }
        return out;
    }
}
