using System.Text.Json;
using System.Text.Json.Nodes;
using Azure.Data.Tables;
using Serverless.Platform.Http;
using Serverless.Platform.Identity;
using Serverless.Platform.Storage;

namespace Serverless.Platform.Webhooks;

/// <summary>An explicit destination: a URL, its signing secret and the scheme to sign with (a checkout callback).</summary>
public sealed record WebhookTarget(string Url, string Secret, string Scheme = WebhookSchemes.Standard);

/// <summary>
/// A published event: its id (the <c>webhook-id</c> every delivery carries) and its deliveries. <see cref="Duplicate"/>
/// says the event key had been published before, and nothing new was stored.
/// </summary>
public sealed record PublishedWebhook(string EventId, bool Duplicate, IReadOnlyList<string> DeliveryIds);

/// <summary>
/// A delivery with its attempts, oldest attempt first, and its target URL: the explicit target, else the owner's
/// endpoint URL as it is now (the next attempt reads it when it is sent); for a finished delivery, where its last
/// attempt went.
/// </summary>
public sealed record WebhookDeliveryLog(WebhookDelivery Delivery, IReadOnlyList<WebhookAttempt> Attempts, string? TargetUrl)
{
    public static WebhookDeliveryLog Of(WebhookDelivery delivery, IReadOnlyList<WebhookAttempt> attempts, WebhookEndpoint? endpoint) =>
        new(delivery, attempts, delivery.TargetUrl ?? (delivery.IsFinished && attempts.Count > 0 ? attempts[^1].Url : endpoint?.Url));
}

/// <summary>What asking for a delivery's next attempt now found.</summary>
public enum RetryNowOutcome
{
    /// <summary>The delivery was waiting for a later attempt; it is due now and its message is queued.</summary>
    Queued,
    NotFound,
    Finished,
    Sending,
    AlreadyDue,
}

