package io.tourniquet.notify;

import io.tourniquet.model.Alert;
import io.tourniquet.model.AlertEvidence;
import io.tourniquet.model.Event;
import io.tourniquet.model.Notification;
import io.tourniquet.model.NotificationRequest;
import io.tourniquet.rules.catalog.RuleCatalog;
import io.tourniquet.util.Ids;
import io.tourniquet.util.Times;
import java.io.Serializable;
import java.math.BigDecimal;
import java.math.RoundingMode;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Writes the message a user receives ({@code tourniquet.notifications}, contract section 3): one
 * plain-language template per kind, each saying what happened, what it means for the account or
 * the funds, and what to do now, and always how to tell a genuine message from us (the user's
 * anti-phishing code, or the advice to set one).
 *
 * <p>Pure: the same request, code, channels and time always give the same notification. Facts
 * come from the alert only when present, so a sparse alert gives a shorter sentence, never the
 * word "null". Platform alerts (bulk draining, destination concentration) concern many users:
 * their withdrawal details are printed only when they are the recipient's own, so no message
 * ever tells one customer about another's withdrawal.
 */
public final class NotificationComposer implements Serializable {
    private static final long serialVersionUID = 1L;

    /** The security notice sent for every address added to a user's whitelist. */
    public static final String WHITELIST_ADDRESS_ADDED = "whitelist_address_added";

    // Updates through an incident's life (and its claim), after the alert that started it.
    public static final String ACCOUNT_RELEASED = "account_released";
    public static final String WITHDRAWALS_SUSPENDED = "withdrawals_suspended";
    public static final String WITHDRAWALS_RESUMED = "withdrawals_resumed";
    public static final String MFA_TOKENS_REVOKED = "mfa_tokens_revoked";
    public static final String INCIDENT_RESOLVED = "incident_resolved";
    public static final String CLAIM_OPENED = "claim_opened";
    public static final String CLAIM_DOCUMENT_RECEIVED = "claim_document_received";
    public static final String CLAIM_APPROVED = "claim_approved";
    public static final String CLAIM_DENIED = "claim_denied";

    private static final DateTimeFormatter HUMAN_TIME =
            DateTimeFormatter.ofPattern("d MMMM yyyy 'at' HH:mm 'UTC'", Locale.ENGLISH).withZone(ZoneOffset.UTC);
    private static final String PARAGRAPH = "\n\n";

    public NotificationComposer() {}

    /**
     * The notification for one request.
     *
     * @param antiPhishingCode the user's code exactly as last set, or null if never set
     * @param channels         the channels to name on the notification (copied)
     * @param now              wall-clock time (ms) of composition: {@code created_at}
     */
    public Notification compose(NotificationRequest req, String antiPhishingCode, List<String> channels, long now) {
        Alert alert = req.alert != null ? req.alert : new Alert();
        AlertEvidence ev = alert.evidence != null ? alert.evidence : new AlertEvidence();
        Facts f = new Facts(req.userId, alert, ev);

        Notification n = new Notification();
        n.kind = kindOf(req);
        n.userId = req.userId;
        n.notificationId = req.subject == null ? Ids.of("notification", req.userId, reference(req), n.kind)
                : Ids.of("notification", req.userId, reference(req), n.kind, req.subject);
        n.channels = new ArrayList<>(channels);
        n.antiPhishingCode = antiPhishingCode;
        n.incidentId = alert.incidentId;
        n.alertId = alert.alertId;
        if (alert.traceparent != null) {
            // The span from what the notification answers (alert, user, kind), not from its id: the
            // id names the incident, whose id depends on the order alerts were read.
            n.traceparent = io.tourniquet.util.TraceParents.child(alert.traceparent, "notification",
                    io.tourniquet.util.Ids.of(req.userId, n.kind));
        }
        n.eventTime = alert.eventTime;
        n.createdAt = now;
        if (req.claim != null) n.claimId = req.claim.claimId;

        Message m = switch (n.kind) {
            case RuleCatalog.UNAUTHORIZED_APPROVAL -> unauthorizedApproval(f);
            case RuleCatalog.ACCOUNT_DRAIN -> accountDrain(f);
            case RuleCatalog.NEW_ADDRESS_WITHDRAWAL -> newAddressWithdrawal(f);
            case RuleCatalog.DESTINATION_CONCENTRATION -> destinationConcentration(f);
            case RuleCatalog.BULK_DRAIN -> bulkDrain(f);
            case RuleCatalog.ANOMALY_SCORE -> anomalousWithdrawal(f);
            case WHITELIST_ADDRESS_ADDED -> whitelistAddressAdded(f);
            case ACCOUNT_RELEASED -> Updates.accountReleased(req);
            case WITHDRAWALS_SUSPENDED -> Updates.withdrawalsSuspended(f.onPrefix());
            case WITHDRAWALS_RESUMED -> Updates.withdrawalsResumed();
            case MFA_TOKENS_REVOKED -> Updates.mfaTokensRevoked(f.onPrefix());
            case INCIDENT_RESOLVED -> Updates.incidentResolved(req);
            case CLAIM_OPENED -> Updates.claimOpened(req.claim);
            case CLAIM_DOCUMENT_RECEIVED -> Updates.claimDocumentReceived(req.claim, req.subject);
            case CLAIM_APPROVED -> Updates.claimApproved(req.claim);
            case CLAIM_DENIED -> Updates.claimDenied(req.claim, req.note);
            default -> generic(f);
        };
        n.title = m.title;
        n.body = String.join(PARAGRAPH, m.happened, m.impact, m.todo, antiPhishingReminder(antiPhishingCode))
                + referenceLine(f);
        return n;
    }

