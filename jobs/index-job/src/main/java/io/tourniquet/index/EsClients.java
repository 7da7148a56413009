package io.tourniquet.index;

import co.elastic.clients.elasticsearch.ElasticsearchClient;
import co.elastic.clients.json.jackson.JacksonJsonpMapper;
import co.elastic.clients.transport.rest_client.RestClientTransport;
import io.tourniquet.config.Settings;
import io.tourniquet.config.TourniquetConfig;
import java.util.Arrays;
import java.util.List;
import co.elastic.clients.transport.TransportUtils;
import java.io.File;
import java.io.IOException;
import javax.net.ssl.SSLContext;
import org.apache.http.Header;
import org.apache.http.HttpHost;
import org.apache.http.auth.AuthScope;
import org.apache.http.auth.UsernamePasswordCredentials;
import org.apache.http.impl.client.BasicCredentialsProvider;
import org.apache.http.message.BasicHeader;
import org.elasticsearch.client.ResponseException;
import org.elasticsearch.client.RestClient;
import org.elasticsearch.client.RestClientBuilder;

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
        return create(urls, EsSecurity.NONE);
    }

    /**
     * As above, authenticated and trusting what {@code security} says. An unreadable CA file or a
     * malformed fingerprint fails here, naming the setting, before any request is made.
     */
    public static ElasticsearchClient create(List<String> urls, EsSecurity security) {
        if (urls.isEmpty()) throw new IllegalArgumentException("no Elasticsearch URL");
        HttpHost[] hosts = urls.stream().map(String::trim).map(HttpHost::create).toArray(HttpHost[]::new);
        RestClientBuilder builder = RestClient.builder(hosts);
        if (security.apiKey() != null) {
            builder.setDefaultHeaders(new Header[] {new BasicHeader("Authorization", "ApiKey " + security.apiKey())});
        }
        SSLContext ssl = sslContext(security);
        BasicCredentialsProvider credentials = null;
        if (security.username() != null) {
            credentials = new BasicCredentialsProvider();
            credentials.setCredentials(AuthScope.ANY,
                    new UsernamePasswordCredentials(security.username(), security.password()));
        }
        BasicCredentialsProvider basic = credentials;
        builder.setHttpClientConfigCallback(http -> {
            if (basic != null) http.setDefaultCredentialsProvider(basic);
            if (ssl != null) http.setSSLContext(ssl);
            return http;
        });
        return new ElasticsearchClient(new RestClientTransport(builder.build(), new JacksonJsonpMapper()));
    }

    private static SSLContext sslContext(EsSecurity security) {
        if (security.caFile() != null) {
            File file = new File(security.caFile());
            if (!file.isFile()) {
                throw new IllegalArgumentException(Settings.ES_CA_FILE.key() + " " + file + ": no such file");
            }
            try {
                return TransportUtils.sslContextFromHttpCaCrt(file);
            } catch (IOException | RuntimeException e) {
                throw new IllegalArgumentException(Settings.ES_CA_FILE.key() + " " + file
                        + ": not a PEM certificate (" + e.getMessage() + ")", e);
            }
        }
        if (security.caFingerprint() != null) {
            String hex = security.caFingerprint().replace(":", "").toLowerCase(java.util.Locale.ROOT);
            if (!hex.matches("[0-9a-f]{64}")) {
                throw new IllegalArgumentException(Settings.ES_CA_FINGERPRINT.key()
                        + ": expected a SHA-256 fingerprint, 64 hex digits (colons allowed)");
            }
            return TransportUtils.sslContextFromCaFingerprint(hex);
        }
        return null;
    }

    public static ElasticsearchClient create(TourniquetConfig config) {
        return create(urls(config.get(Settings.ES_URL)), EsSecurity.from(config));
    }

    /**
     * One sentence naming the service, the address and what went wrong when Elasticsearch cannot
     * be used at all: refused credentials (401), missing privileges (403), a failed TLS handshake,
     * or no answer. Null when the failure is none of those (the caller's own message stands).
     */
    public static String explain(List<String> urls, EsSecurity security, Throwable failure) {
        String where = "Elasticsearch at " + String.join(",", urls);
        for (Throwable t = failure; t != null; t = t.getCause() == t ? null : t.getCause()) {
            int status = -1;
            if (t instanceof ResponseException re) status = re.getResponse().getStatusLine().getStatusCode();
            if (t instanceof co.elastic.clients.elasticsearch._types.ElasticsearchException ee) status = ee.status();
            if (t instanceof co.elastic.clients.transport.TransportException te) status = te.statusCode();
            if (status == 401) {
                return where + " refused the credentials (401, " + security.credentials() + "): check "
                        + Settings.ES_API_KEY.key() + " or " + Settings.ES_USERNAME.key() + "/" + Settings.ES_PASSWORD.key();
            }
            if (status == 403) {
                return where + " accepted " + security.credentials() + " but refused the request (403): "
                        + "the key or user lacks the privileges on Tourniquet's indices and templates";
            }
            if (t instanceof javax.net.ssl.SSLException) {
                return "TLS handshake with " + where + " failed: " + t.getMessage() + " (check "
                        + Settings.ES_CA_FILE.key() + " or " + Settings.ES_CA_FINGERPRINT.key() + ", and that the URL is https)";
            }
            if (t instanceof java.net.ConnectException) {
                return "cannot reach " + where + ": " + t.getMessage();
            }
            if (t instanceof org.apache.http.ConnectionClosedException) {
                return where + " closed the connection (" + t.getMessage() + "): an http:// URL to an https port "
                        + "does this";
            }
        }
        return null;
    }

    /** Something done with a client that may fail. */
    @FunctionalInterface
    public interface Use<T> {
        T apply(ElasticsearchClient client) throws Exception;
    }

    /**
     * Runs {@code use} with a client for the configured cluster, closing it after; a failure to use
     * Elasticsearch at all (refused credentials, TLS, unreachable) becomes one clear sentence.
     */
    public static <T> T with(TourniquetConfig config, Use<T> use) throws Exception {
        List<String> urls = urls(config.get(Settings.ES_URL));
        EsSecurity security = EsSecurity.from(config);
        try (ElasticsearchClient client = create(urls, security)) {
            return use.apply(client);
        } catch (Exception e) {
            String explained = explain(urls, security, e);
            if (explained != null) throw new IllegalStateException(explained, e);
            throw e;
        }
    }

    /** Splits the comma-separated {@code elasticsearch.url} setting. */
    public static List<String> urls(String commaSeparated) {
        return Arrays.stream(commaSeparated.split(",")).map(String::trim).filter(s -> !s.isEmpty()).toList();
    }
}
