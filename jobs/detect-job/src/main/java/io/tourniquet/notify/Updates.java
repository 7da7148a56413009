package io.tourniquet.notify;

import io.tourniquet.model.AssetImpact;
import io.tourniquet.model.Claim;
import io.tourniquet.model.NotificationRequest;
import io.tourniquet.notify.NotificationComposer.Message;
import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The messages that follow an incident's first alert until it is fully resolved: release of the
 * account, platform suspension and resumption, revoked 2FA tokens, the resolution with the user's
 * own impact, and the Account Protection Programme claim from opening to decision. Each says, like
 * the alert messages, what happened, what it means and what to do now; the composer adds the
 * anti-phishing paragraph and the reference line.
 *
 * <p>Only the recipient's own figures appear: a resolution lists their withdrawals, never the
 * incident's other victims.
 */
final class Updates {
    private Updates() {}

    static Message accountReleased(NotificationRequest req) {
        String checked = present(req.note) ? " What our security team checked: " + req.note.strip()
                + (req.note.strip().endsWith(".") ? "" : ".") : "";
        return new Message(
                "Your account has been released",
                "What happened: our security team reviewed your account and lifted the freeze we placed on it."
                        + checked,
                "What this means for you: you can use your account again, including withdrawals (unless withdrawals"
                        + " are suspended for the whole platform; we will tell you when they resume). Any withdrawal we"
                        + " held stays held until our team has settled it with you.",
                "What to do now, before you withdraw anything:\n"
                        + "- Log in from a device only you use, and end any session or device you do not recognise.\n"
                        + "- Reset your 2FA on a device only you use, if you have not done so yet.\n"
                        + "- Review the withdrawal addresses on your whitelist and remove any you do not recognise.");
    }

    static Message withdrawalsSuspended(String onPrefix) {
        return new Message(
                "Withdrawals are suspended on our platform while we investigate",
                "What happened: " + onPrefix + "we detected unauthorized withdrawals from several accounts on our"
                        + " platform and suspended all withdrawals while our security team investigates. You have a"
                        + " withdrawal that is pending or on hold, so it is affected.",
                "What this means for you: your withdrawal will not be sent while the suspension lasts; your funds"
                        + " stay in your account. Nothing indicates that your own account was accessed; if it was, we"
                        + " will tell you separately. We will tell you when withdrawals resume.",
                "What to do now:\n"
                        + "- Nothing is needed to keep your withdrawal: it continues once withdrawals resume, unless you"
                        + " cancel it.\n"
                        + "- Ignore anyone who offers to \"speed up\" your withdrawal for a fee: we never ask for"
                        + " payment, passwords or 2FA codes.");
    }

    static Message withdrawalsResumed() {
        return new Message(
                "Withdrawals have resumed",
                "What happened: our security team has contained the incident for which we suspended withdrawals on"
                        + " the platform, and withdrawals are possible again.",
                "What this means for you: pending withdrawals continue. If your own account was frozen or a"
                        + " withdrawal of yours is on hold, that stays in place until our team has reviewed it with"
                        + " you; the resumption alone does not release it.",
                "What to do now:\n"
                        + "- Check that your pending withdrawals are still what you want, and cancel any you do not recognise.\n"
                        + "- Review the withdrawal addresses on your whitelist before you withdraw.");
    }

    static Message mfaTokensRevoked(String onPrefix) {
        return new Message(
                "Your 2FA tokens were revoked: set up 2FA again",
                "What happened: " + onPrefix + "after an unauthorized withdrawal from your account, we revoked every"
                        + " two-factor (2FA) token registered on it (authenticator apps, security keys and trusted"
                        + " devices), so that whoever may hold one cannot use it.",
                "What this means for you: you will be asked to set up 2FA again the next time you log in, and you"
                        + " cannot confirm withdrawals, new whitelist addresses or settings changes until you have.",
                "What to do now, to set up 2FA again:\n"
                        + "- Open the app or type our address yourself (never through a link in a message) and log in.\n"
                        + "- Follow the 2FA set-up steps on a device only you use; remove the old entry for our"
                        + " platform from your authenticator app first.\n"
                        + "- Keep the new recovery codes somewhere safe and offline.");
    }

    static Message incidentResolved(NotificationRequest req) {
        List<Claim.ClaimWithdrawal> own = req.withdrawals == null ? List.of() : req.withdrawals;
        StringBuilder impact = new StringBuilder("What this means for you: ");
        if (own.isEmpty()) {
            impact.append("no unauthorized withdrawal from your account was found in this incident.");
        } else {
            impact.append(own.size() == 1 ? "one withdrawal from your account was" : own.size() + " withdrawals from your account were")
                    .append(" approved without your 2FA confirmation:\n");
            BigDecimal total = BigDecimal.ZERO;
            for (Claim.ClaimWithdrawal w : own) {
                impact.append("- ").append(w.amount).append(' ').append(w.asset);
                if (w.usdValue != null) {
                    impact.append(" (").append(usd(w.usdValue)).append(" when requested)");
                    total = total.add(w.usdValue);
                }
                impact.append(", withdrawal ID ").append(w.withdrawalId).append('\n');
            }
            impact.append("Together: ").append(usd(total)).append(". You may be reimbursed under our Account Protection"
                    + " Programme: we are opening a claim for you and will write to you separately about it.");
        }
        return new Message(
                "The security incident that affected your account is resolved",
                "What happened: withdrawals from several accounts, yours among them, were approved without the"
                        + " two-factor (2FA) confirmation their owners had to give. Our security team has stopped it,"
                        + " investigated it and resolved the incident.",
                impact.toString(),
                "What to do now, and what comes next:\n"
                        + "- If your account is still frozen, our team will contact you to release it.\n"
                        + "- Keep your 2FA set up on a device only you use, and your anti-phishing code as it is.\n"
                        + "- Beware of anyone who offers to recover funds for a fee: we never ask for payment.");
    }

