using System.Security.Cryptography;
using System.Text;
using Azure;
using Azure.Data.Tables;
using Serverless.Platform.Storage;

namespace Serverless.ECards;

/// <summary>
/// Certificate codes per (e-card, face value). A code is claimed for an order, and given back, through the transition
/// seam (<see cref="StockCodeRow.Machine"/>), so two orders racing for the last codes never get the same one, and a
/// claim whose answer was lost is still known as this order's. Codes are secrets: never logged.
/// </summary>
public sealed class CertificateStock(StorageAccount storage, Transitions transitions, TimeProvider time)
{
    public const string TableName = "ecardstock";
    public const string IndexTableName = "ecardcodes";

    private TableClient Stock => storage.Table(TableName);
    private TableClient Index => storage.Table(IndexTableName);

    public static string Slot(int ecardId, string faceValue) => ECardCatalog.Key(ecardId) + "|" + TableKeys.Escape(faceValue);

    private static string Hash(string code) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(code)));

    /// <summary>
    /// Loads codes; a code loaded before (for any e-card) is skipped. Returns how many were added and skipped.
    /// The global index row is written first; an index row that names this slot is ours (a load that stopped before
    /// the stock row, or our own insert stored although its answer was lost), and the stock row decides.
    /// </summary>
    public async Task<(int Added, int Duplicates)> LoadAsync(int ecardId, string faceValue, IReadOnlyList<string> codes,
        CancellationToken cancellationToken = default)
    {
        var slot = Slot(ecardId, faceValue);
        var now = time.GetUtcNow();
        var added = 0;
        var duplicates = 0;
        await Parallel.ForEachAsync(codes.Distinct(StringComparer.Ordinal), new ParallelOptions { MaxDegreeOfParallelism = 8, CancellationToken = cancellationToken },
            async (code, ct) =>
            {
                var hash = Hash(code);
                // The global index first, so a code is never in two slots' stock.
                if (!await Index.TryAddAsync(new StockCodeIndexRow { PartitionKey = hash[..2], RowKey = hash, Slot = slot }, ct)
                    && (await Index.FindAsync<StockCodeIndexRow>(hash[..2], hash, ct))?.Slot != slot)
                {
                    Interlocked.Increment(ref duplicates);
                    return;
                }
                if (await Stock.TryAddAsync(new StockCodeRow { PartitionKey = slot, RowKey = hash, Code = code, LoadedAt = now }, ct))
                    Interlocked.Increment(ref added);
                else
                    Interlocked.Increment(ref duplicates);
            });
        return (added, duplicates + (codes.Count - codes.Distinct(StringComparer.Ordinal).Count()));
    }

    public async Task<int> CountAvailableAsync(int ecardId, string faceValue, CancellationToken cancellationToken = default)
    {
        var slot = Slot(ecardId, faceValue);
        var count = 0;
        await foreach (var _ in Stock.QueryAsync<StockCodeRow>(TableClient.CreateQueryFilter($"PartitionKey eq {slot} and State eq {StockCodeRow.Available}"),
                           select: ["RowKey"], cancellationToken: cancellationToken))
            count++;
        return count;
    }

    /// <summary>
    /// Up to <paramref name="wanted"/> codes for the order <paramref name="orderKey"/>, not counting
    /// <paramref name="known"/> ones: first codes this order claimed before but did not record (a crash in between),
    /// then newly claimed available codes. Fewer when stock runs short.
    /// </summary>
    public async Task<List<string>> ClaimAsync(int ecardId, string faceValue, string orderKey, int wanted, IReadOnlySet<string> known,
        CancellationToken cancellationToken = default)
    {
        var slot = Slot(ecardId, faceValue);
        var claimed = new List<string>();
        await foreach (var row in Stock.QueryAsync<StockCodeRow>(TableClient.CreateQueryFilter($"PartitionKey eq {slot} and OrderKey eq {orderKey}"),
                           cancellationToken: cancellationToken))
        {
            if (claimed.Count < wanted && !known.Contains(row.Code))
                claimed.Add(row.Code);
        }
        for (var round = 0; round < 50 && claimed.Count < wanted; round++)
        {
            var candidates = new List<StockCodeRow>();
            await foreach (var row in Stock.QueryAsync<StockCodeRow>(TableClient.CreateQueryFilter($"PartitionKey eq {slot} and State eq {StockCodeRow.Available}"),
                               maxPerPage: Math.Min(1000, (wanted - claimed.Count) * 2), cancellationToken: cancellationToken))
            {
                candidates.Add(row);
                if (candidates.Count >= (wanted - claimed.Count) * 2)
                    break;
            }
            if (candidates.Count == 0)
                break;
            // Racing claimers start at different places, so they mostly take different rows.
            var start = Random.Shared.Next(candidates.Count);
            for (var i = 0; i < candidates.Count && claimed.Count < wanted; i++)
            {
                var row = candidates[(start + i) % candidates.Count];
                // Decided on the row as it is: when another order took it first, it is skipped.
                var claim = await transitions.ApplyAsync(Stock, row, change =>
                {
                    if (change.Current is not { State: StockCodeRow.Available } code)
                        return false;
                    change.Write(code with { State = StockCodeRow.Assigned, OrderKey = orderKey, AssignedAt = time.GetUtcNow() });
                    return true;
                }, cancellationToken);
                if (claim.Outcome)
                    claimed.Add(row.Code);
            }
        }
        return claimed;
    }

    /// <summary>Returns particular codes an order claimed but does not need (a concurrent run filled the line first).</summary>
    public async Task ReleaseCodesAsync(IEnumerable<(int ECardId, string FaceValue, string Code)> codes, string orderKey,
        CancellationToken cancellationToken = default)
    {
        foreach (var (ecardId, faceValue, code) in codes)
            await GiveBackAsync(Slot(ecardId, faceValue), Hash(code), null, orderKey, cancellationToken);
    }

    /// <summary>Makes a code available again if, as it is now, it is still held by <paramref name="orderKey"/>.</summary>
    private Task GiveBackAsync(string slot, string hash, StockCodeRow? known, string orderKey, CancellationToken cancellationToken) =>
        transitions.ApplyAsync<StockCodeRow, bool>(Stock, slot, hash, known, change =>
        {
            if (change.Current is not { State: StockCodeRow.Assigned } code || code.OrderKey != orderKey)
                return ValueTask.FromResult(false);
            change.Write(code with { State = StockCodeRow.Available, OrderKey = null, AssignedAt = null });
            return ValueTask.FromResult(true);
        }, cancellationToken);

    /// <summary>Returns the codes claimed for an order that will never be delivered (it was cancelled) to stock.</summary>
    public async Task ReleaseAsync(IEnumerable<(int ECardId, string FaceValue)> slots, string orderKey, CancellationToken cancellationToken = default)
    {
        foreach (var slot in slots.Distinct().Select(s => Slot(s.ECardId, s.FaceValue)))
        {
            var held = new List<StockCodeRow>();
            await foreach (var row in Stock.QueryAsync<StockCodeRow>(TableClient.CreateQueryFilter($"PartitionKey eq {slot} and OrderKey eq {orderKey}"),
                               cancellationToken: cancellationToken))
                held.Add(row);
            foreach (var row in held)
                await GiveBackAsync(slot, row.RowKey, row, orderKey, cancellationToken);
        }
    }
}
