package io.tourniquet.deploy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.tourniquet.config.Setting;
import io.tourniquet.config.Settings;
import io.tourniquet.config.TourniquetConfig;
import io.tourniquet.detect.job.DetectJobRunner;
import io.tourniquet.index.IndexJobRunner;
import io.tourniquet.runtime.JobEnvironments;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.apache.flink.configuration.CheckpointingOptions;
import org.apache.flink.configuration.ExecutionOptions;
import org.apache.flink.configuration.ConfigOption;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.HighAvailabilityOptions;
import org.apache.flink.configuration.StateBackendOptions;

/**
 * Checks of one rendered FlinkDeployment against the code that will run in it. Each returns the
 * problems it finds (empty: none) rather than asserting, so that the tests can show a check does
 * catch a broken manifest, not only that the shipped ones pass.
 */
final class ManifestChecks {
    private ManifestChecks() {}

    /** What the manifests must give each job; keyed by the entry class they name. */
    record Job(Class<?> runner, String stateName, List<Setting<?>> required, List<Setting<?>> forbidden) {}

    static final Map<String, Job> JOBS = Map.of(
            DetectJobRunner.class.getName(), new Job(DetectJobRunner.class, DetectJobRunner.stateName(false),
                    // kafka.bootstrap has a default, but it is 127.0.0.1: in a pod that is never right.
                    List.of(Settings.KAFKA_BOOTSTRAP, Settings.SIGNING_KEY, Settings.CONTROL_KEY,
                            Settings.CHECKPOINT_DIR, Settings.SAVEPOINT_DIR, Settings.PARALLELISM),
                    List.of()),
            IndexJobRunner.class.getName(), new Job(IndexJobRunner.class, IndexJobRunner.stateName(false),
                    List.of(Settings.KAFKA_BOOTSTRAP, Settings.ES_URL,
                            Settings.CHECKPOINT_DIR, Settings.SAVEPOINT_DIR, Settings.PARALLELISM),
                    // It signs nothing: a key it holds is only one more place for the key to leak from.
                    List.of(Settings.SIGNING_KEY, Settings.CONTROL_KEY)));

    /** Settings whose values are secrets: only ever from a Secret. */
    static final Set<Setting<?>> SECRET_SETTINGS = Set.of(Settings.SIGNING_KEY, Settings.CONTROL_KEY);
    private static final Pattern SECRET_LOOKING = Pattern.compile("(?i).*(KEY|SECRET|PASSWORD|TOKEN|CREDENTIAL).*");
    private static final Pattern SECRET_LOOKING_FLINK = Pattern.compile("(?i).*(secret|password|access-key|token).*");

    /**
     * Options the job's own configuration sets and the cluster's must equal. The job's values win
     * inside the job, so a different cluster value is a statement the job does not honour.
     */
    static final List<ConfigOption<?>> SHARED_OPTIONS = List.of(
            StateBackendOptions.STATE_BACKEND,
            CheckpointingOptions.INCREMENTAL_CHECKPOINTS,
            ExecutionOptions.SNAPSHOT_COMPRESSION,
            CheckpointingOptions.CHECKPOINTS_DIRECTORY,
            CheckpointingOptions.SAVEPOINT_DIRECTORY,
            CheckpointingOptions.MAX_RETAINED_CHECKPOINTS,
            CheckpointingOptions.EXTERNALIZED_CHECKPOINT_RETENTION,
            CheckpointingOptions.CHECKPOINTING_TIMEOUT,
            CheckpointingOptions.TOLERABLE_FAILURE_NUMBER);

    /**
     * Keys the job sets that the cluster does not have to: the job's name, the restore path (the
     * operator passes its own), and the embedded cluster's REST endpoint and metric reporters (a
     * cluster's own configuration decides them: reporters are set up when a process starts, never
     * by a job).
     */
    static boolean jobOnlyKey(String key) {
        return key.startsWith("rest.") || key.startsWith("metrics.reporter.") || key.equals("pipeline.name")
                || key.equals("execution.state-recovery.path")
                // The embedded cluster's; the manifests size their TaskManagers' memory themselves.
                || key.equals("taskmanager.memory.managed.size");
    }

