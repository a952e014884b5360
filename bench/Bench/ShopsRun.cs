using System.Globalization;
using Azure.Data.Tables;
using Serverless.Print.Shops;

namespace Serverless.Bench;

/// <summary>
/// "print shops near a point": 10,000 shops written straight into the shop index (as registration would list
/// them), spread over a 60 km square around central Bengaluru with 300 of them within 3 km of the point searched;
/// then <c>GET /shops</c> at that point (radius 10 km, limit 20), which reads only the cells around it.
/// </summary>
public static class ShopsBench
{
    public const double Lat = 12.9716, Lon = 77.5946;
    public const int Count = 10_000, Near = 300;
    const long FirstId = 1_000_000_000; // far above the ids the app hands out

    public static string Path => $"/shops?lat={Lat.ToString(CultureInfo.InvariantCulture)}&long={Lon.ToString(CultureInfo.InvariantCulture)}";

    public static IEnumerable<ShopListingRow> Shops()
    {
        var random = new Random(42);
        const double kmPerDegree = 111.195;
        var cos = Math.Cos(Lat * Math.PI / 180);
        for (var i = 0; i < Count; i++)
        {
            var spanKm = i < Near ? 3.0 : 30.0;
            double dx, dy;
            do
            {
                dx = (random.NextDouble() * 2 - 1) * spanKm;
                dy = (random.NextDouble() * 2 - 1) * spanKm;
            } while (i < Near && dx * dx + dy * dy > spanKm * spanKm);
            var lat = Lat + dy / kmPerDegree;
            var lon = Lon + dx / (kmPerDegree * cos);
            var id = FirstId + i;
            yield return new ShopListingRow
            {
                PartitionKey = ShopKeys.Cell(lat, lon), RowKey = ShopKeys.Shop(id), ShopId = id, Username = $"benchshop{i}",
                ShopName = $"Bench Print Shop {i}", Lat = lat, Long = lon, IsOpen = i % 3 != 0, Address = $"{i} Bench Road, Bengaluru",
            };
        }
    }

    /// <summary>Writes the shops into <paramref name="table"/>, 100 to a transaction, cell by cell.</summary>
    public static async Task SeedAsync(TableClient table)
    {
        await table.CreateIfNotExistsAsync();
        foreach (var cell in Shops().GroupBy(s => s.PartitionKey))
        {
            foreach (var chunk in cell.Chunk(100))
                await table.SubmitTransactionAsync(chunk.Select(s => new TableTransactionAction(TableTransactionActionType.UpsertReplace, s)));
        }
    }

    /// <summary>The key ranges the app reads for the scenario's search.</summary>
    public static IReadOnlyList<(string From, string To)> Ranges => ShopIndex.SearchRanges(Lat, Lon, ShopIndex.DefaultRadiusKm);

    /// <summary>The same range queries straight through the SDK, in parallel (the ceiling's equivalent of one search).</summary>
    public static Task QueryAsync(TableClient table) => Task.WhenAll(Ranges.Select(async r =>
    {
        var filter = r.From == r.To
            ? TableClient.CreateQueryFilter($"PartitionKey eq {r.From}")
            : TableClient.CreateQueryFilter($"PartitionKey ge {r.From} and PartitionKey lt {r.To}");
        await foreach (var _ in table.QueryAsync<TableEntity>(filter))
        {
        }
    }));
}
