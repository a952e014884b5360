using Azure;
using Azure.Data.Tables;
using Serverless.Platform.Storage;
using Serverless.Print.Accounts;

namespace Serverless.Print.Shops;

/// <summary>A listed shop and its distance from the point searched, in km (unrounded).</summary>
public sealed record NearbyShop(ShopListingRow Shop, double DistanceKm);

/// <summary>
/// The geohash index of shops (keys: <see cref="ShopKeys"/>). It follows the profile, the source of truth: every
/// write of a shop's profile (registration, profile update, status, the sweeper) is followed by
/// <see cref="SyncAsync"/>, which rewrites the shop's listing from the profile as stored, removes listings left in
/// other cells, and keeps the open-shops list in step. A sync that was cut short is repaired by the next one.
/// </summary>
public sealed class ShopIndex(StorageAccount storage, ILogger<ShopIndex> logger) : IPrintProfileListener, IPrintAccountCleanup
{
    public const double DefaultRadiusKm = 10, MaxRadiusKm = 50;
    public const int DefaultLimit = 20, MaxLimit = 100;

    /// <summary>Past this many precision-5 cells a search reads precision-4 cells (each one range of 32) instead.</summary>
    private const int MaxCellsPerSearch = 64;

    private TableClient Table => storage.Table(ShopKeys.TableName);

    /// <summary>
    /// Listed shops within <paramref name="radiusKm"/> of the point, nearest first (ties by id), at most
    /// <paramref name="limit"/>. Reads only the cells that cover the circle: one query per run of adjacent cells, in parallel.
    /// </summary>
    public async Task<IReadOnlyList<NearbyShop>> NearAsync(double latitude, double longitude, double radiusKm, int limit,
        CancellationToken cancellationToken = default)
    {
        var ranges = SearchRanges(latitude, longitude, radiusKm);
        var found = await Task.WhenAll(ranges.Select(r => ReadRangeAsync(r.From, r.To, cancellationToken)));
        return found.SelectMany(rows => rows)
            .Select(row => new NearbyShop(row, Geohash.DistanceKm(latitude, longitude, row.Lat, row.Long)))
            .Where(s => s.DistanceKm <= radiusKm)
            .OrderBy(s => s.DistanceKm).ThenBy(s => s.Shop.ShopId)
            .Take(limit)
            .ToList();
    }

    /// <summary>
    /// The partition-key ranges a search reads: the cells covering the circle, adjacent keys merged into one range
    /// (<c>From</c> inclusive, <c>To</c> exclusive; equal ends of a single precision-5 cell mean one partition).
    /// </summary>
    public static IReadOnlyList<(string From, string To)> SearchRanges(double latitude, double longitude, double radiusKm)
    {
        var cells = Geohash.Cover(latitude, longitude, radiusKm, ShopKeys.Precision);
        if (cells.Count > MaxCellsPerSearch)
            cells = Geohash.Cover(latitude, longitude, radiusKm, ShopKeys.Precision - 1);
        var ranges = new List<(string From, string To)>();
        for (var i = 0; i < cells.Count; i++)
        {
            var first = cells[i];
            while (i + 1 < cells.Count && Geohash.Follows(cells[i], cells[i + 1]))
                i++;
            var last = cells[i];
            ranges.Add(first == last && first.Length == ShopKeys.Precision
                ? (ShopKeys.CellPrefix + first, ShopKeys.CellPrefix + first)
                : (ShopKeys.CellPrefix + first, ShopKeys.CellPrefix + last + "~"));
        }
        return ranges;
    }

    private async Task<List<ShopListingRow>> ReadRangeAsync(string from, string to, CancellationToken cancellationToken)
    {
        var filter = from == to
            ? TableClient.CreateQueryFilter($"PartitionKey eq {from}")
            : TableClient.CreateQueryFilter($"PartitionKey ge {from} and PartitionKey lt {to}");
        var rows = new List<ShopListingRow>();
        await foreach (var row in Table.QueryAsync<ShopListingRow>(filter, cancellationToken: cancellationToken))
            rows.Add(row);
        return rows;
    }