    static final Map<String, Setting<?>> BY_ENV = Settings.ALL.stream()
            .collect(Collectors.toMap(Setting::envName, s -> s));

    static Job job(JsonNode deployment) {
        return JOBS.get(deployment.path("spec").path("job").path("entryClass").asText());
    }

    /** Every env entry of every container of the deployment's pod templates. */
    static List<JsonNode> env(JsonNode deployment) {
        JsonNode spec = deployment.path("spec");
        List<JsonNode> out = new ArrayList<>();
        for (JsonNode template : List.of(spec.path("podTemplate"), spec.path("jobManager").path("podTemplate"),
                spec.path("taskManager").path("podTemplate"))) {
            for (String list : List.of("containers", "initContainers")) {
                for (JsonNode container : template.path("spec").path(list)) {
                    container.path("env").forEach(out::add);
                }
            }
        }
        return out;
    }

    /** TOURNIQUET_* variables that no setting reads: TourniquetConfig ignores them without a word. */
    static List<String> unknownSettingVariables(JsonNode deployment) {
        List<String> problems = new ArrayList<>();
        for (JsonNode e : env(deployment)) {
            String name = e.path("name").asText();
            if (name.startsWith("TOURNIQUET_") && !BY_ENV.containsKey(name)) {
                problems.add(name + " is not the variable of any setting (see Settings.ALL; the job would ignore it)");
            }
        }
        return problems;
    }

    /** Secrets by secretKeyRef only, never as a literal, in env or in flinkConfiguration. */
    static List<String> literalSecrets(JsonNode deployment) {
        List<String> problems = new ArrayList<>();
        Set<String> secretEnv = SECRET_SETTINGS.stream().map(Setting::envName).collect(Collectors.toSet());
        for (JsonNode e : env(deployment)) {
            String name = e.path("name").asText();
            if (!secretEnv.contains(name) && !SECRET_LOOKING.matcher(name).matches()) continue;
            if (e.has("value") || !e.path("valueFrom").has("secretKeyRef")) {
                problems.add(name + " must come from a Secret (valueFrom.secretKeyRef), not a literal value");
            }
        }
        deployment.path("spec").path("flinkConfiguration").fieldNames().forEachRemaining(key -> {
            if (SECRET_LOOKING_FLINK.matcher(key).matches()) {
                problems.add("flinkConfiguration." + key + " is a credential in plain text; use a Secret");
            }
        });
        return problems;
    }

    /** The environment a pod would get, secrets replaced by a stand-in (their values are not here). */
    static Map<String, String> environment(JsonNode deployment) {
        Map<String, String> out = new LinkedHashMap<>();
        for (JsonNode e : env(deployment)) {
            String name = e.path("name").asText();
            if (e.has("value")) {
                out.put(name, e.get("value").asText());
            } else if (e.path("valueFrom").has("secretKeyRef")) {
                out.put(name, "secret-from-" + e.path("valueFrom").path("secretKeyRef").path("name").asText()
                        + "-stand-in-of-more-than-32-bytes");
            }
        }
        return out;
    }

    /** The job's configuration as its main() resolves it in the pod (environment, no arguments). */
    static TourniquetConfig config(JsonNode deployment) {
        String[] args = Kustomize.YAML.convertValue(deployment.path("spec").path("job").path("args"), String[].class);
        return TourniquetConfig.load(environment(deployment),
                io.tourniquet.config.ClusterArgs.parse(args == null ? new String[0] : args));
    }

    static List<String> settingsPresence(JsonNode deployment) {
        List<String> problems = new ArrayList<>();
        Job job = job(deployment);
        if (job == null) return List.of("entryClass names no known job runner");
        Map<String, String> env = environment(deployment);
        for (Setting<?> s : job.required()) {
            if (!env.containsKey(s.envName())) problems.add(job.stateName() + " needs " + s.key() + " (" + s.envName() + ")");
        }
        for (Setting<?> s : job.forbidden()) {
            if (env.containsKey(s.envName())) problems.add(job.stateName() + " must not be given " + s.key());
        }
        return problems;
    }

