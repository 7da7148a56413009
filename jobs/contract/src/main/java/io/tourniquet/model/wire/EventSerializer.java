package io.tourniquet.model.wire;

import io.tourniquet.model.Event;
import java.io.IOException;
import java.util.List;
import org.apache.flink.api.common.typeutils.SimpleTypeSerializerSnapshot;
import org.apache.flink.api.common.typeutils.TypeSerializerSnapshot;
import org.apache.flink.core.memory.DataInputView;
import org.apache.flink.core.memory.DataOutputView;

/**
 * {@link Event} between tasks, field by field in a fixed order.
 *
 * <p>Why not Flink's POJO serializer: every event crosses several task boundaries, and in a
 * profile of the detect job the POJO serializer was the largest single cost of the per-user task
 * (reflective field access, a null marker per field, and on every read a new instance whose
 * fields are first filled with defaults and then overwritten).
 *
 * <p>The layout is {@link #FIELDS}, in that order. A field added to {@link Event} must be added
 * here and to {@link #FIELDS} ({@code WireSerializersTest} fails until it is). Its layout is part
 * of {@link EnrichedEventSerializer}'s, which one state uses: a change to it needs that
 * serializer's snapshot version raised (see there).
 */
public final class EventSerializer extends ModelSerializer<Event> {
    private static final long serialVersionUID = 1L;

    public static final EventSerializer INSTANCE = new EventSerializer();

    /** Every field of {@link Event}, in the order they are written. */
    public static final List<String> FIELDS = List.of(
            "kind",
            "eventId",
            "eventTime",
            "eventTimeRaw",
            "userId",
            "sessionId",
            "ip",
            "deviceId",
            "sourceTopic",
            "sourcePartition",
            "sourceOffset",
            "sourceTimestamp",
            "outcome",
            "authMethod",
            "deviceJailbroken",
            "userAgent",
            "geoCountry",
            "geoLat",
            "geoLon",
            "action",
            "challengeId",
            "method",
            "purpose",
            "withdrawalId",
            "status",
            "asset",
            "network",
            "amount",
            "usdValue",
            "destinationAddress",
            "accountBalanceUsd",
            "mfaChallengeId",
            "approvalChannel",
            "approvalService",
            "approvalServiceVersion",
            "txHash",
            "address",
            "antiPhishingCode",
            "mfaPolicyLogin",
            "mfaPolicyWithdrawal",
            "mfaPolicyWhitelistAddress",
            "mfaPolicySettings",
            "late");

    private static final Event.Kind[] KINDS = Event.Kind.values();

    @Override
    public Event createInstance() {
        return new Event();
    }

    @Override
    public Event copy(Event e) {
        if (e == null) return null;
        Event c = new Event();
        c.kind = e.kind;
        c.eventId = e.eventId;
        c.eventTime = e.eventTime;
        c.eventTimeRaw = e.eventTimeRaw;
        c.userId = e.userId;
        c.sessionId = e.sessionId;
        c.ip = e.ip;
        c.deviceId = e.deviceId;
        c.sourceTopic = e.sourceTopic;
        c.sourcePartition = e.sourcePartition;
        c.sourceOffset = e.sourceOffset;
        c.sourceTimestamp = e.sourceTimestamp;
        c.outcome = e.outcome;
        c.authMethod = e.authMethod;
        c.deviceJailbroken = e.deviceJailbroken;
        c.userAgent = e.userAgent;
        c.geoCountry = e.geoCountry;
        c.geoLat = e.geoLat;
        c.geoLon = e.geoLon;
        c.action = e.action;
        c.challengeId = e.challengeId;
        c.method = e.method;
        c.purpose = e.purpose;
        c.withdrawalId = e.withdrawalId;
        c.status = e.status;
        c.asset = e.asset;
        c.network = e.network;
        c.amount = e.amount;
        c.usdValue = e.usdValue;
        c.destinationAddress = e.destinationAddress;
        c.accountBalanceUsd = e.accountBalanceUsd;
        c.mfaChallengeId = e.mfaChallengeId;
        c.approvalChannel = e.approvalChannel;
        c.approvalService = e.approvalService;
        c.approvalServiceVersion = e.approvalServiceVersion;
        c.txHash = e.txHash;
        c.address = e.address;
        c.antiPhishingCode = e.antiPhishingCode;
        c.mfaPolicyLogin = e.mfaPolicyLogin;
        c.mfaPolicyWithdrawal = e.mfaPolicyWithdrawal;
        c.mfaPolicyWhitelistAddress = e.mfaPolicyWhitelistAddress;
        c.mfaPolicySettings = e.mfaPolicySettings;
        c.late = e.late;
        return c;
    }

