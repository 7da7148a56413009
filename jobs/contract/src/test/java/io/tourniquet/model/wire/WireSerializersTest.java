package io.tourniquet.model.wire;

import io.tourniquet.testing.FilledRecords;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tourniquet.model.Anomaly;
import io.tourniquet.model.AnomalyContribution;
import io.tourniquet.model.EnrichedEvent;
import io.tourniquet.model.Event;
import java.io.IOException;
import org.apache.flink.api.common.serialization.SerializerConfigImpl;
import org.apache.flink.api.common.typeutils.TypeSerializer;
import org.apache.flink.core.memory.DataInputDeserializer;
import org.apache.flink.core.memory.DataOutputSerializer;
import org.junit.jupiter.api.Test;

class WireSerializersTest {

    /** A field added to the model and not to the serializer would be lost between tasks. */
    @Test
    void everyFieldOfTheModelIsInTheLayout() {
        assertThat(EventSerializer.FIELDS).containsExactlyInAnyOrderElementsOf(FilledRecords.fieldNames(Event.class));
        assertThat(EnrichedEventSerializer.FIELDS)
                .containsExactlyInAnyOrderElementsOf(FilledRecords.fieldNames(EnrichedEvent.class));
        assertThat(EnrichedEventSerializer.ANOMALY_FIELDS)
                .containsExactlyInAnyOrderElementsOf(FilledRecords.fieldNames(Anomaly.class));
        assertThat(EnrichedEventSerializer.CONTRIBUTION_FIELDS)
                .containsExactlyInAnyOrderElementsOf(FilledRecords.fieldNames(AnomalyContribution.class));
    }

    @Test
    void everyFieldSurvivesTheTrip() throws IOException {
        EnrichedEvent in = FilledRecords.enriched(7);
        EnrichedEvent back = roundTrip(EnrichedEventSerializer.INSTANCE, in);
        FilledRecords.assertDeepEqual("enriched", in, back);
        // Not vacuous: a record that differs in one field is told apart.
        back.event.txHash = "other";
        assertThatThrownBy(() -> FilledRecords.assertDeepEqual("enriched", in, back)).isInstanceOf(AssertionError.class);
    }

    /** Input is anyone's text: any Unicode, and the empty string is not null. */
    @Test
    void stringsOfAnyScriptAndTheEmptyStringSurvive() throws IOException {
        Event e = new Event();
        e.userAgent = "Mozilla/5.0 (Linux; Android 12) Gecko/20100101 Firefox/96.0 é ü ß 中文 🔒\u0000end";
        e.geoCountry = "";
        e.antiPhishingCode = "Ωmega-😀";
        e.txHash = null;
        Event back = roundTrip(EventSerializer.INSTANCE, e);
        assertThat(back.userAgent).isEqualTo(e.userAgent);
        assertThat(back.geoCountry).isEmpty();
        assertThat(back.antiPhishingCode).isEqualTo(e.antiPhishingCode);
        assertThat(back.txHash).isNull();
    }

    @Test
    void aCopyIsIndependentOfItsOriginal() {
        EnrichedEvent in = FilledRecords.enriched(4);
        EnrichedEvent copy = EnrichedEventSerializer.INSTANCE.copy(in);
        copy.alertIds.add("another");
        copy.event.status = "changed";
        copy.anomaly.features.put("added", 1.0);
        assertThat(in.alertIds).doesNotContain("another");
        assertThat(in.event.status).isNotEqualTo("changed");
        assertThat(in.anomaly.features).doesNotContainKey("added");
    }

    @Test
    void aCorruptKindIsAnErrorNotAnotherKind() throws IOException {
        byte[] bytes = bytes(EventSerializer.INSTANCE, new Event());
        bytes[0] = 9;
        assertThatThrownBy(() -> EventSerializer.INSTANCE.deserialize(new DataInputDeserializer(bytes)))
                .isInstanceOf(IOException.class).hasMessageContaining("event kind 9");
    }

    @Test
    void theTypeInformationGivesTheseSerializers() {
        assertThat(WireTypes.EVENT.createSerializer(new SerializerConfigImpl())).isSameAs(EventSerializer.INSTANCE);
        assertThat(WireTypes.ENRICHED_EVENT.createSerializer(new SerializerConfigImpl()))
                .isSameAs(EnrichedEventSerializer.INSTANCE);
        assertThat(WireTypes.ENRICHED_EVENT.getTypeClass()).isEqualTo(EnrichedEvent.class);
    }

    private static <T> byte[] bytes(TypeSerializer<T> serializer, T record) throws IOException {
        DataOutputSerializer out = new DataOutputSerializer(256);
        serializer.serialize(record, out);
        return out.getCopyOfBuffer();
    }

    private static <T> T roundTrip(TypeSerializer<T> serializer, T record) throws IOException {
        return serializer.deserialize(new DataInputDeserializer(bytes(serializer, record)));
    }
}
