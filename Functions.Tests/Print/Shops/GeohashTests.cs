using Serverless.Print.Shops;

namespace Serverless.Tests.Print.Shops;

public sealed class GeohashTests
{
    [Fact]
    public void Encoding_matches_the_reference_example_and_a_prefix_is_the_coarser_cell()
    {
        // The reference example of the geohash scheme: 57.64911 N, 10.40744 E.
        Assert.Equal("u4pruydqqvj", Geohash.Encode(57.64911, 10.40744, 11));
        Assert.Equal("u4pru", Geohash.Encode(57.64911, 10.40744, 5));
        Assert.Equal("s0000", Geohash.Encode(0.0001, 0.0001, 5));
        Assert.Equal("zzzzz", Geohash.Encode(90, 180, 5));
        Assert.Equal("00000", Geohash.Encode(-90, -180, 5));
    }

    [Theory]
    [InlineData(12.9716, 77.5946)]
    [InlineData(-33.8688, 151.2093)]
    [InlineData(40.7128, -74.0060)]
    [InlineData(0, 0)]
    public void A_cell_holds_its_point_and_is_about_4_9_km_tall_at_precision_5(double lat, double lon)
    {
        var box = Geohash.Bounds(Geohash.Encode(lat, lon, 5));

        Assert.InRange(lat, box.South, box.North);
        Assert.InRange(lon, box.West, box.East);
        Assert.Equal(4.89, Geohash.DistanceKm(box.South, box.West, box.North, box.West), 2);
        Assert.Equal(360.0 / 8192, box.East - box.West, 10);
    }

    [Fact]
    public void Neighbours_share_an_edge_and_stepping_back_returns_to_the_cell()
    {
        var cell = Geohash.Encode(12.9716, 77.5946, 5);
        var box = Geohash.Bounds(cell);
        var east = Geohash.Neighbour(cell, 1, 0)!;
        var north = Geohash.Neighbour(cell, 0, 1)!;

        Assert.Equal(box.East, Geohash.Bounds(east).West, 10);
        Assert.Equal(box.North, Geohash.Bounds(north).South, 10);
        Assert.Equal(cell, Geohash.Neighbour(east, -1, 0));
        Assert.Equal(cell, Geohash.Neighbour(north, 0, -1));
        var all = Geohash.Neighbours(cell);
        Assert.Equal(8, all.Count);
        Assert.Equal(8, all.Distinct().Count());
        Assert.DoesNotContain(cell, all);
        Assert.All(all, n => Assert.Contains(cell, Geohash.Neighbours(n)));
    }

    [Fact]
    public void Longitude_wraps_at_the_antimeridian_and_latitude_ends_at_the_poles()
    {
        var eastEdge = Geohash.Encode(10, 179.999, 5);
        var across = Geohash.Neighbour(eastEdge, 1, 0)!;
        Assert.Equal(-180, Geohash.Bounds(across).West, 10);
        Assert.Null(Geohash.Neighbour(Geohash.Encode(89.999, 0, 5), 0, 1));
        Assert.Equal(5, Geohash.Neighbours(Geohash.Encode(89.999, 0, 5)).Count);
    }

    [Fact]
    public void Haversine_distance_of_a_hundredth_degree_of_latitude_is_1_11_km()
    {
        Assert.Equal(1.11, Math.Round(Geohash.DistanceKm(12.97, 77.59, 12.98, 77.59), 2));
        Assert.Equal(0.05, Math.Round(Geohash.DistanceKm(12.97, 77.59, 12.97045, 77.59), 2));
        Assert.Equal(0, Geohash.DistanceKm(1, 2, 1, 2));
    }

    [Fact]
    public void The_cover_of_a_circle_holds_every_point_within_it_and_only_cells_near_it()
    {
        const double lat = 12.9716, lon = 77.5946, radius = 10;
        var cells = Geohash.Cover(lat, lon, radius, 5);

        // Points on the circle in 36 directions, and inside it, all fall in covered cells.
        for (var bearing = 0; bearing < 360; bearing += 10)
        {
            foreach (var km in new[] { 0.0, 3, 9.9 })
            {
                var (pLat, pLon) = Offset(lat, lon, km, bearing);
                Assert.Contains(Geohash.Encode(pLat, pLon, 5), cells);
            }
        }
        // Nothing farther than one cell beyond the circle.
        Assert.All(cells, c =>
        {
            var b = Geohash.Bounds(c);
            Assert.True(Geohash.DistanceKm(lat, lon, (b.South + b.North) / 2, (b.West + b.East) / 2) < radius + 5);
        });
        Assert.InRange(cells.Count, 16, 40);
        Assert.Equal(cells.Order(StringComparer.Ordinal), cells);
    }

    [Fact]
    public void The_cover_wraps_across_the_antimeridian()
    {
        var cells = Geohash.Cover(0, 179.99, 5, 5);
        Assert.Contains(Geohash.Encode(0, -179.99, 5), cells);
        Assert.Contains(Geohash.Encode(0, 179.99, 5), cells);
    }

    [Fact]
    public void Adjacent_keys_are_read_as_one_range()
    {
        Assert.True(Geohash.Follows("tdr1v", "tdr1w"));
        Assert.True(Geohash.Follows("tdr1z", "tdr20"));
        Assert.False(Geohash.Follows("tdr1v", "tdr1x"));

        var cells = Geohash.Cover(12.9716, 77.5946, 10, 5);
        var ranges = ShopIndex.SearchRanges(12.9716, 77.5946, 10);
        Assert.True(ranges.Count < cells.Count, $"{ranges.Count} ranges for {cells.Count} cells");
        // Every covered cell is in exactly one range.
        Assert.All(cells, c => Assert.Single(ranges, r => In("geo5-" + c, r)));
        // The widest search reads coarser cells: still a few dozen ranges, not hundreds.
        Assert.InRange(ShopIndex.SearchRanges(12.9716, 77.5946, 50).Count, 1, 40);
    }

    private static bool In(string key, (string From, string To) range) =>
        range.From == range.To ? key == range.From : string.CompareOrdinal(key, range.From) >= 0 && string.CompareOrdinal(key, range.To) < 0;

    /// <summary>The point <paramref name="km"/> away on <paramref name="bearing"/> degrees (spherical destination formula).</summary>
    internal static (double Lat, double Lon) Offset(double lat, double lon, double km, double bearing)
    {
        var d = km / Geohash.EarthRadiusKm;
        var b = bearing * Math.PI / 180;
        var la = lat * Math.PI / 180;
        var lo = lon * Math.PI / 180;
        var la2 = Math.Asin(Math.Sin(la) * Math.Cos(d) + Math.Cos(la) * Math.Sin(d) * Math.Cos(b));
        var lo2 = lo + Math.Atan2(Math.Sin(b) * Math.Sin(d) * Math.Cos(la), Math.Cos(d) - Math.Sin(la) * Math.Sin(la2));
        return (la2 * 180 / Math.PI, lo2 * 180 / Math.PI);
    }
}
