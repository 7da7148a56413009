package io.tourniquet.signing;

import io.tourniquet.config.Setting;
import io.tourniquet.config.Settings;
import io.tourniquet.config.TourniquetConfig;
import java.io.Serializable;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;

/**
 * When a command stops being valid: {@code issued_at} plus its kind's setting
 * ({@code action.<kind>.expire-after}). An enforcer refuses a command past its {@code expires_at},
 * so one replayed or redelivered long after (a freeze after the analyst's release) does nothing,
 * and it needs to remember action ids for de-duplication only that long.
 */
public final class ActionExpiry implements Serializable {
    private static final long serialVersionUID = 1L;

    private final HashMap<String, Long> millisByAction;

    private ActionExpiry(Map<String, Long> millisByAction) {
        this.millisByAction = new HashMap<>(millisByAction);
    }

    public static ActionExpiry from(TourniquetConfig cfg) {
        Map<String, Long> m = new HashMap<>();
        for (Map.Entry<String, Setting<Duration>> e : Settings.ACTION_EXPIRY.entrySet()) {
            m.put(e.getKey(), cfg.get(e.getValue()).toMillis());
        }
        return new ActionExpiry(m);
    }

    /** The defaults: what a job with no expiry settings uses. */
    public static ActionExpiry defaults() {
        return from(TourniquetConfig.defaults());
    }

    public long of(String action, long issuedAt) {
        Long after = millisByAction.get(action);
        if (after == null) throw new IllegalArgumentException("no expiry for action kind " + action);
        return issuedAt + after;
    }
}
