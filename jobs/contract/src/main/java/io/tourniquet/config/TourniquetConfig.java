package io.tourniquet.config;

import java.io.Serializable;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Resolved configuration. Precedence, lowest first: documented defaults, environment variables
 * ({@code TOURNIQUET_<KEY>}), then explicit overrides (command-line flags). Every value is parsed
 * and validated when the configuration is built, and all problems are reported together.
 */
public final class TourniquetConfig implements Serializable {
    private static final long serialVersionUID = 1L;

    private final Map<String, String> raw;
    private transient Map<String, Object> parsed;

    private TourniquetConfig(Map<String, String> raw) {
        this.raw = Collections.unmodifiableMap(new LinkedHashMap<>(raw));
        this.parsed = parseAll(this.raw);
    }

    public static TourniquetConfig defaults() {
        return load(Map.of(), Map.of());
    }

    /** Resolves from the given environment and overrides; throws listing every invalid or unknown key. */
    public static TourniquetConfig load(Map<String, String> env, Map<String, String> overrides) {
        Map<String, String> raw = new LinkedHashMap<>();
        List<String> problems = new ArrayList<>();
        Map<String, Setting<?>> byKey = new HashMap<>();
        for (Setting<?> s : Settings.ALL) {
            byKey.put(s.key(), s);
            if (s.defaultText() != null) raw.put(s.key(), s.defaultText());
            String fromEnv = env.get(s.envName());
            if (fromEnv != null) raw.put(s.key(), fromEnv);
        }
        for (Map.Entry<String, String> o : overrides.entrySet()) {
            if (!byKey.containsKey(o.getKey())) {
                problems.add(o.getKey() + ": unknown setting (see 'tourniquet config')");
            } else {
                raw.put(o.getKey(), o.getValue());
            }
        }
        if (!problems.isEmpty()) throw new IllegalArgumentException(String.join("; ", problems));
        return new TourniquetConfig(raw);
    }

    public static TourniquetConfig fromEnvironment(Map<String, String> overrides) {
        for (String w : unknownVariables(System.getenv())) System.err.println("warning: " + w);
        return load(System.getenv(), overrides);
    }

    /** Variables of the launcher and the local infra scripts: not settings, read by the scripts. */
    private static final java.util.Set<String> SCRIPT_VARIABLES = java.util.Set.of("TOURNIQUET_LOCAL_DIR",
            "TOURNIQUET_JAVA_HOME", "TOURNIQUET_JAVA_OPTS", "TOURNIQUET_ES_URL", "TOURNIQUET_ES_PORT",
            "TOURNIQUET_ES_TRANSPORT_PORT", "TOURNIQUET_ES_HEAP", "TOURNIQUET_ES_USER", "TOURNIQUET_KAFKA_PORT",
            "TOURNIQUET_KAFKA_CONTROLLER_PORT", "TOURNIQUET_KAFKA_HEAP", "TOURNIQUET_START_TIMEOUT",
            "TOURNIQUET_STOP_TIMEOUT", "TOURNIQUET_KAFKA_EXTRA_CONFIG", "TOURNIQUET_ES_SECURITY_DIR", "TOURNIQUET_PROMETHEUS_PORT");

    /**
     * TOURNIQUET_* variables that no setting reads. An unknown variable is otherwise ignored without a
     * word, so a misspelt one silently means a default (e.g. the index job writing to 127.0.0.1).
     */
    public static List<String> unknownVariables(Map<String, String> env) {
        java.util.Set<String> settings = new java.util.HashSet<>();
        for (Setting<?> s : Settings.ALL) settings.add(s.envName());
        List<String> out = new ArrayList<>();
        for (String name : new java.util.TreeSet<>(env.keySet())) {
            if (!name.startsWith("TOURNIQUET_") || settings.contains(name)) continue;
            if (name.equals("TOURNIQUET_ES_URL")) {
                String setting = env.get(Settings.ES_URL.envName());
                if (setting == null || !setting.equals(env.get(name))) {
                    out.add("TOURNIQUET_ES_URL is the local infra scripts' variable; the jobs read "
                            + Settings.ES_URL.envName() + " (" + Settings.ES_URL.key() + "), which "
                            + (setting == null ? "is unset" : "says " + setting));
                }
            } else if (!SCRIPT_VARIABLES.contains(name) && !name.startsWith("TOURNIQUET_FLINK_")) {
                out.add(name + " is not the variable of any setting and is ignored (see 'tourniquet config')");
            }
        }
        return out;
    }

