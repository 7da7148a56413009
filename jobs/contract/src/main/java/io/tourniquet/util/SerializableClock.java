package io.tourniquet.util;

import java.io.Serializable;
import java.util.function.LongSupplier;

/** Wall-clock source for {@code detected_at}/{@code issued_at}; tests pass a fixed one. */
@FunctionalInterface
public interface SerializableClock extends LongSupplier, Serializable {
    SerializableClock SYSTEM = System::currentTimeMillis;

    static SerializableClock fixed(long millis) {
        return () -> millis;
    }
}
