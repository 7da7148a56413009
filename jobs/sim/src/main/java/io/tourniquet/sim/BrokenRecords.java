package io.tourniquet.sim;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.tourniquet.sim.Generation.Pending;
import io.tourniquet.sim.Generation.Session;
import io.tourniquet.sim.Generation.User;
import io.tourniquet.sim.Generation.Withdrawal;
import java.math.BigDecimal;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Set;

/**
 * What producers get wrong, on top of a generated world: redeliveries of valid records and
 * malformed records of every {@link MalformedReason}. Runs last, so it draws from what the other
 * scenarios emitted; it shares the world's random generator, so a seed still gives one output.
 */
final class BrokenRecords {
    private final Generation world;

    BrokenRecords(Generation world) {
        this.world = world;
    }

    /** Redeliveries: world.valid records sent again later, within the disorder bound (and the planned duplicate approval). */
    void duplicates() {
        int remaining = world.cfg.duplicateCount();
        Set<Pending> chosen = Collections.newSetFromMap(new IdentityHashMap<>());
        if (remaining > 0 && world.duplicateCase != null) {
            world.duplicateCase.delayMs = world.rng.nextLong(0, world.maxDelayMs / 2 + 1);
            duplicate(world.duplicateCase, world.maxDelayMs);
            chosen.add(world.duplicateCase);
            world.tricky.add(new GroundTruth.TrickyApproval(world.duplicateCaseWithdrawal, world.duplicateCase.eventId,
                    world.duplicateCaseUser, TrickyKind.DUPLICATE));
            remaining--;
        }
        List<Pending> candidates = new ArrayList<>(world.valid.stream()
                .filter(p -> !p.eventTime.isBefore(world.cfg.start()) && !chosen.contains(p)).toList());
        while (remaining > 0 && !candidates.isEmpty()) {
            // Draw without replacement: swap the pick with the last candidate and drop it.
            int i = world.rng.nextInt(candidates.size());
            Pending p = candidates.get(i);
            candidates.set(i, candidates.get(candidates.size() - 1));
            candidates.remove(candidates.size() - 1);
            // A redelivery comes after the original, still within the disorder bound.
            duplicate(p, world.rng.nextLong(p.delayMs, world.maxDelayMs + 1));
            remaining--;
        }
    }

    private void duplicate(Pending original, long delayMs) {
        Pending copy = new Pending(world.seq++, original.topic, original.key, original.value, original.eventTime,
                original.eventId, original.baseMs);
        copy.delayMs = delayMs;
        world.extra.add(copy);
        world.duplicates.add(new GroundTruth.DuplicateRecord(original.topic, original.eventId));
    }

    /** Records the job must dead-letter, one reason after another, never moving event time. */
    void malformed() {
        MalformedReason[] reasons = MalformedReason.values();
        List<String> topics = world.cfg.topics();
        String[] badTimestamps = {"2022-01-17 08:15:30", "2022-01-17T08:15:30", "17/01/2022 08:15:30", "1642407330",
            "2022-13-45T99:00:00Z"};
        for (int i = 0; i < world.cfg.malformedCount(); i++) {
            MalformedReason reason = reasons[i % reasons.length];
            int round = i / reasons.length;
            String topic = switch (reason) {
                case NEGATIVE_AMOUNT -> world.cfg.topicWithdrawals();
                case OVERSIZED -> world.cfg.topicLogins();
                default -> topics.get((round + reason.ordinal()) % topics.size());
            };
            User u = world.users.isEmpty() ? world.newUser() : world.users.get(world.rng.nextInt(world.users.size()));
            Instant t = world.cfg.start().plusMillis(world.rng.nextLong(0, world.cfg.benignWindow().toMillis()));
            ObjectNode n = sampleNode(topic, u, t);
            String key = u.id;
            String value;
            switch (reason) {
                case NOT_JSON -> {
                    String full = world.write(n);
                    value = full.substring(0, full.length() / 2);
                    key = null;
                }
                case MISSING_FIELD -> {
                    n.remove(round % 2 == 1 ? "event_id" : requiredField(topic));
                    value = world.write(n);
                }
                case BAD_ENUM -> {
                    badEnum(topic, n);
                    value = world.write(n);
                }
                case NEGATIVE_AMOUNT -> {
                    n.put("amount", "-" + n.get("amount").asText());
                    value = world.write(n);
                }
                case BAD_TIMESTAMP -> {
                    n.put("event_time", badTimestamps[round % badTimestamps.length]);
                    value = world.write(n);
                }
                case OVERSIZED -> {
                    n.put("user_agent", "");
                    int pad = Math.max(0, world.cfg.oversizedBytes() - world.write(n).length());
                    n.put("user_agent", "Mozilla/5.0 " + "A".repeat(pad));
                    value = world.write(n);
                }
                default -> throw new IllegalStateException(reason.toString());
            }
            Pending p = new Pending(world.seq++, topic, key, value, null, null, t.toEpochMilli());
            p.delayMs = world.rng.nextLong(0, world.maxDelayMs + 1);
            world.extra.add(p);
            world.malformed.add(new GroundTruth.MalformedRecord(topic, key, reason));
        }
    }

    /** A well-formed event of the topic, not emitted: the template a world.malformed record is broken from. */
    private ObjectNode sampleNode(String topic, User u, Instant t) {
        Session s = world.ownSession(u);
        if (topic.equals(world.cfg.topicLogins())) {
            return world.loginNode(u.id, s.id(), s, t, "success");
        } else if (topic.equals(world.cfg.topicMfa())) {
            return world.mfaNode(u.id, s.id(), s.ip(), s.deviceId(), t, "challenge_issued", world.ids.challengeId(), u.mfaMethod,
                    "login", null);
        } else if (topic.equals(world.cfg.topicWithdrawals())) {
            Asset a = Asset.USDC;
            Withdrawal w = new Withdrawal(world.ids.withdrawalId(), u.id, a, new BigDecimal("250"), new BigDecimal("250.00"),
                    world.ids.address(a.network()));
            ObjectNode n = world.withdrawalNode(u.id, s.id(), s.ip(), s.deviceId(), t, w, "requested");
            n.put("account_balance_usd", new BigDecimal("10000.00"));
            return n;
        }
        return world.changeNode(u.id, s.id(), s.ip(), s.deviceId(), t, "password_changed");
    }

    private String requiredField(String topic) {
        if (topic.equals(world.cfg.topicLogins())) {
            return "outcome";
        } else if (topic.equals(world.cfg.topicWithdrawals())) {
            return "withdrawal_id";
        }
        return "action";
    }

    private void badEnum(String topic, ObjectNode n) {
        if (topic.equals(world.cfg.topicLogins())) {
            n.put("auth_method", "biometric");
        } else if (topic.equals(world.cfg.topicMfa())) {
            n.put("action", "challenge_passed");
        } else if (topic.equals(world.cfg.topicWithdrawals())) {
            n.put("status", "sent");
        } else {
            n.put("action", "account_deleted");
        }
    }
}
