package io.tourniquet.model;

/** Inside the job: "tell this user about this alert" (one alert may concern many users). */
public class NotificationRequest {
    public String userId;
    /** The notification kind, normally the alert's rule. */
    public String kind;
    public Alert alert;
    /**
     * Set when one user may get several notices of one kind about one incident (one per claim
     * document, one per release): it joins the kind and reference in the key that stops repeats.
     */
    public String subject;
    /** An analyst's words to pass on (what was checked before a release, why a claim was denied). */
    public String note;
    /** For {@code incident_resolved}: the recipient's own unauthorized withdrawals in the incident. */
    public java.util.List<Claim.ClaimWithdrawal> withdrawals;
    /** For claim notices: the claim as of the change they tell about. */
    public Claim claim;

    public NotificationRequest() {}

    public NotificationRequest(String userId, String kind, Alert alert) {
        this.userId = userId;
        this.kind = kind;
        this.alert = alert;
    }

    @Override
    public String toString() {
        return "NotificationRequest{" + kind + " user=" + userId + " alert=" + (alert == null ? null : alert.alertId) + "}";
    }
}
