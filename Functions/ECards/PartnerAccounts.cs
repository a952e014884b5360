using System.Globalization;
using System.Text.Json;
using Azure;
using Azure.Data.Tables;
using Serverless.Platform.Storage;

namespace Serverless.ECards;

public enum PlaceOutcome
{
    Placed,
    Existing,
    DifferentBody,
    InsufficientBalance,
}

public sealed record PlaceResult(PlaceOutcome Outcome, ECardOrderRow? Order, long Balance = 0);

public sealed record OrderDraft(
    string OrderId, string Fingerprint, string ParticipantEmail, string ParticipantName, string ParticipantPhone,
    IReadOnlyList<OrderLine> Lines)
{
    public long Total => Lines.Sum(l => checked(l.Price * l.Quantity));
}

public enum CancelOutcome
{
    Cancelled,
    NotFound,
    NotCancellable,
}

/// <summary>
/// A partner's money and orders, all in one partition of <c>ecardaccounts</c> (PK = partner id): the balance row,
/// the ledger rows, the order rows and their orderId index rows. Every movement is one entity-group transaction
/// that replaces the balance row with the ETag it read and inserts a ledger row keyed by what caused it, so an
/// order exists exactly when its debit does, and the sum of the ledger always equals the balance.
/// </summary>
public sealed class PartnerAccounts(StorageAccount storage, IdBlockAllocator ids, TimeProvider time)
{
    public const string TableName = "ecardaccounts";
    public const string NumberSequence = "ecard-orders";
    public const int MaxAttempts = 40;

    private TableClient Table => storage.Table(TableName);

    public static string Partition(string partnerId) => TableKeys.Escape(partnerId);

    public static string IndexKey(string orderId) => "orderid-" + orderId;

    public static string DebitKey(string orderId) => "ledger-debit-" + orderId;

    public static string RefundKey(string orderId) => "ledger-refund-" + orderId;

    public static string TopUpKey(string reference) => "ledger-topup-" + TableKeys.Escape(reference);

    public static string OrderKey(DateTimeOffset createdAt, long number) =>
        "order-" + TableKeys.NewestFirst(createdAt) + "-" + (long.MaxValue - number).ToString("D19", CultureInfo.InvariantCulture);

    public async Task<long> BalanceAsync(string partnerId, CancellationToken cancellationToken = default) =>
        (await Table.FindAsync<PartnerBalanceRow>(Partition(partnerId), PartnerBalanceRow.Key, cancellationToken))?.Balance ?? 0;

    /// <summary>Credits a top-up; the same reference twice is one credit. Returns the balance and whether it was applied now.</summary>
    public async Task<(long Balance, bool Applied)> TopUpAsync(string partnerId, long amount, string reference, CancellationToken cancellationToken = default)
    {
        var pk = Partition(partnerId);
        for (var attempt = 1; ; attempt++)
        {
            var balance = await Table.FindAsync<PartnerBalanceRow>(pk, PartnerBalanceRow.Key, cancellationToken);
            if (await Table.FindAsync<LedgerRow>(pk, TopUpKey(reference), cancellationToken) is not null)
                return (balance?.Balance ?? 0, false);
            var after = checked((balance?.Balance ?? 0) + amount);
            var ledger = new LedgerRow { PartitionKey = pk, RowKey = TopUpKey(reference), Kind = "topup", Amount = amount, BalanceAfter = after, At = time.GetUtcNow() };
            var actions = new List<TableTransactionAction>
            {
                balance is null
                    ? new(TableTransactionActionType.Add, new PartnerBalanceRow { PartitionKey = pk, Balance = after })
                    : new(TableTransactionActionType.UpdateReplace, balance with { Balance = after }, balance.ETag),
                new(TableTransactionActionType.Add, ledger),
            };
            if (await TrySubmitAsync(actions, attempt, cancellationToken) is not null)
                return (after, true);
        }
    }

    /// <summary>
    /// Places an order and debits its total in one transaction. The same orderId again returns the order placed
    /// first (or <see cref="PlaceOutcome.DifferentBody"/> when the request differs); nothing is created or charged twice.
    /// </summary>
    public async Task<PlaceResult> PlaceAsync(string partnerId, OrderDraft draft, CancellationToken cancellationToken = default)
    {
        // Orders of one partner on this instance take turns at the balance row instead of racing for its ETag and
        // retrying; other instances are still kept out by the ETag.
        var gate = _gates.GetOrAdd(partnerId, _ => new SemaphoreSlim(1, 1));
        await gate.WaitAsync(cancellationToken);
        try
        {
            return await PlaceOnceAsync(partnerId, draft, cancellationToken);
        }
        finally
        {
            gate.Release();
        }
    }

    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, SemaphoreSlim> _gates = new(StringComparer.Ordinal);

