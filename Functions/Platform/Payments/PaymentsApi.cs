using System.ComponentModel.DataAnnotations;
using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Serverless.Platform.Http;
using Serverless.Platform.Identity;

namespace Serverless.Platform.Payments;

/// <summary>A payment intent as an operator sees it (amounts in minor units).</summary>
public sealed record IntentView(
    [property: JsonPropertyName("id")] string Id,
    [property: JsonPropertyName("surface")] string Surface,
    [property: JsonPropertyName("reference")] string Reference,
    [property: JsonPropertyName("provider")] string Provider,
    [property: JsonPropertyName("status")] string Status,
    [property: JsonPropertyName("amount_minor")] long AmountMinor,
    [property: JsonPropertyName("currency")] string Currency,
    [property: JsonPropertyName("provider_order_id")] string? ProviderOrderId,
    [property: JsonPropertyName("payment_id")] string? PaymentId,
    [property: JsonPropertyName("payment_method")] string? PaymentMethod,
    [property: JsonPropertyName("paid_at")] DateTimeOffset? PaidAt,
    [property: JsonPropertyName("failure_reason")] string? FailureReason,
    [property: JsonPropertyName("stray_payment_id")] string? StrayPaymentId,
    [property: JsonPropertyName("refunded_minor")] long RefundedMinor,
    [property: JsonPropertyName("refund_reserved_minor")] long RefundReservedMinor,
    [property: JsonPropertyName("expires_at")] DateTimeOffset ExpiresAt,
    [property: JsonPropertyName("created_at")] DateTimeOffset CreatedAt,
    [property: JsonPropertyName("updated_at")] DateTimeOffset UpdatedAt,
    [property: JsonPropertyName("refunds")] IReadOnlyList<RefundView> Refunds)
{
    public static IntentView From(PaymentIntent i, IReadOnlyList<IntentRefund> refunds) => new(i.Id, i.Surface, i.Reference, i.Provider, i.Status,
        i.AmountMinor, i.Currency, i.ProviderOrderId, i.PaymentId, i.PaymentMethod, i.PaidAt, i.FailureReason, i.StrayPaymentId, i.RefundedMinor,
        i.RefundReservedMinor, i.ExpiresAt, i.CreatedAt, i.UpdatedAt, refunds.Select(RefundView.From).ToList());
}

public sealed record RefundView(
    [property: JsonPropertyName("id")] string Id,
    [property: JsonPropertyName("payment_id")] string PaymentId,
    [property: JsonPropertyName("amount_minor")] long AmountMinor,
    [property: JsonPropertyName("reason")] string Reason,
    [property: JsonPropertyName("status")] string Status,
    [property: JsonPropertyName("provider_refund_id")] string? ProviderRefundId,
    [property: JsonPropertyName("failure_reason")] string? FailureReason,
    [property: JsonPropertyName("created_at")] DateTimeOffset CreatedAt)
{
    public static RefundView From(IntentRefund r) => new(r.RefundId, r.PaymentId, r.AmountMinor, r.Reason, r.Status, r.ProviderRefundId, r.FailureReason, r.CreatedAt);
}

/// <summary>A refund: <c>amount_minor</c> null refunds all that is left; <c>reason</c> null is "requested_by_operator".</summary>
public sealed record RefundIntentRequest(
    [property: JsonPropertyName("amount_minor"), Range(typeof(long), "1", "9223372036854775807")] long? AmountMinor,
    [property: JsonPropertyName("reason"), StringLength(200)] string? Reason);

/// <summary>What the inbound webhook endpoint answers a provider.</summary>
public sealed record WebhookReceipt(
    [property: JsonPropertyName("status")] string Status,
    [property: JsonPropertyName("event_id")] string EventId);

public sealed record InboundEventView(
    [property: JsonPropertyName("provider")] string Provider,
    [property: JsonPropertyName("event_id")] string EventId,
    [property: JsonPropertyName("status")] string Status,
    [property: JsonPropertyName("type")] string? Type,
    [property: JsonPropertyName("intent_id")] string? IntentId,
    [property: JsonPropertyName("note")] string? Note,
    [property: JsonPropertyName("received_at")] DateTimeOffset ReceivedAt,
    [property: JsonPropertyName("processed_at")] DateTimeOffset? ProcessedAt);

