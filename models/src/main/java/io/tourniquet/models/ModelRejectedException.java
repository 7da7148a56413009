package io.tourniquet.models;

/** A model artifact that must not be used, and why. Thrown by {@link ModelArtifact#load}. */
public final class ModelRejectedException extends Exception {

    public enum Reason {
        /** metadata.json is missing, not JSON, lacks a field or has an invalid value. */
        METADATA_UNREADABLE,
        /** The artifact format is not one this code reads. */
        UNSUPPORTED_FORMAT,
        /** The model was trained on another feature schema than the code computes. */
        SCHEMA_MISMATCH,
        /** The model file is missing or too large to be one of ours. */
        MODEL_UNREADABLE,
        /** The model file's size or sha256 differs from the metadata's: never deserialized. */
        CHECKSUM_MISMATCH,
        /** The verified model file names a class outside the allow-list: deserialization stopped. */
        FORBIDDEN_CLASS,
        /** The verified model file does not deserialize into a model consistent with its metadata. */
        CORRUPT_MODEL
    }

    private final Reason reason;

    public ModelRejectedException(Reason reason, String message) {
        super(reason + ": " + message);
        this.reason = reason;
    }

    public ModelRejectedException(Reason reason, String message, Throwable cause) {
        super(reason + ": " + message, cause);
        this.reason = reason;
    }

    public Reason reason() {
        return reason;
    }
}
