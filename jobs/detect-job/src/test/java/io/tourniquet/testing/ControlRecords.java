package io.tourniquet.testing;

import io.tourniquet.control.ControlRequests;
import io.tourniquet.signing.CommandSigner;
import io.tourniquet.detect.ControlWatermarks;
import org.apache.flink.api.common.functions.FilterFunction;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import io.tourniquet.json.Json;
import io.tourniquet.model.ControlRequest;
import io.tourniquet.model.RawRecord;
import io.tourniquet.util.Times;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/** Control-topic records for tests: signed as an analyst would, or tampered with on purpose. */
public final class ControlRecords {
    private final String topic;
    private final CommandSigner signer;
    private final List<RawRecord> records = new ArrayList<>();

    public ControlRecords(String topic, String controlKey) {
        this.topic = topic;
        this.signer = new CommandSigner(controlKey);
    }

    public static ControlRequest request(String id, String type, String by, long requestedAt) {
        ControlRequest r = new ControlRequest();
        r.requestId = id;
        r.type = type;
        r.requestedBy = by;
        r.requestedAt = Times.format(requestedAt);
        r.reason = "test";
        return r;
    }

    public ControlRecords signed(ControlRequest r) {
        return raw(new String(ControlRequests.sign(r, signer), StandardCharsets.UTF_8));
    }

    public ControlRecords unsigned(ControlRequest r) {
        r.signature = null; // signed() leaves the request's signature on it
        return raw(Json.toString(r));
    }

    public ControlRecords raw(String json) {
        records.add(new RawRecord(topic, 0, records.size(), null, json.getBytes(StandardCharsets.UTF_8), -1));
        return this;
    }

    public List<RawRecord> list() {
        return List.copyOf(records);
    }

    /**
     * A control input that never says anything (a bounded collection source cannot be empty), with
     * the job's control watermarks so it never holds back event time.
     */
    public static DataStream<RawRecord> none(StreamExecutionEnvironment env) {
        RawRecord placeholder = new RawRecord("none", 0, 0, null, new byte[0], -1);
        return env.fromData(List.of(placeholder), TypeInformation.of(RawRecord.class)).uid("no-control")
                .filter(new Nothing()).uid("no-control-filter")
                .assignTimestampsAndWatermarks(ControlWatermarks.strategy()).uid("no-control-watermarks");
    }

    private static final class Nothing implements FilterFunction<RawRecord> {
        private static final long serialVersionUID = 1L;

        @Override
        public boolean filter(RawRecord r) {
            return false;
        }
    }
}
