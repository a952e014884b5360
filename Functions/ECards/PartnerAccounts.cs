using System.Globalization;
using System.Text.Json;
using Azure.Data.Tables;
using Serverless.Platform.Payments;
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

/// <summary>A line of a partner's statement in whole currency units: what it did to the balance, and the balance after it.</summary>
public sealed record PartnerStatementLine(string Kind, string Key, long Amount, long BalanceAfter, DateTimeOffset At);

/// <summary>
/// A partner's money and orders, all in one partition of <c>ecardaccounts</c> (PK = partner id), which is the
/// partner's account in the platform <see cref="Ledger"/>: its balance, statement and movement rows, beside the
/// order rows and their orderId index rows. Placing an order is a debit (key <c>order-&lt;orderId&gt;</c>) whose
/// transaction also inserts the order and its index row, so an order exists exactly when it was paid; a top-up is a
/// credit (<c>topup-&lt;reference&gt;</c>); a cancel is a refund of the order's debit (<c>refund-&lt;orderId&gt;</c>)
/// whose transaction also moves the order to Cancelled. Money is whole roubles on the wire and kopecks in the ledger.
/// </summary>
public sealed class PartnerAccounts(StorageAccount storage, Ledger ledger, Transitions transitions, PartnerLedgerMigration migration,
    IdBlockAllocator ids, TimeProvider time)
{
    public const string TableName = "ecardaccounts";
    public const string NumberSequence = "ecard-orders";
    public const string Currency = "RUB";

    private static readonly long MinorPerUnit = (long)Math.Pow(10, Currencies.MinorDigits(Currency));

    private TableClient Table => storage.Table(TableName);

    public static string Partition(string partnerId) => TableKeys.Escape(partnerId);

    public static LedgerAccount Account(string partnerId) => new(TableName, Partition(partnerId), Currency);

    public static string IndexKey(string orderId) => "orderid-" + orderId;

    public static string DebitKey(string orderId) => "order-" + orderId;

    public static string RefundKey(string orderId) => "refund-" + orderId;

    public static string TopUpKey(string reference) => "topup-" + reference;

    public static string OrderKey(DateTimeOffset createdAt, long number) =>
        "order-" + TableKeys.NewestFirst(createdAt) + "-" + (long.MaxValue - number).ToString("D19", CultureInfo.InvariantCulture);

    /// <summary>Whole currency units (the API's money) as the ledger's minor units.</summary>
    public static long ToMinor(long units) => checked(units * MinorPerUnit);

    public static long ToUnits(long minor) => minor / MinorPerUnit;

    public async Task<long> BalanceAsync(string partnerId, CancellationToken cancellationToken = default)
    {
        await migration.EnsureAsync(partnerId, cancellationToken);
        return ToUnits((await ledger.BalanceAsync(Account(partnerId), cancellationToken)).Available);
    }

    /// <summary>
    /// Credits a top-up under its idempotency key; the same key twice is one credit. Returns the balance and whether
    /// this call credited it (also when storage's answer to it was lost: the ledger knows its own write).
    /// </summary>
    public async Task<(long Balance, bool Applied)> TopUpAsync(string partnerId, long amount, string reference, CancellationToken cancellationToken = default)
    {
        await migration.EnsureAsync(partnerId, cancellationToken);
        var moved = await ledger.CreditAsync(Account(partnerId), TopUpKey(reference), ToMinor(amount), cancellationToken: cancellationToken);
        if (moved.Status == MovementStatus.Applied)
            return (ToUnits(moved.Available), true);
        // Credited before (or the key names another amount): nothing moved now, and the balance is today's.
        return (await BalanceAsync(partnerId, cancellationToken), false);
    }

    /// <summary>
    /// Places an order and debits its total in one transaction. The same orderId again returns the order placed
    /// first (or <see cref="PlaceOutcome.DifferentBody"/> when the request differs); nothing is created or charged twice.
    /// </summary>
    public async Task<PlaceResult> PlaceAsync(string partnerId, OrderDraft draft, CancellationToken cancellationToken = default)
    {
        await migration.EnsureAsync(partnerId, cancellationToken);
        var pk = Partition(partnerId);
        var number = await ids.NextAsync(NumberSequence, cancellationToken);
        var now = time.GetUtcNow();
        var order = new ECardOrderRow
        {
            PartitionKey = pk,
            RowKey = OrderKey(now, number),
            OrderId = draft.OrderId,
            PartnerId = partnerId,
            Number = number,
            // Debited in this very transaction: the order is born paid.
            Status = ECardOrderStatus.Payed,
            CreatedAt = now,
            ParticipantEmail = draft.ParticipantEmail,
            ParticipantName = draft.ParticipantName,
            ParticipantPhone = draft.ParticipantPhone,
            Total = draft.Total,
            LinesJson = JsonSerializer.Serialize(draft.Lines),
        };
        var index = new ECardOrderIndexRow { PartitionKey = pk, RowKey = IndexKey(draft.OrderId), OrderRowKey = order.RowKey, Fingerprint = draft.Fingerprint };
        // The debit key is the orderId: a retry meets the first debit (AlreadyApplied) and is answered from the index.
        // The same rows in every attempt (nothing in them depends on the attempt); the seam sets the order's ETag from
        // the transaction's answer, so fulfilment goes on from it without reading it back.
        var moved = await ledger.DebitAsync(Account(partnerId), DebitKey(draft.OrderId), ToMinor(draft.Total),
            step => step.Insert(order).Insert(index), cancellationToken: cancellationToken);
        switch (moved.Status)
        {
            case MovementStatus.Applied:
                // Without an ETag (the answer was lost), whoever goes on from the order reads it first.
                return new PlaceResult(PlaceOutcome.Placed, order, ToUnits(moved.Available));
            case MovementStatus.AlreadyApplied or MovementStatus.KeyConflict or MovementStatus.InsufficientFunds:
                if (await FindPlacedAsync(pk, draft, cancellationToken) is { } existing)
                    return existing;
                if (moved.Status == MovementStatus.InsufficientFunds)
                    return new PlaceResult(PlaceOutcome.InsufficientBalance, null, ToUnits(moved.Available));
                throw new InvalidOperationException($"Order {draft.OrderId} of partner {partnerId} was debited but has no index row.");
            default:
                throw new InvalidOperationException($"A debit for order {draft.OrderId} came to {moved.Status}.");
        }
    }

    private async Task<PlaceResult?> FindPlacedAsync(string pk, OrderDraft wanted, CancellationToken cancellationToken)
    {
        var index = await Table.FindAsync<ECardOrderIndexRow>(pk, IndexKey(wanted.OrderId), cancellationToken);
        if (index is null)
            return null;
        var order = await Table.FindAsync<ECardOrderRow>(pk, index.OrderRowKey, cancellationToken);
        return new PlaceResult(index.Fingerprint == wanted.Fingerprint ? PlaceOutcome.Existing : PlaceOutcome.DifferentBody, order);
    }

    public async Task<ECardOrderRow?> FindAsync(string partnerId, string orderId, CancellationToken cancellationToken = default)
    {
        var pk = Partition(partnerId);
        var index = await Table.FindAsync<ECardOrderIndexRow>(pk, IndexKey(orderId), cancellationToken);
        return index is null ? null : await Table.FindAsync<ECardOrderRow>(pk, index.OrderRowKey, cancellationToken);
    }

    /// <summary>
    /// One page of the partner's orders, newest first, and how many orders there are: every order is one debit, so
    /// the count is the ledger balance row's debit count, and only the rows up to the end of the page are read.
    /// </summary>
    public async Task<(IReadOnlyList<ECardOrderRow> Page, long Count)> ListAsync(string partnerId, int page, int pageSize,
        CancellationToken cancellationToken = default)
    {
        await migration.EnsureAsync(partnerId, cancellationToken);
        var pk = Partition(partnerId);
        var count = (await ledger.BalanceAsync(Account(partnerId), cancellationToken)).Debits;
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

    /// <summary>
    /// Changes an order row through the transition seam (money untouched): <paramref name="decide"/> writes the next
    /// row or nothing, and its moves are checked against <see cref="ECardOrderStatus.Machine"/>.
    /// </summary>
    public Task<Transitioned<ECardOrderRow, TOutcome>> ChangeOrderAsync<TOutcome>(ECardOrderRow known,
        Func<Change<ECardOrderRow>, TOutcome> decide, CancellationToken cancellationToken = default) =>
        known.ETag == default
            ? transitions.ApplyAsync(Table, known.PartitionKey, known.RowKey, decide, cancellationToken)
            : transitions.ApplyAsync(Table, known, decide, cancellationToken);

    public static bool IsCancellable(ECardOrderRow order) =>
        order.DeliveryBatches == 0 && ECardOrderStatus.Machine.Allows(order.Status, ECardOrderStatus.Cancelled)
                                   && order.Status != ECardOrderStatus.Cancelled;

    /// <summary>
    /// Cancels an order that has not been delivered and refunds its total: a refund of the order's debit whose
    /// transaction also moves the order row to Cancelled, decided on the order as it is at each attempt.
    /// </summary>
    public async Task<(CancelOutcome Outcome, ECardOrderRow? Order)> CancelAsync(string partnerId, string orderId,
        CancellationToken cancellationToken = default)
    {
        await migration.EnsureAsync(partnerId, cancellationToken);
        var pk = Partition(partnerId);
        var index = await Table.FindAsync<ECardOrderIndexRow>(pk, IndexKey(orderId), cancellationToken);
        var order = index is null ? null : await Table.FindAsync<ECardOrderRow>(pk, index.OrderRowKey, cancellationToken);
        if (order is null)
            return (CancelOutcome.NotFound, null);
        if (!IsCancellable(order))
            return (CancelOutcome.NotCancellable, order);

        var refunded = await ledger.RefundIfAsync(Account(partnerId), DebitKey(orderId), RefundKey(orderId), ToMinor(order.Total),
            async step =>
            {
                // Fulfilment may have changed the order since it was read: decide on the row as it is now.
                var current = await Table.FindAsync<ECardOrderRow>(pk, order.RowKey, cancellationToken);
                if (current is null || !IsCancellable(current))
                    return false;
                ECardOrderStatus.Machine.Ensure(current.Status, ECardOrderStatus.Cancelled);
                step.Replace(current with { Status = ECardOrderStatus.Cancelled, CancelledAt = step.At });
                return true;
            }, cancellationToken: cancellationToken);

        var after = await Table.FindAsync<ECardOrderRow>(pk, order.RowKey, cancellationToken);
        return refunded.Status == MovementStatus.Applied
            ? (CancelOutcome.Cancelled, after)
            // Declined (delivered meanwhile), or refunded before by another call: this call cancelled nothing.
            : after is null ? (CancelOutcome.NotFound, null) : (CancelOutcome.NotCancellable, after);
    }

    /// <summary>The partner's statement in whole currency units, oldest first (for audits and the invariant check).</summary>
    public async Task<IReadOnlyList<PartnerStatementLine>> LedgerAsync(string partnerId, CancellationToken cancellationToken = default)
    {
        await migration.EnsureAsync(partnerId, cancellationToken);
        var account = Account(partnerId);
        var lines = new List<PartnerStatementLine>();
        const int pageSize = 500;
        for (long offset = 0; ; offset += pageSize)
        {
            var (page, total) = await ledger.StatementAsync(account, pageSize, offset, cancellationToken);
            lines.AddRange(page.Select(r => new PartnerStatementLine(r.Kind, r.MovementKey, ToUnits(r.Amount), ToUnits(r.AvailableAfter), r.At)));
            if (offset + pageSize >= total)
                break;
        }
        lines.Reverse();
        return lines;
    }
}