    /** flinkConfiguration against JobEnvironments.configuration(...) of the job's own settings. */
    static List<String> flinkConfigurationDisagreements(JsonNode deployment) {
        List<String> problems = new ArrayList<>();
        Job job = job(deployment);
        if (job == null) return List.of("entryClass names no known job runner");
        TourniquetConfig cfg = config(deployment);
        Configuration cluster = clusterConfiguration(deployment);
        Configuration jobConf = JobEnvironments.configuration(cfg, job.stateName(), Optional.empty());
        Set<String> compared = SHARED_OPTIONS.stream().map(ConfigOption::key).collect(Collectors.toSet());
        for (String key : jobConf.keySet()) {
            if (!jobOnlyKey(key) && !compared.contains(key)) {
                problems.add("JobEnvironments sets " + key + ", which this check does not compare yet: add it to "
                        + "SHARED_OPTIONS (and to the manifests) or to jobOnlyKey");
            }
        }
        for (ConfigOption<?> option : SHARED_OPTIONS) {
            if (!cluster.contains(option)) {
                problems.add("flinkConfiguration lacks " + option.key());
            } else if (!Objects.equals(cluster.get(option), jobConf.get(option))) {
                problems.add(option.key() + ": flinkConfiguration says " + cluster.get(option)
                        + ", the job sets " + jobConf.get(option));
            }
        }
        // Not in configuration(...) but set by JobEnvironments.create: the checkpoint interval.
        if (cluster.contains(CheckpointingOptions.CHECKPOINTING_INTERVAL) && !Objects.equals(
                cluster.get(CheckpointingOptions.CHECKPOINTING_INTERVAL), cfg.get(Settings.CHECKPOINT_INTERVAL))) {
            problems.add("execution.checkpointing.interval: flinkConfiguration says "
                    + cluster.get(CheckpointingOptions.CHECKPOINTING_INTERVAL) + ", the job uses "
                    + cfg.get(Settings.CHECKPOINT_INTERVAL));
        }
        // The job's main() sets its parallelism from job.parallelism, overriding spec.job.parallelism,
        // while the operator sizes the TaskManagers from spec.job.parallelism.
        int specParallelism = deployment.path("spec").path("job").path("parallelism").asInt(-1);
        if (specParallelism != cfg.get(Settings.PARALLELISM)) {
            problems.add("spec.job.parallelism " + specParallelism + " but the job runs at job.parallelism "
                    + cfg.get(Settings.PARALLELISM) + " (" + Settings.PARALLELISM.envName() + ")");
        }
        return problems;
    }

    static Configuration clusterConfiguration(JsonNode deployment) {
        Map<String, String> map = new LinkedHashMap<>();
        deployment.path("spec").path("flinkConfiguration").fields()
                .forEachRemaining(e -> map.put(e.getKey(), e.getValue().asText()));
        return Configuration.fromMap(map);
    }

    /** Kubernetes HA on, with its storage, and an account allowed to keep the HA ConfigMaps. */
    static List<String> haProblems(JsonNode deployment, List<ObjectNode> rendered) {
        List<String> problems = new ArrayList<>();
        Configuration cluster = clusterConfiguration(deployment);
        if (!"kubernetes".equalsIgnoreCase(cluster.get(HighAvailabilityOptions.HA_MODE))) {
            problems.add("high-availability.type is " + cluster.get(HighAvailabilityOptions.HA_MODE) + ", not kubernetes");
        }
        if (cluster.get(HighAvailabilityOptions.HA_STORAGE_PATH) == null) {
            problems.add("high-availability.storageDir is not set");
        }
        String account = deployment.path("spec").path("serviceAccount").asText("");
        if (Kustomize.find(rendered, "ServiceAccount", account) == null) {
            problems.add("serviceAccount '" + account + "' is not among the applied resources");
        }
        Set<String> needed = Set.of("get", "list", "watch", "create", "update", "delete");
        boolean bound = false;
        for (ObjectNode binding : rendered) {
            if (!binding.path("kind").asText().equals("RoleBinding")) continue;
            boolean forAccount = false;
            for (JsonNode subject : binding.path("subjects")) {
                forAccount |= subject.path("kind").asText().equals("ServiceAccount")
                        && subject.path("name").asText().equals(account);
            }
            ObjectNode role = Kustomize.find(rendered, binding.path("roleRef").path("kind").asText(),
                    binding.path("roleRef").path("name").asText());
            if (!forAccount || role == null) continue;
            for (String resource : List.of("configmaps", "pods")) {
                boolean granted = false;
                for (JsonNode rule : role.path("rules")) {
                    Set<String> resources = texts(rule.path("resources"));
                    Set<String> verbs = texts(rule.path("verbs"));
                    granted |= texts(rule.path("apiGroups")).contains("") && resources.contains(resource)
                            && verbs.containsAll(needed);
                }
                if (!granted) problems.add("role " + role.path("metadata").path("name").asText() + " lacks " + resource);
            }
            bound = true;
        }
        if (!bound) problems.add("no RoleBinding gives serviceAccount '" + account + "' a role");
        return problems;
    }

