package io.tourniquet.model;

/** Why an input record was rejected: a stable code for counting and a sentence for people. */
public final class InvalidEventException extends Exception {
    private static final long serialVersionUID = 1L;
    private final String code;

    public InvalidEventException(String code, String message) {
        super(message, null, false, false);
        this.code = code;
    }

    public String code() {
        return code;
    }
}
