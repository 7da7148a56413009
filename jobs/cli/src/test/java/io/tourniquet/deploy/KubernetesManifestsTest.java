package io.tourniquet.deploy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.tourniquet.config.Settings;
import io.tourniquet.deploy.Kustomize.Lists;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.apache.flink.runtime.util.EnvironmentInformation;
import org.apache.flink.util.TimeUtils;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * infra/k8s, rendered the way {@code kubectl apply -k} would (base and each overlay), checked
 * against the code the pods will run: the settings the jobs read, the Flink configuration the jobs
 * set themselves, the entry classes, the image. No cluster is available here; this is what can be
 * known without one.
 */
class KubernetesManifestsTest {
    static final Path K8S = locate();

    private static Path locate() {
        // Surefire runs in jobs/; an IDE may run from the repository root.
        for (Path p = Path.of("").toAbsolutePath(); p != null; p = p.getParent()) {
            if (Files.isDirectory(p.resolve("infra/k8s/base"))) return p.resolve("infra/k8s");
        }
        throw new IllegalStateException("infra/k8s not found above " + Path.of("").toAbsolutePath());
    }

    static List<ObjectNode> render(String target) {
        return Kustomize.build(K8S.resolve(target), Lists.REPLACE);
    }

    static List<ObjectNode> deployments(String target) {
        return render(target).stream().filter(r -> r.path("kind").asText().equals("FlinkDeployment")).toList();
    }

    @ParameterizedTest
    @ValueSource(strings = {"base", "overlays/staging", "overlays/production"})
    void oneDeploymentPerJob(String target) {
        List<String> entryClasses = deployments(target).stream()
                .map(d -> d.path("spec").path("job").path("entryClass").asText()).sorted().toList();
        assertThat(entryClasses).containsExactlyInAnyOrderElementsOf(ManifestChecks.JOBS.keySet());
    }

    @ParameterizedTest
    @ValueSource(strings = {"base", "overlays/staging", "overlays/production"})
    void everyTourniquetVariableIsASetting(String target) {
        for (ObjectNode d : deployments(target)) {
            assertThat(ManifestChecks.unknownSettingVariables(d)).as(name(d)).isEmpty();
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"base", "overlays/staging", "overlays/production"})
    void eachJobGetsTheSettingsItNeedsAndNoKeyItDoesNotNeed(String target) {
        for (ObjectNode d : deployments(target)) {
            assertThat(ManifestChecks.settingsPresence(d)).as(name(d)).isEmpty();
            // Every value parses and validates as the job's main() would do it at start.
            assertThat(ManifestChecks.config(d)).as(name(d)).isNotNull();
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"base", "overlays/staging", "overlays/production"})
    void secretsComeOnlyFromSecretKeyRefs(String target) {
        for (ObjectNode d : deployments(target)) {
            assertThat(ManifestChecks.literalSecrets(d)).as(name(d)).isEmpty();
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"base", "overlays/staging", "overlays/production"})
    void flinkConfigurationAgreesWithWhatTheJobSetsItself(String target) {
        for (ObjectNode d : deployments(target)) {
            assertThat(ManifestChecks.flinkConfigurationDisagreements(d)).as(name(d)).isEmpty();
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"base", "overlays/staging", "overlays/production"})
    void lastStateUpgradesWithKubernetesHa(String target) {
        List<ObjectNode> rendered = render(target);
        for (ObjectNode d : deployments(target)) {
            assertThat(ManifestChecks.deploymentShape(d)).as(name(d)).isEmpty();
            assertThat(ManifestChecks.haProblems(d, rendered)).as(name(d)).isEmpty();
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"base", "overlays/staging", "overlays/production"})
    void entryClassesExistWithAStaticMain(String target) {
        for (ObjectNode d : deployments(target)) {
            assertThat(ManifestChecks.entryClassProblems(d)).as(name(d)).isEmpty();
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"base", "overlays/staging", "overlays/production"})
    void imageAndFlinkVersionMatchTheDockerfileAndTheBuild(String target) {
        Dockerfile docker = Dockerfile.read(K8S.resolve("Dockerfile"));
        // The Flink the jobs are compiled and tested against (flink-runtime on this classpath).
        String flink = EnvironmentInformation.getVersion();
        assertThat(flink).matches("\\d+\\.\\d+\\.\\d+.*");
        String[] v = flink.split("\\.");
        assertThat(docker.from()).isEqualTo("flink:" + flink + "-java17");
        assertThat(docker.copySource()).isEqualTo("jobs/cli/target/tourniquet-jobs.jar");
        for (ObjectNode d : deployments(target)) {
            JsonNode spec = d.path("spec");
            assertThat(spec.path("flinkVersion").asText()).as(name(d)).isEqualTo("v" + v[0] + "_" + v[1]);
            assertThat(spec.path("job").path("jarURI").asText()).as(name(d))
                    .isEqualTo("local://" + docker.copyTarget());
            assertThat(spec.path("image").asText()).as(name(d)).isNotBlank();
        }
    }

