package io.tourniquet.model;

import com.fasterxml.jackson.annotation.JsonIgnore;
import com.fasterxml.jackson.annotation.JsonInclude;
import java.util.Objects;

/**
 * What a command applies to. Exactly one of the contract's shapes is set:
 * {@code {user_id}}, {@code {withdrawal_id, user_id}}, {@code {address}}, {@code {asset}}, {@code {platform: true}}.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class ActionScope {
    public String userId;
    public String withdrawalId;
    public String address;
    public String asset;
    public Boolean platform;

    public ActionScope() {}

    public static ActionScope user(String userId) {
        ActionScope s = new ActionScope();
        s.userId = userId;
        return s;
    }

    public static ActionScope withdrawal(String withdrawalId, String userId) {
        ActionScope s = new ActionScope();
        s.withdrawalId = withdrawalId;
        s.userId = userId;
        return s;
    }

    public static ActionScope address(String address) {
        ActionScope s = new ActionScope();
        s.address = address;
        return s;
    }

    public static ActionScope platform() {
        ActionScope s = new ActionScope();
        s.platform = Boolean.TRUE;
        return s;
    }

    /**
     * The Kafka record key ("the scope's value"): the most specific identifier, so every command
     * about one withdrawal, one account or one address lands on one partition, in order.
     */
    @JsonIgnore
    public String keyValue() {
        if (withdrawalId != null) return withdrawalId;
        if (userId != null) return userId;
        if (address != null) return address;
        if (asset != null) return asset;
        return "platform";
    }

    @Override
    public boolean equals(Object o) {
        if (!(o instanceof ActionScope s)) return false;
        return Objects.equals(userId, s.userId) && Objects.equals(withdrawalId, s.withdrawalId)
                && Objects.equals(address, s.address) && Objects.equals(asset, s.asset)
                && Objects.equals(platform, s.platform);
    }

    @Override
    public int hashCode() {
        return Objects.hash(userId, withdrawalId, address, asset, platform);
    }

    @Override
    public String toString() {
        return keyValue();
    }
}
