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
 *
 * <p>Every rule of CONTRACT section 2 has its case. The attack is a bulk drain: its victims (about
 * 20 s apart) get the attacker's shared addresses whitelisted minutes before (new-address withdrawals,
 * destination concentration on the ethereum and bitcoin addresses), and their balances drained in BTC,
 * ETH, USDC, SOL and USDT (account drain, bulk drain, one incident). Benign counterparts: legitimate
 * drainers (2FA'd, 80 %+ of their balance within the hour, away from the attack: account drain only),
 * new-address users (their own fresh address: new-address withdrawal only), and users of a popular
 * deposit address whitelisted days ago, withdrawing to it within 10 minutes (nothing at all). Some
 * users set their anti-phishing code twice (once with the correction arriving first), some never.
 * Within a topic records arrive up to {@code maxArrivalDelay} out of event-time order; optional
 * redelivered duplicates (same bytes) and malformed records for the DLQ are mixed in.
 *
 * <p>{@link io.tourniquet.sim.GroundTruth} ({@code ground-truth.json}, snake_case) lists the
 * unauthorized approvals (withdrawal_id, event_id, user_id, kind, asset, amount as an exact decimal
 * string, usd_value as a number, ...), the legitimate tricky approvals, per-asset totals, the
 * affected users, the compromised {@code approval_service_version}, valid events per topic, the
 * duplicates and malformed records emitted, and, computed from the emitted events under the default
 * rule settings, the exact keys each rule must alert on ({@code expected_alerts}), the attack's
 * incident (impact, {@code started_at}, the expected {@code contained_at} and what was approved after
 * it) and each user's current anti-phishing code. {@link io.tourniquet.sim.SimulationWriter} writes
 * {@code <topic>.ndjson} files plus that file, or produces to Kafka; {@link io.tourniquet.cli.SimulateCommand}
 * is the {@code simulate} CLI command.
 */
package io.tourniquet.sim;
