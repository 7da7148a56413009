package io.tourniquet.detect;

import io.tourniquet.models.UserHistory;
import java.util.Arrays;
import java.util.List;

/**
 * A user's {@link UserHistory} in keyed state (a Flink POJO of arrays, so no generic
 * serializer is involved): the user's past approved withdrawals (request time, US$) and the
 * devices, IPs and countries of past successful logins. Bounded by {@link UserHistory}'s own
 * limits. This is profile state: it is kept for as long as the user exists, by design (a model
 * compares a withdrawal with the account's own history).
 */
public class AnomalyProfile {
    public long[] withdrawalTimes = new long[0];
    public double[] withdrawalUsd = new double[0];
    public String[] devices = new String[0];
    public String[] ips = new String[0];
    public String[] countries = new String[0];

    public AnomalyProfile() {}

    public static AnomalyProfile of(UserHistory h) {
        AnomalyProfile p = new AnomalyProfile();
        int n = h.pastWithdrawals().size();
        p.withdrawalTimes = new long[n];
        p.withdrawalUsd = new double[n];
        for (int i = 0; i < n; i++) {
            p.withdrawalTimes[i] = h.pastWithdrawals().get(i).requestTime();
            p.withdrawalUsd[i] = h.pastWithdrawals().get(i).usd();
        }
        p.devices = h.knownDevices().toArray(new String[0]);
        p.ips = h.knownIps().toArray(new String[0]);
        p.countries = h.knownCountries().toArray(new String[0]);
        return p;
    }

    public UserHistory toHistory() {
        UserHistory.PastWithdrawal[] past = new UserHistory.PastWithdrawal[withdrawalTimes.length];
        for (int i = 0; i < past.length; i++) past[i] = new UserHistory.PastWithdrawal(withdrawalTimes[i], withdrawalUsd[i]);
        return new UserHistory(Arrays.asList(past), List.of(devices), List.of(ips), List.of(countries));
    }
}
