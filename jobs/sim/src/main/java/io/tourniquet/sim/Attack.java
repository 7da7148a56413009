package io.tourniquet.sim;

import static io.tourniquet.sim.Generation.ATTACKER_AGENT;
import static io.tourniquet.sim.Generation.ATTACKER_GEO;
import static io.tourniquet.sim.Generation.MINUTE;
import static io.tourniquet.sim.Generation.OUTSIDE_SKEW;
import static io.tourniquet.sim.Generation.SECOND;
import static io.tourniquet.sim.Generation.TOO_OLD;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.tourniquet.sim.Generation.Geo;
import io.tourniquet.sim.Generation.Pending;
import io.tourniquet.sim.Generation.Session;
import io.tourniquet.sim.Generation.User;
import io.tourniquet.sim.Generation.VictimPlan;
import io.tourniquet.sim.Generation.Withdrawal;
import java.math.BigDecimal;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * The attack, on top of a generated world: the attacker's IPs, devices and addresses, the plan
 * of which victims are drained how and when (no challenge, a challenge never verified, another
 * user's challenge, one verified after the approval, ...), and each victim's history and
 * unauthorized approvals. Shares the world's random generator, so a seed still gives one output.
 */
final class Attack {
    private final Generation world;

    Attack(Generation world) {
        this.world = world;
    }

    List<VictimPlan> planVictims(boolean donorAvailable) {
        int n = world.cfg.attackVictims();
        UnauthorizedKind[] kinds = new UnauthorizedKind[n];
        java.util.Arrays.fill(kinds, UnauthorizedKind.NO_CHALLENGE);
        List<UnauthorizedKind> special = new ArrayList<>();
        for (UnauthorizedKind k : UnauthorizedKind.values()) {
            if (k != UnauthorizedKind.NO_CHALLENGE
                    && (donorAvailable || k != UnauthorizedKind.OTHER_USERS_CHALLENGE)) {
                special.add(k);
            }
        }
        // Victim 0 opens with the January-2022 pattern; the other kinds are spread among the rest.
        int s = Math.min(special.size(), Math.max(0, n - 1));
        if (s > 0) {
            int step = Math.max(1, (n - 1) / s);
            for (int j = 0; j < s; j++) {
                kinds[1 + j * step] = special.get(j);
            }
        }
        Instant attackStart = world.cfg.start().plus(world.cfg.attackStartOffset());
        List<VictimPlan> plan = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            Instant at = attackStart.plus(world.cfg.attackSpacing().multipliedBy(i)).plusMillis(world.rng.nextLong(0, 1_500));
            plan.add(new VictimPlan(i, kinds[i], at));
        }
        return plan;
    }

    void setUpAttacker() {
        world.attackerIps.add("203.0.113." + world.rng.nextInt(2, 127));
        world.attackerIps.add("203.0.113." + world.rng.nextInt(128, 254));
        world.attackerIps.add("198.51.100." + world.rng.nextInt(2, 254));
        world.attackerDevices.add(world.ids.deviceId());
        world.attackerDevices.add(world.ids.deviceId());
        // Per network: [0] whitelisted by the attacker shortly before, [1] never whitelisted.
        for (String network : List.of("bitcoin", "ethereum", "solana", "tron")) {
            world.attackerAddresses.put(network, List.of(world.ids.address(network), world.ids.address(network)));
        }
    }

    // ---------------------------------------------------------------- benign users

    void victim(VictimPlan p) {
        UnauthorizedKind kind = p.kind();
        Instant ta = p.approvalAt();
        User u = world.newUser();
        Asset asset = victimAsset(p.index());
        u.whitelist.put(asset, world.ids.address(asset.network()));
        u.balance = world.logUniform(8_000, 400_000);
        world.backstory(u);

        String claimed = null;
        Withdrawal own = null;
        if (kind == UnauthorizedKind.REUSED_CHALLENGE || kind == UnauthorizedKind.OTHER_WITHDRAWAL_CHALLENGE) {
            // The victim's own withdrawal shortly before, with a properly verified challenge.
            Session s = world.ownSession(u);
            Instant ownReq = ta.minusMillis((kind == UnauthorizedKind.REUSED_CHALLENGE ? 9 : 8) * MINUTE);
            world.login(u, s, ownReq.minusMillis(world.rng.nextLong(60 * SECOND, 180 * SECOND)), true);
            own = world.newWithdrawal(u, asset, u.balance.multiply(world.fraction(0.03, 0.08)), u.whitelist.get(asset));
            if (kind == UnauthorizedKind.REUSED_CHALLENGE) {
                claimed = world.authorizedWithdrawal(u, s, ownReq, own, null).challengeId();
            } else {
                world.requested(u, s, ownReq, own);
                claimed = world.ids.challengeId();
                Instant tIssue = world.plus(ownReq, 5 * SECOND, 20 * SECOND);
                world.emitMfa(u, s, tIssue, "challenge_issued", claimed, u.mfaMethod, "withdrawal", own.id());
                world.emitMfa(u, s, world.plus(tIssue, 15 * SECOND, 60 * SECOND), "challenge_verified", claimed, u.mfaMethod,
                        "withdrawal", own.id());
            }
        }

        Session att = attackerSession(p.index());
        Instant tReq;
        Instant tIssue = null;
        Instant tVer = null;
        if (kind == UnauthorizedKind.VERIFICATION_TOO_OLD) {
            tVer = ta.minus(TOO_OLD);
            tIssue = tVer.minusMillis(world.rng.nextLong(15 * SECOND, 40 * SECOND));
            tReq = tIssue.minusMillis(world.rng.nextLong(5 * SECOND, 20 * SECOND));
        } else {
            tReq = ta.minusMillis(world.rng.nextLong(40 * SECOND, 80 * SECOND));
        }
        Instant loginAt = tReq.minusMillis(world.rng.nextLong(150 * SECOND, 240 * SECOND));
        world.login(u, att, loginAt, false);

        boolean whitelisted = attackerWhitelists(p.index());
        String destination = world.attackerAddresses.get(asset.network()).get(whitelisted ? 0 : 1);
        world.usedAttackerAddresses.add(destination);
        if (whitelisted) {
            Instant tWl = world.plus(loginAt, 30 * SECOND, 90 * SECOND);
            ObjectNode n = world.changeNode(u.id, att.id(), att.ip(), att.deviceId(), tWl, "whitelist_address_added");
            n.put("address", destination);
            n.put("asset", asset.name());
            n.put("network", asset.network());
            world.emit(world.cfg.topicAccountChanges(), u.id, n, tWl);
        }
        Withdrawal w = world.newWithdrawal(u, asset, u.balance.multiply(world.fraction(0.85, 0.97)), destination);
        world.requested(u, att, tReq, w);

        switch (kind) {
            case NO_CHALLENGE -> claimed = null;
            case UNKNOWN_CHALLENGE -> claimed = world.ids.challengeId();
            case FAILED_CHALLENGE -> {
                claimed = world.ids.challengeId();
                Instant issued = world.plus(tReq, 5 * SECOND, 10 * SECOND);
                world.emitMfa(u, att, issued, "challenge_issued", claimed, "sms", "withdrawal", w.id());
                world.emitMfa(u, att, world.plus(issued, 15 * SECOND, 25 * SECOND), "challenge_failed", claimed, "sms",
                        "withdrawal", w.id());
            }
            case OTHER_USERS_CHALLENGE -> claimed = world.donorChallenge;
            case REUSED_CHALLENGE, OTHER_WITHDRAWAL_CHALLENGE -> {
                // claimed: the challenge of the victim's own withdrawal, set above
            }
            case VERIFICATION_TOO_OLD -> {
                claimed = world.ids.challengeId();
                world.emitMfa(u, att, tIssue, "challenge_issued", claimed, "sms", "withdrawal", w.id());
                world.emitMfa(u, att, tVer, "challenge_verified", claimed, "sms", "withdrawal", w.id());
            }
            case VERIFICATION_AFTER_SKEW -> {
                claimed = world.ids.challengeId();
                world.emitMfa(u, att, world.plus(tReq, 5 * SECOND, 10 * SECOND), "challenge_issued", claimed, "sms",
                        "withdrawal", w.id());
                world.emitMfa(u, att, ta.plus(OUTSIDE_SKEW), "challenge_verified", claimed, "sms", "withdrawal", w.id());
            }
            default -> throw new IllegalStateException(kind.toString());
        }
        Pending approval = world.approved(u, att, ta, w, claimed, world.cfg.attackChannel(),
                world.cfg.compromisedService(), world.cfg.compromisedServiceVersion());
        world.settle(w, ta);
        if (kind == UnauthorizedKind.OTHER_WITHDRAWAL_CHALLENGE) {
            Instant tCancel = world.plus(ta, 5 * MINUTE, 15 * MINUTE);
            world.emit(world.cfg.topicWithdrawals(), u.id, world.withdrawalNode(u.id, null, null, null, tCancel, own, "cancelled"), tCancel);
            u.balance = u.balance.add(own.usd());
        }
        world.unauthorized.add(new GroundTruth.UnauthorizedApproval(w.id(), approval.eventId, u.id, kind,
                asset.name(), asset.network(), w.amount(), w.usd(), ta, destination, claimed, world.cfg.attackChannel(),
                world.cfg.compromisedService(), world.cfg.compromisedServiceVersion()));
    }

    /** Three victims in four get the attacker's address whitelisted shortly before the withdrawal. */
    private static boolean attackerWhitelists(int victimIndex) {
        return victimIndex % 4 != 3;
    }

    /**
     * A fixed pattern, so every attack of the same size drains the same assets: of the victims whose
     * account gets the attacker's address whitelisted, two in three withdraw ETH or USDC (one ethereum
     * address) and one in three BTC (one bitcoin address): with 20 victims, 10 and 5 new-address
     * withdrawals to one address within minutes, so destination concentration fires for both. The others
     * go to never-whitelisted addresses in SOL, USDT, BTC and ETH.
     */
    private static Asset victimAsset(int victimIndex) {
        if (attackerWhitelists(victimIndex)) {
            int k = victimIndex - victimIndex / 4;
            Asset[] cycle = {Asset.ETH, Asset.USDC, Asset.BTC, Asset.ETH, Asset.ETH, Asset.BTC};
            return cycle[k % cycle.length];
        }
        Asset[] cycle = {Asset.SOL, Asset.USDT, Asset.BTC, Asset.ETH};
        return cycle[(victimIndex / 4) % cycle.length];
    }

    private Session attackerSession(int victimIndex) {
        int ipIndex = victimIndex % world.attackerIps.size();
        String[] g = ATTACKER_GEO[ipIndex == 2 ? 1 : 0];
        return new Session(world.ids.sessionId(), world.attackerIps.get(ipIndex), world.attackerDevices.get(victimIndex % world.attackerDevices.size()),
                ATTACKER_AGENT, false, false, new Geo(g[0], new BigDecimal(g[1]), new BigDecimal(g[2])), "password", true);
    }
}
