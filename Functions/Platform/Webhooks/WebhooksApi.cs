using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Serverless.Platform.Http;
using Serverless.Platform.Identity;

namespace Serverless.Platform.Webhooks;

/// <summary>
/// The platform admin's view of outbound webhooks: each owner's endpoint (URL, secret shown once, enabled), the
/// delivery log with every attempt, and redelivery. Surfaces offer the same to their own clients by calling
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

        api.MapPut("/endpoints/{ownerId}", PutEndpoint).WithName("PlatformPutWebhookEndpoint").WithSummary("Create or change an owner's webhook endpoint; its secret is shown on creation (platform admin)").WithIdempotency(storesSecrets: true);
        api.MapGet("/endpoints/{ownerId}", GetEndpoint).WithName("PlatformGetWebhookEndpoint").WithSummary("An owner's webhook endpoint (platform admin)");
        api.MapPost("/endpoints/{ownerId}/rotate-secret", RotateSecret).WithName("PlatformRotateWebhookSecret").WithSummary("Give an owner's webhook endpoint a new signing secret (platform admin)").WithIdempotency(storesSecrets: true);
        api.MapGet("/deliveries", ListDeliveries).WithName("PlatformListWebhookDeliveries").WithSummary("An owner's latest webhook deliveries with their attempts (platform admin)");
        api.MapPost("/deliveries/{deliveryId}/redeliver", Redeliver).WithName("PlatformRedeliverWebhook").WithSummary("Send a delivered or failed webhook again, with the same webhook-id (platform admin)");
    }

    /// <summary>Creates the owner's endpoint (201, with its secret, shown this once) or changes its URL or enabled flag (200).</summary>
    public static async Task<Results<Created<WebhookEndpointResponse>, Ok<WebhookEndpointResponse>, ErrorResult>> PutEndpoint(
        string ownerId, PutWebhookEndpointRequest body, WebhookTargetGuard guard, WebhookEndpoints endpoints, CancellationToken cancellationToken)
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
        string ownerId, WebhookEndpoints endpoints, CancellationToken cancellationToken)
    {
        if (CheckOwner(ownerId, "ownerId") is { } badOwner)
            return badOwner;
        var endpoint = await endpoints.FindAsync(ownerId, cancellationToken);
        return endpoint is null ? NoEndpoint(ownerId) : TypedResults.Ok(WebhookEndpointResponse.From(endpoint));
    }

    /// <summary>A new secret for the endpoint, shown this once; the old one stops signing at once.</summary>
    public static async Task<Results<Ok<WebhookEndpointResponse>, ErrorResult>> RotateSecret(
        string ownerId, WebhookEndpoints endpoints, CancellationToken cancellationToken)
    {
        if (CheckOwner(ownerId, "ownerId") is { } badOwner)
            return badOwner;
        var change = await endpoints.RotateSecretAsync(ownerId, cancellationToken);
        return change is null ? NoEndpoint(ownerId) : TypedResults.Ok(WebhookEndpointResponse.From(change.Endpoint, change.NewSecret));
    }

    /// <summary>The owner's latest deliveries, newest first, each with its attempts.</summary>
    public static async Task<Results<Ok<List<WebhookDeliveryResponse>>, ErrorResult>> ListDeliveries(
        [FromQuery(Name = "owner_id")] string? ownerId, int? limit, WebhookPublisher publisher, CancellationToken cancellationToken)
    {
        var problem = CheckOwner(ownerId, "owner_id") ?? Check.Range(limit ?? DefaultLimit, "limit", 1, MaxLimit);
        if (problem is not null)
            return problem;
        var deliveries = await publisher.ListDeliveriesAsync(ownerId!, limit ?? DefaultLimit, cancellationToken);
        return TypedResults.Ok(deliveries.Select(d => WebhookDeliveryResponse.From(d.Delivery, d.Attempts)).ToList());
    }

    /// <summary>
    /// Sends the delivery's stored event again, with the same webhook-id, as a new delivery linked to it (202); 409
    /// while the delivery is still pending or sending.
    /// </summary>
    public static async Task<Results<Accepted<WebhookDeliveryResponse>, ErrorResult>> Redeliver(
        string deliveryId, [FromQuery(Name = "owner_id")] string? ownerId, WebhookPublisher publisher, CancellationToken cancellationToken)
    {
        if (CheckOwner(ownerId, "owner_id") is { } badOwner)
            return badOwner;
        var delivery = await publisher.RedeliverAsync(ownerId!, deliveryId, cancellationToken);
        return delivery is null
            ? ApiErrors.NotFound($"Owner '{ownerId}' has no webhook delivery '{deliveryId}'.")
            : TypedResults.Accepted((string?)null, WebhookDeliveryResponse.From(delivery, []));
    }

    private static ErrorResult? CheckOwner(string? ownerId, string field) =>
        Check.Required(ownerId, field, WebhookPublisher.MaxIdLength)
        ?? (ownerId!.Any(char.IsControl) ? ApiErrors.BadRequest($"'{field}' must not contain control characters.", "validation_error") : null);

    private static ErrorResult NoEndpoint(string ownerId) => ApiErrors.NotFound($"Owner '{ownerId}' has no webhook endpoint.");
}
