package io.tourniquet.model;

/** A rejected input record ({@code tourniquet.dlq}, contract section 3). */
public class DeadLetter {
    /** The original bytes as a string: UTF-8 when they decode as such, else base64. */
    public String original;
    /** {@code utf-8} or {@code base64}: how to get the original bytes back from {@link #original}. */
    public String originalEncoding;
    public String key;
    public String topic;
    public int partition;
    public long offset;
    /** Stable machine-readable class of the problem, e.g. {@code not_json}, {@code missing_field}. */
    public String reasonCode;
    /** One human-readable sentence naming the field and the problem. */
    public String reason;
    /** Wall-clock time (ms) the pipeline rejected it. */
    public long rejectedAt;

    public DeadLetter() {}

    @Override
    public String toString() {
        return "DeadLetter{" + topic + "/" + partition + "@" + offset + " " + reasonCode + ": " + reason + "}";
    }
}
