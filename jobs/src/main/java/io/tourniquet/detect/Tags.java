package io.tourniquet.detect;

import io.tourniquet.model.Alert;
import io.tourniquet.model.DeadLetter;
import org.apache.flink.util.OutputTag;

/** Side outputs of the detect job, declared once. */
public final class Tags {
    private Tags() {}

    public static final OutputTag<DeadLetter> DEAD_LETTERS = new OutputTag<>("dead-letters") {};
    public static final OutputTag<Alert> ALERTS = new OutputTag<>("alerts") {};
}
