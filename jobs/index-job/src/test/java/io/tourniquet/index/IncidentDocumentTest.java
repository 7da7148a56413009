package io.tourniquet.index;

import static org.assertj.core.api.Assertions.assertThat;
import com.fasterxml.jackson.databind.JsonNode;
import io.tourniquet.json.Json;
import io.tourniquet.model.AssetImpact;
import io.tourniquet.model.Incident;
import io.tourniquet.util.Times;
import java.math.BigDecimal;
import java.util.List;
import org.junit.jupiter.api.Test;

class IncidentDocumentTest {
    private static final long T0 = Times.parse("2022-01-17T10:00:00Z").toEpochMilli();

    private static Incident incident() {
        Incident i = new Incident();
        i.incidentId = "inc-1";
        i.status = Incident.CONTAINED;
        i.startedAt = T0;
        i.detectedAt = T0 + 3_000;
        i.containedAt = T0 + 100_000;
        i.lastAlertAt = T0 + 400_000;
        i.usersAffected = 2;
        i.userIds = List.of("u1", "u2");
        i.impact = List.of(new AssetImpact("BTC", "1.123456789012345678", new BigDecimal("47000.10"), 2),
                new AssetImpact("ETH", "10", new BigDecimal("31000.5"), 1));
        i.usdTotal = new BigDecimal("78000.60");
        i.alertIds = List.of("a1", "a2", "b1");
        i.version = 7;
        i.updatedAt = T0 + 500_000;
        return i;
    }

    @Test
    void oneDocumentPerIncidentInTheSingleIndexVersionedByTheIncident() throws Exception {
        IndexDoc doc = EcsDocuments.incident(incident(), "tourniquet-incidents");
        assertThat(doc.index).isEqualTo("tourniquet-incidents-v1");
        assertThat(doc.id).isEqualTo("inc-1");
        assertThat(doc.version).isEqualTo(7L);

        JsonNode d = Json.MAPPER.readTree(doc.source);
        assertThat(d.at("/incident/id").asText()).isEqualTo("inc-1");
        assertThat(d.at("/@timestamp").asText()).isEqualTo("2022-01-17T10:00:00.000Z");
        assertThat(d.at("/status").asText()).isEqualTo("contained");
        assertThat(d.at("/started_at").asText()).isEqualTo("2022-01-17T10:00:00.000Z");
        assertThat(d.at("/contained_at").asText()).isEqualTo("2022-01-17T10:01:40.000Z");
        assertThat(d.has("resolved_at")).as("nulls are left out").isFalse();
        assertThat(d.at("/users_affected").asInt()).isEqualTo(2);
        // The exact amount stays a string; its numeric twin serves sums and ranges.
        assertThat(d.at("/impact/0/amount").asText()).isEqualTo("1.123456789012345678");
        assertThat(d.at("/impact/0/amount_value").isDouble()).isTrue();
        assertThat(d.at("/impact/0/usd_value").decimalValue()).isEqualByComparingTo("47000.10");
        assertThat(d.at("/usd_total").decimalValue()).isEqualByComparingTo("78000.60");
        assertThat(d.at("/alert_ids")).hasSize(3);
    }

    @Test
    void theTopicRecordReadsBackExactly() {
        Incident back = Json.fromBytes(Json.toBytes(incident()), Incident.class);
        assertThat(back.containedAt).isEqualTo(T0 + 100_000);
        assertThat(back.resolvedAt).isNull();
        assertThat(back.impact.get(0).amount).isEqualTo("1.123456789012345678");
        assertThat(back.usdTotal).isEqualByComparingTo("78000.60");
    }
}