/// <summary>
/// The payments platform's routes: the providers' inbound webhooks (public, verified by signature), the hosted
/// checkout pages (sandbox, Razorpay), and an operator's view of intents, refunds and inbound events.
/// </summary>
public static class PaymentsApi
{
    public static void MapPaymentsApi(this IEndpointRouteBuilder app)
    {
        var payments = app.MapGroup("/payments").WithTags("Payments").AllowAnonymous();
        payments.MapPost("/webhooks/{provider}", ReceiveWebhook).WithName("PaymentProviderWebhook")
            .ProducesErrors(StatusCodes.Status400BadRequest, StatusCodes.Status413PayloadTooLarge)
            .WithSummary("A payment provider's webhook (razorpay, stripe, sandbox)")
            .WithDescription("Called by the payment provider, without credentials: the provider's signature of the raw body " +
            "(X-Razorpay-Signature, Stripe-Signature or X-Sandbox-Signature) is checked before anything else. The " +
            "event is stored once per provider event id and answered 200 with status stored, or duplicate for a " +
            "repeat; processing continues from the stored event. 400 invalid_signature when the signature does not " +
            "hold; 404 when no such provider is configured; bodies are limited to 64 KiB.")
            .WithMetadata(new RequestSizeLimitAttribute(InboundEvents.MaxBodyBytes));
        payments.MapGet("/sandbox/{orderId}", SandboxCheckoutPage.Render).WithName("SandboxCheckoutPage").RequireRateLimiting(RateLimitPolicies.PerCaller)
            .ExcludeFromDescription();
        payments.MapPost("/sandbox/{orderId}", SandboxCheckoutPage.Submit).WithName("SandboxCheckoutSubmit").RequireRateLimiting(RateLimitPolicies.PerCaller)
            .WithMetadata(new RequestSizeLimitAttribute(4096)).ExcludeFromDescription();

        payments.MapGet("/razorpay/checkout/{orderId}", RazorpayCheckoutEndpoints.Page).WithName("RazorpayCheckoutPage")
            .RequireRateLimiting(RateLimitPolicies.PerCaller).ExcludeFromDescription();
        payments.MapPost("/razorpay/callback", RazorpayCheckoutEndpoints.Callback).WithName("RazorpayCheckoutCallback")
            .RequireRateLimiting(RateLimitPolicies.PerCaller).WithMetadata(new RequestSizeLimitAttribute(8192)).ExcludeFromDescription();

        var ops = app.MapGroup("/platform/payments").WithTags("Payments").RequireAuthorization(PlatformApi.AdminPolicy)
            .RequireRateLimiting(RateLimitPolicies.PerCaller);
        ops.MapGet("/intents/{intentId}", GetIntent).WithName("PlatformGetPaymentIntent").WithSummary("A payment intent with its refunds (platform admin)")
            .WithDescription("Platform admin only. A payment intent as stored: its surface and reference, provider, status, amount and " +
            "currency (in minor units), the provider's order and payment ids, the amounts refunded and reserved for " +
            "refunds, and every refund. 404 for an unknown intent id.");
        ops.MapPost("/intents/{intentId}/refresh", RefreshIntent).WithName("PlatformRefreshPaymentIntent")
            .WithSummary("Ask the provider for an open intent's newest state and apply it (platform admin)")
            .WithDescription("Platform admin only. Asks the provider for the newest state of an open intent and applies it; an intent " +
            "past its deadline that is still unpaid is closed at the provider and expires. An intent that is no longer " +
            "open is answered as it is. 404 for an unknown intent id; 502/503 payment_provider_unavailable with " +
            "Retry-After when the provider does not answer.");
        ops.MapPost("/intents/{intentId}/refunds", RefundIntent).WithName("PlatformRefundPaymentIntent").ProducesErrors(StatusCodes.Status409Conflict)
            .WithSummary("Refund a paid intent in full or in part (platform admin)")
            .WithDescription("Platform admin only. The Idempotency-Key header (1 to 200 characters) is required and is the refund's " +
            "key: the same key again answers the same refund. amount_minor null refunds all that is left; reason null " +
            "records requested_by_operator. Answers 201 with the refund. 400 validation_error without the key, for an " +
            "amount_minor that is not positive or a reason over 200 characters; 404 for an unknown intent; 409 " +
            "invalid_state unless the intent is paid, exceeds_refundable beyond what is left, idempotency_key_reused " +
            "when the key was used for another amount.")
            .AddOpenApiOperationTransformer((operation, _, _) =>
            {
                // The refund's own key, which the handler reads and requires (this route is not under the idempotency middleware).
                operation.Parameters ??= [];
                operation.Parameters.Add(new Microsoft.OpenApi.OpenApiParameter
                {
                    Name = "Idempotency-Key",
                    In = Microsoft.OpenApi.ParameterLocation.Header,
                    Required = true,
                    Description = "The refund's key (1 to 200 characters): the same key again answers the same refund.",
                    Schema = new Microsoft.OpenApi.OpenApiSchema { Type = Microsoft.OpenApi.JsonSchemaType.String, MinLength = 1, MaxLength = 200 },
                });
                return Task.CompletedTask;
            });
        ops.MapGet("/events/{provider}/{eventId}", GetEvent).WithName("PlatformGetPaymentEvent").WithSummary("A stored inbound provider event: received, processed, unmatched or ignored (platform admin)")
            .WithDescription("Platform admin only. A provider's inbound event as stored: its status (received, processed, unmatched or " +
            "ignored), type, the intent it matched, a note, and when it was received and processed. 404 for an unknown " +
            "provider or event id.");
    }

