package io.tourniquet.notify;

/**
 * A user's anti-phishing code as last set, with the event time of the change that set it, so a
 * change that arrives out of order cannot overwrite a later one. Keyed state (a Flink POJO).
 */
public class AntiPhishingCode {
    /** Exactly as the user set it: never trimmed, case-folded or normalised. */
    public String code;
    public long eventTime;
    /** The {@code anti_phishing_code_set} event that set it, for forensics. */
    public String eventId;

    public AntiPhishingCode() {}

    public AntiPhishingCode(String code, long eventTime, String eventId) {
        this.code = code;
        this.eventTime = eventTime;
        this.eventId = eventId;
    }

    @Override
    public String toString() {
        return "AntiPhishingCode{t=" + eventTime + " event=" + eventId + "}"; // never the code itself in logs
    }
}