    /** The updates in the order of an incident's life: the order of notices about the same moment. */
    private static final List<String> LIFECYCLE = List.of(MFA_TOKENS_REVOKED, WITHDRAWALS_SUSPENDED,
            ACCOUNT_RELEASED, WITHDRAWALS_RESUMED, INCIDENT_RESOLVED, CLAIM_OPENED, CLAIM_DOCUMENT_RECEIVED,
            CLAIM_APPROVED, CLAIM_DENIED);

    /** 0 for an alert's own message, then 1, 2, … along {@link #LIFECYCLE}. */
    public static int lifecycleRank(String kind) {
        return LIFECYCLE.indexOf(kind) + 1;
    }

    /** The request's kind, or its alert's rule when the request names none. */
    public static String kindOf(NotificationRequest req) {
        if (present(req.kind)) return req.kind;
        if (req.alert != null && present(req.alert.rule)) return req.alert.rule;
        return "security_notice";
    }

    /**
     * What the notification is about: the incident when there is one (so every alert of one
     * incident gives the user one message per kind), else the alert, else the triggering event
     * (the whitelist notice, which answers an event, not an alert).
     */
    public static String reference(NotificationRequest req) {
        Alert a = req.alert;
        if (a == null) return "none";
        if (present(a.incidentId)) return a.incidentId;
        if (present(a.alertId)) return a.alertId;
        if (a.evidence != null && a.evidence.eventIds != null && !a.evidence.eventIds.isEmpty()) {
            return a.evidence.eventIds.get(0);
        }
        return "t" + a.eventTime;
    }

    /** One per user (the state's key), reference and kind: a repeat of it is never sent. */
    public static String dedupKey(NotificationRequest req) {
        String key = kindOf(req) + "/" + reference(req);
        return req.subject == null ? key : key + "/" + req.subject;
    }

    /**
     * The request for the security notice of a {@code whitelist_address_added} account change. It
     * carries the address's facts in an alert-shaped record that is not an alert (no alert id):
     * the notice answers the event itself.
     */
    public static NotificationRequest whitelistAddedRequest(Event e) {
        Alert a = new Alert();
        a.rule = WHITELIST_ADDRESS_ADDED;
        a.userId = e.userId;
        a.eventTime = e.eventTime;
        a.evidence.eventIds.add(e.eventId);
        a.evidence.destinationAddress = e.address;
        a.evidence.asset = e.asset;
        a.evidence.network = e.network;
        a.evidence.whitelistedAt = Times.format(e.eventTime);
        return new NotificationRequest(e.userId, WHITELIST_ADDRESS_ADDED, a);
    }

    // ---- templates ---------------------------------------------------------------------------