    /// <summary>
    /// Makes the index say what the stored profile says: the listing in the profile's cell (none for a shop without a
    /// location), no listing in any other cell, and an open-shops row exactly when the shop is open. Safe to repeat.
    /// </summary>
    public async Task SyncAsync(PrintProfile profile, CancellationToken cancellationToken = default)
    {
        if (profile.Role != PrintRoles.Shopkeeper)
            return;
        var id = profile.UserId;
        var cellsRow = await Table.FindAsync<ShopCellsRow>(ShopKeys.CellsPartition(id), ShopKeys.CellsRow, cancellationToken);
        var known = cellsRow?.CellList() ?? [];
        var cell = profile is { Lat: { } lat, Long: { } lon } ? ShopKeys.Cell(lat, lon) : null;
        // The new cell is recorded before its listing is written, so a listing is never in a cell nobody knows of.
        if (cell is not null && !known.Contains(cell))
            await WriteCellsAsync(id, [.. known, cell], cancellationToken);

        var writes = new List<Task>
        {
            profile.IsOpen ? MarkOpeningAsync(id, cancellationToken) : ForgetOpenAsync(id, cancellationToken),
        };
        if (cell is not null)
            writes.Add(Table.UpsertEntityAsync(Listing(profile, cell), TableUpdateMode.Replace, cancellationToken));
        await Task.WhenAll(writes);

        var stale = known.Where(c => c != cell).ToList();
        if (stale.Count == 0)
            return;
        await Task.WhenAll(stale.Select(c => Table.DeleteEntityAsync(c, ShopKeys.Shop(id), ETag.All, cancellationToken)));
        if (cell is null)
            await Table.DeleteEntityAsync(ShopKeys.CellsPartition(id), ShopKeys.CellsRow, ETag.All, cancellationToken);
        else
            await WriteCellsAsync(id, [cell], cancellationToken);
    }

    /// <summary>Registration and profile updates: the shop's listing follows. The profile is stored already, so a failed
    /// index write is logged, not answered as a failure; the next write of the shop repairs it.</summary>
    public async Task ProfileStoredAsync(PrintProfile profile, CancellationToken cancellationToken)
    {
        try
        {
            await SyncAsync(profile, cancellationToken);
        }
        catch (RequestFailedException ex)
        {
            logger.LogWarning(ex, "The shop index was not updated for shop {ShopId}; its next write repairs it", profile.UserId);
        }
    }

    /// <summary>Account deletion: every listing of the shop, its open-shops row and its cells row go.</summary>
    public async Task RemoveAsync(long userId, CancellationToken cancellationToken)
    {
        var cellsRow = await Table.FindAsync<ShopCellsRow>(ShopKeys.CellsPartition(userId), ShopKeys.CellsRow, cancellationToken);
        if (cellsRow is not null)
            await Task.WhenAll(cellsRow.CellList().Select(c => Table.DeleteEntityAsync(c, ShopKeys.Shop(userId), ETag.All, cancellationToken)));
        await Table.DeleteEntityAsync(ShopKeys.OpenPartition(userId), ShopKeys.Shop(userId), ETag.All, cancellationToken);
        if (cellsRow is not null)
            await Table.DeleteEntityAsync(ShopKeys.CellsPartition(userId), ShopKeys.CellsRow, ETag.All, cancellationToken);
    }

    /// <summary>The open-shops rows of one shard (the sweeper reads the shards in parallel).</summary>
    public async Task<List<long>> OpenShopsAsync(int shard, CancellationToken cancellationToken)
    {
        var ids = new List<long>();
        var filter = TableClient.CreateQueryFilter($"PartitionKey eq {ShopKeys.OpenPartition(shard)}");
        await foreach (var row in Table.QueryAsync<OpenShopRow>(filter, select: ["ShopId"], cancellationToken: cancellationToken))
            ids.Add(row.ShopId);
        return ids;
    }

    /// <summary>Removes the shop from the open-shops list (a row already gone is no error).</summary>
    public Task ForgetOpenAsync(long shopId, CancellationToken cancellationToken) =>
        Table.DeleteEntityAsync(ShopKeys.OpenPartition(shopId), ShopKeys.Shop(shopId), ETag.All, cancellationToken);

    /// <summary>Writes the open-shops row ahead of a profile that is about to open, so an open shop is never unknown to the sweeper.</summary>
    public Task MarkOpeningAsync(long shopId, CancellationToken cancellationToken) =>
        Table.UpsertEntityAsync(new OpenShopRow { PartitionKey = ShopKeys.OpenPartition(shopId), RowKey = ShopKeys.Shop(shopId), ShopId = shopId },
            TableUpdateMode.Replace, cancellationToken);

    private Task WriteCellsAsync(long shopId, IEnumerable<string> cells, CancellationToken cancellationToken) =>
        Table.UpsertEntityAsync(new ShopCellsRow { PartitionKey = ShopKeys.CellsPartition(shopId), Cells = string.Join(',', cells) },
            TableUpdateMode.Replace, cancellationToken);

    private static ShopListingRow Listing(PrintProfile profile, string cell) => new()
    {
        PartitionKey = cell,
        RowKey = ShopKeys.Shop(profile.UserId),
        ShopId = profile.UserId,
        Username = profile.Username ?? "",
        ShopName = profile.ShopName ?? "",
        Lat = profile.Lat ?? 0,
        Long = profile.Long ?? 0,
        IsOpen = profile.IsOpen,
        Address = profile.Address,
    };
}
