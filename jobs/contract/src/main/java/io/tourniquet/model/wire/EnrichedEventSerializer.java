package io.tourniquet.model.wire;

import io.tourniquet.model.Anomaly;
import io.tourniquet.model.AnomalyContribution;
import io.tourniquet.model.EnrichedEvent;
import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.flink.api.common.typeutils.SimpleTypeSerializerSnapshot;
import org.apache.flink.api.common.typeutils.TypeSerializerSchemaCompatibility;
import org.apache.flink.api.common.typeutils.TypeSerializerSnapshot;
import org.apache.flink.api.java.typeutils.runtime.PojoSerializerSnapshot;
import org.apache.flink.core.memory.DataInputView;
import org.apache.flink.core.memory.DataOutputView;

/**
 * {@link EnrichedEvent} between tasks: its event by {@link EventSerializer}, then what the
 * detectors added, field by field in a fixed order (see {@link EventSerializer} for why not the
 * POJO serializer). The layouts are {@link #FIELDS}, {@link #ANOMALY_FIELDS} and
 * {@link #CONTRIBUTION_FIELDS}; {@code WireSerializersTest} fails when a field of the model is
 * missing from them.
 *
 * <p>Records in flight use it, and one state: the anomaly scorer's waiting events, written and
 * read once per event. State written by builds before it (the POJO serializer's) is migrated
 * when restored ({@link Snapshot#resolveSchemaCompatibility}). Because it is in state, a change to
 * the layout needs a new snapshot version that still reads this one.
 */
public final class EnrichedEventSerializer extends ModelSerializer<EnrichedEvent> {
    private static final long serialVersionUID = 1L;

    public static final EnrichedEventSerializer INSTANCE = new EnrichedEventSerializer();

    public static final List<String> FIELDS =
            List.of("event", "mfaAuthorized", "mfaDecisionReason", "alertIds", "incidentId", "late", "anomaly");
    public static final List<String> ANOMALY_FIELDS =
            List.of("schemaVersion", "schemaHash", "features", "modelVersion", "score", "threshold", "topContributions");
    public static final List<String> CONTRIBUTION_FIELDS = List.of("feature", "value", "baseline", "scoreChange");

    @Override
    public EnrichedEvent createInstance() {
        return new EnrichedEvent();
    }

    /** A deep copy: chained operators may change the record they are given. */
    @Override
    public EnrichedEvent copy(EnrichedEvent e) {
        if (e == null) return null;
        EnrichedEvent c = new EnrichedEvent();
        c.event = EventSerializer.INSTANCE.copy(e.event);
        c.mfaAuthorized = e.mfaAuthorized;
        c.mfaDecisionReason = e.mfaDecisionReason;
        c.alertIds = e.alertIds == null ? null : new ArrayList<>(e.alertIds);
        c.incidentId = e.incidentId;
        c.late = e.late;
        c.anomaly = copy(e.anomaly);
        return c;
    }

    private static Anomaly copy(Anomaly a) {
        if (a == null) return null;
        Anomaly c = new Anomaly();
        c.schemaVersion = a.schemaVersion;
        c.schemaHash = a.schemaHash;
        c.features = a.features == null ? null : new LinkedHashMap<>(a.features);
        c.modelVersion = a.modelVersion;
        c.score = a.score;
        c.threshold = a.threshold;
        if (a.topContributions != null) {
            c.topContributions = new ArrayList<>(a.topContributions.size());
            for (AnomalyContribution t : a.topContributions) {
                c.topContributions.add(t == null ? null
                        : new AnomalyContribution(t.feature, t.value, t.baseline, t.scoreChange));
            }
        }
        return c;
    }

    @Override
    public void serialize(EnrichedEvent e, DataOutputView out) throws IOException {
        out.writeBoolean(e.event != null);
        if (e.event != null) EventSerializer.INSTANCE.serialize(e.event, out);
        Fields.writeBoolean(e.mfaAuthorized, out);
        Fields.writeString(e.mfaDecisionReason, out);
        Fields.writeList(e.alertIds, out, Fields::writeString);
        Fields.writeString(e.incidentId, out);
        out.writeBoolean(e.late);
        out.writeBoolean(e.anomaly != null);
        if (e.anomaly != null) serialize(e.anomaly, out);
    }

