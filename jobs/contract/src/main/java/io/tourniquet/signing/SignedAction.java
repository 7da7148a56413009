package io.tourniquet.signing;

import io.tourniquet.model.Action;

/**
 * A command with the exact bytes that were signed: sinks publish these bytes, never a
 * re-serialization, so the signature always matches what enforcers receive.
 */
public class SignedAction {
    public Action action;
    public byte[] json;

    public SignedAction() {}

    public SignedAction(Action action, byte[] json) {
        this.action = action;
        this.json = json;
    }

    @Override
    public String toString() {
        return String.valueOf(action);
    }
}
