package io.tourniquet.cli;

import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import io.tourniquet.config.Settings;
import io.tourniquet.config.TourniquetConfig;
import java.util.Map;
import org.junit.jupiter.api.Test;

class RunCommandTest {
    static final String OWN = "an-operators-own-signing-key-0123456789abcdef";
    static final String OWN_CONTROL = "an-operators-own-control-key-0123456789abcdef";

    static TourniquetConfig keys(String signing, String control) {
        return TourniquetConfig.defaults().with(Map.of(Settings.SIGNING_KEY.key(), signing,
                Settings.CONTROL_KEY.key(), control));
    }

    @Test
    void runRefusesThePublicDemoKeysAndOneKeyForBoth() {
        assertThatThrownBy(() -> RunCommand.checkKeys(keys(DemoCommand.DEMO_SIGNING_KEY, OWN_CONTROL)))
                .hasMessageContaining("TOURNIQUET_SIGNING_KEY is the public demo key");
        assertThatThrownBy(() -> RunCommand.checkKeys(keys(OWN, DemoCommand.DEMO_CONTROL_KEY)))
                .hasMessageContaining("TOURNIQUET_SIGNING_CONTROL_KEY is the public demo key");
        assertThatThrownBy(() -> RunCommand.checkKeys(keys(OWN, OWN)))
                .hasMessageContaining("equals TOURNIQUET_SIGNING_KEY");
        assertThatThrownBy(() -> RunCommand.checkKeys(keys(DemoCommand.DEMO_SIGNING_KEY, DemoCommand.DEMO_SIGNING_KEY)))
                .hasMessageContaining("public demo key").hasMessageContaining("equals");
        assertThatCode(() -> RunCommand.checkKeys(keys(OWN, OWN_CONTROL))).doesNotThrowAnyException();
    }
}