    /** What the operator needs for 'last-state' and the fields fixed by the issue. */
    static List<String> deploymentShape(JsonNode deployment) {
        List<String> problems = new ArrayList<>();
        JsonNode spec = deployment.path("spec");
        JsonNode jobSpec = spec.path("job");
        expect(problems, "apiVersion", deployment.path("apiVersion").asText(), "flink.apache.org/v1beta1");
        expect(problems, "kind", deployment.path("kind").asText(), "FlinkDeployment");
        expect(problems, "spec.job.upgradeMode", jobSpec.path("upgradeMode").asText(), "last-state");
        expect(problems, "spec.job.state", jobSpec.path("state").asText("running"), "running");
        Configuration cluster = clusterConfiguration(deployment);
        // The operator's own validation (DefaultValidator): last-state needs a checkpoint directory,
        // periodic savepoints need a savepoint directory.
        if (cluster.get(CheckpointingOptions.CHECKPOINTS_DIRECTORY) == null) {
            problems.add("last-state needs execution.checkpointing.dir");
        }
        if (spec.path("flinkConfiguration").has("kubernetes.operator.periodic.savepoint.interval")
                && cluster.get(CheckpointingOptions.SAVEPOINT_DIRECTORY) == null) {
            problems.add("periodic savepoints need execution.checkpointing.savepoint-dir");
        }
        if (Boolean.parseBoolean(spec.path("flinkConfiguration")
                        .path("kubernetes.operator.deployment.rollback.enabled").asText("false"))
                && !"kubernetes".equalsIgnoreCase(cluster.get(HighAvailabilityOptions.HA_MODE))) {
            problems.add("rollbacks need HA");
        }
        if (spec.path("jobManager").path("replicas").asInt(1) > 1
                && !"kubernetes".equalsIgnoreCase(cluster.get(HighAvailabilityOptions.HA_MODE))) {
            problems.add("several JobManager replicas need HA");
        }
        for (String part : List.of("jobManager", "taskManager")) {
            JsonNode resource = spec.path(part).path("resource");
            if (!resource.hasNonNull("memory") || !resource.hasNonNull("cpu")) {
                problems.add("spec." + part + ".resource needs memory and cpu");
            }
        }
        return problems;
    }

    /** The entry class exists on this classpath and has what Flink calls: public static void main(String[]). */
    static List<String> entryClassProblems(JsonNode deployment) {
        String name = deployment.path("spec").path("job").path("entryClass").asText();
        try {
            Class<?> c = Class.forName(name, false, ManifestChecks.class.getClassLoader());
            Method main = c.getMethod("main", String[].class);
            if (!Modifier.isStatic(main.getModifiers()) || main.getReturnType() != void.class) {
                return List.of(name + ".main is not 'public static void main(String[])'");
            }
            if (!JOBS.containsKey(name)) return List.of(name + " is not one of the job runners " + JOBS.keySet());
            return List.of();
        } catch (ClassNotFoundException e) {
            return List.of("entryClass " + name + " does not exist");
        } catch (NoSuchMethodException e) {
            return List.of(name + " has no public main(String[])");
        }
    }

    private static void expect(List<String> problems, String what, String actual, String expected) {
        if (!expected.equals(actual)) problems.add(what + " is '" + actual + "', expected '" + expected + "'");
    }

    static Set<String> texts(JsonNode array) {
        Set<String> out = new java.util.HashSet<>();
        array.forEach(n -> out.add(n.asText()));
        return out;
    }
}
