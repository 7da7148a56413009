package io.tourniquet.sim;

import java.math.BigDecimal;

/**
 * The assets the simulator moves, with the fixed price table it values them at (roughly the
 * market on 17 January 2022) and the number of fraction digits an amount may have.
 */
public enum Asset {
    BTC("bitcoin", 8, "42250.00"),
    ETH("ethereum", 18, "3210.50"),
    USDC("ethereum", 6, "1.00"),
    SOL("solana", 9, "141.20"),
    USDT("tron", 6, "1.00");

    private final String network;
    private final int scale;
    private final BigDecimal priceUsd;

    Asset(String network, int scale, String priceUsd) {
        this.network = network;
        this.scale = scale;
        this.priceUsd = new BigDecimal(priceUsd);
    }

    /** The {@code network} field of its withdrawals. */
    public String network() {
        return network;
    }

    /** Maximum fraction digits of an amount. */
    public int scale() {
        return scale;
    }

    /** The fixed USD price the simulation values one unit at. */
    public BigDecimal priceUsd() {
        return priceUsd;
    }

    /** Whether it is a US-dollar stablecoin. */
    public boolean isStablecoin() {
        return this == USDC || this == USDT;
    }

    /** {@code amount * price}, in US dollars rounded to the cent: what {@code usd_value} carries. */
    public BigDecimal usdValueOf(BigDecimal amount) {
        return amount.multiply(priceUsd).setScale(2, java.math.RoundingMode.HALF_EVEN);
    }
}
