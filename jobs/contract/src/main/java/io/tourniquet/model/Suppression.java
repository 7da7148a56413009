package io.tourniquet.model;

/**
 * On an alert (extension of the contract): why it was raised but not acted on. An analyst judged
 * an earlier alert of the same rule and user a false positive ({@link #verdictId}, on
 * {@link #judgedAlertId}, by {@link #by}), and this one falls in the period that verdict
 * suppresses: it issues no command and no notification and is published and indexed all the same,
 * so the audit trail shows every alert the verdict silenced.
 */
public class Suppression {
    public String verdictId;
    public String judgedAlertId;
    public String by;
    /** The start (event time, ms, exclusive): the judged alert's. */
    public long from;
    /** The end (event time, ms, inclusive) of the suppressed period. */
    public long until;

    public Suppression() {}

    public Suppression(String verdictId, String judgedAlertId, String by, long until) {
        this.verdictId = verdictId;
        this.judgedAlertId = judgedAlertId;
        this.by = by;
        this.until = until;
    }
}
