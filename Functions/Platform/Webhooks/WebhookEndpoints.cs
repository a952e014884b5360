using Azure.Data.Tables;
using Serverless.Platform.Storage;

namespace Serverless.Platform.Webhooks;

/// <summary>An endpoint after a change, and its new secret when the change created one (shown this once).</summary>
public sealed record EndpointChange(WebhookEndpoint Endpoint, string? NewSecret, bool Created);

/// <summary>
/// Each owner's webhook endpoint: its URL, its <c>whsec_</c> signing secret and whether it is enabled. URLs must
/// have passed <see cref="WebhookTargetGuard.CheckAsync"/> before they get here.
/// </summary>
public sealed class WebhookEndpoints(StorageAccount storage, TimeProvider time)
{
    private TableClient Table => storage.Table(WebhookKeys.TableName);

    public Task<WebhookEndpoint?> FindAsync(string ownerId, CancellationToken cancellationToken = default) =>
        Table.FindAsync<WebhookEndpoint>(WebhookKeys.Partition(ownerId), WebhookKeys.EndpointRow, cancellationToken);

    /// <summary>
    /// Creates the owner's endpoint with a new secret, or changes its URL and (when given) its enabled flag;
    /// enabling clears the reason it was disabled.
    /// </summary>
    public async Task<EndpointChange> SetAsync(string ownerId, string url, bool? enabled, CancellationToken cancellationToken = default)
    {
        var now = time.GetUtcNow();
        var partition = WebhookKeys.Partition(ownerId);
        var existing = await FindAsync(ownerId, cancellationToken);
        if (existing is null)
        {
            var secret = StandardWebhooksSigner.NewSecret();
            var created = new WebhookEndpoint
            {
                PartitionKey = partition, OwnerId = ownerId, Url = url, Secret = secret, Enabled = enabled ?? true,
                DisabledReason = enabled == false ? "Disabled by an administrator." : null, CreatedAt = now, UpdatedAt = now,
            };
            if (await Table.TryAddAsync(created, cancellationToken))
                return new EndpointChange(created, secret, Created: true);
            // The row exists: another request created it in between, or this insert was stored and its answer lost
            // (the SDK's retry met it). Only this insert knows this secret, and it is shown this once.
            existing = await FindAsync(ownerId, cancellationToken);
            if (existing is not null && existing.Secret == secret)
                return new EndpointChange(existing, secret, Created: true);
        }
        WebhookEndpoint? Change(WebhookEndpoint e)
        {
            var nowEnabled = enabled ?? e.Enabled;
            if (e.Url == url && e.Enabled == nowEnabled)
                return null;
            return e with
            {
                Url = url,
                Enabled = nowEnabled,
                DisabledReason = nowEnabled ? null : e.Enabled ? "Disabled by an administrator." : e.DisabledReason,
                UpdatedAt = now,
            };
        }
        // Still null here only when the endpoint created in between was removed again: read it once more.
        var updated = existing is null
            ? await Table.TransitionAsync<WebhookEndpoint>(partition, WebhookKeys.EndpointRow, Change, cancellationToken)
            : await Table.TransitionAsync(existing, Change, cancellationToken);
        return new EndpointChange(updated ?? throw new ConcurrencyConflictException("The endpoint was removed while it was being changed."),
            null, Created: false);
    }

    /// <summary>Replaces the signing secret; returns the endpoint and the new secret, or null when there is no endpoint.</summary>
    public async Task<EndpointChange?> RotateSecretAsync(string ownerId, CancellationToken cancellationToken = default)
    {
        var secret = StandardWebhooksSigner.NewSecret();
        var now = time.GetUtcNow();
        var updated = await Table.TransitionAsync<WebhookEndpoint>(WebhookKeys.Partition(ownerId), WebhookKeys.EndpointRow,
            e => e with { Secret = secret, UpdatedAt = now }, cancellationToken);
        return updated is null ? null : new EndpointChange(updated, secret, Created: false);
    }

    /// <summary>Stops deliveries to the owner's endpoint (a 410 from it, or an administrator).</summary>
    public Task<WebhookEndpoint?> DisableAsync(string ownerId, string reason, CancellationToken cancellationToken = default)
    {
        var now = time.GetUtcNow();
        return Table.TransitionAsync<WebhookEndpoint>(WebhookKeys.Partition(ownerId), WebhookKeys.EndpointRow,
            e => e.Enabled ? e with { Enabled = false, DisabledReason = reason, UpdatedAt = now } : null, cancellationToken);
    }
}
