using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Serverless.Print.Payouts;
using Serverless.Tests.Print.Payouts;

namespace Serverless.Tests.Print.Admin.Payouts;

/// <summary>Shops with earnings and payouts made the way the app makes them: credited jobs, then a payout run of a day.</summary>
public static class AdminPayoutsHelpers
{
    public static DateOnly Today(PrintPayoutFactory app) => DateOnly.FromDateTime(app.Time.GetUtcNow().UtcDateTime);

    /// <summary>A shopkeeper account whose earnings hold <paramref name="jobMinor"/> (before the 15% commission) for each job.</summary>
    public static async Task<(PrintAccount Shop, long ShareMinor)> ShopWithEarningsAsync(PrintPayoutFactory app, params long[] jobsMinor)
    {
        var shop = await app.SignUpAsync(role: "shopkeeper");
        long share = 0;
        foreach (var job in jobsMinor)
            share += (await app.Get<PrintEarnings>().CreditJobAsync("job-" + Guid.NewGuid().ToString("N"), shop.Id, job)).ShopMinor;
        return (shop, share);
    }

    /// <summary>Runs the payout run of <paramref name="day"/> and returns the payout it made for <paramref name="shop"/>.</summary>
    public static async Task<ShopPayoutRow> PayoutOfAsync(PrintPayoutFactory app, DateOnly day, PrintAccount shop)
    {
        var made = await app.Get<PrintEarnings>().RunPayoutsAsync(day);
        return Assert.Single(made, p => p.ShopkeeperId == shop.Id);
    }

    public static async Task<HttpResponseMessage> SendAsync(PrintPayoutFactory app, HttpMethod method, string path, object? body, string? token) =>
        await app.CreateClient().SendAsync(PrintFactory.Json(method, path, body, token));

    public static async Task<JsonElement> OkJsonAsync(HttpResponseMessage response)
    {
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
        return await response.Content.ReadFromJsonAsync<JsonElement>();
    }

    public static async Task<(HttpStatusCode Status, string? Code, string? Error)> ErrorAsync(HttpResponseMessage response)
    {
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        return (response.StatusCode, body.GetProperty("code").GetString(), body.GetProperty("error").GetString());
    }

    public static long[] Ids(JsonElement list) => list.GetProperty("payouts").EnumerateArray().Select(p => p.GetProperty("id").GetInt64()).ToArray();
}