    private static void serialize(Anomaly a, DataOutputView out) throws IOException {
        out.writeInt(a.schemaVersion);
        Fields.writeString(a.schemaHash, out);
        if (a.features == null) {
            out.writeInt(-1);
        } else {
            out.writeInt(a.features.size());
            for (Map.Entry<String, Double> f : a.features.entrySet()) {
                Fields.writeString(f.getKey(), out);
                Fields.writeDouble(f.getValue(), out);
            }
        }
        Fields.writeString(a.modelVersion, out);
        Fields.writeDouble(a.score, out);
        Fields.writeDouble(a.threshold, out);
        Fields.writeList(a.topContributions, out, EnrichedEventSerializer::serialize);
    }

    private static void serialize(AnomalyContribution t, DataOutputView out) throws IOException {
        out.writeBoolean(t != null);
        if (t == null) return;
        Fields.writeString(t.feature, out);
        out.writeDouble(t.value);
        out.writeDouble(t.baseline);
        out.writeDouble(t.scoreChange);
    }

    @Override
    public EnrichedEvent deserialize(DataInputView in) throws IOException {
        EnrichedEvent e = new EnrichedEvent();
        e.event = in.readBoolean() ? EventSerializer.INSTANCE.deserialize(in) : null;
        e.mfaAuthorized = Fields.readBoolean(in);
        e.mfaDecisionReason = Fields.readString(in);
        e.alertIds = Fields.readList(in, "alert id", Fields::readString);
        e.incidentId = Fields.readString(in);
        e.late = in.readBoolean();
        e.anomaly = in.readBoolean() ? deserializeAnomaly(in) : null;
        return e;
    }

    private static Anomaly deserializeAnomaly(DataInputView in) throws IOException {
        Anomaly a = new Anomaly();
        a.schemaVersion = in.readInt();
        a.schemaHash = Fields.readString(in);
        int features = Fields.readCount(in, "feature");
        if (features == -1) {
            a.features = null;
        } else {
            a.features = new LinkedHashMap<>();
            for (int i = 0; i < features; i++) a.features.put(Fields.readString(in), Fields.readDouble(in));
        }
        a.modelVersion = Fields.readString(in);
        a.score = Fields.readDouble(in);
        a.threshold = Fields.readDouble(in);
        a.topContributions = Fields.readList(in, "contribution", EnrichedEventSerializer::deserializeContribution);
        return a;
    }

    private static AnomalyContribution deserializeContribution(DataInputView in) throws IOException {
        return in.readBoolean()
                ? new AnomalyContribution(Fields.readString(in), in.readDouble(), in.readDouble(), in.readDouble())
                : null;
    }

    @Override
    public TypeSerializerSnapshot<EnrichedEvent> snapshotConfiguration() {
        return new Snapshot();
    }

    /** The serializer has no configuration; its version names the layout. */
    public static final class Snapshot extends SimpleTypeSerializerSnapshot<EnrichedEvent> {
        public Snapshot() {
            super(() -> INSTANCE);
        }

        /**
         * This layout as is; state the POJO serializer wrote (builds before this serializer) after
         * migration: Flink reads it with the POJO serializer its snapshot restores and writes it
         * with this one. Anything else is refused.
         */
        @Override
        public TypeSerializerSchemaCompatibility<EnrichedEvent> resolveSchemaCompatibility(
                TypeSerializerSnapshot<EnrichedEvent> old) {
            if (old instanceof Snapshot) return TypeSerializerSchemaCompatibility.compatibleAsIs();
            if (old instanceof PojoSerializerSnapshot<EnrichedEvent>) {
                return TypeSerializerSchemaCompatibility.compatibleAfterMigration();
            }
            return TypeSerializerSchemaCompatibility.incompatible();
        }
    }
}
