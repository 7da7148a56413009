package io.tourniquet.backtest;

import io.tourniquet.model.RawRecord;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.api.common.functions.FlatMapFunction;
import org.apache.flink.connector.file.src.FileSource;
import org.apache.flink.connector.file.src.reader.TextLineInputFormat;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.util.Collector;

/**
 * A backtest's input from files instead of the retained topics: one NDJSON file per input topic,
 * named {@code <topic>.ndjson} (what {@code simulate --out-dir} writes, or an export of a topic),
 * each read by its own bounded {@link FileSource} with watermarks of its own, so, as with a topic's
 * partitions, event time moves on only as fast as the file furthest behind. Records carry their
 * topic, partition 0 and no offset (a line's number is not known to the reader); blank lines are
 * not records and are skipped.
 */
final class InputFiles {
    private InputFiles() {}

    /**
     * The file of each input topic found in {@code dir}, by topic.
     *
     * @throws IllegalArgumentException if {@code dir} is not a directory or holds none of them
     */
    static Map<String, Path> find(Path dir, List<String> topics) {
        if (!Files.isDirectory(dir)) throw new IllegalArgumentException("--files " + dir + ": not a directory");
        Map<String, Path> found = new LinkedHashMap<>();
        for (String t : topics) {
            Path f = dir.resolve(t + ".ndjson");
            if (Files.isRegularFile(f)) found.put(t, f.toAbsolutePath());
        }
        if (found.isEmpty()) {
            throw new IllegalArgumentException("--files " + dir + ": none of " + topics.stream().map(t -> t + ".ndjson").toList()
                    + " is there (one NDJSON file per input topic, as 'tourniquet simulate --out-dir' writes them)");
        }
        return found;
    }

    /** The files' records, each file its own source, with {@code watermarks} per file. */
    static DataStream<RawRecord> stream(StreamExecutionEnvironment env, Map<String, Path> files,
                                        WatermarkStrategy<RawRecord> watermarks) {
        DataStream<RawRecord> all = null;
        for (Map.Entry<String, Path> f : files.entrySet()) {
            FileSource<String> source = FileSource.forRecordStreamFormat(new TextLineInputFormat(),
                    new org.apache.flink.core.fs.Path(f.getValue().toUri())).build();
            String topic = f.getKey();
            DataStream<RawRecord> one = env.fromSource(source, WatermarkStrategy.noWatermarks(), "File " + topic)
                    .uid("source-file-" + topic).name("File " + f.getValue().getFileName())
                    .setParallelism(1)
                    .flatMap(new ToRecord(topic)).uid("records-" + topic).name("Records of " + topic)
                    .setParallelism(1)
                    .assignTimestampsAndWatermarks(watermarks).uid("watermarks-" + topic).name("Event time of " + topic)
                    .setParallelism(1);
            all = all == null ? one : all.union(one);
        }
        return all;
    }

    /** One line, one record of {@code topic}. */
    static final class ToRecord implements FlatMapFunction<String, RawRecord> {
        private static final long serialVersionUID = 1L;
        private final String topic;

        ToRecord(String topic) {
            this.topic = topic;
        }

        @Override
        public void flatMap(String line, Collector<RawRecord> out) {
            if (line.isBlank()) return;
            out.collect(new RawRecord(topic, 0, -1L, null, line.getBytes(StandardCharsets.UTF_8), -1L));
        }
    }
}
