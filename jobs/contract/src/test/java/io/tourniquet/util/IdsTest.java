package io.tourniquet.util;

import static org.assertj.core.api.Assertions.assertThat;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.HexFormat;
import org.junit.jupiter.api.Test;

class IdsTest {
    @Test
    void partsHoldingTheSeparatorCannotCollideWithOtherParts() {
        assertThat(Ids.of("alert", "a\u0000b", "c")).isNotEqualTo(Ids.of("alert", "a", "b", "c"));
        assertThat(Ids.of("x\u0001", "y")).isNotEqualTo(Ids.of("x", "\u0001y"));
        assertThat(Ids.of("a\u0000", "b")).isNotEqualTo(Ids.of("a", "\u0000b"));
        assertThat(Ids.of("a\u0001\u0002")).isNotEqualTo(Ids.of("a\u0000"));
    }

    @Test
    void idsOfOrdinaryPartsAreWhatTheyAlwaysWere() throws Exception {
        // The definition before escaping: SHA-256 over each part's UTF-8 and a NUL, first 16 bytes.
        MessageDigest sha = MessageDigest.getInstance("SHA-256");
        for (String part : new String[] {"alert", "unauthorized_approval", "évènement-1"}) {
            sha.update(part.getBytes(StandardCharsets.UTF_8));
            sha.update((byte) 0);
        }
        String before = HexFormat.of().formatHex(sha.digest(), 0, 16);
        assertThat(Ids.of("alert", "unauthorized_approval", "évènement-1")).isEqualTo(before).hasSize(32);
    }
}
