using Azure;
using Azure.Data.Tables;
using Serverless.Platform.Storage;

namespace Serverless.Print.Shops;

/// <summary>
/// Key design of table <c>printshops</c>, the index of shops beside their profiles (the profile, in the users table,
/// is the source of truth; every row here can be rebuilt from it):
/// <list type="bullet">
/// <item><c>geo5-{geohash of precision 5}</c> / shop id: a listing (<see cref="ShopListingRow"/>) in the cell that
/// holds the shop. A precision-5 cell is about 4.9 km × 4.9 km at the equator (narrower east-west away from it): a
/// 10 km search reads a few dozen cells, merged into runs of adjacent keys, and a cell holds the shops of a
/// neighbourhood, not of a city (precision 4, 39 × 19.5 km, would make every search of a dense city read all of it;
/// precision 6, 1.2 × 0.6 km, hundreds of cells per search);</item>
/// <item><c>open-{shop id mod 8}</c> / shop id: the shops that are open (<see cref="OpenShopRow"/>), all the
/// stale-shop sweeper reads; 8 partitions so that no one partition takes every status change;</item>
/// <item><c>shop-{shop id}</c> / <c>cells</c>: the cells that may hold a listing of the shop
/// (<see cref="ShopCellsRow"/>), so that a move removes the old listing even when the write before it was cut short.</item>
/// </list>
/// </summary>
public static class ShopKeys
{
    public const string TableName = "printshops";
    public const int Precision = 5;
    public const int OpenShards = 8;
    public const string CellPrefix = "geo5-";
    public const string CellsRow = "cells";

    public static string Cell(double latitude, double longitude) => CellPrefix + Geohash.Encode(latitude, longitude, Precision);

    public static string Shop(long shopId) => TableKeys.Number(shopId);

    public static string OpenPartition(long shopId) => OpenPartition((int)(shopId % OpenShards));

    public static string OpenPartition(int shard) => "open-" + shard;

    public static string CellsPartition(long shopId) => "shop-" + TableKeys.Number(shopId);
}

/// <summary>A shop as <c>GET /shops</c> lists it, in the cell that holds it.</summary>
public sealed record ShopListingRow : ITableEntity
{
    public string PartitionKey { get; set; } = "";
    public string RowKey { get; set; } = "";
    public DateTimeOffset? Timestamp { get; set; }
    public ETag ETag { get; set; }
    public long ShopId { get; set; }
    public string Username { get; set; } = "";
    public string ShopName { get; set; } = "";
    public double Lat { get; set; }
    public double Long { get; set; }
    public bool IsOpen { get; set; }
    public string? Address { get; set; }
}

/// <summary>An open shop: the sweeper's work list.</summary>
public sealed record OpenShopRow : ITableEntity
{
    public string PartitionKey { get; set; } = "";
    public string RowKey { get; set; } = "";
    public DateTimeOffset? Timestamp { get; set; }
    public ETag ETag { get; set; }
    public long ShopId { get; set; }
}

/// <summary>The cells that may hold a listing of one shop, comma-separated; normally just one.</summary>
public sealed record ShopCellsRow : ITableEntity
{
    public string PartitionKey { get; set; } = "";
    public string RowKey { get; set; } = ShopKeys.CellsRow;
    public DateTimeOffset? Timestamp { get; set; }
    public ETag ETag { get; set; }
    public string Cells { get; set; } = "";

    public IReadOnlyList<string> CellList() => Cells.Split(',', StringSplitOptions.RemoveEmptyEntries);
}
