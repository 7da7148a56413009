package io.tourniquet.testing;

/**
 * Where tests find Elasticsearch: the one place, so it can later come from the shared
 * local-services extension. System property {@code tourniquet.test.es.url}, else environment
 * variable {@code TOURNIQUET_ES_URL}, else {@code http://127.0.0.1:19200}.
 */
public final class TestElasticsearch {
    public static final String PROPERTY = "tourniquet.test.es.url";
    public static final String ENV = "TOURNIQUET_ES_URL";
    public static final String DEFAULT_URL = "http://127.0.0.1:19200";

    private TestElasticsearch() {}

    public static String url() {
        String fromProperty = System.getProperty(PROPERTY);
        if (fromProperty != null && !fromProperty.isBlank()) return fromProperty.trim();
        String fromEnv = System.getenv(ENV);
        if (fromEnv != null && !fromEnv.isBlank()) return fromEnv.trim();
        return DEFAULT_URL;
    }
}
