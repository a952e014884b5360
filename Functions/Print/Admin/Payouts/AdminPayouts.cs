using System.Globalization;
using System.Runtime.CompilerServices;
using Serverless.Print.Accounts;
using Serverless.Print.Payouts;

namespace Serverless.Print.Admin.Payouts;

/// <summary>Which payouts an admin asks for: a status, one shop, and the run days from <c>From</c> to <c>To</c> (inclusive).</summary>
public sealed record PayoutQuery(string? Status, long? ShopId, DateOnly From, DateOnly To, bool WindowGiven);

/// <summary>A payout with its shop's name, for the admin's list and the export.</summary>
public sealed record AdminPayout(ShopPayoutRow Payout, string? ShopName);

/// <summary>
/// Reads shops' payouts for admins without visiting every shop: one shop's payouts come from its own partition;
/// all shops' from the day index (<see cref="PrintEarnings.PayoutsByDayAsync"/>) over the date window, each payout
/// then read by a point read. A status filter needs each payout of the window read (the index holds no status).
/// </summary>
public sealed class AdminPayouts(PrintEarnings earnings, PrintAccounts accounts)
{
    public const int DefaultWindowDays = 90;

    /// <summary>Point reads in flight at once when reading a window's payouts.</summary>
    private const int Parallel = 8;

    /// <summary>Payouts read per batch while exporting.</summary>
    private const int ExportBatch = 64;

    public async Task<(IReadOnlyList<AdminPayout> Page, int Total)> ListAsync(PayoutQuery query, int limit, int offset,
        CancellationToken cancellationToken)
    {
        var names = new Dictionary<long, string?>();
        if (query.ShopId is { } shopId)
        {
            var rows = (await earnings.PayoutsAsync(shopId, int.MaxValue, cancellationToken))
                .Where(r => Matches(r, query) && (!query.WindowGiven || InWindow(r, query))).ToList();
            var page = rows.Skip(offset).Take(limit).ToList();
            return (await NamedAsync(page, names, cancellationToken), rows.Count);
        }

        var index = new List<PayoutByDayRow>();
        await foreach (var row in earnings.PayoutsByDayAsync(query.From, query.To, cancellationToken))
            index.Add(row);
        if (query.Status is null)
        {
            // Every index row is a payout that was made: the total is the index's count, and only the page is read.
            var page = await ReadAsync(index.Skip(offset).Take(limit).ToList(), cancellationToken);
            return (await NamedAsync(page, names, cancellationToken), index.Count);
        }
        var matching = (await ReadAsync(index, cancellationToken)).Where(r => Matches(r, query)).ToList();
        return (await NamedAsync(matching.Skip(offset).Take(limit).ToList(), names, cancellationToken), matching.Count);
    }

    /// <summary>Every payout the query asks for, newest first, read a batch at a time (for the export).</summary>
    public async IAsyncEnumerable<AdminPayout> StreamAsync(PayoutQuery query, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var names = new Dictionary<long, string?>();
        var batch = new List<PayoutByDayRow>(ExportBatch);
        await foreach (var row in earnings.PayoutsByDayAsync(query.From, query.To, cancellationToken))
        {
            batch.Add(row);
            if (batch.Count < ExportBatch)
                continue;
            foreach (var payout in await NamedAsync((await ReadAsync(batch, cancellationToken)).Where(r => Matches(r, query)).ToList(), names, cancellationToken))
                yield return payout;
            batch.Clear();
        }
        foreach (var payout in await NamedAsync((await ReadAsync(batch, cancellationToken)).Where(r => Matches(r, query)).ToList(), names, cancellationToken))
            yield return payout;
    }

    public async Task<AdminPayout> NamedAsync(ShopPayoutRow payout, CancellationToken cancellationToken) =>
        (await NamedAsync([payout], new Dictionary<long, string?>(), cancellationToken))[0];

    private static bool Matches(ShopPayoutRow row, PayoutQuery query) => query.Status is null || row.Status == query.Status;

    private static bool InWindow(ShopPayoutRow row, PayoutQuery query) =>
        DateOnly.TryParseExact(row.Day, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var day)
        && day >= query.From && day <= query.To;

    /// <summary>The payouts the index rows name, in the index's order (one the index names but that is gone is left out).</summary>
    private async Task<List<ShopPayoutRow>> ReadAsync(IReadOnlyList<PayoutByDayRow> index, CancellationToken cancellationToken)
    {
        var found = new ShopPayoutRow?[index.Count];
        await System.Threading.Tasks.Parallel.ForEachAsync(Enumerable.Range(0, index.Count),
            new ParallelOptions { MaxDegreeOfParallelism = Parallel, CancellationToken = cancellationToken },
            async (i, ct) => found[i] = await earnings.FindPayoutAsync(index[i].ShopkeeperId, index[i].PayoutId, ct));
        return found.OfType<ShopPayoutRow>().ToList();
    }

    private async Task<List<AdminPayout>> NamedAsync(IReadOnlyList<ShopPayoutRow> payouts, Dictionary<long, string?> names,
        CancellationToken cancellationToken)
    {
        var list = new List<AdminPayout>(payouts.Count);
        foreach (var payout in payouts)
        {
            if (!names.TryGetValue(payout.ShopkeeperId, out var name))
                names[payout.ShopkeeperId] = name = (await accounts.FindProfileAsync(payout.ShopkeeperId, cancellationToken))?.ShopName;
            list.Add(new AdminPayout(payout, name));
        }
        return list;
    }
}
