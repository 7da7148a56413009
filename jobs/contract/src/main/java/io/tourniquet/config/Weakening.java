package io.tourniquet.config;

import java.util.List;
import java.util.function.BiPredicate;

/**
 * Which change of a rule's setting weakens detection: makes its rule fire less often or later, or
 * act less. Declared beside each rule setting in {@link Settings}, the one place the direction is
 * decided; under {@code control.two-person} a rule change that weakens any of its settings waits
 * for a second analyst's approval, one that only tightens or leaves them takes effect at once.
 *
 * @param <T> the setting's parsed type
 */
public final class Weakening<T> {
    private final String words;
    private final BiPredicate<T, T> weakens;

    private Weakening(String words, BiPredicate<T, T> weakens) {
        this.words = words;
        this.weakens = weakens;
    }

    /** A larger value weakens the rule (a higher threshold, a longer wait, a wider tolerance). */
    public static <T extends Comparable<? super T>> Weakening<T> raising() {
        return new Weakening<>("raising it", (from, to) -> to.compareTo(from) > 0);
    }

    /** A smaller value weakens the rule (a shorter window or memory). */
    public static <T extends Comparable<? super T>> Weakening<T> lowering() {
        return new Weakening<>("lowering it", (from, to) -> to.compareTo(from) < 0);
    }

    /** Switching it off weakens the rule (an action it no longer takes). */
    public static Weakening<Boolean> turningOff() {
        return new Weakening<>("turning it off", (from, to) -> from && !to);
    }

    /** A word earlier in {@code ascending} weakens (e.g. a lower severity). */
    public static Weakening<String> loweringIn(List<String> ascending) {
        return new Weakening<>("lowering it", (from, to) -> ascending.indexOf(to) < ascending.indexOf(from));
    }

    /**
     * Any change away from a value other than {@code none} weakens: switching an active model off
     * removes its alerts, and another model may score lower, which cannot be known in advance;
     * activating one where none was only adds alerts.
     */
    public static Weakening<String> replacingAnythingBut(String none) {
        return new Weakening<>("changing it from anything but '" + none + "'",
                (from, to) -> !from.equals(to) && !from.equals(none));
    }

    /** True if going from {@code from} to {@code to} weakens the rule. */
    public boolean weakens(T from, T to) {
        return weakens.test(from, to);
    }

    /** How the setting is weakened, e.g. {@code raising it}. */
    public String words() {
        return words;
    }
}
