package io.tourniquet.detect;

import io.tourniquet.model.Alert;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * What a platform detector keeps of one alert it counts (a Flink POJO in keyed state): enough to
 * count its user in a window and to name it in the evidence, not the whole alert.
 */
public class CountedAlert {
    public String alertId;
    public String rule;
    public String userId;
    /** Event time (ms) of the counted alert's triggering event. */
    public long eventTime;
    public List<String> eventIds = new ArrayList<>();
    public List<String> withdrawalIds = new ArrayList<>();
    /**
     * The alert's asset and network, if it names them: a decision put off to event time (see
     * {@link DistinctUserWindows}) has only the counted alerts to describe its window with.
     */
    public String asset;
    public String network;
    /** Event time after which no alert still to come can share a window with this one (see {@link DistinctUserWindows}). */
    public long keepUntil;

    public CountedAlert() {}

    public static CountedAlert of(Alert a) {
        CountedAlert c = new CountedAlert();
        c.alertId = a.alertId;
        c.rule = a.rule;
        c.userId = a.userId;
        c.eventTime = a.eventTime;
        if (a.evidence != null && a.evidence.eventIds != null) c.eventIds.addAll(a.evidence.eventIds);
        Set<String> withdrawals = new LinkedHashSet<>();
        if (a.withdrawalId != null) withdrawals.add(a.withdrawalId);
        if (a.evidence != null && a.evidence.withdrawalIds != null) withdrawals.addAll(a.evidence.withdrawalIds);
        c.withdrawalIds.addAll(withdrawals);
        if (a.evidence != null) {
            c.asset = a.evidence.asset;
            c.network = a.evidence.network;
        }
        return c;
    }

    @Override
    public String toString() {
        return "Counted{" + alertId + " " + userId + " @" + eventTime + "}";
    }
}
