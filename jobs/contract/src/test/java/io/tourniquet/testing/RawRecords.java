package io.tourniquet.testing;

import io.tourniquet.model.RawRecord;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/** Builds input records with Kafka-like coordinates: offsets count up per topic. */
public final class RawRecords {
    private final List<RawRecord> records = new ArrayList<>();
    private final Map<String, Long> nextOffset = new HashMap<>();

    public RawRecords add(String topic, String json) {
        long offset = nextOffset.merge(topic, 1L, Long::sum) - 1;
        records.add(new RawRecord(topic, 0, offset, null, json.getBytes(StandardCharsets.UTF_8), -1));
        return this;
    }

    public List<RawRecord> list() {
        return List.copyOf(records);
    }
}
