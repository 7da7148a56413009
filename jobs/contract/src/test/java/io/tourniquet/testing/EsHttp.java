package io.tourniquet.testing;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.Closeable;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import org.apache.http.HttpHost;
import org.apache.http.util.EntityUtils;
import org.elasticsearch.client.Request;
import org.elasticsearch.client.Response;
import org.elasticsearch.client.ResponseException;
import org.elasticsearch.client.RestClient;

/** Raw JSON over HTTP to the test Elasticsearch, for assertions that are clearer without the typed client. */
public final class EsHttp implements Closeable {
    private static final ObjectMapper JSON = new ObjectMapper();
    private final RestClient rest;

    public EsHttp(String url) {
        this.rest = RestClient.builder(HttpHost.create(url)).build();
    }

    public static EsHttp connect() {
        return new EsHttp(TestElasticsearch.url());
    }

    public JsonNode get(String path) throws IOException {
        return call("GET", path, null);
    }

    public JsonNode post(String path, String body) throws IOException {
        return call("POST", path, body);
    }

    public JsonNode put(String path, String body) throws IOException {
        return call("PUT", path, body);
    }

    /** The HTTP status of a HEAD or GET, without throwing on 404. */
    public int status(String method, String path) throws IOException {
        try {
            return rest.performRequest(new Request(method, path)).getStatusLine().getStatusCode();
        } catch (ResponseException e) {
            return e.getResponse().getStatusLine().getStatusCode();
        }
    }

    public JsonNode call(String method, String path, String body) throws IOException {
        Request request = new Request(method, path);
        if (body != null) request.setJsonEntity(body);
        Response response = rest.performRequest(request);
        String text = response.getEntity() == null ? "" : EntityUtils.toString(response.getEntity());
        return text.isEmpty() ? JSON.createObjectNode() : JSON.readTree(text);
    }

    /** Deletes the templates named after the aliases and every index {@code <alias>-*}. */
    public void deleteAliasesAndTemplates(List<String> aliases) throws IOException {
        for (String alias : aliases) {
            List<String> indices = new ArrayList<>();
            get("/_cat/indices/" + alias + "-*?format=json&h=index&expand_wildcards=all")
                    .forEach(row -> indices.add(row.get("index").asText()));
            if (!indices.isEmpty()) call("DELETE", "/" + String.join(",", indices), null);
            if (status("HEAD", "/_index_template/" + alias) == 200) call("DELETE", "/_index_template/" + alias, null);
        }
    }

    @Override
    public void close() throws IOException {
        rest.close();
    }
}