    private async Task<PlaceResult> PlaceOnceAsync(string partnerId, OrderDraft draft, CancellationToken cancellationToken)
    {
        var pk = Partition(partnerId);
        long? number = null;
        for (var attempt = 1; ; attempt++)
        {
            if (await FindExistingAsync(pk, draft) is { } existing)
                return existing;
            var balance = await Table.FindAsync<PartnerBalanceRow>(pk, PartnerBalanceRow.Key, cancellationToken);
            var total = draft.Total;
            if (balance is null || balance.Balance < total)
                return new PlaceResult(PlaceOutcome.InsufficientBalance, null, balance?.Balance ?? 0);
            number ??= await ids.NextAsync(NumberSequence, cancellationToken);
            var now = time.GetUtcNow();
            var order = new ECardOrderRow
            {
                PartitionKey = pk,
                RowKey = OrderKey(now, number.Value),
                OrderId = draft.OrderId,
                PartnerId = partnerId,
                Number = number.Value,
                // Debited in this very transaction: the order is born paid.
                Status = ECardOrderStatus.Payed,
                CreatedAt = now,
                ParticipantEmail = draft.ParticipantEmail,
                ParticipantName = draft.ParticipantName,
                ParticipantPhone = draft.ParticipantPhone,
                Total = total,
                LinesJson = JsonSerializer.Serialize(draft.Lines),
            };
            var after = balance.Balance - total;
            var actions = new List<TableTransactionAction>
            {
                new(TableTransactionActionType.UpdateReplace, balance with { Balance = after, OrderCount = balance.OrderCount + 1 }, balance.ETag),
                new(TableTransactionActionType.Add, new LedgerRow
                {
                    PartitionKey = pk, RowKey = DebitKey(draft.OrderId), Kind = "debit", Amount = -total, BalanceAfter = after,
                    OrderId = draft.OrderId, At = now,
                }),
                new(TableTransactionActionType.Add, order),
                new(TableTransactionActionType.Add, new ECardOrderIndexRow
                {
                    PartitionKey = pk, RowKey = IndexKey(draft.OrderId), OrderRowKey = order.RowKey, Fingerprint = draft.Fingerprint,
                }),
            };
            if (await TrySubmitAsync(actions, attempt, cancellationToken) is { } submitted)
                return new PlaceResult(PlaceOutcome.Placed, await WrittenAsync(order, submitted.Value[2], cancellationToken), after);
        }

        async Task<PlaceResult?> FindExistingAsync(string partition, OrderDraft wanted)
        {
            var index = await Table.FindAsync<ECardOrderIndexRow>(partition, IndexKey(wanted.OrderId), cancellationToken);
            if (index is null)
                return null;
            var order = await Table.FindAsync<ECardOrderRow>(partition, index.OrderRowKey, cancellationToken);
            return new PlaceResult(index.Fingerprint == wanted.Fingerprint ? PlaceOutcome.Existing : PlaceOutcome.DifferentBody, order);
        }
    }

    public async Task<ECardOrderRow?> FindAsync(string partnerId, string orderId, CancellationToken cancellationToken = default)
    {
        var pk = Partition(partnerId);
        var index = await Table.FindAsync<ECardOrderIndexRow>(pk, IndexKey(orderId), cancellationToken);
        return index is null ? null : await Table.FindAsync<ECardOrderRow>(pk, index.OrderRowKey, cancellationToken);
    }

    /// <summary>
    /// One page of the partner's orders, newest first, and how many orders there are: the count comes from the
    /// balance row, and only the rows up to the end of the page are read.
    /// </summary>
    public async Task<(IReadOnlyList<ECardOrderRow> Page, int Count)> ListAsync(string partnerId, int page, int pageSize,
        CancellationToken cancellationToken = default)
    {
        var pk = Partition(partnerId);
        var count = (await Table.FindAsync<PartnerBalanceRow>(pk, PartnerBalanceRow.Key, cancellationToken))?.OrderCount ?? 0;
        var skip = (long)(page - 1) * pageSize;
        var rows = new List<ECardOrderRow>(pageSize);
        if (skip >= count)
            return (rows, count);
        var filter = TableClient.CreateQueryFilter($"PartitionKey eq {pk} and RowKey ge 'order-' and RowKey lt 'order.'");
        string[] columns = ["RowKey", "OrderId", "Number", "CreatedAt", "Status", "ParticipantEmail", "Total"];
        var seen = 0L;
        await foreach (var row in Table.QueryAsync<ECardOrderRow>(filter, maxPerPage: (int)Math.Min(1000, skip + pageSize),
                           select: columns, cancellationToken: cancellationToken))
        {
            if (seen++ < skip)
                continue;
            rows.Add(row);
            if (rows.Count == pageSize)
                break;
        }
        return (rows, count);
    }

