package io.tourniquet.index;

import static org.assertj.core.api.Assertions.assertThat;
import com.fasterxml.jackson.databind.JsonNode;
import io.tourniquet.json.Json;
import io.tourniquet.model.Claim;
import io.tourniquet.testing.TestClaims;
import java.util.List;
import org.junit.jupiter.api.Test;

class ClaimDocumentTest {
    private static Claim approvedClaim() {
        Claim v1 = TestClaims.opened("inc-1", "u-1", "ETH", "12.000000000000000001", "30000.10", "eligible",
                TestClaims.conditions("pass", "pass", "review"));
        Claim v2 = TestClaims.received(v1, Claim.POLICE_REPORT, "alice@sec");
        Claim v3 = TestClaims.received(v2, Claim.QUESTIONNAIRE, "alice@sec");
        return TestClaims.approved(v3, "alice@sec", "bob@sec");
    }

    @Test
    void oneDocumentPerClaimInTheSingleIndexVersionedByTheClaim() throws Exception {
        Claim c = approvedClaim();
        IndexDoc doc = EcsDocuments.claim(c, "tourniquet-claims");
        assertThat(doc.index).isEqualTo("tourniquet-claims-v1").isEqualTo(IndexTemplates.claimsIndex("tourniquet-claims"));
        assertThat(doc.id).isEqualTo(c.claimId);
        assertThat(doc.version).isEqualTo(4L);

        JsonNode d = Json.MAPPER.readTree(doc.source);
        assertThat(d.at("/@timestamp").asText()).isEqualTo("2022-01-17T12:00:00.000Z");
        assertThat(d.at("/opened_at").asText()).isEqualTo("2022-01-17T12:00:00.000Z");
        assertThat(d.at("/decided_at").asText()).isEqualTo("2022-01-17T12:04:00.000Z");
        assertThat(d.at("/user/id").asText()).isEqualTo("u-1");
        assertThat(d.at("/user_id").asText()).isEqualTo("u-1");
        assertThat(d.at("/incident/id").asText()).isEqualTo("inc-1");
        assertThat(d.at("/status").asText()).isEqualTo("approved");
        assertThat(d.at("/eligibility").asText()).isEqualTo("eligible");
        assertThat(d.at("/outstanding").isArray()).isTrue();
        assertThat(d.at("/outstanding")).isEmpty();
        // Exact amounts stay strings, with their numeric twin for sums and ranges.
        assertThat(d.at("/loss/0/amount").asText()).isEqualTo("12.000000000000000001");
        assertThat(d.at("/loss/0/amount_value").isDouble()).isTrue();
        assertThat(d.at("/payout/0/amount_value").isDouble()).isTrue();
        assertThat(d.at("/withdrawals/0/amount_value").isDouble()).isTrue();
        assertThat(d.at("/withdrawals/0/event_time").asText()).isEqualTo("2022-01-17T11:00:00.000Z");
        assertThat(d.at("/payout_usd").decimalValue()).isEqualByComparingTo("30000.10");
        assertThat(d.at("/loss_usd").decimalValue()).isEqualByComparingTo("30000.10");
        assertThat(d.at("/documents/0/received_at").asText()).isEqualTo("2022-01-17T12:02:00.000Z");
        assertThat(d.at("/history/3/at").asText()).isEqualTo("2022-01-17T12:04:00.000Z");
        assertThat(d.at("/history/3/by").asText()).isEqualTo("alice@sec");
        // Each condition's outcome, flat, beside the nested conditions.
        assertThat(d.at("/condition_outcome/mfa_all_types").asText()).isEqualTo("pass");
        assertThat(d.at("/condition_outcome/no_jailbroken_device").asText()).isEqualTo("review");
        assertThat(d.at("/conditions")).hasSize(3);
    }

    @Test
    void nullsAreLeftOutOfAnOpenClaim() throws Exception {
        Claim open = TestClaims.opened("inc-1", "u-2", "BTC", "1", "40000", "needs_manual_review",
                TestClaims.conditions("review", "pass", "pass"));
        JsonNode d = Json.MAPPER.readTree(EcsDocuments.claim(open, "tourniquet-claims").source);
        assertThat(d.has("decided_at")).isFalse();
        assertThat(d.has("payout_usd")).isFalse();
        assertThat(d.has("decision")).isFalse();
        assertThat(d.at("/outstanding")).extracting(JsonNode::asText).containsExactly("police_report", "questionnaire");
    }

    @Test
    void aNamelessConditionStaysInConditionsButNotInTheFlatCopy() throws Exception {
        Claim c = TestClaims.opened("inc-1", "u-3", "BTC", "1", "40000", "needs_manual_review",
                List.of(new Claim.Condition(" ", "review", "no name"), new Claim.Condition("mfa_all_types", "pass", "ok")));
        JsonNode d = Json.MAPPER.readTree(EcsDocuments.claim(c, "tourniquet-claims").source);
        assertThat(d.at("/conditions")).hasSize(2);
        assertThat(d.at("/condition_outcome").size()).as("Elasticsearch refuses a blank field name").isEqualTo(1);
        assertThat(d.at("/condition_outcome/mfa_all_types").asText()).isEqualTo("pass");
    }

    @Test
    void theTemplateIsValidJsonAndMapsWhatClaimQueriesUse() throws Exception {
        JsonNode template = Json.MAPPER.readTree(getClass().getResourceAsStream("/index-templates/claims.json"));
        JsonNode p = template.path("mappings").path("properties");
        for (String keyword : new String[] {"claim_id", "user_id", "incident_id", "status", "eligibility",
                "outstanding", "decided_by"}) {
            assertThat(p.path(keyword).path("type").asText()).as(keyword).isEqualTo("keyword");
        }
        assertThat(p.at("/@timestamp/type").asText()).isEqualTo("date");
        assertThat(p.at("/opened_at/type").asText()).isEqualTo("date");
        for (String nested : new String[] {"withdrawals", "loss", "payout", "conditions", "documents", "history"}) {
            assertThat(p.path(nested).path("type").asText()).as(nested).isEqualTo("nested");
        }
        for (String usd : new String[] {"loss_usd", "payout_usd", "limit_usd"}) {
            assertThat(p.path(usd).path("type").asText()).as(usd).isEqualTo("double");
        }
        // What apply() PUTs for it: the configured alias and pattern around this file.
        var body = IndexTemplates.templateBody(IndexTemplates.Kind.CLAIMS, "ns-claims");
        assertThat(body.at("/index_patterns/0").asText()).isEqualTo("ns-claims-*");
        assertThat(body.at("/template/aliases").has("ns-claims")).isTrue();
    }
}
