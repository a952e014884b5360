using System.ComponentModel.DataAnnotations;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Serverless.Platform.Http;
using Serverless.Platform.Identity;

namespace Serverless.Platform.Webhooks;

/// <summary>
/// The platform admin's view of outbound webhooks: each owner's endpoint (URL, secret shown once, enabled), the
/// delivery log with every attempt, redelivery, and an early retry of a delivery waiting in backoff. Surfaces offer the same to their own clients by calling
/// <see cref="WebhookEndpoints"/> and <see cref="WebhookPublisher"/> from their routes.
/// </summary>
public static class WebhooksApi
{
    public const int DefaultLimit = 20;
    public const int MaxLimit = 100;

    public static void MapWebhooksApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/platform/webhooks").WithTags("Webhooks")
            .RequireAuthorization(PlatformApi.AdminPolicy).RequireRateLimiting(RateLimitPolicies.PerCaller);

        api.MapPut("/endpoints/{ownerId}", PutEndpoint).WithName("PlatformPutWebhookEndpoint").WithSummary("Create or change an owner's webhook endpoint; its secret is shown on creation (platform admin)")
            .WithDescription("Platform admin only. Creates the owner's outbound webhook endpoint (201, with its signing secret, which " +
            "no other answer shows) or changes its URL and, when enabled is given, its enabled flag (200, without the " +
            "secret). The URL must be absolute https:// (http:// only where the platform allows it), carry no user " +
            "name or password and, unless private targets are allowed, resolve to public addresses only. 400 " +
            "validation_error for an owner id that is blank, longer than 200 characters or holds control characters; " +
            "400 invalid_url for a URL that breaks these rules.").WithIdempotency(storesSecrets: true);
        api.MapGet("/endpoints/{ownerId}", GetEndpoint).WithName("PlatformGetWebhookEndpoint").ProducesErrors(StatusCodes.Status400BadRequest).WithSummary("An owner's webhook endpoint (platform admin)")
            .WithDescription("Platform admin only. The owner's webhook endpoint: its URL, whether it is enabled and why it was " +
            "disabled, without its secret. 400 validation_error for an owner id that is blank, longer than 200 " +
            "characters or holds control characters; 404 when the owner has no endpoint.");
        api.MapPost("/endpoints/{ownerId}/rotate-secret", RotateSecret).WithName("PlatformRotateWebhookSecret").WithSummary("Give an owner's webhook endpoint a new signing secret (platform admin)")
            .WithDescription("Platform admin only. Gives the owner's endpoint a new signing secret, shown in this answer only; the old " +
            "secret stops signing at once. 400 validation_error for a bad owner id; 404 when the owner has no " +
            "endpoint.").WithIdempotency(storesSecrets: true);
        api.MapGet("/deliveries", ListDeliveries).WithName("PlatformListWebhookDeliveries").WithSummary("An owner's latest webhook deliveries with their attempts (platform admin)")
            .WithDescription("Platform admin only. The owner's latest deliveries, newest first, each with its state, target and every " +
            "attempt. owner_id is required (1 to 200 characters, no control characters); limit is 1 to 100 (default " +
            "20), and there is no paging beyond it. 400 validation_error when owner_id is missing or bad or limit is " +
            "out of range.");
        api.MapPost("/deliveries/{deliveryId}/redeliver", Redeliver).WithName("PlatformRedeliverWebhook").ProducesErrors(StatusCodes.Status409Conflict).WithSummary("Send a delivered or failed webhook again, with the same webhook-id (platform admin)")
            .WithDescription("Platform admin only. Sends a finished delivery's event again, with the same webhook-id, as a new delivery " +
            "linked to the original (redelivery_of), and answers 202 with it; owner_id is required. 400 " +
            "validation_error for a missing or bad owner_id; 404 when the owner has no such delivery; 409 " +
            "delivery_in_progress while the delivery is still pending or sending, endpoint_disabled when the owner's " +
            "endpoint is disabled or gone.");
        api.MapPost("/deliveries/{deliveryId}/retry", RetryNow).WithName("PlatformRetryWebhookNow").ProducesErrors(StatusCodes.Status409Conflict)
            .WithSummary("Make a delivery waiting in backoff due now (platform admin)")
            .WithDescription("Platform admin only; owner_id is required. Answers 202 with the delivery, whose next attempt is queued at " +
            "once. 400 validation_error for a missing or bad owner_id; 404 when the owner has no such delivery; 409 " +
            "delivery_finished for a delivered or failed delivery (redeliver it instead), delivery_sending while an " +
            "attempt is in flight, delivery_due when its attempt is already due.");
    }

    /// <summary>Creates the owner's endpoint (201, with its secret, shown this once) or changes its URL or enabled flag (200).</summary>
    public static async Task<Results<Created<WebhookEndpointResponse>, Ok<WebhookEndpointResponse>, ErrorResult>> PutEndpoint(
        [StringLength(WebhookPublisher.MaxIdLength, MinimumLength = 1)] string ownerId, PutWebhookEndpointRequest body, WebhookTargetGuard guard, WebhookEndpoints endpoints, CancellationToken cancellationToken)
    {
        if (CheckOwner(ownerId, "ownerId") is { } badOwner)
            return badOwner;
        if (await guard.CheckAsync(body.Url, "url", cancellationToken) is { } badUrl)
            return ApiErrors.BadRequest(badUrl, "invalid_url");
        var change = await endpoints.SetAsync(ownerId, body.Url.Trim(), body.Enabled, cancellationToken);
        var response = WebhookEndpointResponse.From(change.Endpoint, change.NewSecret);
        return change.Created
            ? TypedResults.Created($"/platform/webhooks/endpoints/{Uri.EscapeDataString(ownerId)}", response)
            : TypedResults.Ok(response);
    }

    public static async Task<Results<Ok<WebhookEndpointResponse>, ErrorResult>> GetEndpoint(
        [StringLength(WebhookPublisher.MaxIdLength, MinimumLength = 1)] string ownerId, WebhookEndpoints endpoints, CancellationToken cancellationToken)
    {
        if (CheckOwner(ownerId, "ownerId") is { } badOwner)
            return badOwner;
        var endpoint = await endpoints.FindAsync(ownerId, cancellationToken);
        return endpoint is null ? NoEndpoint(ownerId) : TypedResults.Ok(WebhookEndpointResponse.From(endpoint));
    }

    /// <summary>A new secret for the endpoint, shown this once; the old one stops signing at once.</summary>
    public static async Task<Results<Ok<WebhookEndpointResponse>, ErrorResult>> RotateSecret(
        [StringLength(WebhookPublisher.MaxIdLength, MinimumLength = 1)] string ownerId, WebhookEndpoints endpoints, CancellationToken cancellationToken)
    {
        if (CheckOwner(ownerId, "ownerId") is { } badOwner)
            return badOwner;
        var change = await endpoints.RotateSecretAsync(ownerId, cancellationToken);
        return change is null ? NoEndpoint(ownerId) : TypedResults.Ok(WebhookEndpointResponse.From(change.Endpoint, change.NewSecret));
    }

    /// <summary>The owner's latest deliveries, newest first, each with its attempts.</summary>
    public static async Task<Results<Ok<List<WebhookDeliveryResponse>>, ErrorResult>> ListDeliveries(
        [FromQuery(Name = "owner_id"), Required, StringLength(WebhookPublisher.MaxIdLength, MinimumLength = 1)] string? ownerId,
        [Range(1, MaxLimit)] int? limit, WebhookPublisher publisher, CancellationToken cancellationToken)
    {
        var problem = CheckOwner(ownerId, "owner_id") ?? Check.Range(limit ?? DefaultLimit, "limit", 1, MaxLimit);
        if (problem is not null)
            return problem;
        var deliveries = await publisher.ListDeliveriesAsync(ownerId!, limit ?? DefaultLimit, cancellationToken);
        return TypedResults.Ok(deliveries.Select(WebhookDeliveryResponse.From).ToList());
    }

    /// <summary>
    /// Sends the delivery's stored event again, with the same webhook-id, as a new delivery linked to it (202); 409
    /// while the delivery is still pending or sending.
    /// </summary>
    public static async Task<Results<Accepted<WebhookDeliveryResponse>, ErrorResult>> Redeliver(
        string deliveryId, [FromQuery(Name = "owner_id"), Required, StringLength(WebhookPublisher.MaxIdLength, MinimumLength = 1)] string? ownerId, WebhookPublisher publisher, CancellationToken cancellationToken)
    {
        if (CheckOwner(ownerId, "owner_id") is { } badOwner)
            return badOwner;
        var delivery = await publisher.RedeliverAsync(ownerId!, deliveryId, cancellationToken);
        return delivery is null
            ? ApiErrors.NotFound($"Owner '{ownerId}' has no webhook delivery '{deliveryId}'.")
            : TypedResults.Accepted((string?)null, WebhookDeliveryResponse.From(delivery));
    }

    /// <summary>
    /// Brings forward the next attempt of a delivery waiting in backoff (202); the sender still claims the attempt
    /// with the delivery's ETag, so the message already queued for the later time cannot send it a second time.
    /// </summary>
    public static async Task<Results<Accepted<WebhookDeliveryResponse>, ErrorResult>> RetryNow(
        string deliveryId, [FromQuery(Name = "owner_id"), Required, StringLength(WebhookPublisher.MaxIdLength, MinimumLength = 1)] string? ownerId, WebhookPublisher publisher, CancellationToken cancellationToken)
    {
        if (CheckOwner(ownerId, "owner_id") is { } badOwner)
            return badOwner;
        var (outcome, delivery) = await publisher.RetryNowAsync(ownerId!, deliveryId, cancellationToken);
        return outcome switch
        {
            RetryNowOutcome.Queued => TypedResults.Accepted((string?)null,
                WebhookDeliveryResponse.From(await publisher.LogAsync(delivery!, cancellationToken))),
            RetryNowOutcome.Finished => ApiErrors.Conflict(
                $"Delivery '{deliveryId}' has {(delivery!.State == WebhookDeliveryStates.Delivered ? "been delivered" : "failed")}; " +
                $"send its event again with POST /platform/webhooks/deliveries/{deliveryId}/redeliver.", "delivery_finished"),
            RetryNowOutcome.Sending => ApiErrors.Conflict($"An attempt of delivery '{deliveryId}' is in flight.", "delivery_sending"),
            RetryNowOutcome.AlreadyDue => ApiErrors.Conflict($"Delivery '{deliveryId}' is already due; its attempt is on its way.", "delivery_due"),
            _ => ApiErrors.NotFound($"Owner '{ownerId}' has no webhook delivery '{deliveryId}'."),
        };
    }

    private static ErrorResult? CheckOwner(string? ownerId, string field) =>
        Check.Required(ownerId, field, WebhookPublisher.MaxIdLength)
        ?? (ownerId!.Any(char.IsControl) ? ApiErrors.BadRequest($"'{field}' must not contain control characters.", "validation_error") : null);

    private static ErrorResult NoEndpoint(string ownerId) => ApiErrors.NotFound($"Owner '{ownerId}' has no webhook endpoint.");
}
