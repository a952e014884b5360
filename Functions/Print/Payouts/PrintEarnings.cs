using System.Globalization;
using Azure.Data.Tables;
using Serverless.Platform.Payments;
using Serverless.Platform.Storage;
using Serverless.Print.Accounts;
using Serverless.Print.Admin.Stats;
using Serverless.Print.Wallet;

namespace Serverless.Print.Payouts;

public enum PayoutMark
{
    /// <summary>Moved to the status asked for (a failed payout's money is back in the shop's earnings).</summary>
    Updated,

    /// <summary>It was in that status already: nothing changed.</summary>
    Unchanged,
    NotFound,

    /// <summary>Not a move the payout may make (paid from pending, anything from paid or failed).</summary>
    Illegal,
}

/// <summary>
/// Shops' earnings and their payouts. A confirmed print credits the shop's share to the shop's earnings account and
/// the platform's commission to one of eight commission accounts, both under the job's key, so a job is credited
/// once however often it is reported. A daily payout run (<see cref="RunFunction"/>) turns each shop's earnings of at
/// least <see cref="PrintMoneySettings.PayoutMinimumMinor"/> into a pending payout, debited in the transaction that
/// writes the payout; an admin then moves it on (<see cref="MarkAsync"/>), and a failed one gives its money back.
/// </summary>
public sealed class PrintEarnings(
    StorageAccount storage, Ledger ledger, Transitions transitions, IdBlockAllocator ids, PrintMoneySettings money,
    TimeProvider time, ILogger<PrintEarnings> logger)
{
    public const string TableName = "printearnings";
    public const string RunFunction = "PrintPayoutRun";
    public const string RunSchedule = "0 0 2 * * *";
    public const string PayoutSequence = "print-shop-payout";

    private TableClient Table => storage.Table(TableName);

    /// <summary>
    /// Credits a confirmed print: the shop's share (<see cref="PrintMoneySettings.ShopkeeperShare"/>) to the shop's
    /// earnings and the commission to the platform, each under <c>job-{jobKey}</c>; a repeat of the same job key moves
    /// nothing. Returns the two amounts credited (or credited before).
    /// </summary>
    public async Task<(long ShopMinor, long CommissionMinor)> CreditJobAsync(string jobKey, long shopkeeperId, long amountMinor,
        CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(jobKey);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(amountMinor);
        var commission = money.CommissionOf(amountMinor);
        var share = amountMinor - commission;
        var key = PayoutKeys.Job(jobKey);
        if (share > 0)
        {
            // The index first: earnings never exist without it (a row for a shop whose credit failed is harmless).
            await Table.UpsertEntityAsync(new ShopWithEarningsRow { RowKey = TableKeys.Number(shopkeeperId), ShopkeeperId = shopkeeperId },
                TableUpdateMode.Replace, cancellationToken);
            Ensure(await ledger.CreditAsync(PayoutKeys.Earnings(shopkeeperId), key, share,
                step => step.Publish(PrintStatEvents.EarningsCredited(jobKey, share, step.At)), memo: "Print job " + jobKey,
                cancellationToken: cancellationToken), key);
        }
        if (commission > 0)
            Ensure(await ledger.CreditAsync(PayoutKeys.Commission(PayoutKeys.CommissionShard(jobKey)), key, commission,
                memo: "Commission on print job " + jobKey, cancellationToken: cancellationToken), key);
        return (share, commission);
    }

    private static void Ensure(MovementResult result, string key)
    {
        if (!result.Moved)
            throw new InvalidOperationException($"Earnings movement {key} was not applied: {result.Status}.");
    }

    public async Task<LedgerBalance> EarningsAsync(long shopkeeperId, CancellationToken cancellationToken = default) =>
        await ledger.BalanceAsync(PayoutKeys.Earnings(shopkeeperId), cancellationToken);

    /// <summary>The platform's commission so far: the eight commission accounts added up.</summary>
    public async Task<long> CommissionAsync(CancellationToken cancellationToken = default)
    {
        long total = 0;
        for (var shard = 0; shard < PayoutKeys.CommissionShards; shard++)
            total += (await ledger.BalanceAsync(PayoutKeys.Commission(shard), cancellationToken)).Available;
        return total;
    }

    /// <summary>
    /// The payout run of <paramref name="day"/>: each shop with at least the minimum available gets one payout of
    /// everything available, debited from its earnings in the transaction that writes the payout. The day's payout id
    /// is claimed per shop before the debit, so a repeated run of the same day pays nobody twice. Returns the payouts made.
    /// </summary>
    public async Task<IReadOnlyList<ShopPayoutRow>> RunPayoutsAsync(DateOnly day, CancellationToken cancellationToken = default)
    {
        var made = new List<ShopPayoutRow>();
        var shops = Table.QueryAsync<ShopWithEarningsRow>(r => r.PartitionKey == PayoutKeys.ShopsWithEarnings, cancellationToken: cancellationToken);
        await foreach (var shop in shops)
        {
            try
            {
                if (await PayShopAsync(shop.ShopkeeperId, day, cancellationToken) is { } payout)
                    made.Add(payout);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                // One shop's trouble must not stop the others' payouts; the next run (or a re-run today) tries it again.
                logger.LogError(ex, "Payout run {Day}: shop {Shop} was not paid out", day, shop.ShopkeeperId);
            }
        }
        return made;
    }

    private async Task<ShopPayoutRow?> PayShopAsync(long shopkeeperId, DateOnly day, CancellationToken cancellationToken)
    {
        var account = PayoutKeys.Earnings(shopkeeperId);
        var partition = PayoutKeys.Shop(shopkeeperId);
        var dayKey = PayoutKeys.PayoutDay(day);
        var claimed = await Table.FindAsync<PayoutDayRow>(partition, dayKey, cancellationToken);
        if (claimed is not null && await ledger.FindMovementAsync(account, PayoutKeys.PayoutMovement(claimed.PayoutId), cancellationToken) is not null)
        {
            await IndexByDayAsync(day, claimed.PayoutId, shopkeeperId, cancellationToken);
            return null;
        }
        var balance = await ledger.BalanceAsync(account, cancellationToken);
        if (balance.Available < money.PayoutMinimumMinor)
            return null;
        if (claimed is null)
        {
            var id = await ids.NextAsync(PayoutSequence, cancellationToken);
            var claim = new PayoutDayRow { PartitionKey = partition, RowKey = dayKey, PayoutId = id };
            claimed = await Table.TryAddAsync(claim, cancellationToken)
                ? claim
                : await Table.FindAsync<PayoutDayRow>(partition, dayKey, cancellationToken)
                  ?? throw new InvalidOperationException($"The payout claim {partition}/{dayKey} vanished.");
        }
        var payoutId = claimed.PayoutId;
        var now = time.GetUtcNow();
        // Where the payout is, for finding it by id alone; written before it, and harmless if it never comes.
        await Table.UpsertEntityAsync(new PayoutIdRow { RowKey = TableKeys.Number(payoutId), ShopkeeperId = shopkeeperId, CreatedAt = now },
            TableUpdateMode.Replace, cancellationToken);
        var payout = new ShopPayoutRow
        {
            PartitionKey = partition, RowKey = PayoutKeys.Payout(payoutId), Id = payoutId, ShopkeeperId = shopkeeperId,
            AmountMinor = balance.Available, Day = day.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture), CreatedAt = now, UpdatedAt = now,
        };
        var debit = await ledger.DebitAsync(account, PayoutKeys.PayoutMovement(payoutId), payout.AmountMinor,
            step => step.Insert(payout).Publish(PrintStatEvents.PayoutCreated(payout)), memo: "Payout " + payoutId.ToString(CultureInfo.InvariantCulture), cancellationToken: cancellationToken);
        switch (debit.Status)
        {
            case MovementStatus.Applied:
                await IndexByDayAsync(day, payoutId, shopkeeperId, cancellationToken);
                logger.LogInformation("Payout run {Day}: payout {Payout} of {Amount} paise for shop {Shop}", day, payoutId, payout.AmountMinor, shopkeeperId);
                return payout;
            case MovementStatus.AlreadyApplied:
                await IndexByDayAsync(day, payoutId, shopkeeperId, cancellationToken);
                return null;
            case MovementStatus.KeyConflict:
                return null;
            default:
                // A withdrawal of earnings in between (a failed payout's return is a credit): try again next run.
                logger.LogWarning("Payout run {Day}: shop {Shop} not paid out ({Status})", day, shopkeeperId, debit.Status);
                return null;
        }
    }

    /// <summary>Adds a payout to the day index (an upsert: a repeat writes the same row).</summary>
    private Task IndexByDayAsync(DateOnly day, long payoutId, long shopkeeperId, CancellationToken cancellationToken) =>
        Table.UpsertEntityAsync(new PayoutByDayRow
        {
            PartitionKey = PayoutKeys.PayoutsByMonth(day), RowKey = PayoutKeys.PayoutsByDay(day, payoutId), PayoutId = payoutId,
            ShopkeeperId = shopkeeperId, Day = day.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
        }, TableUpdateMode.Replace, cancellationToken);

    /// <summary>
    /// The payouts of the runs from <paramref name="from"/> to <paramref name="to"/> (inclusive), all shops, newest
    /// day first and, within a day, newest payout first: one range query per month of the window.
    /// </summary>
    public async IAsyncEnumerable<PayoutByDayRow> PayoutsByDayAsync(DateOnly from, DateOnly to,
        [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        for (var month = new DateOnly(to.Year, to.Month, 1); month >= new DateOnly(from.Year, from.Month, 1); month = month.AddMonths(-1))
        {
            var filter = TableClient.CreateQueryFilter(
                $"PartitionKey eq {PayoutKeys.PayoutsByMonth(month)} and RowKey ge {PayoutKeys.PayoutsByDayStart(from)} and RowKey lt {PayoutKeys.PayoutsByDayEnd(to)}");
            var rows = new List<PayoutByDayRow>();
            await foreach (var row in Table.QueryAsync<PayoutByDayRow>(filter, cancellationToken: cancellationToken))
                rows.Add(row);
            // Keys run oldest day first; within a day the inverted id already puts the newest first.
            foreach (var day in rows.GroupBy(r => r.Day).OrderByDescending(g => g.Key, StringComparer.Ordinal))
                foreach (var row in day)
                    yield return row;
        }
    }

    /// <summary>Reads a payout in its shop's partition (a point read).</summary>
    public Task<ShopPayoutRow?> FindPayoutAsync(long shopkeeperId, long payoutId, CancellationToken cancellationToken = default) =>
        Table.FindAsync<ShopPayoutRow>(PayoutKeys.Shop(shopkeeperId), PayoutKeys.Payout(payoutId), cancellationToken);

    /// <summary>Finds a payout by its id.</summary>
    public async Task<ShopPayoutRow?> FindPayoutAsync(long payoutId, CancellationToken cancellationToken = default)
    {
        var where = await Table.FindAsync<PayoutIdRow>(PayoutKeys.PayoutIds, TableKeys.Number(payoutId), cancellationToken);
        return where is null ? null
            : await Table.FindAsync<ShopPayoutRow>(PayoutKeys.Shop(where.ShopkeeperId), PayoutKeys.Payout(payoutId), cancellationToken);
    }

    /// <summary>
    /// Moves a payout on: pending → processing → paid, or pending/processing → failed (which credits the payout's
    /// money back to the shop's earnings, under a key of its own, in the transaction that marks it). The same
    /// status again changes nothing; <paramref name="reference"/> (a bank transfer's reference) is kept when given.
    /// </summary>
    public Task<(PayoutMark Outcome, ShopPayoutRow? Payout)> MarkAsync(long payoutId, string status, string? reference,
        CancellationToken cancellationToken = default) =>
        MarkAsync(payoutId, status, reference, note: null, cancellationToken);

    /// <summary>As <see cref="MarkAsync(long, string, string?, CancellationToken)"/>, keeping the admin's <paramref name="note"/> when given.</summary>
    public async Task<(PayoutMark Outcome, ShopPayoutRow? Payout)> MarkAsync(long payoutId, string status, string? reference, string? note,
        CancellationToken cancellationToken = default)
    {
        if (!ShopPayoutStatus.All.Contains(status))
            throw new ArgumentException($"'{status}' is not a payout status.", nameof(status));
        var found = await FindPayoutAsync(payoutId, cancellationToken);
        if (found is null)
            return (PayoutMark.NotFound, null);
        if (found.Status == status)
            return (PayoutMark.Unchanged, found);
        if (!ShopPayoutStatus.Machine.Allows(found.Status, status))
            return (PayoutMark.Illegal, found);

        if (status == ShopPayoutStatus.Failed)
        {
            ShopPayoutRow? written = null;
            var outcome = PayoutMark.Illegal;
            var account = PayoutKeys.Earnings(found.ShopkeeperId);
            var returned = await ledger.RefundIfAsync(account, PayoutKeys.PayoutMovement(payoutId), PayoutKeys.PayoutReturned(payoutId),
                found.AmountMinor, async step =>
                {
                    // Read afresh on every attempt: the payout may have moved on meanwhile (paid, or failed by another call).
                    var current = await Table.FindAsync<ShopPayoutRow>(found.PartitionKey, found.RowKey, cancellationToken);
                    written = current;
                    if (current is null || !ShopPayoutStatus.Machine.Allows(current.Status, status) || current.Status == status)
                    {
                        outcome = current?.Status == status ? PayoutMark.Unchanged : PayoutMark.Illegal;
                        return false;
                    }
                    written = current with { Status = status, Reference = reference ?? current.Reference, Note = note ?? current.Note, UpdatedAt = step.At };
                    step.Replace(written).Publish(PrintStatEvents.PayoutMoved(current, status, step.At));
                    outcome = PayoutMark.Updated;
                    return true;
                }, memo: "Payout " + payoutId.ToString(CultureInfo.InvariantCulture) + " failed", cancellationToken: cancellationToken);
            if (returned.Status == MovementStatus.AlreadyApplied)
                return (PayoutMark.Unchanged, await FindPayoutAsync(payoutId, cancellationToken));
            if (returned.Status is not (MovementStatus.Applied or MovementStatus.Declined))
                throw new InvalidOperationException($"Payout {payoutId}: its money could not be returned ({returned.Status}).");
            return (outcome, written);
        }

        var moved = await transitions.ApplyAsync<ShopPayoutRow, PayoutMark>(Table, found.PartitionKey, found.RowKey, change =>
        {
            if (change.Current is not { } current)
                return PayoutMark.NotFound;
            if (current.Status == status)
                return PayoutMark.Unchanged;
            if (!ShopPayoutStatus.Machine.Allows(current.Status, status))
                return PayoutMark.Illegal;
            var now = time.GetUtcNow();
            change.Write(current with
            {
                Status = status, Reference = reference ?? current.Reference, Note = note ?? current.Note, UpdatedAt = now,
                PaidAt = status == ShopPayoutStatus.Paid ? now : current.PaidAt,
            }).Publish(PrintStatEvents.PayoutMoved(current, status, now));
            return PayoutMark.Updated;
        }, cancellationToken);
        return (moved.Outcome, moved.Row);
    }

    /// <summary>A shop's payouts, newest first.</summary>
    public async Task<IReadOnlyList<ShopPayoutRow>> PayoutsAsync(long shopkeeperId, int limit = 1000, CancellationToken cancellationToken = default)
    {
        var filter = TableClient.CreateQueryFilter(
            $"PartitionKey eq {PayoutKeys.Shop(shopkeeperId)} and RowKey ge {PayoutKeys.PayoutPrefix} and RowKey lt {PayoutKeys.PayoutEnd}");
        var rows = new List<ShopPayoutRow>();
        await foreach (var row in Table.QueryAsync<ShopPayoutRow>(filter, maxPerPage: Math.Min(1000, limit), cancellationToken: cancellationToken))
        {
            rows.Add(row);
            if (rows.Count >= limit)
                break;
        }
        return rows;
    }
}