/// <summary>
/// How surfaces send webhooks. Publishing stores the event and one delivery per target in one transaction, then
/// queues each delivery's key for <see cref="WebhookSender"/>; nothing is sent on the caller's request.
/// Pass an event key (e.g. <c>"pre_order.paid:" + orderId</c>) so that publishing the same thing twice (a retried
/// request, a repeated transition) is one event: the first publication's body and deliveries stand.
/// </summary>
public sealed class WebhookPublisher(
    StorageAccount storage,
    WebhookEndpoints endpoints,
    WebhookSigners signers,
    WebhookTargetGuard guard,
    WebhookQueue queue,
    SecretSealer sealer,
    TimeProvider time)
{
    public const int MaxIdLength = 200;

    private TableClient Table => storage.Table(WebhookKeys.TableName);

    /// <summary>
    /// Sends <paramref name="body"/> (JSON) to the owner's endpoint, if it has an enabled one, signed the Standard
    /// Webhooks way. Without one nothing is stored: no delivery would ever read the event.
    /// </summary>
    public async Task<PublishedWebhook> PublishAsync(string ownerId, string eventType, BinaryData body, string? eventKey = null,
        CancellationToken cancellationToken = default)
    {
        var endpoint = await endpoints.FindAsync(ownerId, cancellationToken);
        WebhookTarget?[] toEndpoint = endpoint is { Enabled: true } ? [null] : [];
        return await StoreAndQueueAsync(ownerId, eventType, body, eventKey, toEndpoint, cancellationToken);
    }

    public Task<PublishedWebhook> PublishAsync(string ownerId, string eventType, JsonNode payload, string? eventKey = null,
        CancellationToken cancellationToken = default) =>
        PublishAsync(ownerId, eventType, Serialize(payload), eventKey, cancellationToken);

    /// <summary>Sends <paramref name="body"/> (JSON) to an explicit target with its own secret and scheme (checkout callbacks).</summary>
    public Task<PublishedWebhook> PublishToAsync(WebhookTarget target, string ownerId, string eventType, BinaryData body,
        string? eventKey = null, CancellationToken cancellationToken = default)
    {
        if (guard.CheckForm(target.Url, "url", out _) is { } problem)
            throw new ArgumentException(problem, nameof(target));
        if (!signers.Has(target.Scheme))
            throw new ArgumentException($"No webhook signer is registered for the scheme '{target.Scheme}'.", nameof(target));
        ArgumentException.ThrowIfNullOrEmpty(target.Secret);
        return StoreAndQueueAsync(ownerId, eventType, body, eventKey, [target], cancellationToken);
    }

    public Task<PublishedWebhook> PublishToAsync(WebhookTarget target, string ownerId, string eventType, JsonNode payload,
        string? eventKey = null, CancellationToken cancellationToken = default) =>
        PublishToAsync(target, ownerId, eventType, Serialize(payload), eventKey, cancellationToken);

    /// <summary>
    /// Sends a delivery's event again, as a new delivery linked to it, with the same <c>webhook-id</c>. Null when
    /// the owner has no such delivery; a 409 while the delivery is still pending or sending (the new one would run
    /// alongside it), and when its endpoint is disabled or gone.
    /// </summary>
    public async Task<WebhookDeliveryLog?> RedeliverAsync(string ownerId, string deliveryId, CancellationToken cancellationToken = default)
    {
        if (!WebhookKeys.IsDeliveryId(deliveryId))
            return null;
        var original = await Table.FindAsync<WebhookDelivery>(WebhookKeys.Partition(ownerId), deliveryId, cancellationToken);
        if (original is null)
            return null;
        if (!original.IsFinished)
            throw new ApiException(ApiError.Conflict(
                $"Delivery '{deliveryId}' is still {original.State}; redeliver it once it has been delivered or has failed.", "delivery_in_progress"));
        var endpoint = original.TargetUrl is null ? await endpoints.FindAsync(ownerId, cancellationToken) : null;
        if (original.TargetUrl is null && endpoint is not { Enabled: true })
            throw new ApiException(ApiError.Conflict("The owner's webhook endpoint is disabled or gone; enable it before redelivering.", "endpoint_disabled"));
        var target = original.TargetUrl is null ? null : new WebhookTarget(original.TargetUrl, OpenSecret(original) ?? "", original.Scheme);
        var delivery = NewDelivery(ownerId, original.EventId, original.EventType, target, time.GetUtcNow()) with { RedeliveryOf = original.Id };
        // A new random id: a row already under it is this insert, stored although its answer was lost.
        await Table.AddOnceAsync(delivery, d => d.RedeliveryOf == original.Id && d.EventId == original.EventId, cancellationToken);
        await queue.SendAsync(delivery, TimeSpan.Zero, cancellationToken);
        return WebhookDeliveryLog.Of(delivery, [], endpoint);
    }

    /// <summary>
    /// Makes a delivery that waits in backoff due now, and queues a message for it. The delivery keeps its sequence,
    /// so the new message and the one already queued for the later time are copies of one message: whichever comes
    /// first claims the attempt with the delivery's ETag, and the attempt's result moves the sequence on, which leaves
    /// the other stale. The delivery is made due before the message is queued: a message that surfaced first would
    /// only go back to wait, and a queue failure after the write still leaves the old message to carry the delivery.
    /// </summary>
    public async Task<(RetryNowOutcome Outcome, WebhookDelivery? Delivery)> RetryNowAsync(string ownerId, string deliveryId,
        CancellationToken cancellationToken = default)
    {
        if (!WebhookKeys.IsDeliveryId(deliveryId))
            return (RetryNowOutcome.NotFound, null);
        var now = time.GetUtcNow();
        var result = await Table.ApplyAsync<WebhookDelivery, RetryNowOutcome>(WebhookKeys.Partition(ownerId), deliveryId, change =>
        {
            var d = change.Current;
            if (d is null)
                return RetryNowOutcome.NotFound;
            // This call's own write, stored although its answer was lost.
            if (d.RetryOperationId == change.OperationId)
                return RetryNowOutcome.Queued;
            if (d.IsFinished)
                return RetryNowOutcome.Finished;
            if (d.State == WebhookDeliveryStates.Sending)
                return RetryNowOutcome.Sending;
            if (d.NextAttemptAt <= now)
                return RetryNowOutcome.AlreadyDue;
            change.Write(d with { NextAttemptAt = now, RetryOperationId = change.OperationId });
            return RetryNowOutcome.Queued;
        }, cancellationToken);
        if (result.Outcome == RetryNowOutcome.Queued)
            await queue.SendAsync(result.Row!, TimeSpan.Zero, cancellationToken);
        return (result.Outcome, result.Row);
    }

    public Task<WebhookDelivery?> FindDeliveryAsync(string ownerId, string deliveryId, CancellationToken cancellationToken = default) =>
        WebhookKeys.IsDeliveryId(deliveryId)
            ? Table.FindAsync<WebhookDelivery>(WebhookKeys.Partition(ownerId), deliveryId, cancellationToken)
            : Task.FromResult<WebhookDelivery?>(null);

    /// <summary>One delivery with its attempts and target URL.</summary>
    public async Task<WebhookDeliveryLog> LogAsync(WebhookDelivery delivery, CancellationToken cancellationToken = default)
    {
        var endpoint = delivery.TargetUrl is null ? await endpoints.FindAsync(delivery.OwnerId, cancellationToken) : null;
        // Attempt rows are "<delivery id>-<attempt>": after the delivery's key and before "<delivery id>.".
        var range = TableClient.CreateQueryFilter(
            $"PartitionKey eq {delivery.PartitionKey} and RowKey gt {delivery.Id} and RowKey lt {delivery.Id + "."}");
        var attempts = new List<WebhookAttempt>();
        await foreach (var attempt in Table.QueryAsync<WebhookAttempt>(range, cancellationToken: cancellationToken))
            attempts.Add(attempt);
        return WebhookDeliveryLog.Of(delivery, attempts, endpoint);
    }

    /// <summary>The owner's latest deliveries, newest first, each with its attempts.</summary>
    public async Task<IReadOnlyList<WebhookDeliveryLog>> ListDeliveriesAsync(string ownerId, int limit, CancellationToken cancellationToken = default)
    {
        // An owner id longer than a storage key owns nothing (the service would refuse the query rather than find none).
        if (ownerId.Length > Serverless.Platform.Storage.TableTransitions.MaxKeyLength)
            return [];
        // Attempt rows sort right after their delivery, so the same key range holds both; two typed reads of it.
        var deliveries = new List<WebhookDelivery>();
        var filter = WebhookKeys.DeliveriesFilter(ownerId);
        await foreach (var row in Table.QueryAsync<WebhookDelivery>(filter, cancellationToken: cancellationToken))
        {
            if (!WebhookKeys.IsDeliveryId(row.RowKey))
                continue;
            deliveries.Add(row);
            if (deliveries.Count == limit)
                break;
        }
        if (deliveries.Count == 0)
            return [];
        var endpoint = deliveries.Any(d => d.TargetUrl is null) ? await endpoints.FindAsync(ownerId, cancellationToken) : null;
        var attempts = new Dictionary<string, List<WebhookAttempt>>(StringComparer.Ordinal);
        var range = TableClient.CreateQueryFilter(
            $"PartitionKey eq {WebhookKeys.Partition(ownerId)} and RowKey gt {deliveries[0].Id} and RowKey lt {deliveries[^1].Id + "~"}");
        await foreach (var attempt in Table.QueryAsync<WebhookAttempt>(range, cancellationToken: cancellationToken))
        {
            if (!WebhookKeys.IsDeliveryId(attempt.RowKey))
                (attempts.TryGetValue(attempt.DeliveryId, out var list) ? list : attempts[attempt.DeliveryId] = []).Add(attempt);
        }
        return deliveries.Select(d => WebhookDeliveryLog.Of(d, attempts.GetValueOrDefault(d.Id) ?? [], endpoint)).ToList();
    }

    private async Task<PublishedWebhook> StoreAndQueueAsync(string ownerId, string eventType, BinaryData body, string? eventKey,
        IReadOnlyList<WebhookTarget?> targets, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(ownerId);
        ArgumentException.ThrowIfNullOrEmpty(eventType);
        if (ownerId.Length > MaxIdLength || eventType.Length > MaxIdLength || eventKey?.Length > 1000)
            throw new ArgumentException($"Owner ids and event types are at most {MaxIdLength} characters, event keys 1000.");
        var bytes = body.ToArray();
        if (bytes.Length > WebhookKeys.MaxBodyBytes)
            throw new ArgumentException($"A webhook body is at most {WebhookKeys.MaxBodyBytes} bytes; this one is {bytes.Length}.", nameof(body));
        EnsureJson(bytes);

        var eventId = WebhookKeys.EventId(ownerId, eventKey);
        if (targets.Count == 0)
            return new PublishedWebhook(eventId, Duplicate: false, []);
        var now = time.GetUtcNow();
        var deliveries = targets.Select(t => NewDelivery(ownerId, eventId, eventType, t, now)).ToList();
        var row = new WebhookEventRow
        {
            PartitionKey = WebhookKeys.Partition(ownerId), RowKey = eventId, OwnerId = ownerId, EventType = eventType, Body = bytes,
            EventKey = eventKey, CreatedAt = now, DeliveryIds = string.Join(',', deliveries.Select(d => d.Id)),
        };
        var actions = new List<TableTransactionAction> { new(TableTransactionActionType.Add, row) };
        actions.AddRange(deliveries.Select(d => new TableTransactionAction(TableTransactionActionType.Add, d)));
        try
        {
            await Table.SubmitTransactionAsync(actions, cancellationToken);
        }
        catch (TableTransactionFailedException ex) when (ex.Status == 409 && ex.FailedTransactionActionIndex is null or 0)
        {
            // The event row exists: the key was published before, or this transaction was stored and its answer lost
            // (the SDK's retry met its own rows). Only this publication knows these new delivery ids.
            var existing = await Table.FindAsync<WebhookEventRow>(row.PartitionKey, row.RowKey, cancellationToken);
            var ours = deliveries.Count > 0 && existing?.DeliveryIds == row.DeliveryIds;
            if (!ours && eventKey is null)
                throw;
            if (!ours)
                return await RequeueUnsentAsync(existing, cancellationToken);
        }
        foreach (var delivery in deliveries)
            await queue.SendAsync(delivery, TimeSpan.Zero, cancellationToken);
        return new PublishedWebhook(eventId, Duplicate: false, deliveries.Select(d => d.Id).ToList());
    }

    /// <summary>
    /// The event was published before. Its deliveries were stored with it; one that was never attempted may have
    /// lost its message (the first publisher stopped before queueing it), so it is queued again. A message too many
    /// does no harm: only one can claim the attempt.
    /// </summary>
    private async Task<PublishedWebhook> RequeueUnsentAsync(WebhookEventRow? existing, CancellationToken cancellationToken)
    {
        if (existing is null)
            throw new ConcurrencyConflictException("The webhook event was removed while it was being published.");
        var ids = existing.DeliveryIds.Split(',', StringSplitOptions.RemoveEmptyEntries);
        foreach (var id in ids)
        {
            var delivery = await Table.FindAsync<WebhookDelivery>(existing.PartitionKey, id, cancellationToken);
            if (delivery is { State: WebhookDeliveryStates.Pending, Attempts: 0 })
                await queue.SendAsync(delivery, delivery.NextAttemptAt - time.GetUtcNow(), cancellationToken);
        }
        return new PublishedWebhook(existing.RowKey, Duplicate: true, ids);
    }

    /// <summary>What a delivery's sealed target secret is bound to: its owner.</summary>
    internal static string SecretBinding(string ownerId) => "webhook-target:" + ownerId;

    /// <summary>A delivery's target secret in plaintext, or null when it cannot be opened (sealed under another signing key).</summary>
    public string? OpenSecret(WebhookDelivery delivery) => sealer.Open(delivery.TargetSecret, SecretBinding(delivery.OwnerId));

    private WebhookDelivery NewDelivery(string ownerId, string eventId, string eventType, WebhookTarget? target, DateTimeOffset now) => new()
    {
        PartitionKey = WebhookKeys.Partition(ownerId),
        RowKey = WebhookKeys.NewDeliveryId(now),
        OwnerId = ownerId,
        EventId = eventId,
        EventType = eventType,
        Scheme = target?.Scheme ?? WebhookSchemes.Standard,
        TargetUrl = target?.Url,
        // The target's own secret is kept sealed: a reader of the table cannot sign as us.
        TargetSecret = target is null ? null : sealer.Seal(target.Secret, SecretBinding(ownerId)),
        State = WebhookDeliveryStates.Pending,
        Sequence = 1,
        NextAttemptAt = now,
        CreatedAt = now,
    };

    private static BinaryData Serialize(JsonNode payload) => new(JsonSerializer.SerializeToUtf8Bytes(payload));

    private static void EnsureJson(byte[] body)
    {
        try
        {
            using var _ = JsonDocument.Parse(body);
        }
        catch (JsonException ex)
        {
            throw new ArgumentException("A webhook body must be JSON: " + ex.Message, nameof(body));
        }
    }
}
