/**
 * Traffic simulator: deterministic input for the Tourniquet pipeline and its tests.
 *
 * <p>{@link io.tourniquet.sim.Simulator#generate} turns a {@link io.tourniquet.sim.SimulationConfig}
 * (seed, start instant, user counts, ...; no wall clock) into the four input topics of
 * {@code CONTRACT.md}, in arrival order: account history days before the start; benign users who
 * log in and withdraw (requested, MFA challenge issued and verified, approved by the legitimate
 * backend, broadcast, completed); and, from the attack offset on, a January-2022-style attack in
 * which a compromised backend version approves drains of victims' balances, mostly with no MFA
 * challenge at all, to a few attacker addresses from a few attacker IPs. Each unauthorized kind
 * ({@link io.tourniquet.sim.UnauthorizedKind}) and each legitimate tricky case
 * ({@link io.tourniquet.sim.TrickyKind}: late, skewed, retried, duplicated) has its own users.
 * Within a topic records arrive up to {@code maxArrivalDelay} out of event-time order; optional
 * redelivered duplicates (same bytes) and malformed records for the DLQ are mixed in.
 *
 * <p>{@link io.tourniquet.sim.GroundTruth} ({@code ground-truth.json}, snake_case) lists the
 * unauthorized approvals (withdrawal_id, event_id, user_id, kind, asset, amount as an exact decimal
 * string, usd_value as a number, ...), the legitimate tricky approvals, per-asset totals, the
 * affected users, the compromised {@code approval_service_version}, valid events per topic, and the
 * duplicates and malformed records emitted. {@link io.tourniquet.sim.SimulationWriter} writes
 * {@code <topic>.ndjson} files plus that file, or produces to Kafka; {@link io.tourniquet.sim.SimulateCommand}
 * is the {@code simulate} CLI command.
 */
package io.tourniquet.sim;
