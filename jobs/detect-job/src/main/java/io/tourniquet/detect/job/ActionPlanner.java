package io.tourniquet.detect.job;

import io.tourniquet.rules.Playbook;
import io.tourniquet.rules.catalog.RuleCatalog;
import io.tourniquet.signing.ActionExpiry;
import io.tourniquet.signing.SignedAction;
import io.tourniquet.signing.CommandSigner;
import io.tourniquet.util.SerializableClock;
import io.tourniquet.model.Action;
import io.tourniquet.model.Alert;
import io.tourniquet.util.Ids;
import java.util.ArrayList;
import java.util.List;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.functions.RichFlatMapFunction;
import io.tourniquet.runtime.PipelineMetrics;
import io.tourniquet.util.TraceParents;
import org.apache.flink.metrics.Histogram;
import org.apache.flink.metrics.MetricGroup;
import org.apache.flink.util.Collector;

/**
 * Turns each alert into the signed commands its rule calls for. Stateless, so a freeze leaves as
 * soon as its alert exists. The action id depends only on the alert, the command and its scope:
 * a replay re-issues the same ids and enforcers de-duplicate.
 */
public final class ActionPlanner extends RichFlatMapFunction<Alert, SignedAction> {
    private static final long serialVersionUID = 1L;

    private final CommandSigner signer;
    private final ActionExpiry expiry;
    private final SerializableClock clock;
    private transient PipelineMetrics.Labelled2 alerts;
    private transient PipelineMetrics.Labelled commands;
    private transient Histogram decisionLatency;
    private transient Histogram freezeLatency;

    public ActionPlanner(CommandSigner signer, ActionExpiry expiry, SerializableClock clock) {
        this.signer = signer;
        this.expiry = expiry;
        this.clock = clock;
    }

    @Override
    public void open(OpenContext openContext) {
        MetricGroup ours = PipelineMetrics.of(getRuntimeContext().getMetricGroup());
        alerts = new PipelineMetrics.Labelled2(ours, "rule", "severity", "alerts");
        commands = new PipelineMetrics.Labelled(ours, "action", "commands");
        decisionLatency = PipelineMetrics.histogram(ours, "decision_latency_ms");
        freezeLatency = PipelineMetrics.histogram(ours, "freeze_latency_ms");
    }

    @Override
    public void flatMap(Alert alert, Collector<SignedAction> out) {
        // Every alert passes here exactly once (the alert sink reads the same stream), so this is
        // where alerts are counted and their latency measured.
        long now = clock.getAsLong();
        alerts.get(alert.rule, alert.severity).inc();
        decisionLatency.update(Math.max(0L, now - alert.eventTime));
        // An analyst judged this rule's earlier alert of this user a false positive: no command.
        if (alert.suppressedBy != null) return;
        boolean frozen = false;
        for (Playbook.Step step : RuleCatalog.stepsFor(alert.rule)) {
            if (!step.when().test(alert)) continue;
            Action a = new Action();
            a.action = step.action();
            a.scope = step.scope().of(alert);
            a.actionId = Ids.of("action", alert.alertId, a.action, a.scope.keyValue());
            a.reason = alert.rule;
            a.ruleVersion = alert.ruleVersion;
            if ("hold_withdrawal".equals(a.action)) a.holdUntil = alert.evidence.holdUntil;
            a.alertIds = new ArrayList<>(List.of(alert.alertId));
            a.incidentId = alert.incidentId;
            a.eventTime = alert.eventTime;
            a.issuedAt = clock.getAsLong();
            a.expiresAt = expiry.of(a.action, a.issuedAt);
            if (alert.traceparent != null) a.traceparent = TraceParents.child(alert.traceparent, "action", a.actionId);
            byte[] json = signer.sign(a);
            commands.get(a.action).inc();
            out.collect(new SignedAction(a, json));
            if ("freeze_account".equals(a.action) && alert.triggerAppendedAt > 0 && !frozen) {
                frozen = true;
                freezeLatency.update(Math.max(0L, a.issuedAt - alert.triggerAppendedAt));
            }
        }
    }
}
