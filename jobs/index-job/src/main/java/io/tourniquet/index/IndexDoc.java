package io.tourniquet.index;

import java.io.Serializable;
import java.util.Objects;

/**
 * One document for Elasticsearch: where it goes, its deterministic id, and its JSON source.
 *
 * <p>A Flink POJO (public fields, no-arg constructor), so it travels between operators without
 * Kryo. The source is a JSON string: the mapping to ECS happens once, upstream of the sink, and
 * the sink only adds {@code event.ingested} at send time.
 */
public class IndexDoc implements Serializable {
    private static final long serialVersionUID = 1L;

    /** The concrete index, e.g. {@code tourniquet-events-2026.05.03} (never the alias). */
    public String index;
    /** Deterministic document id: indexing the same input again overwrites the same document. */
    public String id;
    /** The document, as a JSON object. */
    public String source;
    /**
     * For documents updated in place (incidents, claims): an increasing version of the document's state,
     * sent as an external version, so a late retry or replay of an older state never overwrites a
     * newer one (Elasticsearch keeps the highest; an equal one is rewritten). Null for documents
     * that never change (events, alerts, actions).
     */
    public Long version;

    public IndexDoc() {}

    public IndexDoc(String index, String id, String source) {
        this(index, id, source, null);
    }

    public IndexDoc(String index, String id, String source, Long version) {
        this.index = index;
        this.id = id;
        this.source = source;
        this.version = version;
    }

    @Override
    public boolean equals(Object o) {
        if (!(o instanceof IndexDoc d)) return false;
        return Objects.equals(index, d.index) && Objects.equals(id, d.id) && Objects.equals(source, d.source)
                && Objects.equals(version, d.version);
    }

    @Override
    public int hashCode() {
        return Objects.hash(index, id, source, version);
    }

    @Override
    public String toString() {
        return index + "/" + id + (version == null ? "" : "@v" + version);
    }
}