    private static Map<String, Object> parseAll(Map<String, String> raw) {
        Map<String, Object> out = new HashMap<>();
        List<String> problems = new ArrayList<>();
        for (Setting<?> s : Settings.ALL) {
            String text = raw.get(s.key());
            if (text == null) continue;
            try {
                out.put(s.key(), s.parse(text));
            } catch (IllegalArgumentException e) {
                problems.add(e.getMessage());
            }
        }
        if (!problems.isEmpty()) throw new IllegalArgumentException("invalid configuration: " + String.join("; ", problems));
        Duration validity = (Duration) out.get(Settings.UA_VALIDITY.key());
        Duration grace = (Duration) out.get(Settings.UA_GRACE.key());
        if (validity != null && grace != null && grace.compareTo(validity) > 0) {
            throw new IllegalArgumentException("invalid configuration: " + Settings.UA_GRACE.key()
                    + " must not exceed " + Settings.UA_VALIDITY.key());
        }
        List<String> pairs = new ArrayList<>();
        if (out.containsKey(Settings.ES_API_KEY.key()) && out.containsKey(Settings.ES_USERNAME.key())) {
            pairs.add(Settings.ES_API_KEY.key() + " and " + Settings.ES_USERNAME.key() + " are both set: choose one");
        }
        if (out.containsKey(Settings.ES_USERNAME.key()) != out.containsKey(Settings.ES_PASSWORD.key())) {
            pairs.add(Settings.ES_USERNAME.key() + " and " + Settings.ES_PASSWORD.key() + " go together");
        }
        if (out.containsKey(Settings.ES_CA_FILE.key()) && out.containsKey(Settings.ES_CA_FINGERPRINT.key())) {
            pairs.add(Settings.ES_CA_FILE.key() + " and " + Settings.ES_CA_FINGERPRINT.key() + " are both set: choose one");
        }
        if (!pairs.isEmpty()) throw new IllegalArgumentException("invalid configuration: " + String.join("; ", pairs));
        return out;
    }

    @SuppressWarnings("unchecked")
    public <T> T get(Setting<T> setting) {
        if (parsed == null) parsed = parseAll(raw);
        T value = (T) parsed.get(setting.key());
        if (value == null) {
            throw new IllegalStateException(setting.key() + " is required but not set (environment variable "
                    + setting.envName() + ")");
        }
        return value;
    }

    @SuppressWarnings("unchecked")
    public <T> Optional<T> find(Setting<T> setting) {
        if (parsed == null) parsed = parseAll(raw);
        return Optional.ofNullable((T) parsed.get(setting.key()));
    }

    /** A copy with some keys replaced (validated like any other load). */
    public TourniquetConfig with(Map<String, String> overrides) {
        Map<String, String> next = new LinkedHashMap<>(raw);
        next.putAll(overrides);
        return new TourniquetConfig(next);
    }

    public TourniquetConfig with(Setting<?> setting, String value) {
        return with(Map.of(setting.key(), value));
    }

    /**
     * A copy whose topics, consumer groups and index aliases all start with {@code prefix}: an
     * isolated namespace on shared Kafka and Elasticsearch (benchmarks, integration tests).
     */
    public TourniquetConfig namespaced(String prefix) {
        Map<String, String> o = new LinkedHashMap<>();
        for (Setting<String> s : Settings.TOPICS) o.put(s.key(), prefix + get(s));
        for (Setting<String> s : Settings.INDEX_ALIASES) o.put(s.key(), prefix + get(s));
        o.put(Settings.KAFKA_GROUP_PREFIX.key(), prefix + get(Settings.KAFKA_GROUP_PREFIX));
        return with(o);
    }

    /**
     * Every setting whose effective value is not its documented default, as {@code key -> value}
     * (secrets included): what another process needs to resolve exactly this configuration from
     * its own defaults, e.g. a job's entry point on a cluster given these as arguments.
     */
    public Map<String, String> nonDefaults() {
        Map<String, String> out = new LinkedHashMap<>();
        for (Setting<?> s : Settings.ALL) {
            String v = raw.get(s.key());
            if (v != null && !v.equals(s.defaultText())) out.put(s.key(), v);
        }
        return out;
    }

    /** Effective values, secrets masked, for logs and {@code tourniquet config}. */
    public Map<String, String> describe() {
        Map<String, String> out = new LinkedHashMap<>();
        for (Setting<?> s : Settings.ALL) {
            String v = raw.get(s.key());
            out.put(s.key(), v == null ? "(unset)" : Settings.SECRETS.contains(s) ? "(set, " + v.length() + " chars)" : v);
        }
        return out;
    }
}