    private static Message unauthorizedApproval(Facts f) {
        return new Message(
                "Security alert: a withdrawal from your account was approved without your 2FA confirmation",
                "What happened: " + f.withdrawal() + " was approved" + f.on()
                        + " without the two-factor (2FA) confirmation it required.",
                "What this means for you: someone other than you may be able to use your account. To protect"
                        + " your funds we froze your account, so that nothing can be withdrawn from it, put this"
                        + " withdrawal on hold so that it is not sent, and revoked your 2FA tokens."
                        + " Our security team is investigating and will contact you; if the withdrawal was sent"
                        + " before it could be held, they will tell you what they find. Your account stays"
                        + " frozen until they have reviewed it with you.",
                "What to do now:\n"
                        + "- Change your password, and the password of the email address linked to your account.\n"
                        + "- Reset your 2FA: set it up again on a device only you use.\n"
                        + "- Check the withdrawal addresses on your whitelist and tell us about any you do not recognise.\n"
                        + "- If you did not ask for this withdrawal, contact us through the app or our website (never"
                        + " through a link in a message) so our security team can reach you.");
    }

    private static Message accountDrain(Facts f) {
        StringBuilder happened = new StringBuilder("What happened: ");
        if (f.windowUsd() != null) {
            happened.append("withdrawals worth ").append(usd(f.windowUsd()));
            String share = f.share();
            if (share != null) happened.append(", ").append(share).append(" of your balance of ").append(usd(f.balanceUsd())).append(",");
            else if (f.balanceUsd() != null) happened.append(" (your balance was ").append(usd(f.balanceUsd())).append(")");
            happened.append(" were approved from your account");
        } else {
            happened.append("a large share of your balance was withdrawn from your account");
        }
        String from = f.time(f.ev.windowStart);
        String to = f.time(f.ev.windowEnd);
        if (from != null && to != null) happened.append(" between ").append(from).append(" and ").append(to);
        else happened.append(" in a short time");
        if (f.own && f.ev.withdrawalIds != null && !f.ev.withdrawalIds.isEmpty()) {
            List<String> ids = f.ev.withdrawalIds.stream().filter(NotificationComposer::present).toList();
            if (!ids.isEmpty()) happened.append(" (withdrawal IDs: ").append(String.join(", ", ids)).append(")");
        }
        happened.append('.');
        return new Message(
                "Security notice: a large share of your balance was withdrawn in a short time",
                happened.toString(),
                "What this means for you: if you made these withdrawals, there is nothing to do. If you did"
                        + " not, someone may have access to your account, and the funds still in it are at risk."
                        + " We have not blocked your account for this alone.",
                "What to do now, if it wasn't you:\n"
                        + "- Contact us at once through the app or our website (never through a link in a"
                        + " message) and ask us to freeze your account.\n"
                        + "- Change your password and reset your 2FA on a device only you use.\n"
                        + "- Check the withdrawal addresses on your whitelist and remove any you do not recognise.");
    }

    private static Message newAddressWithdrawal(Facts f) {
        String address = present(f.ev.destinationAddress) ? "the address " + f.ev.destinationAddress : "an address";
        String added = f.time(f.ev.whitelistedAt);
        String holdUntil = f.time(f.ev.holdUntil);
        String happened = "What happened: " + f.withdrawal(false) + " to " + address + f.networkSuffix()
                + " was requested" + f.on() + ". This address was added to your whitelist"
                + (added != null ? " on " + added : " only recently") + ". Because the address is new, we hold"
                + " the withdrawal" + (holdUntil != null ? " until " + holdUntil : " for now") + "."
                + " This notice is also how you learn that a new address was added to your whitelist.";
        return new Message(
                "Security notice: a withdrawal to a newly added address is on hold",
                happened,
                "What this means for you: if you added this address and asked for this withdrawal, you do not"
                        + " need to do anything. If you did not, someone may have access to your account and is"
                        + " trying to send your funds to an address they control; the hold gives you time to stop it.",
                "What to do now, if you did not add this address:\n"
                        + "- Contact us at once through the app or our website (never through a link in a"
                        + " message) so we can cancel the withdrawal and freeze your account.\n"
                        + "- Remove the address from your whitelist.\n"
                        + "- Change your password and reset your 2FA on a device only you use.");
    }

    /** A model found a withdrawal unlike the account's history: tell the user what, and whether it froze. */
    private static Message anomalousWithdrawal(Facts f) {
        boolean frozen = Boolean.TRUE.equals(f.ev.freezeAccount);
        String happened = "What happened: " + f.withdrawal(true) + " was approved" + f.on() + ". It is unlike the"
                + " withdrawals your account usually makes, so our security systems flagged it for a check.";
        return new Message(
                frozen ? "Security notice: an unusual withdrawal; your account is frozen while we check"
                        : "Security notice: an unusual withdrawal from your account",
                happened,
                frozen ? "What this means for you: we froze your account as a precaution; no further withdrawal"
                        + " leaves it until we have checked. If you made this withdrawal, we release the account"
                        + " once that is confirmed."
                        : "What this means for you: if you made this withdrawal, you do not need to do anything."
                        + " If you did not, someone may have access to your account.",
                "What to do now, if you did not make this withdrawal:\n"
                        + "- Contact us at once through the app or our website (never through a link in a message).\n"
                        + "- Change your password and reset your 2FA on a device only you use.\n"
                        + "- Check the withdrawal addresses on your whitelist and remove any you do not recognise.");
    }

