using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Serverless.Print.Shops;
using static Serverless.Tests.Print.Shops.ShopsFactory;

namespace Serverless.Tests.Print.Shops;

// Each test places its shops around a point of its own, hundreds of km from the others', so tests sharing the app
// (and its index) never see each other's shops.
public sealed class NearbyShopsTests(ShopsFactory app) : IClassFixture<ShopsFactory>
{
    [Fact]
    public async Task Nearest_shops_come_first_with_their_distance_in_km_to_2_decimals()
    {
        const double lat = 12.9716, lon = 77.5946;
        var far = await app.ShopAsync(lat + 0.01, lon, "Far");     // 1.11 km north
        var near = await app.ShopAsync(lat + 0.00045, lon, "Near"); // 0.05 km north
        var customer = await app.CustomerAsync();

        var (response, body) = await app.NearAsync(customer, $"lat={Q(lat)}&long={Q(lon)}");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(2, body.GetArrayLength());
        var first = body[0];
        Assert.Equal(near.Id, first.GetProperty("id").GetInt64());
        Assert.Equal(near.Username, first.GetProperty("username").GetString());
        Assert.Equal("Near", first.GetProperty("shop_name").GetString());
        Assert.Equal(lat + 0.00045, first.GetProperty("lat").GetDouble());
        Assert.Equal(lon, first.GetProperty("long").GetDouble());
        Assert.Equal(0.05, first.GetProperty("distance").GetDouble());
        Assert.True(first.GetProperty("is_open").GetBoolean());
        Assert.Equal("1 Main St", first.GetProperty("address").GetString());
        Assert.Equal(far.Id, body[1].GetProperty("id").GetInt64());
        Assert.Equal(1.11, body[1].GetProperty("distance").GetDouble());
        Assert.Equal(["id", "username", "shop_name", "lat", "long", "distance", "is_open", "address"],
            first.EnumerateObject().Select(p => p.Name));
    }

    [Fact]
    public async Task Radius_and_limit_bound_the_answer()
    {
        const double lat = 19.0760, lon = 72.8777;
        var shops = new List<PrintAccount>();
        foreach (var km in new[] { 1.0, 2, 3, 8, 12 })
            shops.Add(await app.ShopAsync(lat + km / 111.195, lon));
        var customer = await app.CustomerAsync();

        var (_, defaults) = await app.NearAsync(customer, $"lat={Q(lat)}&long={Q(lon)}");
        Assert.Equal(shops.Take(4).Select(s => s.Id), defaults.EnumerateArray().Select(s => s.GetProperty("id").GetInt64()));

        var (_, narrow) = await app.NearAsync(customer, $"lat={Q(lat)}&long={Q(lon)}&radius=2.5");
        Assert.Equal(shops.Take(2).Select(s => s.Id), narrow.EnumerateArray().Select(s => s.GetProperty("id").GetInt64()));

        var (_, wide) = await app.NearAsync(customer, $"lat={Q(lat)}&long={Q(lon)}&radius=50&limit=3");
        Assert.Equal(shops.Take(3).Select(s => s.Id), wide.EnumerateArray().Select(s => s.GetProperty("id").GetInt64()));

        var (_, all) = await app.NearAsync(customer, $"lat={Q(lat)}&long={Q(lon)}&radius=50");
        Assert.Equal(shops.Select(s => s.Id), all.EnumerateArray().Select(s => s.GetProperty("id").GetInt64()));
    }

    [Fact]
    public async Task A_shop_100_m_away_in_the_neighbouring_cell_is_found()
    {
        var box = Geohash.Bounds(Geohash.Encode(28.6139, 77.2090, 5));
        const double half = 0.00045; // 50 m of longitude here, less than 50 m
        var shop = await app.ShopAsync(28.6139, box.East - half);
        var point = (Lat: 28.6139, Lon: box.East + half);
        Assert.NotEqual(ShopKeys.Cell(28.6139, box.East - half), ShopKeys.Cell(point.Lat, point.Lon));
        var customer = await app.CustomerAsync();

        var (_, body) = await app.NearAsync(customer, $"lat={Q(point.Lat)}&long={Q(point.Lon)}&radius=0.2");

        var found = Assert.Single(body.EnumerateArray());
        Assert.Equal(shop.Id, found.GetProperty("id").GetInt64());
        Assert.Equal(0.09, found.GetProperty("distance").GetDouble());
    }

    [Fact]
    public async Task A_search_reads_only_the_cells_around_the_point()
    {
        const double lat = 22.5726, lon = 88.3639;
        var near = await app.ShopAsync(lat + 0.02, lon);
        var farAway = await app.ShopAsync(lat + 1, lon); // 111 km: another part of the index
        var customer = await app.CustomerAsync();

        var (response, body) = await app.NearAsync(customer, $"lat={Q(lat)}&long={Q(lon)}&radius=50&limit=100");

        Assert.Equal([near.Id], body.EnumerateArray().Select(s => s.GetProperty("id").GetInt64()));
        // One read for the caller's session, one query per run of adjacent cells covering the circle: no scan.
        var ranges = ShopIndex.SearchRanges(lat, lon, 50);
        Assert.Equal(1 + ranges.Count, StorageRequests(response));
        Assert.DoesNotContain(ranges, r => string.CompareOrdinal(ShopKeys.Cell(lat + 1, lon), r.From) >= 0
                                           && string.CompareOrdinal(ShopKeys.Cell(lat + 1, lon), r.To) <= 0);
        var (defaultRadius, _) = await app.NearAsync(customer, $"lat={Q(lat)}&long={Q(lon)}");
        Assert.Equal(1 + ShopIndex.SearchRanges(lat, lon, 10).Count, StorageRequests(defaultRadius));
        Assert.NotNull(await app.ListingAsync(farAway.Id, lat + 1, lon));
    }

