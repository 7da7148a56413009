package io.tourniquet.model;

/** Inside the job: "tell this user about this alert" (one alert may concern many users). */
public class NotificationRequest {
    public String userId;
    /** The notification kind, normally the alert's rule. */
    public String kind;
    public Alert alert;

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
