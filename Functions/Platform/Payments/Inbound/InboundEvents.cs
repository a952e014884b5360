using Azure;
using Azure.Data.Tables;
using Serverless.Platform.Storage;

namespace Serverless.Platform.Payments;

public static class InboundStatus
{
    /// <summary>Stored; its processing is under way (or left to the outbox's recovery).</summary>
    public const string Received = "received";

    public const string Processed = "processed";

    /// <summary>Verified, but about no intent, refund or payout of ours: kept for an operator to look at.</summary>
    public const string Unmatched = "unmatched";

    /// <summary>Verified, of a type the platform does not act on.</summary>
    public const string Ignored = "ignored";
}

/// <summary>
/// One verified provider event, stored before anything acts on it: PK = <c>&lt;provider&gt;|&lt;event id&gt;</c>, so a
/// provider delivering it again meets this row and nothing happens twice. The raw body is kept as received.
/// </summary>
public sealed record InboundEventRow : IStampedRow
{
    public const string Row = "event";

    public string PartitionKey { get; set; } = "";
    public string RowKey { get; set; } = Row;
    public DateTimeOffset? Timestamp { get; set; }
    public ETag ETag { get; set; }
    public string? OperationId { get; set; }

    public string Provider { get; set; } = "";
    public string EventId { get; set; } = "";
    public byte[] Body { get; set; } = [];
    public string Status { get; set; } = InboundStatus.Received;
    public string? Type { get; set; }
    public string? IntentId { get; set; }
    public string? Note { get; set; }
    public DateTimeOffset ReceivedAt { get; set; }
    public DateTimeOffset? ProcessedAt { get; set; }

    public static string PartitionFor(string provider, string eventId) => provider + "|" + TableKeys.Escape(eventId);
}

public enum InboundOutcome
{
    Stored,
    Duplicate,
    UnknownProvider,
    Refused,
}

public sealed record InboundResult(InboundOutcome Outcome, string? EventId = null, string? Problem = null);

