package io.tourniquet.index;

import co.elastic.clients.elasticsearch.ElasticsearchClient;
import co.elastic.clients.elasticsearch._types.ElasticsearchException;
import co.elastic.clients.elasticsearch.indices.GetIndexTemplateResponse;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.tourniquet.config.Setting;
import io.tourniquet.config.Settings;
import io.tourniquet.config.TourniquetConfig;
import java.io.IOException;
import java.io.InputStream;
import java.io.StringReader;
import java.io.UncheckedIOException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The composable index templates of the forensic indexes, and the one index that is not daily.
 *
 * <p>Each resource {@code index-templates/<name>.json} holds a template's settings and mappings;
 * {@link #apply} wraps it with the configured alias: index pattern {@code <alias>-*}, the alias
 * itself (every matching index joins it), a priority and a version. Events, alerts and actions
 * are written to monthly indices {@code <alias>-yyyy.MM} (see {@link EcsDocuments}); incidents and claims, updated
 * in place, each live in the single index {@code <alias>-v1}, created here if absent.
 *
 * <p>Idempotent: applying twice changes nothing; a template with a higher version (a newer
 * release) is left alone. Mapping additions are also pushed to the indices already behind the
 * alias, so today's index and the incidents index pick up new fields without a rollover.
 */
public final class IndexTemplates {
    private static final Logger LOG = LoggerFactory.getLogger(IndexTemplates.class);

    /** Bump when any template resource changes. */
    public static final int VERSION = 5;
    /** Above the built-in templates of a full distribution (100), so patterns never tie with them. */
    public static final int BASE_PRIORITY = 500;

    private static final ObjectMapper JSON = new ObjectMapper();

    /** The forensic indexes and the dead letters: the template resource and the setting holding the alias. */
    public enum Kind {
        EVENTS("events", Settings.INDEX_EVENTS),
        ALERTS("alerts", Settings.INDEX_ALERTS),
        ACTIONS("actions", Settings.INDEX_ACTIONS),
        INCIDENTS("incidents", Settings.INDEX_INCIDENTS),
        CLAIMS("claims", Settings.INDEX_CLAIMS),
        VERDICTS("verdicts", Settings.INDEX_VERDICTS),
        DEAD_LETTERS("dead-letters", Settings.INDEX_DEAD_LETTERS);

        final String resource;
        final Setting<String> alias;

        Kind(String resource, Setting<String> alias) {
            this.resource = resource;
            this.alias = alias;
        }

        public String alias(TourniquetConfig config) {
            return config.get(alias);
        }
    }

    private IndexTemplates() {}

    /** The single incidents index behind the incidents alias. */
    public static String incidentsIndex(String alias) {
        return alias + "-v1";
    }

    /** The single claims index behind the claims alias (claims are updated in place, like incidents). */
    public static String claimsIndex(String alias) {
        return alias + "-v1";
    }

    /**
     * The template's priority: the base plus the alias length. Two patterns {@code <a>-*} and
     * {@code <b>-*} can only overlap when one alias extends the other (e.g. {@code tourniquet} and
     * {@code tourniquet-alerts}); Elasticsearch refuses overlapping templates of equal priority,
     * and with this rule the longer, more specific alias wins for its own indices.
     */
    public static long priority(String alias) {
        return BASE_PRIORITY + alias.length();
    }

    /**
     * Puts every template (named after its alias) and creates the single indices (incidents, claims,
     * verdicts, dead letters) if absent.
     */
    public static void apply(ElasticsearchClient client, TourniquetConfig config) throws IOException {
        for (Kind kind : Kind.values()) {
            String alias = kind.alias(config);
            if (putTemplate(client, alias, templateBody(kind, alias))) {
                updateExistingMappings(client, alias, mappings(kind));
            }
        }
        createIfAbsent(client, incidentsIndex(Kind.INCIDENTS.alias(config)));
        createIfAbsent(client, claimsIndex(Kind.CLAIMS.alias(config)));
        createIfAbsent(client, verdictsIndex(Kind.VERDICTS.alias(config)));
        createIfAbsent(client, deadLettersIndex(Kind.DEAD_LETTERS.alias(config)));
    }

    /** The single verdicts index behind its alias (a few records a day: analysts write them). */
    public static String verdictsIndex(String alias) {
        return alias + "-v1";
    }

    /** The single index of documents Elasticsearch refused for good, behind its alias. */
    public static String deadLettersIndex(String alias) {
        return alias + "-v1";
    }

    /** The full composable template body for {@code alias}: what {@link #apply} PUTs. */
    public static ObjectNode templateBody(Kind kind, String alias) {
        ObjectNode template = resource(kind);
        template.putObject("aliases").putObject(alias);
        ObjectNode body = JSON.createObjectNode();
        body.putArray("index_patterns").add(alias + "-*");
        body.put("priority", priority(alias));
        body.put("version", VERSION);
        ObjectNode meta = body.putObject("_meta");
        meta.put("version", VERSION);
        meta.put("managed_by", "tourniquet");
        meta.put("alias", alias);
        body.set("template", template);
        return body;
    }

    static ObjectNode mappings(Kind kind) {
        return (ObjectNode) resource(kind).get("mappings");
    }

    private static ObjectNode resource(Kind kind) {
        String path = "/index-templates/" + kind.resource + ".json";
        try (InputStream in = IndexTemplates.class.getResourceAsStream(path)) {
            if (in == null) throw new IllegalStateException("missing resource " + path);
            return (ObjectNode) JSON.readTree(in);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + path, e);
        }
    }

    /** Puts the template unless a newer version is installed; returns whether it did. */
    private static boolean putTemplate(ElasticsearchClient client, String name, ObjectNode body) throws IOException {
        Long installed = installedVersion(client, name);
        if (installed != null && installed > VERSION) {
            LOG.warn("index template {} has version {}, newer than this release's {}: left as it is",
                    name, installed, VERSION);
            return false;
        }
        String json = JSON.writeValueAsString(body);
        client.indices().putIndexTemplate(r -> r.name(name).withJson(new StringReader(json)));
        if (installed == null) {
            LOG.info("index template {} created (version {})", name, VERSION);
        } else if (installed == VERSION) {
            LOG.debug("index template {} re-applied (version {})", name, VERSION);
        } else {
            LOG.info("index template {} upgraded from version {} to {}", name, installed, VERSION);
        }
        return true;
    }

    private static Long installedVersion(ElasticsearchClient client, String name) throws IOException {
        try {
            GetIndexTemplateResponse response = client.indices().getIndexTemplate(r -> r.name(name));
            return response.indexTemplates().isEmpty() ? null
                    : response.indexTemplates().get(0).indexTemplate().version();
        } catch (ElasticsearchException e) {
            if (e.status() == 404) return null;
            throw e;
        }
    }

    /**
     * Indices already behind the alias keep the mapping they were created with; new fields are
     * added to them here. A conflicting change cannot be applied in place: it is logged, and the
     * next monthly index gets the new mapping from the template.
     */
    private static void updateExistingMappings(ElasticsearchClient client, String alias, ObjectNode mappings)
            throws IOException {
        if (!client.indices().existsAlias(r -> r.name(alias)).value()) return;
        ObjectNode update = mappings.deepCopy();
        update.remove("_source"); // fixed at index creation
        String json = JSON.writeValueAsString(update);
        try {
            client.indices().putMapping(r -> r.index(alias).withJson(new StringReader(json)));
        } catch (ElasticsearchException e) {
            LOG.warn("cannot update the mappings of the indices behind {} in place ({}); new indices use the template",
                    alias, e.getMessage());
        }
    }

    private static void createIfAbsent(ElasticsearchClient client, String index) throws IOException {
        if (client.indices().exists(r -> r.index(index)).value()) return;
        try {
            client.indices().create(r -> r.index(index));
            LOG.info("index {} created", index);
        } catch (ElasticsearchException e) {
            // Another job or the setup command may have created it in between.
            if (e.error() == null || !"resource_already_exists_exception".equals(e.error().type())) throw e;
        }
    }
}