    private static Message destinationConcentration(Facts f) {
        String address = present(f.ev.destinationAddress) ? "the address " + f.ev.destinationAddress : "an address";
        String many = f.ev.distinctUsers != null && f.ev.distinctUsers > 1
                ? f.ev.distinctUsers + " accounts, yours among them," : "many accounts, yours among them,";
        return new Message(
                "Security notice: a withdrawal address you used has been blocked",
                "What happened: in a short time " + many + " sent withdrawals to " + address + f.networkSuffix()
                        + ", which they had all added to their whitelist only recently. This pattern is typical"
                        + " of fraud, so we blocked this address on our platform.",
                "What this means for you: any withdrawal from your account to this address that has not been"
                        + " sent yet will not be sent while the block is in place. If a withdrawal to it was"
                        + " already sent, our security team is investigating.",
                "What to do now:\n"
                        + "- If you did not add this address or did not ask for withdrawals to it, someone may have"
                        + " access to your account: change your password, reset your 2FA, remove the address from"
                        + " your whitelist and contact us through the app or our website.\n"
                        + "- If someone asked you to send funds to this address (an investment offer, a prize, a"
                        + " \"support agent\"), it is most likely a scam: do not send more, and tell us.");
    }

    private static Message bulkDrain(Facts f) {
        return new Message(
                "Important: withdrawals are suspended on our platform while we investigate",
                "What happened: " + f.onPrefix() + "we detected unauthorized withdrawals affecting several"
                        + " accounts, including yours. We have suspended all withdrawals on the platform while our"
                        + " security team investigates.",
                "What this means for you: while withdrawals are suspended, nothing can be withdrawn from any"
                        + " account, yours included, which also stops further unauthorized withdrawals. Our"
                        + " security team is reviewing the withdrawals from your account and will contact you."
                        + " We will tell you when withdrawals resume.",
                "What to do now:\n"
                        + "- Change your password and reset your 2FA on a device only you use.\n"
                        + "- Check the withdrawal addresses on your whitelist and remove any you do not recognise.\n"
                        + "- Ignore anyone who offers to \"speed up\" your withdrawal or \"recover\" your funds for"
                        + " a fee: we never ask for payment, passwords or 2FA codes.");
    }

    private static Message whitelistAddressAdded(Facts f) {
        String address = present(f.ev.destinationAddress) ? "A new withdrawal address " + f.ev.destinationAddress
                : "A new withdrawal address";
        String where = f.assetNetwork();
        String added = f.time(f.ev.whitelistedAt);
        return new Message(
                "Security notice: a new withdrawal address was added to your account",
                "What happened: " + address + (where != null ? " (" + where + ")" : "")
                        + " was added to your whitelist" + (added != null ? " on " + added : "") + ".",
                "What this means for you: funds can be withdrawn from your account to this address. If you added"
                        + " it, there is nothing to do. If this was not you, someone may have access to your account."
                        + " For your protection, withdrawals to a newly added address are held for a while before"
                        + " they are sent.",
                "What to do now, if this was not you:\n"
                        + "- Remove the address from your whitelist.\n"
                        + "- Change your password and reset your 2FA on a device only you use.\n"
                        + "- Contact us through the app or our website (never through a link in a message) so"
                        + " we can check your account.");
    }

    private static Message generic(Facts f) {
        return new Message(
                "Security notice about your account",
                "What happened: our security systems noticed activity on your account" + f.on()
                        + " that we want you to check.",
                "What this means for you: if you recognise all recent activity on your account, there is nothing"
                        + " to do. If you do not, someone may have access to your account.",
                "What to do now, if you do not recognise it:\n"
                        + "- Change your password and reset your 2FA on a device only you use.\n"
                        + "- Check the withdrawal addresses on your whitelist and remove any you do not recognise.\n"
                        + "- Contact us through the app or our website (never through a link in a message).");
    }