/// <summary>
/// Provider webhooks in: verify the signature of the raw body before parsing anything, store the event (one row per
/// provider event id), answer; processing continues from the stored row through the outbox channel
/// <c>payment-inbound</c>, right after the store or, if that is cut short, from the outbox's recovery. Processing is
/// idempotent: it applies what the event says through the intents, whose transitions ignore what they already know.
/// </summary>
public sealed class InboundEvents(
    StorageAccount storage,
    Transitions transitions,
    PaymentProviders providers,
    IServiceProvider services,
    TimeProvider time,
    ILogger<InboundEvents> logger)
{
    public const string TableName = "paymentevents";
    public const string Channel = "payment-inbound";

    /// <summary>Provider events are a few KB; a binary table property holds at most 64 KiB.</summary>
    public const int MaxBodyBytes = 64 * 1024;

    private TableClient Table => storage.Table(TableName);

    public async Task<InboundResult> ReceiveAsync(string providerName, IHeaderDictionary headers, byte[] body, CancellationToken cancellationToken)
    {
        var provider = providers.Find(providerName);
        if (provider is null)
            return new InboundResult(InboundOutcome.UnknownProvider);
        var verified = provider.Verify(headers, body, time.GetUtcNow());
        if (!verified.Valid || verified.EventId is not { Length: > 0 and <= 200 } eventId)
            return new InboundResult(InboundOutcome.Refused, Problem: verified.Problem ?? "The event id is missing or too long.");

        var partition = InboundEventRow.PartitionFor(provider.Name, eventId);
        var stored = await transitions.ApplyAsync<InboundEventRow, bool>(Table, partition, InboundEventRow.Row, change =>
        {
            if (change.Current is not null)
                return false;
            change.Write(new InboundEventRow
            {
                PartitionKey = partition, Provider = provider.Name, EventId = eventId, Body = body, ReceivedAt = time.GetUtcNow(),
            }).Publish(new OutboxEvent(Channel, partition, provider.Name, "event", partition));
            return true;
        }, cancellationToken);
        return new InboundResult(stored.Outcome ? InboundOutcome.Stored : InboundOutcome.Duplicate, eventId);
    }

    public Task<InboundEventRow?> FindAsync(string provider, string eventId, CancellationToken cancellationToken) =>
        Table.FindAsync<InboundEventRow>(InboundEventRow.PartitionFor(provider, eventId), InboundEventRow.Row, cancellationToken);

    /// <summary>Acts on a stored event once; a processed event is left alone.</summary>
    public async Task ProcessAsync(string partition, CancellationToken cancellationToken)
    {
        var row = await Table.FindAsync<InboundEventRow>(partition, InboundEventRow.Row, cancellationToken);
        if (row is not { Status: InboundStatus.Received })
            return;
        var provider = providers.Find(row.Provider);
        if (provider is null)
        {
            logger.LogWarning("Event {Event} of {Provider} waits: the provider is not configured", row.EventId, row.Provider);
            return;
        }
        var parsed = provider.Parse(row.EventId, row.Body);
        var intents = services.GetRequiredService<PaymentIntents>();
        var (status, intentId, note) = parsed.Kind switch
        {
            ProviderEventKind.Payment when parsed.Payment is { } payment => await ApplyPaymentAsync(intents, provider.Name, payment, cancellationToken),
            ProviderEventKind.Refund when parsed.Refund is { } refund => await intents.ApplyRefundEventAsync(refund, cancellationToken)
                ? (InboundStatus.Processed, IntentRefund.IntentOf(refund.RefundId), null)
                : (InboundStatus.Unmatched, null, $"No refund '{refund.RefundId ?? refund.ProviderRefundId}' of ours."),
            ProviderEventKind.Payout when parsed.Payout is { } payout => await ApplyPayoutAsync(payout, cancellationToken),
            _ => (InboundStatus.Ignored, (string?)null, (string?)null),
        };
        if (status == InboundStatus.Unmatched)
            logger.LogWarning("Event {Event} ({Type}) of {Provider} matches nothing of ours: {Note}", row.EventId, parsed.Type, row.Provider, note);
        // From the row as read: no second read unless another delivery wrote it meanwhile.
        await Table.TransitionAsync(row, current => current.Status != InboundStatus.Received
            ? null
            : current with { Status = status, Type = parsed.Type, IntentId = intentId, Note = note, ProcessedAt = time.GetUtcNow() }, cancellationToken);
    }

    private async Task<(string, string?, string?)> ApplyPaymentAsync(PaymentIntents intents, string provider, ProviderPayment payment,
        CancellationToken cancellationToken)
    {
        // The intent the provider echoes back, if it is one of this provider's; else the one its order was made for.
        var intent = payment.IntentId is { } echoed && await intents.FindAsync(echoed, cancellationToken) is { } named && named.Provider == provider
            ? named
            : await intents.FindByOrderAsync(provider, payment.OrderId, cancellationToken);
        if (intent is null)
            return (InboundStatus.Unmatched, null, $"No intent for order '{payment.OrderId}'.");
        await intents.ApplyAsync(intent.Id, payment, cancellationToken);
        return (InboundStatus.Processed, intent.Id, null);
    }

    private async Task<(string, string?, string?)> ApplyPayoutAsync(ProviderPayout payout, CancellationToken cancellationToken)
    {
        var payouts = services.GetService<Payouts>();
        return payouts is not null && await payouts.ApplyAsync(payout, cancellationToken)
            ? (InboundStatus.Processed, null, null)
            : (InboundStatus.Unmatched, null, $"No payout '{payout.PayoutId ?? payout.ProviderPayoutId}' of ours.");
    }
}

/// <summary>Processes a stored inbound event once its row is written (the outbox delivers this channel).</summary>
public sealed class InboundEventChannel(IServiceProvider services) : IOutboxChannel
{
    public string Name => InboundEvents.Channel;

    public Task DeliverAsync(OutboxEvent message, CancellationToken cancellationToken) =>
        services.GetRequiredService<InboundEvents>().ProcessAsync(message.Body, cancellationToken);
}

/// <summary>Hands an intent's move to its surface (the outbox delivers this channel); a refused success is refunded.</summary>
public sealed class PaymentIntentChannel(IServiceProvider services, ILogger<PaymentIntentChannel> logger) : IOutboxChannel
{
    public string Name => PaymentIntents.Channel;

    public async Task DeliverAsync(OutboxEvent message, CancellationToken cancellationToken)
    {
        if (PaymentIntents.ReadEvent(message.Body) is not { } change)
        {
            logger.LogError("Discarding an unreadable payment intent event {Key}", message.Key);
            return;
        }
        var handler = services.GetServices<IPaymentIntentHandler>().FirstOrDefault(h => h.Surface == change.Surface);
        if (handler is null)
        {
            logger.LogWarning("No surface '{Surface}' handles payment intents; intent {Intent} moved to {Status}", change.Surface, change.IntentId, change.Status);
            return;
        }
        var accepted = await handler.OnChangedAsync(change, cancellationToken);
        if (!accepted && change.Status == IntentStatus.Succeeded)
            await services.GetRequiredService<PaymentIntents>().RefundAsync(change.IntentId, PaymentIntents.RefusedKey(change.PaymentId), null,
                "refused_by_" + change.Surface, cancellationToken);
    }
}