    @Test
    void productionTakesPeriodicSavepoints() {
        for (ObjectNode d : deployments("overlays/production")) {
            String interval = d.path("spec").path("flinkConfiguration")
                    .path("kubernetes.operator.periodic.savepoint.interval").asText("");
            assertThat(interval).as(name(d)).isNotBlank();
            assertThat(TimeUtils.parseDuration(interval)).as(name(d)).isGreaterThan(Duration.ZERO);
        }
    }

    /**
     * kustomize replaces lists when it patches a custom resource (no schema) and merges named items
     * when it knows the kind; the overlays must mean the same either way, so each restates whole
     * lists. A patch with half a list would silently drop the other half under one of the two.
     */
    @ParameterizedTest
    @ValueSource(strings = {"overlays/staging", "overlays/production"})
    void overlaysMeanTheSameWhetherListsAreReplacedOrMergedByName(String target) {
        List<ObjectNode> replaced = Kustomize.build(K8S.resolve(target), Lists.REPLACE);
        List<ObjectNode> merged = Kustomize.build(K8S.resolve(target), Lists.MERGE_BY_NAME);
        assertThat(merged).hasSameSizeAs(replaced);
        for (int i = 0; i < replaced.size(); i++) {
            // Per resource, so a failure names the resource and the first differing env entry.
            assertThat(ManifestChecks.env(merged.get(i))).as(name(replaced.get(i)) + " env")
                    .containsExactlyElementsOf(ManifestChecks.env(replaced.get(i)));
            assertThat(merged.get(i)).as(name(replaced.get(i))).isEqualTo(replaced.get(i));
        }
        // And the overlays did change something (a renderer that ignored patches would pass above).
        assertThat(replaced).isNotEqualTo(render("base"));
    }

