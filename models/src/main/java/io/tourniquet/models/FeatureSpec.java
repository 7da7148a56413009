package io.tourniquet.models;

import java.util.Objects;

/**
 * One feature of a vector: its name (the key in logs and training data), its unit (the exact
 * transformation, so that a change of formula changes the schema hash), what it measures, and why
 * it separates an account takeover from the owner's normal use.
 */
public record FeatureSpec(String name, String unit, String description, String why) {
    public FeatureSpec {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(unit, "unit");
        Objects.requireNonNull(description, "description");
        Objects.requireNonNull(why, "why");
        if (!name.matches("[a-z][a-z0-9_]*")) {
            throw new IllegalArgumentException("feature names are lower snake case: " + name);
        }
        // Tabs and newlines separate fields in the canonical form that is hashed.
        if (unit.contains("\t") || unit.contains("\n")) {
            throw new IllegalArgumentException("unit may not contain tabs or newlines: " + unit);
        }
    }
}