    static Message claimOpened(Claim c) {
        Claim claim = c != null ? c : new Claim();
        return new Message(
                "Your Account Protection Programme claim is open",
                "What happened: we opened a claim for you under our Account Protection Programme" + ref(claim)
                        + ", for the unauthorized withdrawals from your account worth "
                        + usd(claim.lossUsd) + ": " + assets(claim.loss) + ".",
                "What this means for you: eligible losses are reimbursed up to " + usd(claim.limitUsd)
                        + " per claim. We decide once we have the documents below; we will tell you the decision.",
                "What to do now: send us the following through the app or our website, in the claim's page (never by"
                        + " replying to a message):\n"
                        + documentList(claim.outstanding));
    }

    static Message claimDocumentReceived(Claim c, String document) {
        Claim claim = c != null ? c : new Claim();
        String still = claim.outstanding == null || claim.outstanding.isEmpty()
                ? "We have everything we need and are reviewing your claim; we will tell you the decision."
                : "We still need:\n" + documentList(claim.outstanding);
        return new Message(
                "We received your " + documentName(document) + " for your claim",
                "What happened: your " + documentName(document) + " for your Account Protection Programme claim"
                        + ref(claim) + " has been received.",
                "What this means for you: " + still,
                "What to do now: nothing more than what is listed above. We will never ask you to pay anything to"
                        + " receive a reimbursement.");
    }

    static Message claimApproved(Claim c) {
        Claim claim = c != null ? c : new Claim();
        boolean capped = claim.lossUsd != null && claim.payoutUsd != null && claim.payoutUsd.compareTo(claim.lossUsd) < 0;
        return new Message(
                "Your claim is approved: we will reimburse " + usd(claim.payoutUsd),
                "What happened: we approved your Account Protection Programme claim" + ref(claim) + ".",
                "What this means for you: we will credit your account with " + assets(claim.payout) + ", worth "
                        + usd(claim.payoutUsd) + " at the time of the withdrawals"
                        + (capped ? " (your loss was " + usd(claim.lossUsd) + "; the programme pays at most "
                        + usd(claim.limitUsd) + " per claim)" : "") + ".",
                "What to do now: nothing. The credit appears in your account's history. We will never ask you to pay"
                        + " a fee or to send funds to receive it.");
    }

    static Message claimDenied(Claim c, String reason) {
        Claim claim = c != null ? c : new Claim();
        String why = present(reason) ? reason.strip() : "the claim does not meet the programme's conditions";
        return new Message(
                "Your claim was not approved",
                "What happened: we reviewed your Account Protection Programme claim" + ref(claim)
                        + " and could not approve it. The reason: " + why + (why.endsWith(".") ? "" : "."),
                "What this means for you: the programme does not reimburse this loss. Your account itself is not"
                        + " affected by this decision.",
                "What to do now, if you disagree: appeal within 30 days through the app or our website (never through a link in a"
                        + " message), citing your claim" + ref(claim) + " and anything our team did not have when it"
                        + " decided. A different member of our team reviews every appeal.");
    }

    /** " (claim c-1)", or nothing when the claim's id is not known. */
    private static String ref(Claim c) {
        return present(c.claimId) ? " (claim " + c.claimId + ")" : "";
    }

    private static String documentList(List<String> outstanding) {
        List<String> lines = new ArrayList<>();
        for (String d : outstanding == null ? List.<String>of() : outstanding) {
            lines.add(switch (d) {
                case Claim.POLICE_REPORT -> "- A police report about the theft (a copy, with its reference number).";
                case Claim.QUESTIONNAIRE -> "- Our claim questionnaire, completed and signed (in the claim's page).";
                default -> "- " + d;
            });
        }
        return lines.isEmpty() ? "- Nothing more." : String.join("\n", lines);
    }

    private static String documentName(String document) {
        if (Claim.POLICE_REPORT.equals(document)) return "police report";
        if (Claim.QUESTIONNAIRE.equals(document)) return "questionnaire";
        return document == null ? "document" : document.replace('_', ' ');
    }

    private static String assets(List<AssetImpact> perAsset) {
        if (perAsset == null || perAsset.isEmpty()) return "no assets";
        List<String> parts = new ArrayList<>();
        for (AssetImpact a : perAsset) parts.add(a.amount + " " + a.asset);
        return String.join(", ", parts);
    }

    static String usd(BigDecimal v) {
        return v == null ? "US$0.00" : "US$" + String.format(Locale.ROOT, "%,.2f", v);
    }

    private static boolean present(String s) {
        return s != null && !s.isBlank();
    }
}
