package io.tourniquet.models;

import static io.tourniquet.models.WithdrawalFeatures.*;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class WithdrawalFeaturesTest {
    static final long T0 = Instant.parse("2022-01-17T10:00:00Z").toEpochMilli();
    static final long S = 1000L;
    static final long H = 3_600_000L;

    /** A withdrawal context with neutral values; tests change one thing at a time. */
    static WithdrawalContext ctx(long request, long approval, double usd, Double balance, Long login,
            String device, String ip, String country, boolean jailbroken, Long whitelistedAt) {
        return new WithdrawalContext(request, approval, usd, balance, login, device, ip, country, jailbroken,
                whitelistedAt);
    }

    static WithdrawalContext base() {
        return ctx(T0, T0 + 30 * S, 990.0, 3960.0, T0 - 120 * S, "dev-1", "10.0.0.1", "DE", false, T0 - 24 * H);
    }

    static UserHistory history() {
        return UserHistory.empty()
                .withLogin("dev-1", "10.0.0.1", "DE")
                .withWithdrawal(T0 - 30 * 24 * H, 100.0)
                .withWithdrawal(T0 - 20 * 24 * H, 300.0)
                .withWithdrawal(T0 - 90 * 60 * S, 200.0);
    }

    @Test
    void theWholeVectorForOneWithdrawal() {
        double[] x = compute(history(), base());
        double angle = 2 * Math.PI * 36_000.0 / 86_400.0;
        assertThat(x).containsExactly(
                Math.log(1000.0 / 210.0), // (990+10)/(median 200 + 10)
                0.25, // 990 / 3960
                Math.log1p(120.0), // login 2 min before
                0.0, 0.0, 0.0, 0.0, // known device, ip, country; not jailbroken
                Math.log1p(24.0), // whitelisted a day before
                Math.log1p(30.0), // approved after 30 s
                0.0, // the 200 one was 90 min before: not in the last hour
                Math.sin(angle), Math.cos(angle));
        assertThat(x.length).isEqualTo(COUNT).isEqualTo(12);
    }

    @Test
    void amountIsALogRatioToTheMedianOfEarlierWithdrawalsOnly() {
        UserHistory h = UserHistory.empty()
                .withWithdrawal(T0 - 4 * H, 100.0).withWithdrawal(T0 - 3 * H, 200.0)
                .withWithdrawal(T0 - 2 * H, 300.0).withWithdrawal(T0 - H - 1, 400.0)
                // at or after the request: not history, ignored
                .withWithdrawal(T0, 1_000_000.0).withWithdrawal(T0 + H, 1_000_000.0);
        WithdrawalContext b = base();
        double[] x = compute(h, ctx(T0, b.approvalTime(), 0.0, 10.0, b.loginTime(), "d", "i", "c", false, null));
        assertThat(x[AMOUNT_VS_MEDIAN]).isEqualTo(Math.log(10.0 / 260.0)); // median of 4 = 250
        assertThat(compute(h, ctx(T0, T0, 510.0, 1.0, null, null, null, null, false, null))[AMOUNT_VS_MEDIAN])
                .isEqualTo(Math.log(520.0 / 260.0));
    }

    @Test
    void amountWithoutHistoryIsComparedWithZero() {
        double[] x = compute(UserHistory.empty(), ctx(T0, T0, 90.0, null, null, null, null, null, false, null));
        assertThat(x[AMOUNT_VS_MEDIAN]).isEqualTo(Math.log(100.0 / 10.0));
    }

    @Test
    void balanceShareIsClampedAndOneWithoutABalance() {
        assertThat(share(250.0, 1000.0)).isEqualTo(0.25);
        assertThat(share(1500.0, 1000.0)).isEqualTo(1.0);
        assertThat(share(250.0, null)).isEqualTo(1.0);
        assertThat(share(250.0, 0.0)).isEqualTo(1.0);
        assertThat(share(0.0, 1000.0)).isEqualTo(0.0);
    }

    private static double share(double usd, Double balance) {
        return compute(UserHistory.empty(), ctx(T0, T0, usd, balance, null, null, null, null, false, null))[BALANCE_SHARE];
    }

    @Test
    void loginAgeIsLogSecondsCappedAtADay() {
        assertThat(loginAge(T0 - 120 * S)).isEqualTo(Math.log1p(120.0));
        assertThat(loginAge(T0 - 1500)).isEqualTo(Math.log1p(1.5));
        assertThat(loginAge(T0 + 5 * S)).isEqualTo(0.0); // login stamped after the request: skew
        assertThat(loginAge(T0 - 48 * H)).isEqualTo(Math.log1p(86_400.0));
        assertThat(loginAge(null)).isEqualTo(Math.log1p(86_400.0));
    }

    private static double loginAge(Long login) {
        return compute(UserHistory.empty(), ctx(T0, T0, 1.0, 1.0, login, null, null, null, false, null))[LOGIN_AGE];
    }

    @Test
    void newDeviceIpAndCountryAgainstEarlierLogins() {
        UserHistory h = UserHistory.empty().withLogin("dev-1", "10.0.0.1", "DE").withLogin("dev-2", "10.0.0.2", null);
        double[] known = compute(h, ctx(T0, T0, 1.0, 1.0, T0, "dev-2", "10.0.0.1", "DE", false, null));
        assertThat(new double[] {known[NEW_DEVICE], known[NEW_IP], known[NEW_COUNTRY]}).containsExactly(0.0, 0.0, 0.0);
        double[] fresh = compute(h, ctx(T0, T0, 1.0, 1.0, T0, "dev-9", "10.0.0.9", "FR", false, null));
        assertThat(new double[] {fresh[NEW_DEVICE], fresh[NEW_IP], fresh[NEW_COUNTRY]}).containsExactly(1.0, 1.0, 1.0);
        double[] missing = compute(h, ctx(T0, T0, 1.0, 1.0, T0, null, null, null, false, null));
        assertThat(new double[] {missing[NEW_DEVICE], missing[NEW_IP], missing[NEW_COUNTRY]})
                .containsExactly(1.0, 1.0, 1.0);
    }

    @Test
    void jailbrokenIsZeroOrOne() {
        assertThat(compute(UserHistory.empty(), ctx(T0, T0, 1.0, 1.0, T0, null, null, null, true, null))[JAILBROKEN])
                .isEqualTo(1.0);
        assertThat(compute(UserHistory.empty(), ctx(T0, T0, 1.0, 1.0, T0, null, null, null, false, null))[JAILBROKEN])
                .isEqualTo(0.0);
    }

    @Test
    void destinationAgeIsLogHoursCappedAndCappedWhenNeverWhitelisted() {
        assertThat(destinationAge(T0 - 24 * H)).isEqualTo(Math.log1p(24.0));
        assertThat(destinationAge(T0 - 30 * 60 * S)).isEqualTo(Math.log1p(0.5));
        assertThat(destinationAge(T0 + H)).isEqualTo(0.0);
        assertThat(destinationAge(T0 - 20_000 * H)).isEqualTo(Math.log1p(10_000.0));
        assertThat(destinationAge(null)).isEqualTo(Math.log1p(10_000.0));
    }

    private static double destinationAge(Long whitelistedAt) {
        return compute(UserHistory.empty(), ctx(T0, T0, 1.0, 1.0, T0, null, null, null, false, whitelistedAt))[
                DESTINATION_AGE];
    }

    @Test
    void approvalDelayIsLogSecondsNeverNegative() {
        assertThat(approvalDelay(T0 + 30 * S)).isEqualTo(Math.log1p(30.0));
        assertThat(approvalDelay(T0 + 500)).isEqualTo(Math.log1p(0.5));
        assertThat(approvalDelay(T0)).isEqualTo(0.0);
        assertThat(approvalDelay(T0 - 2 * S)).isEqualTo(0.0);
        assertThat(approvalDelay(T0 + 3 * 24 * H)).isEqualTo(Math.log1p(86_400.0));
    }

    private static double approvalDelay(long approval) {
        return compute(UserHistory.empty(), ctx(T0, approval, 1.0, 1.0, T0, null, null, null, false, null))[
                APPROVAL_DELAY];
    }

    @Test
    void withdrawalsInTheHourBeforeTheRequest() {
        UserHistory h = UserHistory.empty()
                .withWithdrawal(T0 - H - 1, 5.0) // just outside
                .withWithdrawal(T0 - H, 5.0) // on the edge: inside [t-1h, t)
                .withWithdrawal(T0 - 59 * 60 * S, 5.0)
                .withWithdrawal(T0 - 1, 5.0)
                .withWithdrawal(T0, 5.0) // this one, or a twin: not earlier
                .withWithdrawal(T0 + S, 5.0);
        assertThat(compute(h, ctx(T0, T0, 1.0, 1.0, T0, null, null, null, false, null))[WITHDRAWALS_LAST_HOUR])
                .isEqualTo(3.0);
        UserHistory burst = UserHistory.empty();
        for (int i = 1; i <= 25; i++) {
            burst = burst.withWithdrawal(T0 - i * 60 * S, 5.0);
        }
        assertThat(compute(burst, ctx(T0, T0, 1.0, 1.0, T0, null, null, null, false, null))[WITHDRAWALS_LAST_HOUR])
                .isEqualTo(20.0);
    }

    @Test
    void hourOfDayOnTheCircleInUtc() {
        long midnight = Instant.parse("2022-01-17T00:00:00Z").toEpochMilli();
        assertThat(hour(midnight)).containsExactly(0.0, 1.0);
        assertThat(hour(midnight + 6 * H)[0]).isEqualTo(1.0);
        assertThat(hour(midnight + 6 * H)[1]).isCloseTo(0.0, within(1e-15));
        assertThat(hour(midnight + 18 * H)[0]).isEqualTo(-1.0);
        assertThat(hour(T0)[0]).isCloseTo(0.5, within(1e-12)); // 10:00 = 150 degrees
        assertThat(hour(T0)[1]).isCloseTo(-Math.sqrt(3) / 2, within(1e-12));
        // 23:59:59 sits next to 00:00, and the date does not matter
        assertThat(hour(midnight - S)[0]).isCloseTo(0.0, within(1e-4));
        assertThat(hour(midnight + 24 * H)).containsExactly(0.0, 1.0);
        // before 1970 still maps into the day (floorMod)
        assertThat(hour(-18 * H)).containsExactly(hour(6 * H));
    }

    private static double[] hour(long t) {
        double[] x = compute(UserHistory.empty(), ctx(t, t, 1.0, 1.0, t, null, null, null, false, null));
        return new double[] {x[HOUR_SIN], x[HOUR_COS]};
    }

    @Test
    void schemaHashIsPinned() {
        // Changing a feature's name, unit or order changes this hash: then bump SCHEMA_VERSION,
        // update these two lines, and retrain (old models will be refused at load).
        assertThat(SCHEMA_VERSION).isEqualTo(1);
        assertThat(SCHEMA_HASH).isEqualTo("4e834b3e97ba90ec9480e8e815e970487f200a9bf81104473df1c1ccfe769e01");
        assertThat(schemaHash(FEATURES)).isEqualTo(SCHEMA_HASH);
    }

    @Test
    void schemaHashChangesWithANameAUnitOrTheOrderButNotWithProse() {
        List<FeatureSpec> renamed = new ArrayList<>(FEATURES);
        FeatureSpec f = FEATURES.get(BALANCE_SHARE);
        renamed.set(BALANCE_SHARE, new FeatureSpec("balance_fraction", f.unit(), f.description(), f.why()));
        assertThat(schemaHash(renamed)).isNotEqualTo(SCHEMA_HASH);

        List<FeatureSpec> reunited = new ArrayList<>(FEATURES);
        reunited.set(BALANCE_SHARE, new FeatureSpec(f.name(), "percent", f.description(), f.why()));
        assertThat(schemaHash(reunited)).isNotEqualTo(SCHEMA_HASH);

        List<FeatureSpec> swapped = new ArrayList<>(FEATURES);
        swapped.set(HOUR_SIN, FEATURES.get(HOUR_COS));
        swapped.set(HOUR_COS, FEATURES.get(HOUR_SIN));
        assertThat(schemaHash(swapped)).isNotEqualTo(SCHEMA_HASH);

        List<FeatureSpec> shorter = new ArrayList<>(FEATURES.subList(0, COUNT - 1));
        assertThat(schemaHash(shorter)).isNotEqualTo(SCHEMA_HASH);

        List<FeatureSpec> reworded = new ArrayList<>(FEATURES);
        reworded.set(BALANCE_SHARE, new FeatureSpec(f.name(), f.unit(), "other words", "other reasons"));
        assertThat(schemaHash(reworded)).isEqualTo(SCHEMA_HASH);
    }

    @Test
    void namesAreUniqueAndEveryFeatureSaysWhy() {
        assertThat(new HashSet<>(names())).hasSize(COUNT);
        assertThat(FEATURES).allSatisfy(s -> assertThat(s.why()).isNotBlank());
        assertThat(indexOf("approval_delay")).isEqualTo(APPROVAL_DELAY);
        assertThatThrownBy(() -> indexOf("nope")).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void mapRoundTripAndStrictness() {
        double[] x = compute(history(), base());
        Map<String, Double> m = toMap(x);
        assertThat(m.keySet()).containsExactlyElementsOf(names());
        assertThat(fromMap(m)).containsExactly(x);
        Map<String, Double> missing = new java.util.LinkedHashMap<>(m);
        missing.remove("jailbroken");
        missing.put("shoe_size", 42.0);
        assertThatThrownBy(() -> fromMap(missing)).hasMessageContaining("missing [jailbroken]")
                .hasMessageContaining("unknown [shoe_size]");
        assertThatThrownBy(() -> checkLength(new double[3])).hasMessageContaining("has 12 values, got 3");
    }

    @Test
    void historyIsBounded() {
        UserHistory h = UserHistory.empty();
        for (int i = 0; i < 60; i++) {
            h = h.withWithdrawal(T0 - (60 - i) * H, i);
        }
        assertThat(h.pastWithdrawals()).hasSize(UserHistory.MAX_PAST_WITHDRAWALS);
        assertThat(h.pastWithdrawals().get(0).usd()).isEqualTo(10.0); // the 10 oldest went
        for (int i = 0; i < 40; i++) {
            h = h.withLogin("dev-" + i, null, null);
        }
        h = h.withLogin("dev-0", null, null); // seen again: now the most recent, not forgotten
        assertThat(h.knownDevices()).hasSize(UserHistory.MAX_KNOWN).endsWith("dev-0").doesNotContain("dev-1");
        assertThat(h.knownIps()).isEmpty();
    }
}
