package io.tourniquet.index;

import io.tourniquet.config.Settings;
import io.tourniquet.config.TourniquetConfig;
import java.io.Serializable;
import java.util.List;

/** Which topic feeds which index alias. */
public record IndexTargets(String enrichedTopic, String alertsTopic, String actionsTopic, String incidentsTopic,
                           String claimsTopic, String verdictsTopic, String eventsAlias, String alertsAlias,
                           String actionsAlias, String incidentsAlias, String claimsAlias, String verdictsAlias)
        implements Serializable {

    public static IndexTargets from(TourniquetConfig cfg) {
        return new IndexTargets(cfg.get(Settings.TOPIC_ENRICHED), cfg.get(Settings.TOPIC_ALERTS),
                cfg.get(Settings.TOPIC_ACTIONS), cfg.get(Settings.TOPIC_INCIDENTS), cfg.get(Settings.TOPIC_CLAIMS),
                cfg.get(Settings.TOPIC_VERDICTS), cfg.get(Settings.INDEX_EVENTS), cfg.get(Settings.INDEX_ALERTS),
                cfg.get(Settings.INDEX_ACTIONS), cfg.get(Settings.INDEX_INCIDENTS), cfg.get(Settings.INDEX_CLAIMS),
                cfg.get(Settings.INDEX_VERDICTS));
    }

    public List<String> topics() {
        return List.of(enrichedTopic, alertsTopic, actionsTopic, incidentsTopic, claimsTopic, verdictsTopic);
    }
}
