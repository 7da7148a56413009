package io.tourniquet.detect.job;

import io.tourniquet.control.ControlSignal;
import io.tourniquet.detect.AlertEpisode;
import io.tourniquet.detect.AnomalyProfile;
import io.tourniquet.detect.Challenge;
import io.tourniquet.detect.CountedAlert;
import io.tourniquet.detect.DrainApproval;
import io.tourniquet.detect.DrainRequest;
import io.tourniquet.detect.NewAddressRequest;
import io.tourniquet.detect.PendingApproval;
import io.tourniquet.detect.SessionLogin;
import io.tourniquet.detect.WhitelistEntry;
import io.tourniquet.detect.WithdrawalRequestFacts;
import io.tourniquet.model.Alert;
import io.tourniquet.model.Claim;
import io.tourniquet.model.ClaimSignal;
import io.tourniquet.model.DeadLetter;
import io.tourniquet.model.EnrichedEvent;
import io.tourniquet.model.Event;
import io.tourniquet.model.Incident;
import io.tourniquet.model.Notification;
import io.tourniquet.model.NotificationRequest;
import io.tourniquet.model.PlatformNotice;
import io.tourniquet.model.RawRecord;
import io.tourniquet.rules.RuleVersion;
import io.tourniquet.signing.SignedAction;
import java.util.List;
import org.apache.flink.types.PojoTestUtils;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Everything the detect job sends from one task to another, and every per-user state record, is a
 * POJO Flink analyses without a Kryo fallback: fast, and able to evolve its fields across
 * savepoints. Events in flight go by serializers written for them ({@code EventsOnTheWireTest});
 * they are POJOs all the same, because state records and alerts hold them as fields. A field Flink
 * cannot analyse (a type without a default constructor, an interface) would silently fall back to
 * Kryo, which neither holds.
 */
class CrossTaskTypesTest {

    static List<Class<?>> types() {
        return List.of(RawRecord.class, Event.class, EnrichedEvent.class, Alert.class, Incident.class,
                NotificationRequest.class, Notification.class, ClaimSignal.class, Claim.class, PlatformNotice.class,
                DeadLetter.class, SignedAction.class, ControlSignal.class, RuleVersion.class,
                Challenge.class, PendingApproval.class, WhitelistEntry.class, NewAddressRequest.class,
                DrainApproval.class, DrainRequest.class, AnomalyProfile.class, SessionLogin.class,
                WithdrawalRequestFacts.class, CountedAlert.class, AlertEpisode.class);
    }

    @ParameterizedTest
    @MethodSource("types")
    void isAPojoWithoutKryo(Class<?> type) {
        PojoTestUtils.assertSerializedAsPojoWithoutKryo(type);
    }
}
