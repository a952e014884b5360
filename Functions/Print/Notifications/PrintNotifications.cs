using System.Globalization;
using System.Net;
using Serverless.Platform.Email;
using Serverless.Print.Accounts;

namespace Serverless.Print.Notifications;

/// <summary>
/// Tells customers what happened to their orders: an email through the platform mailer and a push to each of their
/// devices. Safe to call again for the same event: the email is keyed by the event (the mailer sends one per key),
/// a push may arrive twice (FCM has no idempotency key). A device FCM calls dead is forgotten.
/// </summary>
public sealed class PrintNotifications(
    PrintAccounts accounts, PrintDevices devices, IPushSender push, Mailer mailer, PrintSettings settings, ILogger<PrintNotifications> logger)
{
    public const string OrderCancelledType = "order_cancelled";

    /// <summary>Longest reason carried in the push: FCM's payload limit is 4 KB for everything together.</summary>
    public const int MaxPushReasonLength = 500;

    /// <summary>
    /// The shop cancelled the customer's payment order. Throws <see cref="PushUnavailableException"/> when a push could
    /// not be delivered now (after the email was queued and every other device was tried): call again later.
    /// </summary>
    public async Task NotifyOrderCancelledAsync(long customerId, long paymentOrderId, string shopName, string reason, decimal refundRupees,
        CancellationToken ct)
    {
        // Never refuse: the caller retries what throws, and a missing name or reason cannot get better by retrying.
        shopName = string.IsNullOrWhiteSpace(shopName) ? "The shop" : shopName.Trim();
        reason = string.IsNullOrWhiteSpace(reason) ? "No reason was given." : reason.Trim();
        var profile = await accounts.FindProfileAsync(customerId, ct);
        if (profile is null)
        {
            logger.LogInformation("No notification for cancelled order {OrderId}: customer {UserId} no longer exists", paymentOrderId, customerId);
            return;
        }
        if ((await accounts.WithIdentifiersAsync(profile, ct))?.Email is { } email)
            await mailer.EnqueueAsync(NotificationEmails.OrderCancelled(settings, email, profile.FullName, paymentOrderId, shopName, reason, refundRupees),
                $"order-cancelled:{paymentOrderId}", ct);

        var orderId = paymentOrderId.ToString(CultureInfo.InvariantCulture);
        var message = new PushMessage(
            "Order cancelled",
            $"{shopName} cancelled your order #{orderId}" + (refundRupees > 0 ? $" and refunded {Rupees(refundRupees)}" : "")
            + $": {Shorten(reason, MaxPushReasonLength)}",
            new Dictionary<string, string> { ["type"] = OrderCancelledType, ["order_id"] = orderId, ["reason"] = Shorten(reason, MaxPushReasonLength) });
        await PushToDevicesAsync(customerId, message, ct);
    }

    /// <summary>Sends to every device; forgets the dead ones; after trying them all, throws if any failed for now.</summary>
    private async Task PushToDevicesAsync(long userId, PushMessage message, CancellationToken ct)
    {
        PushUnavailableException? unavailable = null;
        var failed = 0;
        foreach (var device in await devices.ListAsync(userId, ct))
        {
            try
            {
                if (await push.SendAsync(userId, device.FcmToken, message, ct) == PushOutcome.DeviceGone)
                    await devices.RemoveAsync(userId, device.FcmToken, ct);
            }
            catch (PushUnavailableException ex)
            {
                unavailable ??= ex;
                failed++;
            }
        }
        if (unavailable is not null)
            throw new PushUnavailableException($"{failed} device(s) of user {userId} could not be reached now: {unavailable.Message}", unavailable);
    }

    internal static string Rupees(decimal rupees) => "₹" + rupees.ToString("0.##", CultureInfo.InvariantCulture);

    private static string Shorten(string text, int max) => text.Length <= max ? text : text[..(max - 1)] + "…";
}

/// <summary>The emails notifications send, in the voice of <see cref="AccountEmails"/>.</summary>
public static class NotificationEmails
{
    public static EmailMessage OrderCancelled(PrintSettings settings, string to, string fullName, long paymentOrderId, string shopName, string reason,
        decimal refundRupees)
    {
        var link = $"{settings.PublicWebUrl}/orders";
        var refund = refundRupees > 0
            ? $"A refund of {PrintNotifications.Rupees(refundRupees)} has been issued for it."
            : "Nothing was charged for it.";
        var greeting = string.IsNullOrWhiteSpace(fullName) ? "Hello," : $"Hello {fullName},";
        var text = $"{greeting}\n\n{shopName} cancelled your {settings.AppName} order #{paymentOrderId}.\n\nReason: {reason}\n\n{refund}\n\n" +
                   $"See your orders: {link}\nYou can print at another shop near you at any time.";
        var html = $"<p>{E(greeting)}</p><p>{E(shopName)} cancelled your {E(settings.AppName)} order <strong>#{paymentOrderId}</strong>.</p>" +
                   $"<p>Reason: {E(reason)}</p><p>{E(refund)}</p>" +
                   $"<p><a href=\"{E(link)}\">See your orders</a>. You can print at another shop near you at any time.</p>";
        return new EmailMessage([to], $"Your {settings.AppName} order #{paymentOrderId} was cancelled", html, text,
            Tags: new Dictionary<string, string> { ["category"] = "order-cancelled" });
    }

    private static string E(string value) => WebUtility.HtmlEncode(value);
}
