package io.tourniquet.models;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.StringReader;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FeatureRowsTest {
    static final long T0 = WithdrawalFeaturesTest.T0;

    static FeatureRow row(String wid, Boolean label) {
        double[] x = WithdrawalFeatures.compute(WithdrawalFeaturesTest.history(), WithdrawalFeaturesTest.base());
        return FeatureRow.of(wid, "u-1", T0 + 30_000, x, label);
    }

    @Test
    void oneObjectPerLineInTheDocumentedShape() throws Exception {
        String json = FeatureRows.toJson(row("w-1", null));
        assertThat(json).doesNotContain("\n")
                .startsWith("{\"schema_version\":1,\"schema_hash\":\"" + WithdrawalFeatures.SCHEMA_HASH + "\","
                        + "\"withdrawal_id\":\"w-1\",\"user_id\":\"u-1\",\"event_time\":\"2022-01-17T10:00:30.000Z\","
                        + "\"features\":{\"amount_vs_median\":")
                .contains("\"balance_share\":0.25,")
                .endsWith("},\"label\":null}");
    }

    @Test
    void roundTripThroughAFile(@TempDir Path dir) throws Exception {
        List<FeatureRow> rows = List.of(row("w-1", null), row("w-2", true), row("w-3", false));
        Path file = dir.resolve("rows.ndjson");
        FeatureRows.write(file, rows);
        assertThat(Files.readAllLines(file)).hasSize(3);
        assertThat(FeatureRows.read(file)).containsExactlyElementsOf(rows);
    }

    @Test
    void epochMillisAndBlankLinesAreAccepted() throws Exception {
        String line = FeatureRows.toJson(row("w-1", true)).replace("\"2022-01-17T10:00:30.000Z\"",
                Long.toString(T0 + 30_000));
        assertThat(FeatureRows.read(new StringReader("\n" + line + "\n\n"))).containsExactly(row("w-1", true));
    }

    @Test
    void anotherSchemaOrAMissingFeatureIsAnErrorNamingTheLine() {
        String good = FeatureRows.toJson(row("w-1", null));
        String otherVersion = good.replace("\"schema_version\":1", "\"schema_version\":2");
        assertThatThrownBy(() -> FeatureRows.read(new StringReader(good + "\n" + otherVersion)))
                .hasMessageContaining("line 2: row has feature schema v2");
        String missing = good.replaceFirst("\"jailbroken\":0\\.0,", "");
        assertThatThrownBy(() -> FeatureRows.read(new StringReader(missing)))
                .hasMessageContaining("line 1: features do not match").hasMessageContaining("missing [jailbroken]");
        assertThatThrownBy(() -> FeatureRows.read(new StringReader(good.replace("\"label\":null", "\"label\":\"yes\""))))
                .hasMessageContaining("label must be true, false or null");
        assertThatThrownBy(() -> FeatureRows.read(new StringReader("{oops")))
                .hasMessageContaining("line 1: not JSON");
    }

    @Test
    void writerOutputReadsBack() throws Exception {
        StringWriter w = new StringWriter();
        FeatureRows.write(w, List.of(row("a", false)));
        assertThat(FeatureRows.read(new StringReader(w.toString()))).containsExactly(row("a", false));
    }
}
