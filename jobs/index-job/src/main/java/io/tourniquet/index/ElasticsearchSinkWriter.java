package io.tourniquet.index;

import io.tourniquet.runtime.PipelineMetrics;
import co.elastic.clients.elasticsearch.ElasticsearchClient;
import co.elastic.clients.elasticsearch._helpers.bulk.BulkIngester;
import co.elastic.clients.elasticsearch._helpers.bulk.BulkListener;
import co.elastic.clients.elasticsearch._types.ElasticsearchException;
import co.elastic.clients.elasticsearch._types.ErrorCause;
import co.elastic.clients.elasticsearch._types.VersionType;
import co.elastic.clients.elasticsearch.core.BulkRequest;
import co.elastic.clients.elasticsearch.core.BulkResponse;
import co.elastic.clients.elasticsearch.core.bulk.BulkOperation;
import co.elastic.clients.elasticsearch.core.bulk.BulkResponseItem;
import co.elastic.clients.transport.TransportException;
import co.elastic.clients.util.BinaryData;
import co.elastic.clients.util.ContentType;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.tourniquet.util.Times;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BooleanSupplier;
import org.apache.flink.api.connector.sink2.SinkWriter;
import org.apache.flink.metrics.Counter;
import org.apache.flink.metrics.Gauge;
import org.apache.flink.metrics.MetricGroup;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Writes documents through elasticsearch-java's {@link BulkIngester}, and never loses one.
 *
 * <ul>
 *   <li><b>Batching</b>: bulk requests of up to {@code maxActions} documents, sent when full or
 *       after {@code flushInterval}, at most {@code maxConcurrentRequests} in flight.</li>
 *   <li><b>Retries</b>: a document that fails transiently (item status 429 or 5xx, or the whole
 *       request failing: connection refused or reset, timeout, 429/5xx) is re-sent alone, after
 *       an exponential, jittered backoff from {@code initialBackoff} to {@code maxBackoff}, for as
 *       long as it takes. Re-sends are scheduled on this writer's own single thread, never on the
 *       client's callback threads, whose blocking on a full ingester could deadlock it.</li>
 *   <li><b>Permanent failures</b>: a document Elasticsearch rejects for what it is (other 4xx,
 *       e.g. a mapping conflict) is logged with its id and reason, counted in
 *       {@code esPermanentFailures}, and dropped: re-sending it would fail the same way forever.</li>
 *   <li><b>Checkpoints</b>: {@link #flush} sends what is buffered and returns only when every
 *       document written so far is acknowledged or permanently rejected. Flink calls it before
 *       each checkpoint, so a completed checkpoint means everything before it is in Elasticsearch.
 *       While Elasticsearch is down, flush waits (logging why), and so does the checkpoint.</li>
 *   <li><b>Backpressure</b>: {@link #write} blocks while too many documents are unacknowledged.</li>
 * </ul>
 *
 * <p>Documents are sent with {@code index} operations and their deterministic id, so a replay
 * after a failure overwrites the same document. A document carrying a {@link IndexDoc#version}
 * (one updated in place) is sent with that external version: a re-send of an older state that
 * arrives after a newer one is refused by Elasticsearch (409) and counted in {@code esSuperseded},
 * not as a failure. The writer sets {@code event.ingested} when a document is handed to the
 * ingester.
 */
public final class ElasticsearchSinkWriter implements SinkWriter<IndexDoc> {
    private static final Logger LOG = LoggerFactory.getLogger(ElasticsearchSinkWriter.class);
    private static final long WAIT_LOG_INTERVAL_MS = 10_000;
    private static final ObjectMapper JSON = new ObjectMapper();

    private final String name;
    private final EsSinkSettings settings;
    private final ElasticsearchClient client;
    private final BulkIngester<Attempt> ingester;
    private final ScheduledExecutorService retryScheduler;
    /** Unacknowledged documents above which {@link #write} blocks. */
    private final long maxPending;

    private final Object lock = new Object();
    /** Written, not yet acknowledged nor permanently rejected. Guarded by {@link #lock}. */
    private long pending;
    /** The latest transient failure, cleared by the next success; for the waiting logs. */
    private volatile String lastProblem;
    private volatile boolean closing;

    private final AtomicCounter docsIndexed = new AtomicCounter();
    private final AtomicCounter retries = new AtomicCounter();
    private final AtomicCounter permanentFailures = new AtomicCounter();
    private final AtomicCounter superseded = new AtomicCounter();
    private final AtomicCounter deadLettered = new AtomicCounter();
    private final AtomicCounter deadLetterFailures = new AtomicCounter();
    /** Set when Elasticsearch refuses the job's credentials: every later call fails with it. */
    private volatile String fatal;

    /** One document on its way: the operation is built once and re-sent as is. */
    private record Attempt(IndexDoc doc, BulkOperation operation, int number, boolean deadLetter) {
        Attempt(IndexDoc doc, BulkOperation operation, int number) {
            this(doc, operation, number, false);
        }

        Attempt next() {
            return new Attempt(doc, operation, number + 1, deadLetter);
        }
    }

    public ElasticsearchSinkWriter(EsSinkSettings settings, MetricGroup metrics, String name) {
        this.name = name;
        this.settings = settings;
        this.maxPending = (long) settings.maxActions() * (settings.maxConcurrentRequests() + 1) * 2;
        this.client = EsClients.create(settings.urls(), settings.security());
        this.retryScheduler = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, name + " retries");
            t.setDaemon(true);
            return t;
        });
        this.ingester = BulkIngester.of(b -> b
                .client(client)
                .maxOperations(settings.maxActions())
                .maxConcurrentRequests(settings.maxConcurrentRequests())
                .flushInterval(settings.flushInterval().toMillis(), TimeUnit.MILLISECONDS)
                .listener(new Listener()));
        MetricGroup ours = PipelineMetrics.of(metrics);
        ours.counter("es_docs_indexed", docsIndexed);
        ours.counter("es_retries", retries);
        ours.counter("es_permanent_failures", permanentFailures);
        ours.counter("es_superseded", superseded);
        ours.counter("es_dead_lettered", deadLettered);
        ours.counter("es_dead_letter_failures", deadLetterFailures);
        ours.gauge("es_pending_docs", (Gauge<Long>) this::pendingDocuments);
    }

    @Override
    public void write(IndexDoc doc, Context context) throws InterruptedException {
        if (closing) throw new IllegalStateException(name + " is closed");
        failIfFatal();
        BulkOperation operation;
        try {
            operation = operation(doc);
        } catch (IOException | RuntimeException e) {
            permanentFailures.inc();
            LOG.error("{}: document {} in {} cannot be sent: {}", name, doc.id, doc.index, e.getMessage());
            synchronized (lock) {
                pending++;
            }
            deadLetter(new Attempt(doc, null, 1), 0, "unsendable", e.getMessage());
            return;
        }
        synchronized (lock) {
            waitWhile(() -> pending >= maxPending, "room for more documents");
            pending++;
        }
        try {
            ingester.add(operation, new Attempt(doc, operation, 1));
        } catch (RuntimeException e) {
            settle(1);
            throw e;
        }
    }

    /**
     * Sends what is buffered and waits until every document written so far is acknowledged or
     * permanently rejected. Called by Flink before each checkpoint and at the end of input.
     */
    @Override
    public void flush(boolean endOfInput) throws InterruptedException {
        failIfFatal();
        ingester.flush();
        synchronized (lock) {
            waitWhile(() -> pending > 0 && fatal == null, "acknowledgements");
        }
        failIfFatal();
    }

    /**
     * 401/403: the job's credentials are refused, so every document would be. Stop with a clear
     * error (the checkpoint fails, nothing is acknowledged, the job restarts from its last
     * checkpoint) instead of dead-lettering everything.
     */
    private void failIfFatal() {
        String f = fatal;
        if (f != null) throw new IllegalStateException(f);
    }

    static boolean credentialsRefused(int status) {
        return status == 401 || status == 403;
    }

    /**
     * A document Elasticsearch refused for good goes to the dead-letter index with why, never
     * nowhere; only a dead letter that is itself refused is logged and counted, having nowhere
     * left to go. Runs on the ingester's callback threads: adds without blocking.
     */
    private void deadLetter(Attempt attempt, int status, String errorType, String reason) {
        IndexDoc doc = attempt.doc();
        if (attempt.deadLetter() || settings.deadLetterIndex() == null) {
            deadLetterFailures.inc();
            LOG.error("{}: document {} for {} lost: {} {}", name, doc.id, doc.index, status, reason);
            settle(1);
            return;
        }
        IndexDoc letter = deadLetterDoc(settings.deadLetterIndex(), doc, status, errorType, reason,
                System.currentTimeMillis());
        try {
            BulkOperation op = operation(letter);
            ingester.add(op, new Attempt(letter, op, 1, true)); // the original's pending slot carries over
            deadLettered.inc();
        } catch (IOException | RuntimeException e) {
            deadLetterFailures.inc();
            LOG.error("{}: document {} for {} lost, its dead letter cannot be sent: {}", name, doc.id, doc.index,
                    e.getMessage());
            settle(1);
        }
    }

    /** The dead letter of {@code doc}: where it was going, why it was refused, its source (bounded). */
    static IndexDoc deadLetterDoc(String index, IndexDoc doc, int status, String errorType, String reason, long now) {
        String source = doc.source == null ? "" : doc.source;
        int max = io.tourniquet.model.DeadLetter.MAX_ORIGINAL_BYTES;
        com.fasterxml.jackson.databind.node.ObjectNode d = io.tourniquet.json.Json.MAPPER.createObjectNode();
        d.put("@timestamp", io.tourniquet.util.Times.format(now));
        d.put("failed_index", doc.index);
        d.put("document_id", doc.id);
        d.put("status", status);
        d.put("error_type", errorType);
        d.put("reason", reason == null ? null : reason.length() > 1024 ? reason.substring(0, 1024) + "…" : reason);
        d.put("source_bytes", source.getBytes(java.nio.charset.StandardCharsets.UTF_8).length);
        d.put("source_truncated", source.length() > max);
        d.put("source", source.length() > max ? source.substring(0, max) : source);
        return new IndexDoc(index, io.tourniquet.util.Ids.of("dead-letter", doc.index, doc.id), d.toString());
    }

    /** Waits on {@link #lock} (held by the caller) while the condition holds, logging periodically. */
    private void waitWhile(BooleanSupplier condition, String what) throws InterruptedException {
        long started = System.nanoTime();
        long nextLog = started + TimeUnit.MILLISECONDS.toNanos(WAIT_LOG_INTERVAL_MS);
        while (condition.getAsBoolean()) {
            long now = System.nanoTime();
            if (now >= nextLog) {
                String problem = lastProblem;
                LOG.warn("{}: waiting for {} documents ({} s waiting for {}){}", name, pending,
                        TimeUnit.NANOSECONDS.toSeconds(now - started), what,
                        problem == null ? "" : ", Elasticsearch unavailable: " + problem);
                nextLog = now + TimeUnit.MILLISECONDS.toNanos(WAIT_LOG_INTERVAL_MS);
            }
            lock.wait(Math.max(1, TimeUnit.NANOSECONDS.toMillis(nextLog - now)));
        }
    }

    @Override
    public void close() throws Exception {
        closing = true;
        // Scheduled re-sends are dropped: what is not acknowledged was written after the last
        // completed checkpoint, and is replayed from there on restart.
        retryScheduler.shutdownNow();
        try {
            ingester.close(); // sends what is buffered and waits for the requests in flight
        } finally {
            client.close();
            long left = pendingDocuments();
            if (left > 0) {
                LOG.warn("{}: closed with {} documents unacknowledged; they are replayed from the last checkpoint",
                        name, left);
            }
        }
    }

    public long pendingDocuments() {
        synchronized (lock) {
            return pending;
        }
    }

    public long docsIndexed() {
        return docsIndexed.getCount();
    }

    public long retries() {
        return retries.getCount();
    }

    /** Documents refused for good that were written to the dead-letter index. */
    public long deadLettered() {
        return deadLettered.getCount();
    }

    /** Documents refused for good whose dead letter could not be written either. */
    public long deadLetterFailures() {
        return deadLetterFailures.getCount();
    }

    public long permanentFailures() {
        return permanentFailures.getCount();
    }

    /** Versioned documents not written because Elasticsearch already had a newer version. */
    public long superseded() {
        return superseded.getCount();
    }

    // ----- sending

    private static BulkOperation operation(IndexDoc doc) throws IOException {
        // Without an id Elasticsearch would make one up, and a replay would duplicate the document.
        if (doc.id == null || doc.id.isEmpty()) throw new IllegalArgumentException("no document id");
        if (doc.index == null || doc.index.isEmpty()) throw new IllegalArgumentException("no index");
        if (doc.source == null) throw new IllegalArgumentException("no source");
        byte[] source = withIngestedTime(doc.source);
        BinaryData document = BinaryData.of(source, ContentType.APPLICATION_JSON);
        return BulkOperation.of(b -> b.index(i -> {
            i.index(doc.index).id(doc.id).document(document);
            if (doc.version != null) i.version(doc.version).versionType(VersionType.ExternalGte);
            return i;
        }));
    }

    /** The source with ECS {@code event.ingested} set to now. */
    static byte[] withIngestedTime(String source) throws IOException {
        String now = Times.format(System.currentTimeMillis());
        int at = eventObjectStart(source);
        if (at >= 0) {
            // An event document: the time goes in as the first field of its "event" object, a splice
            // of the text. Re-reading and re-writing the whole document for one field cost a third
            // of the index job's CPU (bench-forensics profile), on a machine it shares with Elasticsearch.
            boolean empty = source.charAt(nextNonBlank(source, at)) == '}';
            String field = "\"ingested\":" + JSON.writeValueAsString(now) + (empty ? "" : ",");
            return (source.substring(0, at) + field + source.substring(at)).getBytes(StandardCharsets.UTF_8);
        }
        JsonNode root = JSON.readTree(source);
        if (!(root instanceof ObjectNode object)) throw new IOException("the source is not a JSON object");
        JsonNode event = object.get("event");
        if (event == null) event = object.putObject("event");
        if (event instanceof ObjectNode eventObject) eventObject.put("ingested", now);
        return JSON.writeValueAsBytes(object);
    }

    /**
     * Where the members of the top-level {@code "event"} object begin (just after its brace), if
     * the source is a JSON object with such an object and it has no {@code ingested} field yet;
     * -1 otherwise (the caller then rewrites the document as a tree). Reads tokens only up to the end
     * of that object, which in event documents comes second, after {@code @timestamp}.
     */
    static int eventObjectStart(String source) throws IOException {
        try (JsonParser p = JSON.getFactory().createParser(source)) {
            if (p.nextToken() != JsonToken.START_OBJECT) return -1;
            while (p.nextToken() == JsonToken.FIELD_NAME) {
                String name = p.currentName();
                JsonToken value = p.nextToken();
                if (!"event".equals(name)) {
                    p.skipChildren();
                    continue;
                }
                if (value != JsonToken.START_OBJECT) return -1;
                int start = Math.toIntExact(p.currentLocation().getCharOffset());
                while (p.nextToken() == JsonToken.FIELD_NAME) {
                    if ("ingested".equals(p.currentName())) return -1;
                    p.nextToken();
                    p.skipChildren();
                }
                return start;
            }
            return -1;
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IOException("the source is not JSON: " + e.getOriginalMessage(), e);
        }
    }

    private static int nextNonBlank(String s, int from) {
        int i = from;
        while (i < s.length() && Character.isWhitespace(s.charAt(i))) i++;
        return i;
    }

    private void settle(long documents) {
        if (documents == 0) return;
        synchronized (lock) {
            pending -= documents;
            lock.notifyAll();
        }
    }

    /** Re-sends transiently failed documents after a backoff, on the writer's own thread. */
    private void retryLater(List<Attempt> attempts, String problem) {
        lastProblem = problem;
        retries.inc(attempts.size());
        int number = attempts.stream().mapToInt(Attempt::number).max().orElse(1);
        long delay = backoffMillis(number);
        if (number <= 3 || number % 10 == 0) {
            LOG.warn("{}: re-sending {} documents in {} ms (attempt {}): {}", name, attempts.size(), delay,
                    number + 1, problem);
        }
        try {
            retryScheduler.schedule(() -> resend(attempts), delay, TimeUnit.MILLISECONDS);
        } catch (RejectedExecutionException e) {
            // Closing: left unacknowledged, replayed from the last checkpoint.
        }
    }

    private void resend(List<Attempt> attempts) {
        try {
            for (Attempt attempt : attempts) {
                if (closing) return;
                ingester.add(attempt.operation(), attempt.next());
            }
            ingester.flush();
        } catch (IllegalStateException e) {
            // The ingester closed under us: closing, see above.
        }
    }

    private long backoffMillis(int attempt) {
        return backoffMillis(settings.initialBackoff().toMillis(), settings.maxBackoff().toMillis(), attempt);
    }

    /**
     * The wait after failed attempt number {@code attempt} (1 = the first send): the initial
     * backoff doubled per further attempt, capped at the maximum, with jitter in [delay/2, delay]
     * so that many writers recovering together do not hit Elasticsearch in step.
     */
    static long backoffMillis(long initialMillis, long maxMillis, int attempt) {
        long initial = Math.max(1, initialMillis);
        long max = Math.max(initial, maxMillis);
        int doublings = Math.min(Math.max(attempt - 1, 0), 40);
        long delay = initial;
        for (int i = 0; i < doublings && delay < max; i++) delay *= 2;
        delay = Math.min(delay, max);
        long half = delay / 2;
        return half + ThreadLocalRandom.current().nextLong(delay - half + 1);
    }

    static boolean retriableStatus(int status) {
        return status == 408 || status == 429 || status >= 500;
    }

    /**
     * Whether a whole-request failure is transient. Only an HTTP answer that is a client error
     * (4xx other than 408 and 429) is not: anything else, including failures we cannot classify,
     * is retried, because nothing may be lost.
     */
    static boolean retriable(Throwable failure) {
        if (failure instanceof ElasticsearchException e) return retriableStatus(e.status());
        if (failure instanceof TransportException e && e.response() != null) return retriableStatus(e.statusCode());
        return true;
    }

    private static Throwable unwrap(Throwable t) {
        while ((t instanceof CompletionException || t instanceof ExecutionException) && t.getCause() != null) {
            t = t.getCause();
        }
        return t;
    }

    private static String describe(Throwable t) {
        StringBuilder sb = new StringBuilder(t.getClass().getSimpleName());
        if (t.getMessage() != null) sb.append(": ").append(t.getMessage());
        Throwable cause = t.getCause();
        if (cause != null && cause != t && cause.getMessage() != null) {
            sb.append(" (").append(cause.getClass().getSimpleName()).append(": ").append(cause.getMessage()).append(')');
        }
        return sb.toString();
    }

    private static String describe(ErrorCause error) {
        return error.type() + ": " + error.reason();
    }

    /** Runs on the ingester's callback threads: only bookkeeping and scheduling, never blocking. */
    private final class Listener implements BulkListener<Attempt> {
        @Override
        public void beforeBulk(long executionId, BulkRequest request, List<Attempt> contexts) {}

        @Override
        public void afterBulk(long executionId, BulkRequest request, List<Attempt> contexts, BulkResponse response) {
            List<BulkResponseItem> items = response.items();
            List<Attempt> again = new ArrayList<>();
            String problem = null;
            long acknowledged = 0;
            long rejected = 0;
            long outdated = 0;
            long letters = 0;
            for (int i = 0; i < contexts.size(); i++) {
                Attempt attempt = contexts.get(i);
                BulkResponseItem item = i < items.size() ? items.get(i) : null;
                if (item == null) {
                    again.add(attempt);
                    problem = "bulk response without an item for " + attempt.doc().id;
                } else if (item.error() == null) {
                    if (attempt.deadLetter()) letters++; else acknowledged++;
                } else if (item.status() == 409 && attempt.doc().version != null) {
                    outdated++; // Elasticsearch holds a newer state of this document: nothing to do
                } else if (retriableStatus(item.status())) {
                    again.add(attempt);
                    problem = item.status() + " " + describe(item.error());
                } else if (credentialsRefused(item.status())) {
                    fatal = "Elasticsearch refused the index job's credentials (" + item.status() + " "
                            + describe(item.error()) + "): check elasticsearch.url and its credentials";
                    rejected++;
                } else {
                    LOG.error("{}: document {} in {} rejected permanently, not retried, to the dead letters: {} {}",
                            name, attempt.doc().id, attempt.doc().index, item.status(), describe(item.error()));
                    if (!attempt.deadLetter()) permanentFailures.inc();
                    deadLetter(attempt, item.status(), item.error().type(), item.error().reason());
                }
            }
            if (fatal != null) LOG.error("{}: {}", name, fatal);
            docsIndexed.inc(acknowledged);
            permanentFailures.inc(rejected);
            superseded.inc(outdated);
            if (again.isEmpty()) lastProblem = null;
            settle(acknowledged + rejected + outdated + letters);
            if (!again.isEmpty()) retryLater(again, problem);
        }

        @Override
        public void afterBulk(long executionId, BulkRequest request, List<Attempt> contexts, Throwable failure) {
            Throwable cause = unwrap(failure);
            if (retriable(cause)) {
                retryLater(new ArrayList<>(contexts), describe(cause));
                return;
            }
            int status = cause instanceof co.elastic.clients.elasticsearch._types.ElasticsearchException e ? e.status()
                    : cause instanceof co.elastic.clients.transport.TransportException t ? t.statusCode() : 0;
            if (credentialsRefused(status)) {
                fatal = "Elasticsearch refused the index job's credentials (" + status + " " + describe(cause)
                        + "): check elasticsearch.url and its credentials";
                LOG.error("{}: {}", name, fatal);
                permanentFailures.inc(contexts.size());
                settle(contexts.size());
                return;
            }
            for (Attempt attempt : contexts) {
                LOG.error("{}: document {} in {} rejected permanently with its whole bulk request, not retried, to the"
                        + " dead letters: {}", name, attempt.doc().id, attempt.doc().index, describe(cause));
                if (!attempt.deadLetter()) permanentFailures.inc();
                deadLetter(attempt, status, cause.getClass().getSimpleName(), describe(cause));
            }
        }
    }

    /** A thread-safe counter: the ingester's callbacks run on several threads. */
    private static final class AtomicCounter implements Counter {
        private final AtomicLong count = new AtomicLong();

        @Override
        public void inc() {
            count.incrementAndGet();
        }

        @Override
        public void inc(long n) {
            count.addAndGet(n);
        }

        @Override
        public void dec() {
            count.decrementAndGet();
        }

        @Override
        public void dec(long n) {
            count.addAndGet(-n);
        }

        @Override
        public long getCount() {
            return count.get();
        }
    }
}
