using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Serverless.Platform.Hosting;
using Serverless.Print.Shops;

namespace Serverless.Tests.Print.Shops;

// The sweeper sweeps every open shop of its app, and the tests move the app's clock: this class has an app of its own.
public sealed class ShopPresenceTests(SweeperFactory app) : IClassFixture<SweeperFactory>
{
    private static readonly TimeSpan Stale = TimeSpan.FromMinutes(5);

    [Fact]
    public async Task The_shopkeeper_closes_and_reopens_the_shop_and_the_listing_follows()
    {
        var shop = await app.ShopAsync(50.1, 8.6);

        var closed = await app.Bearer(shop).PostAsJsonAsync("/shop/status", new { is_open = false });

        Assert.Equal(HttpStatusCode.OK, closed.StatusCode);
        var body = await closed.Content.ReadFromJsonAsync<JsonElement>();
        Assert.False(body.GetProperty("is_open").GetBoolean());
        Assert.Equal("Shop is now closed: customers see it as closed.", body.GetProperty("message").GetString());
        Assert.False((await app.ProfileAsync(shop.Id))!.IsOpen);
        Assert.False((await app.ListingAsync(shop.Id, 50.1, 8.6))!.IsOpen);
        Assert.Null(await app.OpenRowAsync(shop.Id));
        var profile = await app.Bearer(shop).GetFromJsonAsync<JsonElement>("/profile");
        Assert.False(profile.GetProperty("is_open").GetBoolean());

        var opened = await app.Bearer(shop).PostAsJsonAsync("/shop/status", new { is_open = true });

        Assert.Equal(HttpStatusCode.OK, opened.StatusCode);
        Assert.True((await opened.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("is_open").GetBoolean());
        Assert.True((await app.ListingAsync(shop.Id, 50.1, 8.6))!.IsOpen);
        Assert.NotNull(await app.OpenRowAsync(shop.Id));
        Assert.Equal(app.Time.GetUtcNow(), (await app.ProfileAsync(shop.Id))!.OpenedAt);
    }

    [Theory]
    [InlineData("{}", "'is_open'")]
    [InlineData("{\"is_open\": null}", "'is_open' is required")]
    [InlineData("{\"is_open\": \"yes\"}", "is_open")]
    [InlineData("{\"is_open\": 1}", "is_open")]
    public async Task A_status_without_a_boolean_is_open_is_a_400(string json, string message)
    {
        var shop = await app.ShopAsync(50.2, 8.6);

        var response = await app.Bearer(shop).PostAsync("/shop/status", new StringContent(json, System.Text.Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains(message, (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("error").GetString());
        Assert.True((await app.ProfileAsync(shop.Id))!.IsOpen);
    }

    [Fact]
    public async Task Only_shopkeepers_may_set_the_status_or_send_heartbeats()
    {
        var customer = await app.CustomerAsync();
        var shop = await app.ShopAsync(50.3, 8.6);

        foreach (var path in new[] { "/shop/status", "/shop/heartbeat" })
        {
            Assert.Equal(HttpStatusCode.Unauthorized, (await app.CreateClient().PostAsJsonAsync(path, new { is_open = true })).StatusCode);
            Assert.Equal(HttpStatusCode.Forbidden, (await app.Bearer(customer).PostAsJsonAsync(path, new { is_open = true })).StatusCode);
            Assert.Equal(HttpStatusCode.OK, (await app.Bearer(shop).PostAsJsonAsync(path, new { is_open = true })).StatusCode);
        }
    }

    [Fact]
    public async Task A_heartbeat_is_recorded_and_never_reopens_a_closed_shop()
    {
        var shop = await app.ShopAsync(50.4, 8.6);

        var response = await app.Bearer(shop).PostAsync("/shop/heartbeat", null);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.True(body.GetProperty("ok").GetBoolean());
        Assert.True(body.GetProperty("is_open").GetBoolean());
        var profile = (await app.ProfileAsync(shop.Id))!;
        Assert.Equal(app.Time.GetUtcNow(), profile.LastHeartbeatAt);
        // The app's heartbeat is not web activity.
        Assert.Null(profile.LastWebActivityAt);

        await app.Bearer(shop).PostAsJsonAsync("/shop/status", new { is_open = false });
        app.Time.Advance(TimeSpan.FromSeconds(30));
        var after = await (await app.Bearer(shop).PostAsync("/shop/heartbeat", null)).Content.ReadFromJsonAsync<JsonElement>();

        Assert.False(after.GetProperty("is_open").GetBoolean());
        Assert.False((await app.ProfileAsync(shop.Id))!.IsOpen);
        Assert.Equal(app.Time.GetUtcNow(), (await app.ProfileAsync(shop.Id))!.LastHeartbeatAt);
    }

    [Fact]
    public async Task Web_activity_is_written_at_most_once_a_minute()
    {
        var shop = await app.ShopAsync(50.5, 8.6);
        var client = app.Bearer(shop);
        var start = app.Time.GetUtcNow();

        var first = await client.GetAsync("/profile");
        Assert.Equal(2, ShopsFactory.StorageRequests(first)); // the session's profile read, and the activity written
        Assert.Equal(start, (await app.ProfileAsync(shop.Id))!.LastWebActivityAt);

        app.Time.Advance(TimeSpan.FromSeconds(59));
        var within = await client.GetAsync("/profile");
        Assert.Equal(1, ShopsFactory.StorageRequests(within));
        Assert.Equal(start, (await app.ProfileAsync(shop.Id))!.LastWebActivityAt);

        app.Time.Advance(TimeSpan.FromSeconds(1));
        var due = await client.GetAsync("/profile");
        Assert.Equal(2, ShopsFactory.StorageRequests(due));
        Assert.Equal(app.Time.GetUtcNow(), (await app.ProfileAsync(shop.Id))!.LastWebActivityAt);

        // A handler that writes the profile goes on from the one the activity wrote (no 409 for its ETag).
        app.Time.Advance(TimeSpan.FromMinutes(2));
        Assert.Equal(HttpStatusCode.OK, (await client.PutAsJsonAsync("/profile", new { shop_name = "Still here" })).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await client.PostAsJsonAsync("/shop/status", new { is_open = true })).StatusCode);
    }

    [Fact]
    public async Task Customers_requests_write_no_web_activity()
    {
        var customer = await app.CustomerAsync();

        var response = await app.Bearer(customer).GetAsync("/profile");

        Assert.Equal(1, ShopsFactory.StorageRequests(response));
        Assert.Null((await app.ProfileAsync(customer.Id))!.LastWebActivityAt);
    }

    [Fact]
    public async Task The_sweeper_closes_only_shops_whose_heartbeat_and_web_activity_are_both_stale()
    {
        var silent = await app.ShopAsync(51.1, 9.1);
        var beating = await app.ShopAsync(51.2, 9.1);
        var browsing = await app.ShopAsync(51.3, 9.1);
        var closedAlready = await app.ShopAsync(51.4, 9.1);
        await app.Bearer(closedAlready).PostAsJsonAsync("/shop/status", new { is_open = false });

        app.Time.Advance(Stale - TimeSpan.FromMinutes(1));
        await app.Bearer(beating).PostAsync("/shop/heartbeat", null);
        await app.Bearer(browsing).GetAsync("/profile");
        app.Time.Advance(TimeSpan.FromMinutes(1) + TimeSpan.FromSeconds(1));

        var result = await app.Get<ShopPresence>().SweepAsync();

        Assert.True(result.Closed >= 1);
        Assert.False((await app.ProfileAsync(silent.Id))!.IsOpen);
        Assert.False((await app.ListingAsync(silent.Id, 51.1, 9.1))!.IsOpen);
        Assert.Null(await app.OpenRowAsync(silent.Id));
        Assert.True((await app.ProfileAsync(beating.Id))!.IsOpen);
        Assert.True((await app.ProfileAsync(browsing.Id))!.IsOpen);
        Assert.NotNull(await app.OpenRowAsync(beating.Id));
        Assert.False((await app.ProfileAsync(closedAlready.Id))!.IsOpen);

        // Past the limit for the others too, and the timer itself runs the sweep.
        app.Time.Advance(Stale);
        var timer = app.Get<TriggerRegistry>().FindTimer(ShopPresence.SweepFunction)!;
        Assert.Equal("0 */1 * * * *", timer.Schedule);
        await app.Get<TriggerInvoker>().InvokeAsync(timer, app.Time.GetUtcNow(), false, CancellationToken.None);

        Assert.False((await app.ProfileAsync(beating.Id))!.IsOpen);
        Assert.False((await app.ProfileAsync(browsing.Id))!.IsOpen);
        Assert.False((await app.ListingAsync(browsing.Id, 51.3, 9.1))!.IsOpen);
    }

    [Fact]
    public async Task A_shop_reopened_after_a_long_silence_counts_from_its_opening()
    {
        var shop = await app.ShopAsync(51.5, 9.1);
        await app.Bearer(shop).PostAsync("/shop/heartbeat", null);
        await app.Bearer(shop).PostAsJsonAsync("/shop/status", new { is_open = false });
        app.Time.Advance(TimeSpan.FromHours(1));
        // Reopened from the app (a bearer request within the minute of the last web activity is no new activity).
        await app.Bearer(shop).PostAsJsonAsync("/shop/status", new { is_open = true });
        app.Time.Advance(Stale - TimeSpan.FromSeconds(1));

        await app.Get<ShopPresence>().SweepAsync();

        Assert.True((await app.ProfileAsync(shop.Id))!.IsOpen);
    }

    [Fact]
    public async Task The_sweeper_repairs_an_open_row_whose_profile_was_closed_without_its_sync()
    {
        var shop = await app.ShopAsync(51.6, 9.1);
        var profile = (await app.ProfileAsync(shop.Id))!;
        var users = app.Get<Serverless.Platform.Storage.StorageAccount>().Table(Serverless.Platform.Identity.UserDirectory.TableName);
        await users.UpdateEntityAsync(profile with { IsOpen = false }, profile.ETag);

        var result = await app.Get<ShopPresence>().SweepAsync();

        Assert.True(result.Repaired >= 1);
        Assert.Null(await app.OpenRowAsync(shop.Id));
        Assert.False((await app.ListingAsync(shop.Id, 51.6, 9.1))!.IsOpen);
    }

    [Fact]
    public void The_sweeper_is_a_timer_function_of_the_generated_manifest()
    {
        var function = Assert.Single(app.Get<FunctionManifest>().Build(), f => f.Name == "PrintStaleShopSweep");
        var binding = function.FunctionJson["bindings"]![0]!;
        Assert.Equal("timerTrigger", binding["type"]!.GetValue<string>());
        Assert.Equal("0 */1 * * * *", binding["schedule"]!.GetValue<string>());
    }
}
