package io.tourniquet.index;

import co.elastic.clients.elasticsearch.ElasticsearchClient;
import co.elastic.clients.json.jackson.JacksonJsonpMapper;
import co.elastic.clients.transport.rest_client.RestClientTransport;
import io.tourniquet.config.Settings;
import io.tourniquet.config.TourniquetConfig;
import java.util.Arrays;
import java.util.List;
import org.apache.http.HttpHost;
import org.elasticsearch.client.RestClient;

/** The one place Elasticsearch clients are made. */
public final class EsClients {
    private EsClients() {}

    /**
     * A client over the low-level REST client, spreading requests over the given nodes.
     * Closing the client closes its transport and connections.
     *
     * <p>Its JSON mapper is a plain Jackson mapper, not {@code Json.MAPPER}: documents reach the
     * client already serialized, and the client's own types must not see the project's
     * snake_case naming strategy.
     */
    public static ElasticsearchClient create(List<String> urls) {
        if (urls.isEmpty()) throw new IllegalArgumentException("no Elasticsearch URL");
        HttpHost[] hosts = urls.stream().map(String::trim).map(HttpHost::create).toArray(HttpHost[]::new);
        RestClient rest = RestClient.builder(hosts).build();
        return new ElasticsearchClient(new RestClientTransport(rest, new JacksonJsonpMapper()));
    }

    public static ElasticsearchClient create(TourniquetConfig config) {
        return create(urls(config.get(Settings.ES_URL)));
    }

    /** Splits the comma-separated {@code elasticsearch.url} setting. */
    public static List<String> urls(String commaSeparated) {
        return Arrays.stream(commaSeparated.split(",")).map(String::trim).filter(s -> !s.isEmpty()).toList();
    }
}