    /**
     * The test renderer against the real one, where a kubectl is on the PATH (kustomize v5.5 in
     * kubectl 1.32 when this was written; it confirmed that lists in a FlinkDeployment patch
     * replace the base's). Skipped without kubectl: the other tests do not need it.
     */
    @ParameterizedTest
    @ValueSource(strings = {"base", "overlays/staging", "overlays/production"})
    void theTestRendererAgreesWithKubectlKustomize(String target) throws Exception {
        Path kubectl = onPath("kubectl");
        org.junit.jupiter.api.Assumptions.assumeTrue(kubectl != null, "no kubectl on the PATH");
        Process p = new ProcessBuilder(kubectl.toString(), "kustomize", K8S.resolve(target).toString())
                .redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        assertThat(p.waitFor(60, java.util.concurrent.TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as(out).isZero();
        List<ObjectNode> real = Kustomize.readDocuments(out);
        List<ObjectNode> ours = render(target);
        assertThat(ours).hasSameSizeAs(real);
        for (ObjectNode r : real) {
            ObjectNode mine = Kustomize.find(ours, r.path("kind").asText(), name(r));
            assertThat(mine).as(r.path("kind").asText() + " " + name(r)).isEqualTo(r);
        }
    }

    static Path onPath(String command) {
        for (String dir : System.getenv().getOrDefault("PATH", "").split(java.io.File.pathSeparator)) {
            Path candidate = Path.of(dir, command);
            if (Files.isExecutable(candidate)) return candidate;
        }
        return null;
    }

    @Test
    void secretExampleIsNeverAppliedAndHoldsEveryReferencedKey() throws IOException {
        List<ObjectNode> examples = Kustomize.read(K8S.resolve("base/secret-example.yaml"));
        Set<String> provided = new HashSet<>();
        for (ObjectNode secret : examples) {
            assertThat(secret.path("kind").asText()).isEqualTo("Secret");
            secret.path("stringData").fields().forEachRemaining(e -> {
                provided.add(secret.path("metadata").path("name").asText() + "/" + e.getKey());
                assertThat(e.getValue().asText()).as("an example value must look fake").startsWith("FAKE");
            });
        }
        for (String target : List.of("base", "overlays/staging", "overlays/production")) {
            assertThat(render(target)).as(target).noneMatch(r -> r.path("kind").asText().equals("Secret"));
            for (ObjectNode d : deployments(target)) {
                for (JsonNode e : ManifestChecks.env(d)) {
                    JsonNode ref = e.path("valueFrom").path("secretKeyRef");
                    if (ref.isMissingNode()) continue;
                    assertThat(provided).as(name(d) + " " + e.path("name").asText())
                            .contains(ref.path("name").asText() + "/" + ref.path("key").asText());
                }
            }
        }
    }

    /** A YAML file no kustomization reaches is either dead or a patch someone forgot to wire in. */
    @Test
    void everyManifestIsReachedFromAKustomization() throws IOException {
        Set<Path> reached = new HashSet<>();
        reached.add(K8S.resolve("base/secret-example.yaml").normalize());
        for (String dir : List.of("base", "overlays/staging", "overlays/production")) {
            Path k = K8S.resolve(dir);
            reached.add(k.resolve("kustomization.yaml").normalize());
            JsonNode kustomization = Kustomize.read(k.resolve("kustomization.yaml")).get(0);
            kustomization.path("resources").forEach(r -> reached.add(k.resolve(r.asText()).normalize()));
            kustomization.path("patches").forEach(p -> reached.add(k.resolve(p.path("path").asText()).normalize()));
        }
        List<Path> all;
        try (Stream<Path> files = Files.walk(K8S)) {
            all = files.filter(f -> f.toString().endsWith(".yaml") || f.toString().endsWith(".yml"))
                    .map(Path::normalize).toList();
        }
        assertThat(all).isNotEmpty();
        for (Path f : all) {
            assertThat(Kustomize.read(f)).as(f.toString()).isNotEmpty();
        }
        assertThat(reached).containsAll(all);
    }

    // ---- The checks catch what they are for: each starts from a shipped manifest and breaks one thing.

    static ObjectNode shipped(String entryClass) {
        return deployments("overlays/production").stream()
                .filter(d -> d.path("spec").path("job").path("entryClass").asText().equals(entryClass))
                .findFirst().orElseThrow().deepCopy();
    }

    static ArrayNode envList(ObjectNode deployment) {
        return (ArrayNode) deployment.path("spec").path("podTemplate").path("spec").path("containers").get(0)
                .path("env");
    }

    static ObjectNode envEntry(ObjectNode deployment, String name) {
        for (JsonNode e : envList(deployment)) {
            if (e.path("name").asText().equals(name)) return (ObjectNode) e;
        }
        throw new AssertionError(name + " not in " + name(deployment));
    }

    @Test
    void aMistypedSettingVariableIsCaught() {
        // infra/local's services.env says TOURNIQUET_ES_URL, but the setting elasticsearch.url is read
        // from TOURNIQUET_ELASTICSEARCH_URL: with the short name the index job would quietly write to
        // 127.0.0.1:9200.
        ObjectNode index = shipped("io.tourniquet.index.IndexJobRunner");
        envEntry(index, Settings.ES_URL.envName()).put("name", "TOURNIQUET_ES_URL");
        assertThat(ManifestChecks.unknownSettingVariables(index))
                .containsExactly("TOURNIQUET_ES_URL is not the variable of any setting (see Settings.ALL; "
                        + "the job would ignore it)");
        assertThat(ManifestChecks.settingsPresence(index)).containsExactly(
                "index needs elasticsearch.url (TOURNIQUET_ELASTICSEARCH_URL)");
    }

    @Test
    void aLiteralKeyIsCaught() {
        ObjectNode detect = shipped("io.tourniquet.detect.job.DetectJobRunner");
        ObjectNode key = envEntry(detect, Settings.SIGNING_KEY.envName());
        key.remove("valueFrom");
        key.put("value", "a-key-typed-into-the-manifest-0123456789");
        assertThat(ManifestChecks.literalSecrets(detect)).containsExactly(
                "TOURNIQUET_SIGNING_KEY must come from a Secret (valueFrom.secretKeyRef), not a literal value");

        ObjectNode withS3Key = shipped("io.tourniquet.detect.job.DetectJobRunner");
        ((ObjectNode) withS3Key.path("spec").path("flinkConfiguration")).put("s3.secret-key", "abc");
        assertThat(ManifestChecks.literalSecrets(withS3Key)).hasSize(1);
    }

    @Test
    void signingKeysGivenToTheIndexJobAreCaught() {
        ObjectNode index = shipped("io.tourniquet.index.IndexJobRunner");
        envList(index).add(envEntry(shipped("io.tourniquet.detect.job.DetectJobRunner"),
                Settings.SIGNING_KEY.envName()).deepCopy());
        assertThat(ManifestChecks.settingsPresence(index)).containsExactly("index must not be given signing.key");
    }

    @Test
    void aFlinkConfigurationTheJobOverridesIsCaught() {
        ObjectNode detect = shipped("io.tourniquet.detect.job.DetectJobRunner");
        ObjectNode conf = (ObjectNode) detect.path("spec").path("flinkConfiguration");
        conf.put("execution.checkpointing.num-retained", "5");
        // The job appends its state name; a directory without it is not where the job writes.
        conf.put("execution.checkpointing.dir", "s3://tourniquet-state-production/checkpoints");
        conf.remove("execution.checkpointing.externalized-checkpoint-retention");
        assertThat(ManifestChecks.flinkConfigurationDisagreements(detect)).containsExactlyInAnyOrder(
                "execution.checkpointing.num-retained: flinkConfiguration says 5, the job sets 3",
                "execution.checkpointing.dir: flinkConfiguration says s3://tourniquet-state-production/checkpoints,"
                        + " the job sets s3://tourniquet-state-production/checkpoints/detect",
                "flinkConfiguration lacks execution.checkpointing.externalized-checkpoint-retention");
    }

    @Test
    void aParallelismTheJobWouldOverrideIsCaught() {
        ObjectNode detect = shipped("io.tourniquet.detect.job.DetectJobRunner");
        ((ObjectNode) detect.path("spec").path("job")).put("parallelism", 8);
        assertThat(ManifestChecks.flinkConfigurationDisagreements(detect)).containsExactly(
                "spec.job.parallelism 8 but the job runs at job.parallelism 4 (TOURNIQUET_JOB_PARALLELISM)");
    }

    @Test
    void missingHaOrAWrongShapeIsCaught() {
        ObjectNode detect = shipped("io.tourniquet.detect.job.DetectJobRunner");
        ObjectNode conf = (ObjectNode) detect.path("spec").path("flinkConfiguration");
        conf.remove("high-availability.type");
        ((ObjectNode) detect.path("spec").path("job")).put("upgradeMode", "stateless");
        ((ObjectNode) detect.path("spec").path("job")).put("entryClass", "io.tourniquet.detect.DetectJobRuner");
        List<ObjectNode> rendered = render("overlays/production");
        assertThat(ManifestChecks.haProblems(detect, rendered)).containsExactly(
                "high-availability.type is NONE, not kubernetes");
        assertThat(ManifestChecks.deploymentShape(detect)).containsExactlyInAnyOrder(
                "spec.job.upgradeMode is 'stateless', expected 'last-state'",
                "rollbacks need HA",
                "several JobManager replicas need HA");
        assertThat(ManifestChecks.entryClassProblems(detect)).containsExactly(
                "entryClass io.tourniquet.detect.DetectJobRuner does not exist");

        List<ObjectNode> withoutRbac = new ArrayList<>(rendered);
        withoutRbac.removeIf(r -> r.path("kind").asText().equals("RoleBinding"));
        assertThat(ManifestChecks.haProblems(shipped("io.tourniquet.detect.job.DetectJobRunner"), withoutRbac))
                .containsExactly("no RoleBinding gives serviceAccount 'tourniquet-flink' a role");
    }

    @Test
    void aPatchWithHalfAListDependsOnTheListSemantics() throws IOException {
        ObjectNode base = Kustomize.readDocuments("""
                spec:
                  containers:
                    - name: flink-main-container
                      env:
                        - {name: TOURNIQUET_SIGNING_KEY, valueFrom: {secretKeyRef: {name: k, key: s}}}
                        - {name: TOURNIQUET_JOB_PARALLELISM, value: "2"}
                """).get(0);
        ObjectNode patch = Kustomize.readDocuments("""
                spec:
                  containers:
                    - name: flink-main-container
                      env:
                        - {name: TOURNIQUET_JOB_PARALLELISM, value: "4"}
                """).get(0);
        JsonNode replaced = Kustomize.merge(base, patch, Lists.REPLACE);
        JsonNode merged = Kustomize.merge(base, patch, Lists.MERGE_BY_NAME);
        assertThat(replaced.at("/spec/containers/0/env")).hasSize(1);
        assertThat(merged.at("/spec/containers/0/env")).hasSize(2);
        assertThat(merged.at("/spec/containers/0/env/1/value").asText()).isEqualTo("4");
        assertThat(replaced).isNotEqualTo(merged);
    }

    @Test
    void theRendererRefusesWhatItDoesNotImplement(@org.junit.jupiter.api.io.TempDir Path dir) throws IOException {
        Files.writeString(dir.resolve("kustomization.yaml"), "resources: []\nimages:\n  - name: x\n    newTag: y\n");
        assertThatThrownBy(() -> Kustomize.build(dir, Lists.REPLACE)).hasMessageContaining("'images'");
    }

    static String name(JsonNode d) {
        return d.path("metadata").path("name").asText();
    }

    /** The FROM and the one COPY of infra/k8s/Dockerfile. */
    record Dockerfile(String from, String copySource, String copyTarget) {
        static Dockerfile read(Path file) {
            String text;
            try {
                text = Files.readString(file);
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
            Matcher from = Pattern.compile("(?m)^FROM\\s+(\\S+)").matcher(text);
            Matcher copy = Pattern.compile("(?m)^COPY\\s+(?:--\\S+\\s+)*(\\S+)\\s+(\\S+)\\s*$").matcher(text);
            assertThat(from.find()).as("FROM in " + file).isTrue();
            assertThat(copy.find()).as("COPY in " + file).isTrue();
            String target = copy.group(2);
            String source = copy.group(1);
            if (target.endsWith("/")) target = target + Path.of(source).getFileName();
            assertThat(copy.find()).as("one COPY only in " + file).isFalse();
            return new Dockerfile(from.group(1), source, target);
        }
    }
}
