package io.tourniquet.sim;

import java.util.HashSet;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.UUID;

/** Seeded identifiers, addresses and hashes; every identifier it hands out is unique within a run. */
final class Ids {

    private static final char[] HEX = "0123456789abcdef".toCharArray();
    private static final char[] BASE58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz".toCharArray();
    private static final char[] BECH32 = "qpzry9x8gf2tvdw0s3jn54khce6mua7l".toCharArray();

    private final SplittableRandom rng;
    private final Set<String> used = new HashSet<>();

    Ids(SplittableRandom rng) {
        this.rng = rng;
    }

    /** A version-4-shaped UUID drawn from the seeded source. */
    String eventId() {
        return unique(() -> {
            long msb = (rng.nextLong() & ~0xF000L) | 0x4000L;
            long lsb = (rng.nextLong() & 0x3FFFFFFFFFFFFFFFL) | 0x8000000000000000L;
            return new UUID(msb, lsb).toString();
        });
    }

    String userId() {
        return unique(() -> "u-" + rng.nextInt(10_000_000, 100_000_000));
    }

    String withdrawalId() {
        return unique(() -> "wd-" + chars(HEX, 16));
    }

    String challengeId() {
        return unique(() -> "mfa-ch-" + chars(HEX, 20));
    }

    String sessionId() {
        return unique(() -> "sess-" + chars(HEX, 24));
    }

    String deviceId() {
        return unique(() -> "dev-" + chars(HEX, 16));
    }

    /** Anti-phishing codes look like {@code TQ-7F3A}; they need not be unique. */
    String antiPhishingCode() {
        return "TQ-" + chars(HEX, 4).toUpperCase(java.util.Locale.ROOT);
    }

    String address(String network) {
        return unique(() -> switch (network) {
            case "bitcoin" -> "bc1q" + chars(BECH32, 38);
            case "ethereum" -> "0x" + chars(HEX, 40);
            case "solana" -> chars(BASE58, 44);
            case "tron" -> "T" + chars(BASE58, 33);
            default -> throw new IllegalArgumentException("unknown network " + network);
        });
    }

    String txHash(String network) {
        return unique(() -> switch (network) {
            case "ethereum" -> "0x" + chars(HEX, 64);
            case "solana" -> chars(BASE58, 88);
            default -> chars(HEX, 64);
        });
    }

    private String unique(java.util.function.Supplier<String> draw) {
        while (true) {
            String s = draw.get();
            if (used.add(s)) {
                return s;
            }
        }
    }

    private String chars(char[] alphabet, int n) {
        char[] out = new char[n];
        for (int i = 0; i < n; i++) {
            out[i] = alphabet[rng.nextInt(alphabet.length)];
        }
        return new String(out);
    }
}
