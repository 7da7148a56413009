package io.tourniquet.rules;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.databind.annotation.JsonDeserialize;
import com.fasterxml.jackson.databind.annotation.JsonSerialize;
import io.tourniquet.json.TimeMixins;
import io.tourniquet.config.Setting;
import java.io.Serializable;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * One version of one rule's thresholds. Version 1 comes from configuration at start-up; every
 * analyst's accepted change makes the next version. Alerts and commands name the version that
 * produced them, so an analyst can always tell which thresholds were in force.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class RuleVersion implements Serializable {
    // Serializable because detectors hold version 1 (in their RuleView) and Flink ships them.
    private static final long serialVersionUID = 1L;

    /** The rule id as alerts name it, e.g. {@code account_drain}. */
    public String rule;
    public int version;
    /** Every setting of the rule: full setting key → its text, e.g. {@code rule.account-drain.share → 0.8}. */
    public Map<String, String> params = new LinkedHashMap<>();
    /** Who made this version ({@code configuration} for version 1) and through which request. */
    public String changedBy;
    public String requestId;
    /** Wall-clock time (ms) the version was accepted; 0 for version 1. */
    @JsonSerialize(using = TimeMixins.Rfc3339Serializer.class)
    @JsonDeserialize(using = TimeMixins.Rfc3339Deserializer.class)
    public long changedAt;
    /**
     * Null for the version in force; {@link #SHADOW} for a candidate evaluated beside it on live
     * traffic (its alerts are marked shadow and act on nothing); {@link #SHADOW_ENDED} once that
     * candidate was promoted or dropped (kept so its state can still drain by its own thresholds).
     */
    public String mode;
    /**
     * On a version in force made by promoting a shadow: that shadow's number. The one broadcast
     * record then both changes the version in force and ends the shadow, so no event is judged by
     * both or by neither.
     */
    public Integer promotedFrom;

    public static final String SHADOW = "shadow";
    public static final String SHADOW_ENDED = "shadow_ended";

    public RuleVersion() {}

    public RuleVersion(String rule, int version, Map<String, String> params, String changedBy, String requestId,
                       long changedAt) {
        this.rule = rule;
        this.version = version;
        this.params = new LinkedHashMap<>(params);
        this.changedBy = changedBy;
        this.requestId = requestId;
        this.changedAt = changedAt;
    }

    @com.fasterxml.jackson.annotation.JsonIgnore
    public boolean isShadow() {
        return SHADOW.equals(mode);
    }

    /** This shadow version, ended (promoted or dropped). */
    public RuleVersion ended() {
        RuleVersion v = new RuleVersion(rule, version, params, changedBy, requestId, changedAt);
        v.mode = SHADOW_ENDED;
        return v;
    }

    /** The typed value of one of this rule's settings (validated when the version was made). */
    public <T> T get(Setting<T> setting) {
        String text = params.get(setting.key());
        if (text == null) throw new IllegalStateException(rule + " v" + version + " has no " + setting.key());
        return setting.parse(text);
    }

    @Override
    public String toString() {
        return rule + " v" + version + (mode == null ? "" : " (" + mode + ")") + " " + params;
    }
}
