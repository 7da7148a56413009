package io.tourniquet.testing;

/**
 * Where tests find Elasticsearch: system property {@code tourniquet.test.es.url} if given, else
 * the real node of {@link LocalServices} (test classes must use that extension).
 */
public final class TestElasticsearch {
    public static final String PROPERTY = "tourniquet.test.es.url";

    private TestElasticsearch() {}

    public static String url() {
        String fromProperty = System.getProperty(PROPERTY);
        if (fromProperty != null && !fromProperty.isBlank()) return fromProperty.trim();
        return LocalServices.elasticsearchUrl();
    }
}
