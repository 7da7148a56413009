package io.tourniquet.config;

import java.time.Duration;
import java.util.Locale;
import java.util.function.Function;
import java.util.function.Predicate;
import org.apache.flink.util.TimeUtils;

/**
 * One configuration setting: its key, documented default, parser and validity check.
 *
 * @param <T> the parsed type
 */
public final class Setting<T> {
    private final String key;
    private final String defaultText;
    private final String description;
    private final Function<String, T> parser;
    private final Predicate<T> check;
    private final String checkText;
    /** For a rule's setting: which change of it weakens detection; null for any other setting. */
    private final Weakening<T> weakening;

    private Setting(String key, String defaultText, String description,
                    Function<String, T> parser, Predicate<T> check, String checkText) {
        this(key, defaultText, description, parser, check, checkText, null);
    }

    private Setting(String key, String defaultText, String description, Function<String, T> parser,
                    Predicate<T> check, String checkText, Weakening<T> weakening) {
        this.key = key;
        this.defaultText = defaultText;
        this.description = description;
        this.parser = parser;
        this.check = check;
        this.checkText = checkText;
        this.weakening = weakening;
    }

    /** This setting, declared as a rule's threshold that {@code weakening} weakens (see {@link Weakening}). */
    public Setting<T> weakenedBy(Weakening<T> weakening) {
        return new Setting<>(key, defaultText, description, parser, check, checkText, weakening);
    }

    /** Which change weakens detection, or null if this is not a rule's setting. */
    public Weakening<T> weakening() {
        return weakening;
    }

    /**
     * True if changing this rule setting from {@code fromText} to {@code toText} (both valid)
     * weakens detection.
     *
     * @throws IllegalStateException if no direction was declared for it
     */
    public boolean weakens(String fromText, String toText) {
        if (weakening == null) throw new IllegalStateException(key + ": no weakening direction declared");
        return weakening.weakens(parse(fromText), parse(toText));
    }

    public static Setting<String> string(String key, String def, String description) {
        return new Setting<>(key, def, description, s -> s, s -> s != null && !s.isBlank(), "must not be empty");
    }

    /** A string with no default: required where it is used, absent otherwise. */
    public static Setting<String> optionalString(String key, String description) {
        return new Setting<>(key, null, description, s -> s, s -> !s.isBlank(), "must not be empty");
    }

    /** A string that must match {@code regex} entirely (e.g. a name that becomes a path segment). */
    public static Setting<String> matching(String key, String def, String regex, String what, String description) {
        java.util.regex.Pattern p = java.util.regex.Pattern.compile(regex);
        return new Setting<>(key, def, description, s -> s, s -> p.matcher(s).matches(), "must be " + what);
    }

    /** One of a fixed set of words (lower case). */
    public static Setting<String> oneOf(String key, String def, java.util.List<String> allowed, String description) {
        return new Setting<>(key, def, description, s -> s.toLowerCase(Locale.ROOT), allowed::contains,
                "must be one of " + allowed);
    }

    public static Setting<Integer> integer(String key, int def, int min, int max, String description) {
        return new Setting<>(key, Integer.toString(def), description, Integer::valueOf,
                v -> v >= min && v <= max, "must be between " + min + " and " + max);
    }

    public static Setting<Duration> duration(String key, String def, Duration min, String description) {
        return new Setting<>(key, def, description, TimeUtils::parseDuration,
                d -> d.compareTo(min) >= 0, "must be at least " + TimeUtils.formatWithHighestUnit(min));
    }

    /** An exact decimal (thresholds in US$ or shares), never a floating-point number. */
    public static Setting<java.math.BigDecimal> decimal(String key, String def, String min, String max,
                                                        String description) {
        java.math.BigDecimal lo = new java.math.BigDecimal(min);
        java.math.BigDecimal hi = new java.math.BigDecimal(max);
        return new Setting<>(key, def, description, java.math.BigDecimal::new,
                v -> v.compareTo(lo) >= 0 && v.compareTo(hi) <= 0, "must be between " + min + " and " + max);
    }

    public static Setting<Boolean> bool(String key, boolean def, String description) {
        return new Setting<>(key, Boolean.toString(def), description, s -> {
            String v = s.trim().toLowerCase(Locale.ROOT);
            if (v.equals("true") || v.equals("false")) return Boolean.valueOf(v);
            throw new IllegalArgumentException("expected true or false");
        }, v -> true, "");
    }

    public String key() {
        return key;
    }

    /** Environment variable form: {@code TOURNIQUET_} + the key upper-cased, non-alphanumerics as '_'. */
    public String envName() {
        return "TOURNIQUET_" + key.toUpperCase(Locale.ROOT).replaceAll("[^A-Z0-9]", "_");
    }

    public String defaultText() {
        return defaultText;
    }

    /** What it means; for a rule's setting, also which change of it needs a second analyst's approval. */
    public String description() {
        if (weakening == null) return description;
        String words = weakening.words();
        return description + " " + Character.toUpperCase(words.charAt(0)) + words.substring(1)
                + " weakens the rule: a second analyst approves (control.two-person).";
    }

    /** Parses and validates; the message names the key, the value and what is expected. */
    public T parse(String text) {
        T value;
        try {
            value = parser.apply(text.trim());
        } catch (RuntimeException e) {
            throw new IllegalArgumentException(key + ": cannot parse '" + text + "' (" + e.getMessage() + ")");
        }
        if (!check.test(value)) {
            throw new IllegalArgumentException(key + ": '" + text + "' " + checkText);
        }
        return value;
    }
}