    [Fact]
    public async Task Moving_the_shop_moves_its_listing_and_renaming_it_shows_at_once()
    {
        const double lat = 26.9124, lon = 75.7873;
        var shop = await app.ShopAsync(lat, lon);
        var customer = await app.CustomerAsync();
        var moved = (Lat: lat + 0.2, Lon: lon + 0.2);

        var response = await app.Bearer(shop).PutAsJsonAsync("/profile", new { lat = moved.Lat, @long = moved.Lon, shop_name = "Moved", address = "2 New Rd" });

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Null(await app.ListingAsync(shop.Id, lat, lon));
        var listing = await app.ListingAsync(shop.Id, moved.Lat, moved.Lon);
        Assert.Equal(("Moved", "2 New Rd", moved.Lat), (listing!.ShopName, listing.Address, listing.Lat));
        var (_, old) = await app.NearAsync(customer, $"lat={Q(lat)}&long={Q(lon)}&radius=1");
        Assert.Equal(0, old.GetArrayLength());
        var (_, there) = await app.NearAsync(customer, $"lat={Q(moved.Lat)}&long={Q(moved.Lon)}&radius=1");
        Assert.Equal("Moved", Assert.Single(there.EnumerateArray()).GetProperty("shop_name").GetString());

        var renamed = app.Unique("renamed");
        Assert.Equal(HttpStatusCode.OK, (await app.Bearer(shop).PutAsJsonAsync("/profile", new { username = renamed })).StatusCode);
        var (_, again) = await app.NearAsync(customer, $"lat={Q(moved.Lat)}&long={Q(moved.Lon)}&radius=1");
        Assert.Equal(renamed, Assert.Single(again.EnumerateArray()).GetProperty("username").GetString());
    }

    [Fact]
    public async Task A_listing_left_in_an_old_cell_by_a_cut_short_write_goes_with_the_next_write()
    {
        const double lat = 17.3850, lon = 78.4867;
        var shop = await app.ShopAsync(lat, lon);
        var profile = (await app.ProfileAsync(shop.Id))!;
        // The profile moved but its sync never ran: the index still lists the shop at the old place.
        var table = app.Get<Serverless.Platform.Storage.StorageAccount>().Table(Serverless.Platform.Identity.UserDirectory.TableName);
        await table.UpdateEntityAsync(profile with { Lat = lat + 0.3 }, profile.ETag);
        Assert.NotNull(await app.ListingAsync(shop.Id, lat, lon));

        var response = await app.Bearer(shop).PostAsJsonAsync("/shop/status", new { is_open = true });

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Null(await app.ListingAsync(shop.Id, lat, lon));
        Assert.NotNull(await app.ListingAsync(shop.Id, lat + 0.3, lon));
    }

    [Fact]
    public async Task Deleting_the_shopkeepers_account_removes_its_listing()
    {
        const double lat = 13.0827, lon = 80.2707;
        var shop = await app.ShopAsync(lat, lon);
        var customer = await app.CustomerAsync();
        Assert.NotNull(await app.OpenRowAsync(shop.Id));

        var request = new HttpRequestMessage(HttpMethod.Delete, "/profile") { Content = JsonContent.Create(new { password = shop.Password }) };
        var deleted = await app.Bearer(shop).SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, deleted.StatusCode);
        Assert.Null(await app.ListingAsync(shop.Id, lat, lon));
        Assert.Null(await app.OpenRowAsync(shop.Id));
        var (_, body) = await app.NearAsync(customer, $"lat={Q(lat)}&long={Q(lon)}");
        Assert.Equal(0, body.GetArrayLength());
    }

    [Fact]
    public async Task Signed_in_customers_and_shopkeepers_may_search_and_anonymous_callers_may_not()
    {
        var customer = await app.CustomerAsync();
        var shop = await app.ShopAsync(-33.8688, 151.2093);

        Assert.Equal(HttpStatusCode.Unauthorized, (await app.CreateClient().GetAsync("/shops?lat=1&long=1")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await app.NearAsync(customer, "lat=1&long=1")).Response.StatusCode);
        var (response, body) = await app.NearAsync(shop, "lat=-33.8688&long=151.2093");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(shop.Id, Assert.Single(body.EnumerateArray()).GetProperty("id").GetInt64());
    }

    [Theory]
    [InlineData("long=77.59", "'lat' is required.")]
    [InlineData("lat=12.97", "'long' is required.")]
    [InlineData("lat=91&long=77.59", "'lat' must be between -90 and 90.")]
    [InlineData("lat=12.97&long=-180.5", "'long' must be between -180 and 180.")]
    [InlineData("lat=12.97&long=77.59&radius=0", "'radius' must be more than 0 and at most 50 (km).")]
    [InlineData("lat=12.97&long=77.59&radius=51", "'radius' must be more than 0 and at most 50 (km).")]
    [InlineData("lat=12.97&long=77.59&limit=0", "'limit' must be between 1 and 100.")]
    [InlineData("lat=12.97&long=77.59&limit=101", "'limit' must be between 1 and 100.")]
    [InlineData("lat=north&long=77.59", "lat")]
    [InlineData("lat=12.97&long=77.59&limit=many", "limit")]
    [InlineData("lat=NaN&long=77.59", "'lat' must be between -90 and 90.")]
    public async Task Bad_coordinates_radius_or_limit_are_400s_naming_the_field(string query, string message)
    {
        var customer = await app.CustomerAsync();

        var (response, body) = await app.NearAsync(customer, query);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains(message, body.GetProperty("error").GetString());
    }
}
