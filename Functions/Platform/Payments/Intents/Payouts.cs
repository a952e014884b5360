using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using Azure;
using Azure.Data.Tables;
using Serverless.Platform.Deadlines;
using Serverless.Platform.Storage;

namespace Serverless.Platform.Payments;

/// <summary>Payout statuses as Razorpay names them (queued is <c>pending</c>; rejected and cancelled are <c>failed</c>).</summary>
public static class PayoutStatus
{
    /// <summary>Recorded; the provider has not answered yet.</summary>
    public const string Requested = "requested";

    public const string Pending = "pending";
    public const string Processing = "processing";
    public const string Processed = "processed";
    public const string Failed = "failed";
    public const string Reversed = "reversed";

    public static readonly StateMachine Machine = new("payout",
        (Requested, Pending), (Requested, Processing), (Requested, Processed), (Requested, Failed),
        (Pending, Processing), (Pending, Processed), (Pending, Failed),
        (Processing, Processed), (Processing, Failed), (Processing, Reversed),
        (Processed, Reversed));

    public static bool IsFinal(string status) => status is Failed or Reversed;

    /// <summary>A provider's status in these terms; null for one that says nothing new.</summary>
    public static string? From(string providerStatus) => providerStatus switch
    {
        "queued" or "pending" => Pending,
        "processing" => Processing,
        "processed" => Processed,
        "reversed" => Reversed,
        "failed" or "rejected" or "cancelled" => Failed,
        _ => null,
    };
}

/// <summary>
/// One payout to a bank account: PK = its id (<c>po_…</c>, from the surface, owner and key), written before the
/// provider is asked; the id is the provider's idempotency key and the reference it echoes. Only the last four
/// digits of the account are kept.
/// </summary>
public sealed record PayoutRow : IStampedRow, IStatefulRow
{
    public const string Row = "payout";

    public string PartitionKey { get; set; } = "";
    public string RowKey { get; set; } = Row;
    public DateTimeOffset? Timestamp { get; set; }
    public ETag ETag { get; set; }
    public string? OperationId { get; set; }

    public string PayoutId { get; set; } = "";
    public string Surface { get; set; } = "";
    public string Owner { get; set; } = "";
    public string Key { get; set; } = "";
    public string Provider { get; set; } = "";
    public long AmountMinor { get; set; }
    public string Currency { get; set; } = "";
    public string AccountLast4 { get; set; } = "";
    public string Status { get; set; } = PayoutStatus.Requested;
    public int Sequence { get; set; }
    public string? ProviderPayoutId { get; set; }
    public string? FailureReason { get; set; }
    public string? Utr { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset UpdatedAt { get; set; }

    StateMachine IStatefulRow.Moves => PayoutStatus.Machine;

    public static string IdFor(string surface, string owner, string key) =>
        "po_" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(surface + "\n" + owner + "\n" + key)))[..32];
}

/// <summary>What a surface asks to pay out; asking again with the same key is the same payout.</summary>
public sealed record PayoutOrder(
    string Surface, string Owner, string Key, long AmountMinor, string Currency, PayoutBankAccount Account, string ContactName,
    string? ContactEmail, string Mode = "IMPS", string Purpose = "payout", string Narration = "Payout", string? Provider = null);

/// <summary>One move of a payout, as its surface hears it (keyed by payout and move count).</summary>
public sealed record PayoutEvent(
    [property: JsonPropertyName("event_key")] string EventKey,
    [property: JsonPropertyName("payout_id")] string PayoutId,
    [property: JsonPropertyName("surface")] string Surface,
    [property: JsonPropertyName("owner")] string Owner,
    [property: JsonPropertyName("key")] string Key,
    [property: JsonPropertyName("status")] string Status,
    [property: JsonPropertyName("amount_minor")] long AmountMinor,
    [property: JsonPropertyName("currency")] string Currency,
    [property: JsonPropertyName("failure_reason")] string? FailureReason,
    [property: JsonPropertyName("utr")] string? Utr);

/// <summary>A surface's side of its payouts: called once per move (idempotently, keyed), e.g. to return a failed payout's money to the earnings it came from.</summary>
public interface IPayoutHandler
{
    string Surface { get; }

