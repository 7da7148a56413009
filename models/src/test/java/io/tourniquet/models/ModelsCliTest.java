package io.tourniquet.models;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ModelsCliTest {
    final ByteArrayOutputStream out = new ByteArrayOutputStream();
    final ByteArrayOutputStream err = new ByteArrayOutputStream();

    int run(String... args) {
        out.reset();
        err.reset();
        return ModelsCli.run(args, new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8));
    }

    @Test
    void trainThenEvaluateThenInfo(@TempDir Path dir) throws Exception {
        Path train = dir.resolve("train.ndjson");
        Path labeled = dir.resolve("labeled.ndjson");
        FeatureRows.write(train, new SyntheticWithdrawals(31).rows(2000, 20, false));
        FeatureRows.write(labeled, new SyntheticWithdrawals(32).rows(1000, 50, true));

        assertThat(run("train", "--rows", train.toString(), "--out", dir.resolve("models").toString(),
                "--trees", "60", "--version", "m1")).as(err.toString()).isZero();
        assertThat(out.toString()).contains("trained on 2020 of 2020 rows").contains("wrote ")
                .contains("threshold");
        Path model = dir.resolve("models").resolve("m1");
        assertThat(Files.exists(model.resolve(ModelArtifact.METADATA_FILE))).isTrue();

        assertThat(run("evaluate", "--model", model.toString(), "--rows", labeled.toString()))
                .as(out + " " + err).isZero();
        assertThat(out.toString()).contains("model m1").contains("1050 labeled rows (50 attacks, 1000 benign")
                .contains("model beats baseline on AUC: yes");
        System.out.println("[ModelsCliTest] " + out);

        assertThat(run("info", "--model", model.toString())).isZero();
        assertThat(out.toString()).contains("\"model_version\" : \"m1\"").contains("\"trees\" : 60");
    }

    @Test
    void usageAndRejections(@TempDir Path dir) throws Exception {
        assertThat(run()).isEqualTo(2);
        assertThat(run("fly")).isEqualTo(2);
        assertThat(run("train", "--rows", "x")).isEqualTo(2);
        assertThat(err.toString()).contains("missing --out");
        assertThat(run("evaluate", "--model", dir.toString(), "--rows", "x", "--bogus", "1")).isEqualTo(2);
        assertThat(run("info", "--model", dir.resolve("none").toString())).isEqualTo(1);
        assertThat(err.toString()).contains("model rejected: METADATA_UNREADABLE");
        Path bad = dir.resolve("bad.ndjson");
        Files.write(bad, List.of("{}"));
        assertThat(run("train", "--rows", bad.toString(), "--out", dir.toString())).isEqualTo(1);
        assertThat(err.toString()).contains("line 1: schema_version (int) and schema_hash (string) are required");
    }
}
