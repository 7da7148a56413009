package io.tourniquet.sim;

import static io.tourniquet.sim.Generation.HOUR;
import static io.tourniquet.sim.Generation.MINUTE;
import static io.tourniquet.sim.Generation.SECOND;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.tourniquet.sim.Generation.Session;
import io.tourniquet.sim.Generation.User;
import io.tourniquet.sim.Generation.VictimPlan;
import io.tourniquet.sim.Generation.Withdrawal;
import java.math.BigDecimal;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * The legitimate users each rule must not mistake for an attack, on top of a generated world:
 * many users withdrawing to one popular address (destination concentration must stay quiet
 * unless the attack shares it), users who empty their own accounts with proper 2FA (account
 * drain fires, nothing else) and users who withdraw to an address they whitelisted hours before
 * (new-address withdrawal fires, nothing else). Shares the world's random generator, so a seed
 * still gives one output.
 */
final class TrickyUsers {
    private final Generation world;

    TrickyUsers(Generation world) {
        this.world = world;
    }

    /**
     * Many users who whitelisted one exchange deposit address days ago withdraw to it within minutes of
     * each other: a popular destination, not a concentration (the whitelisting is old), and no drain.
     */
    void popularAddress() {
        int n = world.cfg.popularAddressUsers();
        if (n == 0) {
            return;
        }
        String address = world.ids.address(Asset.USDC.network());
        List<String> popularUsers = new ArrayList<>();
        // All first withdrawals within 520 s: well inside one 10-minute window, however many users.
        long spacing = Math.min(70 * SECOND, 500 * SECOND / Math.max(1, n - 1));
        Instant first = world.cfg.start().plusMillis(Math.min(HOUR, world.cfg.benignWindow().toMillis() / 4));
        for (int slot = 0; slot < n; slot++) {
            User u = world.newUser();
            u.whitelist.put(Asset.USDC, address);
            u.balance = world.logUniform(2_000, 500_000);
            world.backstory(u, 3, 30);
            popularUsers.add(u.id);

            Instant t = first.plusMillis(slot * spacing + world.rng.nextLong(0, 20 * SECOND));
            Session s = world.ownSession(u);
            world.login(u, s, t.minusMillis(world.rng.nextLong(60 * SECOND, 180 * SECOND)), true);
            for (int k = 0; k < Math.max(1, world.cfg.withdrawalsPerBenignUser()); k++) {
                Withdrawal w = world.newWithdrawal(u, Asset.USDC, u.balance.multiply(world.fraction(0.01, 0.12)), address);
                world.authorizedWithdrawal(u, s, t, w, null);
                t = t.plusMillis(world.rng.nextLong(10 * MINUTE, 45 * MINUTE));
            }
        }
        world.sharedDestination = new GroundTruth.SharedDestination(address, Asset.USDC.name(), List.copyOf(popularUsers));
    }

