package io.tourniquet.index;

import io.tourniquet.config.Settings;
import io.tourniquet.config.TourniquetConfig;
import java.io.Serializable;

/**
 * How Tourniquet authenticates to Elasticsearch and which certificate it trusts: an API key or a
 * user and password, and a CA certificate file or a CA fingerprint (otherwise the JVM's trust
 * store). Serialized into the index job's graph with the sink, so the sink's writers on the
 * TaskManagers connect exactly as {@code setup} did. {@link #toString()} never shows a secret.
 *
 * @param apiKey        the API key's encoded form, or null
 * @param username      basic-auth user, or null
 * @param password      basic-auth password, or null
 * @param caFile        PEM CA certificate file, or null
 * @param caFingerprint SHA-256 fingerprint of the CA certificate, or null
 */
public record EsSecurity(String apiKey, String username, String password, String caFile, String caFingerprint)
        implements Serializable {

    public static final EsSecurity NONE = new EsSecurity(null, null, null, null, null);

    public static EsSecurity from(TourniquetConfig cfg) {
        return new EsSecurity(cfg.find(Settings.ES_API_KEY).map(String::trim).orElse(null),
                cfg.find(Settings.ES_USERNAME).orElse(null), cfg.find(Settings.ES_PASSWORD).orElse(null),
                cfg.find(Settings.ES_CA_FILE).map(String::trim).orElse(null),
                cfg.find(Settings.ES_CA_FINGERPRINT).map(String::trim).orElse(null));
    }

    /** What the credentials are, for messages: never the secret itself. */
    public String credentials() {
        if (apiKey != null) return "API key";
        if (username != null) return "user '" + username + "'";
        return "no credentials";
    }

    @Override
    public String toString() {
        return "EsSecurity[" + credentials() + (caFile != null ? ", CA file " + caFile : "")
                + (caFingerprint != null ? ", CA fingerprint" : "") + "]";
    }
}