    /** Always the last paragraph: how to recognise our genuine messages. */
    static String antiPhishingReminder(String code) {
        if (code != null) {
            return "How to recognise messages from us: every genuine message from us shows your anti-phishing"
                    + " code, exactly as you set it. Your code is: " + code + "\nIf a message claiming to come"
                    + " from us does not show this code, do not open its links or reply to it. We will never"
                    + " ask for your password or 2FA codes.";
        }
        return "How to recognise messages from us: you have not set an anti-phishing code yet. We recommend"
                + " setting one in your account's security settings: every genuine message from us will then"
                + " show it, so you can tell our messages from fakes. Until then, do not open links in"
                + " messages about your account; open the app or type our address yourself. We will never"
                + " ask for your password or 2FA codes.";
    }

    private static String referenceLine(Facts f) {
        List<String> refs = new ArrayList<>();
        if (present(f.alert.incidentId)) refs.add("incident " + f.alert.incidentId);
        if (f.own && present(f.alert.withdrawalId)) refs.add("withdrawal " + f.alert.withdrawalId);
        return refs.isEmpty() ? "" : PARAGRAPH + "Reference for our support team: " + String.join(", ", refs) + ".";
    }

    // ---- facts -------------------------------------------------------------------------------

    /** The alert's facts as phrases, each absent when the alert lacks it. */
    private static final class Facts {
        final Alert alert;
        final AlertEvidence ev;
        /** The alert concerns the recipient alone, so its withdrawal details may be shown to them. */
        final boolean own;

        Facts(String userId, Alert alert, AlertEvidence ev) {
            this.alert = alert;
            this.ev = ev;
            this.own = userId != null && userId.equals(alert.userId);
        }

        /** "a withdrawal of 1.25 BTC to the address bc1q… (withdrawal ID w1)", as much as known. */
        String withdrawal() {
            return withdrawal(true);
        }

        String withdrawal(boolean withDestination) {
            StringBuilder s = new StringBuilder("a withdrawal");
            if (own) {
                if (present(ev.amount) && present(ev.asset)) s.append(" of ").append(ev.amount).append(' ').append(ev.asset);
                else if (present(ev.asset)) s.append(" of ").append(ev.asset);
                if (withDestination && present(ev.destinationAddress)) {
                    s.append(" to the address ").append(ev.destinationAddress).append(networkSuffix());
                }
                if (present(alert.withdrawalId)) s.append(" (withdrawal ID ").append(alert.withdrawalId).append(')');
            }
            return s.toString();
        }

        String networkSuffix() {
            return present(ev.network) ? " on the " + ev.network + " network" : "";
        }

        String assetNetwork() {
            if (present(ev.asset) && present(ev.network)) return ev.asset + "/" + ev.network;
            if (present(ev.asset)) return ev.asset;
            return present(ev.network) ? ev.network : null;
        }

        /** " on 17 January 2022 at 10:00 UTC", or nothing when the alert has no event time. */
        String on() {
            return alert.eventTime > 0 ? " on " + HUMAN_TIME.format(Instant.ofEpochMilli(alert.eventTime)) : "";
        }

        /** "on 17 January 2022 at 10:00 UTC, " to open a sentence, or nothing. */
        String onPrefix() {
            return alert.eventTime > 0 ? on().substring(1) + ", " : "";
        }

        /** An RFC 3339 time from the evidence, for people; as written if it cannot be read. */
        String time(String rfc3339) {
            if (!present(rfc3339)) return null;
            try {
                return HUMAN_TIME.format(Times.parse(rfc3339));
            } catch (IllegalArgumentException e) {
                return rfc3339;
            }
        }

        Double windowUsd() {
            return ev.windowUsd;
        }

        Double balanceUsd() {
            return ev.balanceUsd;
        }

        /** The withdrawn share of the balance, "83 %", in exact decimal arithmetic. */
        String share() {
            if (ev.windowUsd == null || ev.balanceUsd == null || ev.balanceUsd <= 0) return null;
            BigDecimal pct = BigDecimal.valueOf(ev.windowUsd).multiply(BigDecimal.valueOf(100))
                    .divide(BigDecimal.valueOf(ev.balanceUsd), 0, RoundingMode.HALF_UP);
            return "about " + pct.toPlainString() + " %";
        }
    }

    record Message(String title, String happened, String impact, String todo) {}

    static String usd(Double value) {
        return "US$" + String.format(Locale.ROOT, "%,.2f", BigDecimal.valueOf(value));
    }

    private static boolean present(String s) {
        return s != null && !s.isBlank();
    }
}