    /**
     * Users who empty their own account with proper 2FA: about 45 % to a long-whitelisted address, then,
     * 15 to 30 min later, enough to reach 88 to 95 % of the balance seen at the first request. Account
     * drain must fire (a true positive, medium), nothing else. Each starts in its own 30-minute slot,
     * and no slot comes within 15 min of the attack's approvals: never five of them, nor one of them and
     * the victims, inside one bulk-drain window.
     */
    void legitimateDrainers(List<VictimPlan> plan) {
        long attackFrom = Long.MAX_VALUE;
        long attackTo = Long.MIN_VALUE;
        for (VictimPlan p : plan) {
            attackFrom = Math.min(attackFrom, p.approvalAt().toEpochMilli() - 15 * MINUTE);
            attackTo = Math.max(attackTo, p.approvalAt().toEpochMilli() + 2 * SECOND + 15 * MINUTE);
        }
        long slot = world.cfg.start().toEpochMilli() + 20 * MINUTE;
        for (int i = 0; i < world.cfg.legitimateDrainers(); i++) {
            // A drainer's approvals fall within 32 min of its first request.
            while (slot + 40 * MINUTE >= attackFrom && slot <= attackTo) {
                slot += 30 * MINUTE;
            }
            Instant t1 = Instant.ofEpochMilli(slot);
            slot += 30 * MINUTE;

            User u = world.newUser();
            List<Asset> assets = whitelistAndHistory(u, 5_000, 300_000);
            world.legitimateDrainers.add(u.id);

            BigDecimal balance = u.balance;
            Session s = world.ownSession(u);
            world.login(u, s, t1.minusMillis(world.rng.nextLong(60 * SECOND, 180 * SECOND)), true);
            Asset a1 = assets.get(0);
            Withdrawal w1 = world.newWithdrawal(u, a1, balance.multiply(world.fraction(0.40, 0.50)), u.whitelist.get(a1));
            world.authorizedWithdrawal(u, s, t1, w1, null);

            Instant t2 = t1.plusMillis(world.rng.nextLong(15 * MINUTE, 30 * MINUTE));
            Asset a2 = assets.get(assets.size() - 1);
            BigDecimal rest = balance.multiply(world.fraction(0.88, 0.95)).subtract(w1.usd());
            Withdrawal w2 = world.newWithdrawal(u, a2, rest, u.whitelist.get(a2));
            world.authorizedWithdrawal(u, s, t2, w2, null);
        }
    }

    /**
     * Users who whitelist a fresh address of their own (with a whitelist 2FA) and, 30 min to 20 h later,
     * withdraw to it with proper 2FA: each a new-address withdrawal, each to a different address.
     */
    void newAddressUsers() {
        long windowMs = world.cfg.benignWindow().toMillis();
        for (int i = 0; i < world.cfg.newAddressUsers(); i++) {
            User u = world.newUser();
            List<Asset> assets = whitelistAndHistory(u, 2_000, 200_000);
            world.newAddressUsers.add(u.id);

            Asset asset = world.weightedAsset();
            String fresh = world.ids.address(asset.network());
            Instant tReq = world.cfg.start().plusMillis(world.rng.nextLong(10 * MINUTE, Math.max(10 * MINUTE + 1, windowMs * 4 / 5)));
            Instant tWl = tReq.minusMillis(world.rng.nextLong(30 * MINUTE, 20 * HOUR));

            Session ws = world.ownSession(u);
            world.login(u, ws, tWl.minusMillis(world.rng.nextLong(90 * SECOND, 240 * SECOND)), true);
            String c = world.ids.challengeId();
            world.emitMfa(u, ws, tWl.minusMillis(world.rng.nextLong(30 * SECOND, 60 * SECOND)), "challenge_issued", c, u.mfaMethod,
                    "whitelist_address", null);
            world.emitMfa(u, ws, tWl.minusMillis(world.rng.nextLong(5 * SECOND, 20 * SECOND)), "challenge_verified", c,
                    u.mfaMethod, "whitelist_address", null);
            ObjectNode n = world.changeNode(u.id, ws.id(), ws.ip(), ws.deviceId(), tWl, "whitelist_address_added");
            n.put("address", fresh);
            n.put("asset", asset.name());
            n.put("network", asset.network());
            world.emit(world.cfg.topicAccountChanges(), u.id, n, tWl);

            Session s = world.ownSession(u);
            world.login(u, s, tReq.minusMillis(world.rng.nextLong(60 * SECOND, 180 * SECOND)), true);
            Withdrawal w = world.newWithdrawal(u, asset, u.balance.multiply(world.fraction(0.02, 0.15)), fresh);
            world.authorizedWithdrawal(u, s, tReq, w, null);
        }
    }

    /**
     * Gives a new user an address of their own whitelisted for each of a few assets, a balance
     * between the bounds (US$) and a history before the window; returns the assets in the order
     * drawn (the first and last are the ones a scenario withdraws).
     */
    private List<Asset> whitelistAndHistory(User u, double minUsd, double maxUsd) {
        List<Asset> assets = world.pickAssets();
        for (Asset a : assets) {
            u.whitelist.put(a, world.ids.address(a.network()));
        }
        u.balance = world.logUniform(minUsd, maxUsd);
        world.backstory(u);
        return assets;
    }
}
