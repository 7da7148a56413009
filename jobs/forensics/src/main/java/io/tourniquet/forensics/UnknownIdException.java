package io.tourniquet.forensics;

/** The incident or user asked about has nothing in the forensic indexes. */
public final class UnknownIdException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public UnknownIdException(String message) {
        super(message);
    }
}