    @Override
    public void serialize(Event e, DataOutputView out) throws IOException {
        out.writeByte(e.kind == null ? -1 : e.kind.ordinal());
        Fields.writeString(e.eventId, out);
        out.writeLong(e.eventTime);
        Fields.writeString(e.eventTimeRaw, out);
        Fields.writeString(e.userId, out);
        Fields.writeString(e.sessionId, out);
        Fields.writeString(e.ip, out);
        Fields.writeString(e.deviceId, out);
        Fields.writeString(e.sourceTopic, out);
        out.writeInt(e.sourcePartition);
        out.writeLong(e.sourceOffset);
        out.writeLong(e.sourceTimestamp);
        Fields.writeString(e.outcome, out);
        Fields.writeString(e.authMethod, out);
        Fields.writeBoolean(e.deviceJailbroken, out);
        Fields.writeString(e.userAgent, out);
        Fields.writeString(e.geoCountry, out);
        Fields.writeDouble(e.geoLat, out);
        Fields.writeDouble(e.geoLon, out);
        Fields.writeString(e.action, out);
        Fields.writeString(e.challengeId, out);
        Fields.writeString(e.method, out);
        Fields.writeString(e.purpose, out);
        Fields.writeString(e.withdrawalId, out);
        Fields.writeString(e.status, out);
        Fields.writeString(e.asset, out);
        Fields.writeString(e.network, out);
        Fields.writeString(e.amount, out);
        Fields.writeDouble(e.usdValue, out);
        Fields.writeString(e.destinationAddress, out);
        Fields.writeDouble(e.accountBalanceUsd, out);
        Fields.writeString(e.mfaChallengeId, out);
        Fields.writeString(e.approvalChannel, out);
        Fields.writeString(e.approvalService, out);
        Fields.writeString(e.approvalServiceVersion, out);
        Fields.writeString(e.txHash, out);
        Fields.writeString(e.address, out);
        Fields.writeString(e.antiPhishingCode, out);
        Fields.writeBoolean(e.mfaPolicyLogin, out);
        Fields.writeBoolean(e.mfaPolicyWithdrawal, out);
        Fields.writeBoolean(e.mfaPolicyWhitelistAddress, out);
        Fields.writeBoolean(e.mfaPolicySettings, out);
        out.writeBoolean(e.late);
    }

    @Override
    public Event deserialize(DataInputView in) throws IOException {
        Event e = new Event();
        e.kind = kind(in.readByte());
        e.eventId = Fields.readString(in);
        e.eventTime = in.readLong();
        e.eventTimeRaw = Fields.readString(in);
        e.userId = Fields.readString(in);
        e.sessionId = Fields.readString(in);
        e.ip = Fields.readString(in);
        e.deviceId = Fields.readString(in);
        e.sourceTopic = Fields.readString(in);
        e.sourcePartition = in.readInt();
        e.sourceOffset = in.readLong();
        e.sourceTimestamp = in.readLong();
        e.outcome = Fields.readString(in);
        e.authMethod = Fields.readString(in);
        e.deviceJailbroken = Fields.readBoolean(in);
        e.userAgent = Fields.readString(in);
        e.geoCountry = Fields.readString(in);
        e.geoLat = Fields.readDouble(in);
        e.geoLon = Fields.readDouble(in);
        e.action = Fields.readString(in);
        e.challengeId = Fields.readString(in);
        e.method = Fields.readString(in);
        e.purpose = Fields.readString(in);
        e.withdrawalId = Fields.readString(in);
        e.status = Fields.readString(in);
        e.asset = Fields.readString(in);
        e.network = Fields.readString(in);
        e.amount = Fields.readString(in);
        e.usdValue = Fields.readDouble(in);
        e.destinationAddress = Fields.readString(in);
        e.accountBalanceUsd = Fields.readDouble(in);
        e.mfaChallengeId = Fields.readString(in);
        e.approvalChannel = Fields.readString(in);
        e.approvalService = Fields.readString(in);
        e.approvalServiceVersion = Fields.readString(in);
        e.txHash = Fields.readString(in);
        e.address = Fields.readString(in);
        e.antiPhishingCode = Fields.readString(in);
        e.mfaPolicyLogin = Fields.readBoolean(in);
        e.mfaPolicyWithdrawal = Fields.readBoolean(in);
        e.mfaPolicyWhitelistAddress = Fields.readBoolean(in);
        e.mfaPolicySettings = Fields.readBoolean(in);
        e.late = in.readBoolean();
        return e;
    }

    private static Event.Kind kind(byte ordinal) throws IOException {
        if (ordinal == -1) return null;
        if (ordinal < 0 || ordinal >= KINDS.length) throw new IOException("corrupt record: event kind " + ordinal);
        return KINDS[ordinal];
    }

    @Override
    public TypeSerializerSnapshot<Event> snapshotConfiguration() {
        return new Snapshot();
    }

    /** The serializer has no configuration; its version names the layout. */
    public static final class Snapshot extends SimpleTypeSerializerSnapshot<Event> {
        public Snapshot() {
            super(() -> INSTANCE);
        }
    }
}
