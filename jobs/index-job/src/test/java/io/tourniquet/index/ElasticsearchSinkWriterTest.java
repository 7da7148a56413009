package io.tourniquet.index;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import co.elastic.clients.elasticsearch._types.ElasticsearchException;
import co.elastic.clients.elasticsearch._types.ErrorResponse;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.tourniquet.util.Times;
import java.io.IOException;
import java.net.ConnectException;
import java.net.SocketTimeoutException;
import org.junit.jupiter.api.RepeatedTest;
import org.junit.jupiter.api.Test;

class ElasticsearchSinkWriterTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @RepeatedTest(20)
    void backoffDoublesWithJitterUpToTheMaximum() {
        assertThat(ElasticsearchSinkWriter.backoffMillis(100, 30_000, 1)).isBetween(50L, 100L);
        assertThat(ElasticsearchSinkWriter.backoffMillis(100, 30_000, 2)).isBetween(100L, 200L);
        assertThat(ElasticsearchSinkWriter.backoffMillis(100, 30_000, 4)).isBetween(400L, 800L);
        assertThat(ElasticsearchSinkWriter.backoffMillis(100, 30_000, 9)).isBetween(12_800L, 25_600L);
        assertThat(ElasticsearchSinkWriter.backoffMillis(100, 30_000, 10)).isBetween(15_000L, 30_000L);
        assertThat(ElasticsearchSinkWriter.backoffMillis(100, 30_000, 1_000_000)).isBetween(15_000L, 30_000L);
        assertThat(ElasticsearchSinkWriter.backoffMillis(1, 1, 5)).isBetween(0L, 1L);
    }

    @Test
    void onlyClientErrorsArePermanent() {
        assertThat(ElasticsearchSinkWriter.retriableStatus(429)).isTrue();
        assertThat(ElasticsearchSinkWriter.retriableStatus(408)).isTrue();
        assertThat(ElasticsearchSinkWriter.retriableStatus(500)).isTrue();
        assertThat(ElasticsearchSinkWriter.retriableStatus(503)).isTrue();
        assertThat(ElasticsearchSinkWriter.retriableStatus(400)).isFalse();
        assertThat(ElasticsearchSinkWriter.retriableStatus(404)).isFalse();
        assertThat(ElasticsearchSinkWriter.retriableStatus(409)).isFalse();

        assertThat(ElasticsearchSinkWriter.retriable(new ConnectException("refused"))).isTrue();
        assertThat(ElasticsearchSinkWriter.retriable(new SocketTimeoutException("slow"))).isTrue();
        assertThat(ElasticsearchSinkWriter.retriable(new IOException("reset"))).isTrue();
        assertThat(ElasticsearchSinkWriter.retriable(new IllegalStateException("unknown"))).isTrue();
        assertThat(ElasticsearchSinkWriter.retriable(esError(503))).isTrue();
        assertThat(ElasticsearchSinkWriter.retriable(esError(429))).isTrue();
        assertThat(ElasticsearchSinkWriter.retriable(esError(400))).isFalse();
        assertThat(ElasticsearchSinkWriter.retriable(esError(413))).isFalse();
    }

    @Test
    void stampsEventIngestedKeepingTheRest() throws Exception {
        long before = System.currentTimeMillis();
        JsonNode withEvent = JSON.readTree(ElasticsearchSinkWriter.withIngestedTime(
                "{\"event\":{\"id\":\"e1\"},\"user\":{\"id\":\"u\"}}"));
        assertThat(withEvent.at("/event/id").asText()).isEqualTo("e1");
        assertThat(withEvent.at("/user/id").asText()).isEqualTo("u");
        assertThat(Times.parse(withEvent.at("/event/ingested").asText()).toEpochMilli()).isBetween(
                before, System.currentTimeMillis());

        JsonNode without = JSON.readTree(ElasticsearchSinkWriter.withIngestedTime("{\"alert_id\":\"a\"}"));
        assertThat(without.at("/event/ingested").isTextual()).isTrue();
        assertThat(without.get("alert_id").asText()).isEqualTo("a");

        assertThatThrownBy(() -> ElasticsearchSinkWriter.withIngestedTime("[1,2]")).isInstanceOf(IOException.class);
        assertThatThrownBy(() -> ElasticsearchSinkWriter.withIngestedTime("{\"a\":")).isInstanceOf(IOException.class);
    }

    @Test
    void splicesTheTimeIntoTheTopLevelEventObjectOnly() throws Exception {
        // A nested "event" before the top-level one, an empty event object, and one that already has the field.
        JsonNode nested = JSON.readTree(ElasticsearchSinkWriter.withIngestedTime(
                "{\"@timestamp\":\"t\",\"evidence\":{\"event\":{\"x\":1}},\"event\" : { \"id\":\"e1\"}}"));
        assertThat(nested.at("/event/ingested").isTextual()).isTrue();
        assertThat(nested.at("/event/id").asText()).isEqualTo("e1");
        assertThat(nested.at("/evidence/event").toString()).isEqualTo("{\"x\":1}");

        JsonNode empty = JSON.readTree(ElasticsearchSinkWriter.withIngestedTime("{\"event\":{ }}"));
        assertThat(empty.at("/event").size()).isEqualTo(1);
        assertThat(empty.at("/event/ingested").isTextual()).isTrue();

        assertThat(ElasticsearchSinkWriter.eventObjectStart("{\"event\":{\"ingested\":\"old\"}}")).isEqualTo(-1);
        JsonNode stamped = JSON.readTree(ElasticsearchSinkWriter.withIngestedTime("{\"event\":{\"ingested\":\"old\"}}"));
        assertThat(stamped.at("/event/ingested").asText()).isNotEqualTo("old");
        assertThat(ElasticsearchSinkWriter.eventObjectStart("{\"event\":\"text\"}")).isEqualTo(-1);
        assertThat(ElasticsearchSinkWriter.eventObjectStart("{\"a\":1,\"event\":{\"id\":2}}")).isEqualTo(16);
    }

    private static ElasticsearchException esError(int status) {
        return new ElasticsearchException("es/bulk", ErrorResponse.of(r -> r
                .status(status)
                .error(e -> e.type("test_exception").reason("status " + status))));
    }
}