    /// <summary>Applies <paramref name="transition"/> to an order row, ETag-conditionally (money untouched).</summary>
    public Task<ECardOrderRow?> TransitionAsync(ECardOrderRow order, Func<ECardOrderRow, ECardOrderRow?> transition,
        CancellationToken cancellationToken = default) =>
        Table.TransitionAsync(order, transition, cancellationToken);

    /// <summary>
    /// Cancels an order that has not been delivered and refunds its total: the order row, the balance row and the
    /// refund ledger row in one transaction.
    /// </summary>
    public async Task<(CancelOutcome Outcome, ECardOrderRow? Order)> CancelAsync(string partnerId, string orderId,
        CancellationToken cancellationToken = default)
    {
        var pk = Partition(partnerId);
        var cancelId = Guid.NewGuid().ToString("N");
        for (var attempt = 1; ; attempt++)
        {
            var order = await FindAsync(partnerId, orderId, cancellationToken);
            if (order is null)
                return (CancelOutcome.NotFound, null);
            if (order.Status == ECardOrderStatus.Cancelled && order.CancelId == cancelId)
                // This call's own transaction, stored although its answer was lost (the SDK's retry met it as 412).
                return (CancelOutcome.Cancelled, order);
            if (ECardOrderStatus.IsFinal(order.Status) || order.DeliveryBatches > 0)
                return (CancelOutcome.NotCancellable, order);
            var balance = await Table.FindAsync<PartnerBalanceRow>(pk, PartnerBalanceRow.Key, cancellationToken)
                          ?? throw new InvalidOperationException("An order without its partner's balance row.");
            var now = time.GetUtcNow();
            var after = balance.Balance + order.Total;
            var cancelled = order with { Status = ECardOrderStatus.Cancelled, CancelledAt = now, CancelId = cancelId };
            var actions = new List<TableTransactionAction>
            {
                new(TableTransactionActionType.UpdateReplace, cancelled, order.ETag),
                new(TableTransactionActionType.UpdateReplace, balance with { Balance = after }, balance.ETag),
                new(TableTransactionActionType.Add, new LedgerRow
                {
                    PartitionKey = pk, RowKey = RefundKey(orderId), Kind = "refund", Amount = order.Total, BalanceAfter = after,
                    OrderId = orderId, At = now,
                }),
            };
            if (await TrySubmitAsync(actions, attempt, cancellationToken) is { } submitted)
                return (CancelOutcome.Cancelled, await WrittenAsync(cancelled, submitted.Value[0], cancellationToken));
        }
    }

    /// <summary>
    /// An order row as a transaction wrote it, with the ETag from storage's answer to its action, so what follows
    /// (fulfilment) starts from it without reading it back; read back only when the answer carries no ETag.
    /// </summary>
    private async Task<ECardOrderRow?> WrittenAsync(ECardOrderRow row, Response answer, CancellationToken cancellationToken)
    {
        if (answer.Headers.ETag is not { } etag)
            return await Table.FindAsync<ECardOrderRow>(row.PartitionKey, row.RowKey, cancellationToken);
        row.ETag = etag;
        return row;
    }

    /// <summary>The ledger of a partner, oldest key first (for audits and the invariant check).</summary>
    public async Task<IReadOnlyList<LedgerRow>> LedgerAsync(string partnerId, CancellationToken cancellationToken = default)
    {
        var pk = Partition(partnerId);
        var rows = new List<LedgerRow>();
        await foreach (var row in Table.QueryAsync<LedgerRow>(TableClient.CreateQueryFilter($"PartitionKey eq {pk} and RowKey ge 'ledger-' and RowKey lt 'ledger.'"),
                           cancellationToken: cancellationToken))
            rows.Add(row);
        return rows;
    }

    /// <summary>
    /// Submits; returns storage's answers to the actions, in their order, or null after a lost race (412 on the
    /// balance or order, 409 on a row another request inserted).
    /// </summary>
    private async Task<Response<IReadOnlyList<Response>>?> TrySubmitAsync(List<TableTransactionAction> actions, int attempt,
        CancellationToken cancellationToken)
    {
        try
        {
            return await Table.SubmitTransactionAsync(actions, cancellationToken);
        }
        catch (RequestFailedException ex) when (ex.Status is 412 or 409 && attempt < MaxAttempts)
        {
            // Lost a race: back off a little (jittered, so racers spread out) and decide again on what is there now.
            await Task.Delay(Random.Shared.Next(1, 10 * Math.Min(attempt, 10)), cancellationToken);
            return null;
        }
        catch (RequestFailedException ex) when (ex.Status is 412 or 409)
        {
            throw new ConcurrencyConflictException("The partner's balance was changed by other requests too many times in a row; try again.", ex);
        }
    }
}
