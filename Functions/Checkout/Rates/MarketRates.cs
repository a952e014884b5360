using Microsoft.Extensions.Options;
using Serverless.Platform.Storage;

namespace Serverless.Checkout.Rates;

/// <summary>
/// The market rates a checkout prices with. Requests never call the rate feed: they read the row the
/// <see cref="MarketRatesRefresh"/> timer keeps up to date, and each instance keeps what it read in memory for
/// <see cref="MarketRatesOptions.CacheDuration"/>, so a request normally costs no storage request at all.
/// With no feed configured (development, tests) the document's <see cref="FixedMarketRates"/> stand in until
/// something is stored; with one configured and nothing fetched yet, <see cref="MarketRatesUnavailableException"/>.
/// </summary>
public sealed class MarketRates(StorageAccount storage, IOptions<MarketRatesOptions> options, TimeProvider time)
{
    public const string TableName = "checkoutrates";

    private readonly SemaphoreSlim _reading = new(1, 1);
    private Cached? _cached;

    private sealed record Cached(MarketRatesSnapshot Snapshot, DateTimeOffset ReadAt);

    public async Task<MarketRatesSnapshot> CurrentAsync(CancellationToken ct)
    {
        if (Fresh() is { } cached)
            return cached;
        // One read per instance when the cache runs out, however many requests arrive at that moment.
        await _reading.WaitAsync(ct);
        try
        {
            if (Fresh() is { } readMeanwhile)
                return readMeanwhile;
            var snapshot = await ReadAsync(ct)
                ?? (options.Value.HasSource
                    ? throw new MarketRatesUnavailableException("No market rates have been fetched from Checkout__MarketRatesUrl yet.")
                    : FixedMarketRates.Snapshot);
            Volatile.Write(ref _cached, new Cached(snapshot, time.GetUtcNow()));
            return snapshot;
        }
        finally
        {
            _reading.Release();
        }
    }

    /// <summary>
    /// <paramref name="amount"/> of <paramref name="from"/> in <paramref name="to"/>: amount / rate[from] × rate[to],
    /// unrounded. False when either code is missing, a rate is not a positive decimal, or the result overflows.
    /// </summary>
    public static bool TryConvert(MarketRatesSnapshot s, decimal amount, string from, string to, out decimal converted)
    {
        converted = 0;
        if (!s.Rates.TryGetValue(from.ToUpperInvariant(), out var fromText) || !s.Rates.TryGetValue(to.ToUpperInvariant(), out var toText)
            || MarketRateTable.Parse(fromText) is not { } fromRate || MarketRateTable.Parse(toText) is not { } toRate)
            return false;
        try
        {
            converted = amount / fromRate * toRate;
            return true;
        }
        catch (OverflowException)
        {
            return false;
        }
    }

    /// <summary>Stores freshly fetched rates for every instance, and answers with them here at once.</summary>
    internal async Task StoreAsync(MarketRatesSnapshot snapshot, CancellationToken ct)
    {
        // Last writer wins on purpose: the row holds no state that a decision was made on, only the newest fetch.
        await storage.Table(TableName).UpsertEntityAsync(MarketRatesRow.From(snapshot), Azure.Data.Tables.TableUpdateMode.Replace, ct);
        Volatile.Write(ref _cached, new Cached(snapshot, time.GetUtcNow()));
    }

    /// <summary>The stored rates, or null when none (or none usable) are stored.</summary>
    internal async Task<MarketRatesSnapshot?> ReadAsync(CancellationToken ct)
    {
        var row = await storage.Table(TableName).GetEntityIfExistsAsync<MarketRatesRow>(MarketRatesRow.Partition, MarketRatesRow.Latest, cancellationToken: ct);
        return row.HasValue ? row.Value!.ToSnapshot() : null;
    }

    private MarketRatesSnapshot? Fresh()
    {
        var cached = Volatile.Read(ref _cached);
        if (cached is null)
            return null;
        var age = time.GetUtcNow() - cached.ReadAt;
        return age >= TimeSpan.Zero && age < MarketRatesOptions.CacheDuration ? cached.Snapshot : null;
    }
}