    /// <summary>
    /// A provider's webhook: the signature of the raw body is checked before anything parses it; the event is stored
    /// (once per provider event id) and answered 200; a repeat is 200 too. A bad signature is 400, with no detail
    /// beyond what is wrong with it.
    /// </summary>
    public static async Task<Results<Ok<WebhookReceipt>, ErrorResult>> ReceiveWebhook(string provider, HttpRequest request, InboundEvents inbound)
    {
        using var buffer = new MemoryStream();
        await request.Body.CopyToAsync(buffer, request.HttpContext.RequestAborted);
        var result = await inbound.ReceiveAsync(provider, request.Headers, buffer.ToArray(), request.HttpContext.RequestAborted);
        return result.Outcome switch
        {
            InboundOutcome.UnknownProvider => ApiErrors.NotFound($"No payment provider '{provider}' is configured."),
            InboundOutcome.Refused => ApiErrors.BadRequest(result.Problem ?? "The signature is not valid.", "invalid_signature"),
            InboundOutcome.Duplicate => TypedResults.Ok(new WebhookReceipt("duplicate", result.EventId!)),
            _ => TypedResults.Ok(new WebhookReceipt("stored", result.EventId!)),
        };
    }

    public static async Task<Results<Ok<IntentView>, ErrorResult>> GetIntent(string intentId, PaymentIntents intents, CancellationToken cancellationToken)
    {
        var intent = await intents.FindAsync(intentId, cancellationToken);
        return intent is null ? NoIntent(intentId) : TypedResults.Ok(IntentView.From(intent, await intents.RefundsAsync(intent.Id, cancellationToken)));
    }

    /// <summary>Asks the provider for the newest state of an open intent now and applies it.</summary>
    public static async Task<Results<Ok<IntentView>, ErrorResult>> RefreshIntent(string intentId, PaymentIntents intents, HttpContext context)
    {
        // A provider that does not answer is 502/503 payment_provider_unavailable (the platform's error handling).
        var intent = await intents.RefreshAsync(intentId, context.RequestAborted);
        return intent is null ? NoIntent(intentId) : TypedResults.Ok(IntentView.From(intent, await intents.RefundsAsync(intent.Id, context.RequestAborted)));
    }

    /// <summary>
    /// Refunds a paid intent, in full or in part. The <c>Idempotency-Key</c> header is required and is the refund's
    /// key: the same key again is the same refund.
    /// </summary>
    public static async Task<Results<Created<RefundView>, ErrorResult>> RefundIntent(
        string intentId, RefundIntentRequest body, PaymentIntents intents, HttpContext context)
    {
        var key = context.Request.Headers["Idempotency-Key"].ToString();
        if (key.Length is 0 or > 200)
            return ApiErrors.BadRequest("The 'Idempotency-Key' header is required (1 to 200 characters): it makes the refund happen once.", "validation_error");
        if (body.AmountMinor is <= 0)
            return ApiErrors.BadRequest("'amount_minor' must be a positive number of minor units.", "validation_error");
        if (body.Reason is { Length: > 200 })
            return ApiErrors.BadRequest("'reason' must be at most 200 characters.", "validation_error");
        var result = await intents.RefundAsync(intentId, key, body.AmountMinor, body.Reason ?? "requested_by_operator", context.RequestAborted);
        return result.Outcome switch
        {
            RefundOutcome.NotFound => NoIntent(intentId),
            RefundOutcome.NotPaid => ApiErrors.Conflict($"Payment intent '{intentId}' is {result.Intent?.Status}: only a paid intent can be refunded.", "invalid_state"),
            RefundOutcome.ExceedsRefundable => ApiErrors.Conflict(
                $"At most {result.Intent?.Refundable} minor units of payment intent '{intentId}' can still be refunded.", "exceeds_refundable"),
            RefundOutcome.KeyReused => ApiErrors.Conflict("This Idempotency-Key was used for a refund of another amount.", "idempotency_key_reused"),
            _ => TypedResults.Created($"/platform/payments/intents/{intentId}", RefundView.From(result.Refund!)),
        };
    }

    public static async Task<Results<Ok<InboundEventView>, ErrorResult>> GetEvent(string provider, string eventId, InboundEvents inbound,
        CancellationToken cancellationToken)
    {
        if (provider.Length > 40 || eventId.Length > 200)
            return ApiErrors.NotFound($"No event '{eventId}' of '{provider}'.");
        var row = await inbound.FindAsync(provider, eventId, cancellationToken);
        return row is null
            ? ApiErrors.NotFound($"No event '{eventId}' of '{provider}'.")
            : TypedResults.Ok(new InboundEventView(row.Provider, row.EventId, row.Status, row.Type, row.IntentId, row.Note, row.ReceivedAt, row.ProcessedAt));
    }

    private static ErrorResult NoIntent(string intentId) => ApiErrors.NotFound($"No payment intent '{intentId}'.");
}
