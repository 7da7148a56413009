package io.tourniquet.detect;

/**
 * A session's successful login, as the anomaly detector keeps it (a Flink POJO in keyed state).
 * Whether the device, IP and country were already known is decided at the login, against the
 * history as it was then, as the features' contract asks; so the profile can be updated at once.
 */
public class SessionLogin {
    public String sessionId;
    public long loginTime;
    public String deviceId;
    public String ip;
    public String country;
    public boolean jailbroken;
    public boolean deviceKnown;
    public boolean ipKnown;
    public boolean countryKnown;

    public SessionLogin() {}
}
