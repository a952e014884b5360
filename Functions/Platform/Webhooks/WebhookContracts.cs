using System.ComponentModel.DataAnnotations;
using System.Text.Json.Serialization;

namespace Serverless.Platform.Webhooks;

/// <summary>
/// Where an owner's webhooks go: an absolute https:// URL (http:// only where the platform allows it) without a user
/// name or password, whose host resolves to public addresses only (unless the platform allows private targets);
/// <c>enabled</c> null keeps the current flag (a new endpoint is enabled).
/// </summary>
public sealed record PutWebhookEndpointRequest(
    [property: JsonPropertyName("url"), Required, StringLength(WebhookTargetGuard.MaxUrlLength, MinimumLength = 1)] string Url,
    [property: JsonPropertyName("enabled")] bool? Enabled = null);

public sealed record WebhookEndpointResponse(
    [property: JsonPropertyName("owner_id")] string OwnerId,
    [property: JsonPropertyName("url")] string Url,
    [property: JsonPropertyName("enabled")] bool Enabled,
    [property: JsonPropertyName("disabled_reason")] string? DisabledReason,
    [property: JsonPropertyName("created_at")] DateTimeOffset CreatedAt,
    [property: JsonPropertyName("updated_at")] DateTimeOffset UpdatedAt,
    [property: JsonPropertyName("secret"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Secret = null)
{
    public static WebhookEndpointResponse From(WebhookEndpoint e, string? secret = null) =>
        new(e.OwnerId, e.Url, e.Enabled, e.DisabledReason, e.CreatedAt, e.UpdatedAt, secret);
}

public sealed record WebhookAttemptResponse(
    [property: JsonPropertyName("attempt")] int Attempt,
    [property: JsonPropertyName("at")] DateTimeOffset At,
    [property: JsonPropertyName("url")] string Url,
    [property: JsonPropertyName("outcome")] string Outcome,
    [property: JsonPropertyName("status_code")] int? StatusCode,
    [property: JsonPropertyName("duration_ms")] long DurationMs,
    [property: JsonPropertyName("error")] string? Error,
    [property: JsonPropertyName("next_attempt_at")] DateTimeOffset? NextAttemptAt);

public sealed record WebhookDeliveryResponse(
    [property: JsonPropertyName("id")] string Id,
    [property: JsonPropertyName("owner_id")] string OwnerId,
    [property: JsonPropertyName("event_id")] string EventId,
    [property: JsonPropertyName("event_type")] string EventType,
    [property: JsonPropertyName("state")] string State,
    // Where the delivery goes: its explicit target (a checkout callback URL), else the owner's endpoint URL, which the
    // next attempt reads when it is sent; once finished, the URL its last attempt went to.
    [property: JsonPropertyName("target_url")] string? TargetUrl,
    [property: JsonPropertyName("signature_scheme")] string SignatureScheme,
    [property: JsonPropertyName("attempt_count")] int AttemptCount,
    [property: JsonPropertyName("next_attempt_at")] DateTimeOffset? NextAttemptAt,
    [property: JsonPropertyName("created_at")] DateTimeOffset CreatedAt,
    [property: JsonPropertyName("completed_at")] DateTimeOffset? CompletedAt,
    [property: JsonPropertyName("last_status_code")] int? LastStatusCode,
    [property: JsonPropertyName("last_error")] string? LastError,
    [property: JsonPropertyName("redelivery_of")] string? RedeliveryOf,
    [property: JsonPropertyName("attempts")] IReadOnlyList<WebhookAttemptResponse> Attempts)
{
    public static WebhookDeliveryResponse From(WebhookDeliveryLog log)
    {
        var (d, attempts) = (log.Delivery, log.Attempts);
        return new(d.Id, d.OwnerId, d.EventId, d.EventType, d.State, log.TargetUrl, d.Scheme, d.Attempts,
            d.IsFinished ? null : d.NextAttemptAt, d.CreatedAt, d.CompletedAt, d.LastStatusCode, d.LastError, d.RedeliveryOf,
            attempts.Select(a => new WebhookAttemptResponse(a.Attempt, a.At, a.Url, a.Outcome, a.StatusCode, a.DurationMs, a.Error, a.NextAttemptAt)).ToList());
    }
}
