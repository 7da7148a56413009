package io.tourniquet.models;

/**
 * The facts about one withdrawal and its session, as the detect job knows them at the approval:
 *
 * @param requestTime epoch ms of the withdrawal's {@code requested} event
 * @param approvalTime epoch ms of its {@code approved} event
 * @param usdValue the withdrawal's {@code usd_value}
 * @param accountBalanceUsd {@code account_balance_usd} from the {@code requested} event, or null
 * @param loginTime epoch ms of the session's successful login, or null when the session is unknown
 * @param loginDeviceId the session login's {@code device_id}, or null
 * @param loginIp the session login's {@code ip}, or null
 * @param loginCountry the session login's {@code geo.country}, or null
 * @param loginJailbroken the session login's {@code device_jailbroken}
 * @param destinationWhitelistedAt epoch ms when the user last whitelisted the destination address
 *     (before the request), or null when it never was
 */
public record WithdrawalContext(
        long requestTime,
        long approvalTime,
        double usdValue,
        Double accountBalanceUsd,
        Long loginTime,
        String loginDeviceId,
        String loginIp,
        String loginCountry,
        boolean loginJailbroken,
        Long destinationWhitelistedAt) {

    public WithdrawalContext {
        if (!Double.isFinite(usdValue) || usdValue < 0) {
            throw new IllegalArgumentException("usdValue must be finite and >= 0: " + usdValue);
        }
        if (accountBalanceUsd != null && !Double.isFinite(accountBalanceUsd)) {
            throw new IllegalArgumentException("accountBalanceUsd must be finite: " + accountBalanceUsd);
        }
    }
}