    Task OnChangedAsync(PayoutEvent change, CancellationToken cancellationToken);
}

public enum PayoutOutcome
{
    Requested,
    KeyReused,
    NoProvider,
}

/// <summary>
/// Payouts to bank accounts through the provider that makes them (Razorpay payouts via contacts and fund accounts;
/// the sandbox processes them at once). The row first, then the provider under the payout's id as idempotency key;
/// the provider's answer, its webhooks (<c>payout.processed</c>, <c>payout.failed</c>, <c>payout.reversed</c>) and a
/// reconciliation deadline move the row; every move reaches the surface through the outbox.
/// </summary>
public sealed class Payouts(
    StorageAccount storage,
    Transitions transitions,
    IEnumerable<IPayoutProvider> payoutProviders,
    PaymentProviders providers,
    DeadlineScheduler deadlines,
    TimeProvider time,
    ILogger<Payouts> logger)
{
    public const string TableName = "payouts";
    public const string Channel = "payout";
    public const string ReconcileDeadline = "payout";

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);
    private TableClient Table => storage.Table(TableName);

    private IPayoutProvider? ProviderFor(string? name) =>
        payoutProviders.FirstOrDefault(p => string.Equals(p.Name, name ?? providers.DefaultName, StringComparison.OrdinalIgnoreCase));

    public Task<PayoutRow?> FindAsync(string payoutId, CancellationToken cancellationToken) =>
        payoutId.StartsWith("po_", StringComparison.Ordinal) && payoutId.Length == 35
            ? Table.FindAsync<PayoutRow>(payoutId, PayoutRow.Row, cancellationToken)
            : Task.FromResult<PayoutRow?>(null);

    public async Task<(PayoutOutcome Outcome, PayoutRow? Payout)> RequestAsync(PayoutOrder order, CancellationToken cancellationToken)
    {
        var provider = ProviderFor(order.Provider);
        if (provider is null)
            return (PayoutOutcome.NoProvider, null);
        var id = PayoutRow.IdFor(order.Surface, order.Owner, order.Key);
        var last4 = order.Account.AccountNumber.Length >= 4 ? order.Account.AccountNumber[^4..] : order.Account.AccountNumber;
        var recorded = await transitions.ApplyAsync<PayoutRow, bool>(Table, id, PayoutRow.Row, change =>
        {
            if (change.Current is { } existing)
                return existing.AmountMinor == order.AmountMinor && existing.Currency == order.Currency && existing.AccountLast4 == last4;
            var now = time.GetUtcNow();
            change.Write(new PayoutRow
            {
                PartitionKey = id, PayoutId = id, Surface = order.Surface, Owner = order.Owner, Key = order.Key, Provider = provider.Name,
                AmountMinor = order.AmountMinor, Currency = order.Currency, AccountLast4 = last4, CreatedAt = now, UpdatedAt = now,
            });
            return true;
        }, cancellationToken);
        if (!recorded.Outcome)
            return (PayoutOutcome.KeyReused, recorded.Row);
        var payout = recorded.Row!;
        if (payout.Status != PayoutStatus.Requested)
            return (PayoutOutcome.Requested, payout);

        await deadlines.ScheduleAsync(ReconcileDeadline, id, time.GetUtcNow() + TimeSpan.FromMinutes(10), cancellationToken);
        ProviderPayout answer;
        try
        {
            answer = await provider.CreatePayoutAsync(new PayoutRequest(id, id, order.AmountMinor, order.Currency, order.Account, order.ContactName,
                order.ContactEmail, order.Mode, order.Purpose, order.Narration), cancellationToken);
        }
        catch (PaymentProviderException ex) when (ex.Transient)
        {
            // Recorded and unanswered: asking again with the same key (the surface's retry) is the same payout.
            logger.LogWarning("Payout {Payout}: the provider did not answer ({Error})", id, ex.Message);
            return (PayoutOutcome.Requested, payout);
        }
        catch (PaymentProviderException ex)
        {
            answer = new ProviderPayout("", "failed", id, ex.Message);
        }
        return (PayoutOutcome.Requested, await ApplyToAsync(id, answer, cancellationToken) ?? payout);
    }

    /// <summary>Applies a provider's word about a payout (webhook, answer, fetch); false when it is none of ours.</summary>
    public async Task<bool> ApplyAsync(ProviderPayout answer, CancellationToken cancellationToken)
    {
        if (answer.PayoutId is not { } id || await FindAsync(id, cancellationToken) is null)
            return false;
        await ApplyToAsync(id, answer, cancellationToken);
        return true;
    }

    private async Task<PayoutRow?> ApplyToAsync(string id, ProviderPayout answer, CancellationToken cancellationToken)
    {
        var applied = await transitions.ApplyAsync<PayoutRow, bool>(Table, id, PayoutRow.Row, change =>
        {
            if (change.Current is not { } payout || PayoutStatus.From(answer.Status) is not { } status)
                return false;
            var next = payout with
            {
                ProviderPayoutId = answer.ProviderPayoutId.Length > 0 ? answer.ProviderPayoutId : payout.ProviderPayoutId,
                Utr = answer.Utr ?? payout.Utr, FailureReason = answer.FailureReason ?? payout.FailureReason, UpdatedAt = time.GetUtcNow(),
            };
            if (status != payout.Status)
            {
                // Webhooks come in any order: a move backwards (processing after processed) says nothing new.
                if (!PayoutStatus.Machine.Allows(payout.Status, status))
                    return false;
                next = next with { Status = status, Sequence = payout.Sequence + 1 };
                change.Write(next).Publish(Event(next));
                return true;
            }
            if (next != payout)
                change.Write(next);
            return false;
        }, cancellationToken);
        return applied.Row;
    }

    /// <summary>The payout deadline: asks the provider about a payout not yet final, and again later while it stays so.</summary>
    public async Task ReconcileAsync(string payoutId, CancellationToken cancellationToken)
    {
        var payout = await FindAsync(payoutId, cancellationToken);
        if (payout is null || PayoutStatus.IsFinal(payout.Status) || payout.ProviderPayoutId is not { Length: > 0 } providerId)
            return;
        if (ProviderFor(payout.Provider) is not { } provider)
            return;
        var answer = await provider.FetchPayoutAsync(providerId, cancellationToken);
        payout = await ApplyToAsync(payoutId, answer with { PayoutId = payoutId }, cancellationToken) ?? payout;
        // Processed payouts can still be reversed for a few days; keep an eye on them for a week.
        if (!PayoutStatus.IsFinal(payout.Status) && time.GetUtcNow() - payout.CreatedAt < TimeSpan.FromDays(7))
            await deadlines.ScheduleAsync(ReconcileDeadline, payoutId, time.GetUtcNow() + TimeSpan.FromHours(payout.Status == PayoutStatus.Processed ? 24 : 1), cancellationToken);
    }

    private static OutboxEvent Event(PayoutRow payout)
    {
        var change = new PayoutEvent(payout.PayoutId + ":" + payout.Sequence.ToString(System.Globalization.CultureInfo.InvariantCulture), payout.PayoutId,
            payout.Surface, payout.Owner, payout.Key, payout.Status, payout.AmountMinor, payout.Currency, payout.FailureReason, payout.Utr);
        return new OutboxEvent(Channel, change.EventKey, payout.Surface, payout.Status, JsonSerializer.Serialize(change, Json));
    }

    internal static PayoutEvent? ReadEvent(string body)
    {
        try
        {
            return JsonSerializer.Deserialize<PayoutEvent>(body, Json);
        }
        catch (JsonException)
        {
            return null;
        }
    }
}

/// <summary>Hands a payout's move to its surface (the outbox delivers this channel).</summary>
public sealed class PayoutChannel(IServiceProvider services, ILogger<PayoutChannel> logger) : IOutboxChannel
{
    public string Name => Payouts.Channel;

    public async Task DeliverAsync(OutboxEvent message, CancellationToken cancellationToken)
    {
        if (Payouts.ReadEvent(message.Body) is not { } change)
        {
            logger.LogError("Discarding an unreadable payout event {Key}", message.Key);
            return;
        }
        if (services.GetServices<IPayoutHandler>().FirstOrDefault(h => h.Surface == change.Surface) is { } handler)
            await handler.OnChangedAsync(change, cancellationToken);
    }
}
