using System.Text.Json;

namespace Serverless.Platform.Payments;

/// <summary>
/// Razorpay's webhook envelope, <c>{"entity": "event", "event": "payment.captured", "contains": ["payment"],
/// "payload": {"payment": {"entity": {…}}, "order": {"entity": {…}}}, "created_at": …}</c>, reduced to what the
/// platform acts on. Each entity is a snapshot taken when the event happened, so the event's type, not the
/// snapshot's status, says what happened.
/// </summary>
internal static class RazorpayEvents
{
    public static ProviderEvent Parse(string eventId, ReadOnlySpan<byte> body)
    {
        string type = "";
        try
        {
            using var document = JsonDocument.Parse(body.ToArray());
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("event", out var name) || name.ValueKind != JsonValueKind.String)
                return new ProviderEvent(eventId, type, ProviderEventKind.Other);
            type = name.GetString()!;
            var payload = root.TryGetProperty("payload", out var p) && p.ValueKind == JsonValueKind.Object ? p : default;
            return type switch
            {
                "payment.authorized" or "payment.captured" or "payment.failed" or "order.paid" => PaymentEvent(eventId, type, payload),
                "refund.created" or "refund.processed" or "refund.failed" => RefundEvent(eventId, type, payload),
                _ when type.StartsWith("payout.", StringComparison.Ordinal) => PayoutEvent(eventId, type, payload),
                _ => new ProviderEvent(eventId, type, ProviderEventKind.Other),
            };
        }
        catch (Exception ex) when (ex is JsonException or InvalidOperationException or FormatException or KeyNotFoundException or ArgumentException)
        {
            // Verified but not what Razorpay documents: stored, and of no use to act on.
            return new ProviderEvent(eventId, type, ProviderEventKind.Other);
        }
    }

    private static ProviderEvent PaymentEvent(string eventId, string type, JsonElement payload)
    {
        var payment = Entity<RazorpayPayment>(payload, "payment");
        var order = Entity<RazorpayOrder>(payload, "order");
        var orderId = payment?.OrderId ?? order?.Id;
        if (orderId is null)
            return new ProviderEvent(eventId, type, ProviderEventKind.Other);
        var state = type switch
        {
            "payment.authorized" => ProviderPaymentState.Authorized,
            "payment.failed" => ProviderPaymentState.Failed,
            _ => ProviderPaymentState.Succeeded,
        };
        var intentId = RazorpayJson.Note(order?.Notes, "intent_id") ?? RazorpayJson.Note(payment?.Notes, "intent_id");
        var result = payment is null
            ? new ProviderPayment(orderId, state, AmountMinor: order!.AmountPaid > 0 ? order.AmountPaid : order.Amount, Currency: order.Currency,
                At: RazorpayJson.Time(order.CreatedAt), IntentId: intentId)
            : RazorpayProvider.ToPayment(payment, orderId, intentId) with { State = state };
        if (state != ProviderPaymentState.Failed)
            result = result with { FailureReason = null };
        else if (payment is not null)
            result = result with { FailureReason = payment.ErrorDescription ?? payment.ErrorCode };
        return new ProviderEvent(eventId, type, ProviderEventKind.Payment, Payment: result);
    }

    private static ProviderEvent RefundEvent(string eventId, string type, JsonElement payload)
    {
        if (Entity<RazorpayRefund>(payload, "refund") is not { } refund)
            return new ProviderEvent(eventId, type, ProviderEventKind.Other);
        var state = type switch
        {
            "refund.processed" => ProviderRefundState.Processed,
            "refund.failed" => ProviderRefundState.Failed,
            _ => ProviderRefundState.Pending,
        };
        var result = RazorpayProvider.ToRefund(refund) with { State = state };
        if (state == ProviderRefundState.Failed && result.FailureReason is null)
            result = result with { FailureReason = "Razorpay could not process the refund." };
        return new ProviderEvent(eventId, type, ProviderEventKind.Refund, Refund: result);
    }

    private static ProviderEvent PayoutEvent(string eventId, string type, JsonElement payload) =>
        Entity<RazorpayPayout>(payload, "payout") is { } payout
            ? new ProviderEvent(eventId, type, ProviderEventKind.Payout, Payout: RazorpayProvider.ToPayout(payout))
            : new ProviderEvent(eventId, type, ProviderEventKind.Other);

    /// <summary><c>payload.{name}.entity</c>, or null when the event does not contain it.</summary>
    private static T? Entity<T>(JsonElement payload, string name) where T : class =>
        payload.ValueKind == JsonValueKind.Object
        && payload.TryGetProperty(name, out var wrapper) && wrapper.ValueKind == JsonValueKind.Object
        && wrapper.TryGetProperty("entity", out var entity) && entity.ValueKind == JsonValueKind.Object
            ? entity.Deserialize<T>(RazorpayJson.Options)
            : null;
}
