package io.tourniquet.sim;

import java.io.BufferedWriter;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.serialization.StringSerializer;

/** Writes a simulation to NDJSON files or produces it to Kafka. */
public final class SimulationWriter {

    /** Name of the ground-truth file {@link #writeToFiles} writes next to the topic files. */
    public static final String GROUND_TRUTH_FILE = "ground-truth.json";

    private SimulationWriter() {
    }

    /**
     * Writes {@code <topic>.ndjson} for each of the four topics (record values, one a line, in
     * arrival order; a topic without records gets an empty file) and {@value #GROUND_TRUTH_FILE}.
     * Creates {@code dir} if needed and overwrites existing files.
     *
     * @return the files written, topic files first
     */
    public static Map<String, Path> writeToFiles(Simulation simulation, Path dir) throws IOException {
        Files.createDirectories(dir);
        Map<String, Path> files = new LinkedHashMap<>();
        Map<String, BufferedWriter> writers = new LinkedHashMap<>();
        try {
            for (String topic : simulation.config().topics()) {
                Path file = dir.resolve(topic + ".ndjson");
                files.put(topic, file);
                writers.put(topic, Files.newBufferedWriter(file, StandardCharsets.UTF_8));
            }
            for (SimRecord r : simulation.records()) {
                BufferedWriter w = writers.get(r.topic());
                w.write(r.value());
                w.write('\n');
            }
        } finally {
            IOException failure = null;
            for (BufferedWriter w : writers.values()) {
                try {
                    w.close();
                } catch (IOException e) {
                    failure = failure == null ? e : failure;
                }
            }
            if (failure != null) {
                throw failure;
            }
        }
        Path truth = dir.resolve(GROUND_TRUTH_FILE);
        Files.writeString(truth, simulation.groundTruth().toJson() + "\n", StandardCharsets.UTF_8);
        files.put(GROUND_TRUTH_FILE, truth);
        return files;
    }

    /**
     * Produces every record, in list order, to the cluster at {@code bootstrap} (idempotent producer,
     * {@code acks=all}), flushes and waits for every acknowledgement. Does not create topics: the
     * caller does. Record timestamps are left to the producer (event time is in the JSON).
     *
     * @return the number of records acknowledged
     * @throws IOException if any record could not be produced
     */
    public static int writeToKafka(Simulation simulation, String bootstrap) throws IOException {
        return writeToKafka(simulation, io.tourniquet.kafka.KafkaClientConfig.plain(bootstrap));
    }

    /** As above, with the given client properties (bootstrap servers and security). */
    public static int writeToKafka(Simulation simulation, Properties client) throws IOException {
        String bootstrap = client.getProperty(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG);
        int largest = simulation.records().stream().mapToInt(r -> r.value().length() * 4).max().orElse(0);
        Properties props = new Properties();
        props.putAll(client);
        props.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
        props.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
        props.put(ProducerConfig.ACKS_CONFIG, "all");
        props.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true");
        props.put(ProducerConfig.LINGER_MS_CONFIG, "5");
        props.put(ProducerConfig.CLIENT_ID_CONFIG, "tourniquet-simulator");
        // Room for the oversized records (the broker's own limit still applies).
        props.put(ProducerConfig.MAX_REQUEST_SIZE_CONFIG, String.valueOf(Math.max(1 << 20, largest + 4096)));

        AtomicReference<Exception> firstError = new AtomicReference<>();
        int sent = 0;
        try (KafkaProducer<String, String> producer = new KafkaProducer<>(props)) {
            Future<RecordMetadata> last = null;
            for (SimRecord r : simulation.records()) {
                last = producer.send(new ProducerRecord<>(r.topic(), r.key(), r.value()), (metadata, e) -> {
                    if (e != null) {
                        firstError.compareAndSet(null, e);
                    }
                });
                sent++;
            }
            producer.flush();
            if (last != null) {
                last.get();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while producing", e);
        } catch (ExecutionException e) {
            firstError.compareAndSet(null, e.getCause() instanceof Exception c ? c : e);
        } catch (RuntimeException e) {
            throw new IOException("producing to " + bootstrap + " failed: " + rootCause(e), e);
        }
        if (firstError.get() != null) {
            throw new IOException("producing to " + bootstrap + " failed: " + rootCause(firstError.get()), firstError.get());
        }
        return sent;
    }

    /** The innermost cause, named: a one-line summary (as Maven prints) then says why, not only that. */
    private static String rootCause(Throwable e) {
        Throwable t = e;
        while (t.getCause() != null && t.getCause() != t) t = t.getCause();
        return t.getClass().getSimpleName() + ": " + t.getMessage();
    }
}
