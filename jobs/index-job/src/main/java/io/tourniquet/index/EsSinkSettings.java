package io.tourniquet.index;

import io.tourniquet.config.Settings;
import io.tourniquet.config.TourniquetConfig;
import java.io.Serializable;
import java.time.Duration;
import java.util.List;

/**
 * What the Elasticsearch sink needs, and nothing else: it is serialized into the job graph.
 *
 * @param urls                  Elasticsearch HTTP URLs
 * @param maxActions            documents per bulk request
 * @param flushInterval         a partly filled bulk request is sent after this long
 * @param maxConcurrentRequests bulk requests in flight at once (per sink subtask)
 * @param initialBackoff        first wait before re-sending documents that failed transiently
 * @param maxBackoff            longest wait between re-sends (they never give up)
 * @param security              credentials and trusted CA
 */
public record EsSinkSettings(List<String> urls, int maxActions, Duration flushInterval, int maxConcurrentRequests,
                             Duration initialBackoff, Duration maxBackoff, String deadLetterIndex,
                             EsSecurity security)
        implements Serializable {

    public EsSinkSettings(List<String> urls, int maxActions, Duration flushInterval, int maxConcurrentRequests,
                          Duration initialBackoff, Duration maxBackoff, String deadLetterIndex) {
        this(urls, maxActions, flushInterval, maxConcurrentRequests, initialBackoff, maxBackoff, deadLetterIndex,
                EsSecurity.NONE);
    }

    /** Without a dead-letter index: a document refused for good is logged and counted only. */
    public EsSinkSettings(List<String> urls, int maxActions, Duration flushInterval, int maxConcurrentRequests,
                          Duration initialBackoff, Duration maxBackoff) {
        this(urls, maxActions, flushInterval, maxConcurrentRequests, initialBackoff, maxBackoff, null);
    }

    public EsSinkSettings {
        urls = List.copyOf(urls);
        if (security == null) security = EsSecurity.NONE;
        if (urls.isEmpty()) throw new IllegalArgumentException("no Elasticsearch URL");
        if (maxActions < 1) throw new IllegalArgumentException("maxActions must be at least 1");
        if (maxConcurrentRequests < 1) throw new IllegalArgumentException("maxConcurrentRequests must be at least 1");
        if (flushInterval.isNegative() || flushInterval.isZero()) {
            throw new IllegalArgumentException("flushInterval must be positive");
        }
        if (initialBackoff.isNegative() || initialBackoff.isZero() || maxBackoff.compareTo(initialBackoff) < 0) {
            throw new IllegalArgumentException("backoff must satisfy 0 < initial <= max");
        }
    }

    public static EsSinkSettings from(TourniquetConfig config) {
        Duration initial = config.get(Settings.ES_RETRY_INITIAL);
        Duration max = config.get(Settings.ES_RETRY_MAX);
        return new EsSinkSettings(
                EsClients.urls(config.get(Settings.ES_URL)),
                config.get(Settings.ES_BULK_ACTIONS),
                config.get(Settings.ES_BULK_FLUSH),
                config.get(Settings.ES_BULK_CONCURRENCY),
                initial,
                max.compareTo(initial) < 0 ? initial : max,
                IndexTemplates.deadLettersIndex(config.get(Settings.INDEX_DEAD_LETTERS)),
                EsSecurity.from(config));
    }

    public EsSinkSettings withUrls(List<String> otherUrls) {
        return new EsSinkSettings(otherUrls, maxActions, flushInterval, maxConcurrentRequests, initialBackoff, maxBackoff,
                deadLetterIndex, security);
    }
}
