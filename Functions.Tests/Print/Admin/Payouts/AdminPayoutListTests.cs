using System.Globalization;
using System.Net;
using Serverless.Print.Payouts;
using Serverless.Tests.Print.Payouts;
using static Serverless.Tests.Print.Admin.Payouts.AdminPayoutsHelpers;

namespace Serverless.Tests.Print.Admin.Payouts;

/// <summary>
/// <c>GET /admin/payouts</c>. The class has storage of its own, so every payout of its runs is one it made and the
/// totals are exact.
/// </summary>
public sealed class AdminPayoutListTests(PrintPayoutFactory app) : IClassFixture<PrintPayoutFactory>
{
    private static string Date(DateOnly day) => day.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);

    [Fact]
    public async Task The_list_filters_by_status_shop_and_window_and_pages_newest_first()
    {
        var admin = await app.AdminTokenAsync();
        var today = Today(app);
        var (old, oldDay) = (await ShopWithEarningsAsync(app, 150_00), today.AddDays(-120));
        var oldPayout = await PayoutOfAsync(app, oldDay, old.Shop);

        var (a, aShare) = await ShopWithEarningsAsync(app, 200_00);
        var (b, _) = await ShopWithEarningsAsync(app, 300_00);
        var day1 = today.AddDays(-10);
        var a1 = await PayoutOfAsync(app, day1, a);
        var b1 = Assert.Single(await app.Get<PrintEarnings>().PayoutsAsync(b.Id));
        await app.Get<PrintEarnings>().CreditJobAsync("job-" + Guid.NewGuid().ToString("N"), a.Id, 400_00);
        var (c, _) = await ShopWithEarningsAsync(app, 500_00);
        var day2 = today.AddDays(-5);
        var a2 = await PayoutOfAsync(app, day2, a);
        var c2 = Assert.Single(await app.Get<PrintEarnings>().PayoutsAsync(c.Id));
        Assert.Equal(ShopPayoutStatus.Processing, (await app.Get<PrintEarnings>().MarkAsync(b1.Id, ShopPayoutStatus.Processing, "NEFT-1")).Payout!.Status);

        // Default window (the last 90 days): newest day first, the newest payout of a day first; the 120-day-old one is out.
        var all = await OkJsonAsync(await SendAsync(app, HttpMethod.Get, "/admin/payouts", null, admin));
        Assert.Equal(4, all.GetProperty("total").GetInt32());
        var day2Ids = new[] { a2.Id, c2.Id }.OrderDescending();
        var day1Ids = new[] { a1.Id, b1.Id }.OrderDescending();
        Assert.Equal(day2Ids.Concat(day1Ids).ToArray(), Ids(all));
        var first = all.GetProperty("payouts").EnumerateArray().Single(p => p.GetProperty("id").GetInt64() == a1.Id);
        Assert.Equal(a.Id, first.GetProperty("shop_id").GetInt64());
        Assert.Equal("Shop of " + a.Username, first.GetProperty("shop_name").GetString());
        Assert.Equal(aShare / 100m, first.GetProperty("amount").GetDecimal());
        Assert.Equal(170m, first.GetProperty("amount").GetDecimal());
        Assert.Equal("pending", first.GetProperty("status").GetString());
        Assert.Equal(System.Text.Json.JsonValueKind.Null, first.GetProperty("paid_at").ValueKind);
        Assert.Equal("2026-11-22T12:00:00Z", first.GetProperty("created_at").GetString());

        // Paging: the same order, a slice of it, the same total.
        var page = await OkJsonAsync(await SendAsync(app, HttpMethod.Get, "/admin/payouts?limit=2&offset=1", null, admin));
        Assert.Equal(4, page.GetProperty("total").GetInt32());
        Assert.Equal(Ids(all).Skip(1).Take(2).ToArray(), Ids(page));
        var past = await OkJsonAsync(await SendAsync(app, HttpMethod.Get, "/admin/payouts?offset=10", null, admin));
        Assert.Equal((4, 0), (past.GetProperty("total").GetInt32(), Ids(past).Length));

        // By status, all shops and one shop.
        var processing = await OkJsonAsync(await SendAsync(app, HttpMethod.Get, "/admin/payouts?status=processing", null, admin));
        Assert.Equal(1, processing.GetProperty("total").GetInt32());
        var only = Assert.Single(processing.GetProperty("payouts").EnumerateArray());
        Assert.Equal((b1.Id, "NEFT-1"), (only.GetProperty("id").GetInt64(), only.GetProperty("reference").GetString()));
        var pending = await OkJsonAsync(await SendAsync(app, HttpMethod.Get, "/admin/payouts?status=pending&limit=1", null, admin));
        Assert.Equal(3, pending.GetProperty("total").GetInt32());
        Assert.Equal(new[] { day2Ids.First() }, Ids(pending));

        // One shop: its own payouts, whatever their day, unless a window is given.
        var shopA = await OkJsonAsync(await SendAsync(app, HttpMethod.Get, $"/admin/payouts?shop_id={a.Id}", null, admin));
        Assert.Equal(2, shopA.GetProperty("total").GetInt32());
        Assert.Equal(new[] { a2.Id, a1.Id }, Ids(shopA));
        var shopOld = await OkJsonAsync(await SendAsync(app, HttpMethod.Get, $"/admin/payouts?shop_id={old.Shop.Id}", null, admin));
        Assert.Equal(new[] { oldPayout.Id }, Ids(shopOld));
        var shopAWindow = await OkJsonAsync(await SendAsync(app, HttpMethod.Get, $"/admin/payouts?shop_id={a.Id}&from={Date(day1)}&to={Date(day1)}", null, admin));
        Assert.Equal(new[] { a1.Id }, Ids(shopAWindow));
        var shopAPaid = await OkJsonAsync(await SendAsync(app, HttpMethod.Get, $"/admin/payouts?shop_id={a.Id}&status=paid", null, admin));
        Assert.Equal(0, shopAPaid.GetProperty("total").GetInt32());

        // A window of days, all shops.
        var oneDay = await OkJsonAsync(await SendAsync(app, HttpMethod.Get, $"/admin/payouts?from={Date(day1)}&to={Date(day1)}", null, admin));
        Assert.Equal(day1Ids.ToArray(), Ids(oneDay));
        var older = await OkJsonAsync(await SendAsync(app, HttpMethod.Get, $"/admin/payouts?from={Date(today.AddDays(-200))}&to={Date(today.AddDays(-100))}", null, admin));
        Assert.Equal(1, older.GetProperty("total").GetInt32());
        Assert.Equal(new[] { oldPayout.Id }, Ids(older));
        var fromOnly = await OkJsonAsync(await SendAsync(app, HttpMethod.Get, $"/admin/payouts?from={Date(today.AddDays(-130))}", null, admin));
        Assert.Equal(5, fromOnly.GetProperty("total").GetInt32());
        var none = await OkJsonAsync(await SendAsync(app, HttpMethod.Get, $"/admin/payouts?from={Date(today.AddDays(-300))}&to={Date(today.AddDays(-250))}", null, admin));
        Assert.Equal((0, 0), (none.GetProperty("total").GetInt32(), Ids(none).Length));
    }

    [Fact]
    public async Task A_repeated_run_of_a_day_puts_back_a_payout_missing_from_the_day_index()
    {
        var admin = await app.AdminTokenAsync();
        var day = Today(app).AddDays(-400); // outside every window the other test reads
        var (shop, _) = await ShopWithEarningsAsync(app, 200_00);
        var payout = await PayoutOfAsync(app, day, shop);
        var table = app.Get<Serverless.Platform.Storage.StorageAccount>().Table(PrintEarnings.TableName);
        // As if the index write after the debit had been cut short.
        await table.DeleteEntityAsync(PayoutKeys.PayoutsByMonth(day), PayoutKeys.PayoutsByDay(day, payout.Id));
        var window = $"/admin/payouts?from={Date(day)}&to={Date(day)}";
        Assert.Equal(0, (await OkJsonAsync(await SendAsync(app, HttpMethod.Get, window, null, admin))).GetProperty("total").GetInt32());

        Assert.DoesNotContain(await app.Get<PrintEarnings>().RunPayoutsAsync(day), p => p.ShopkeeperId == shop.Id);

        var listed = await OkJsonAsync(await SendAsync(app, HttpMethod.Get, window, null, admin));
        Assert.Equal(new[] { payout.Id }, Ids(listed));
        Assert.Equal(0, (await app.Get<PrintEarnings>().EarningsAsync(shop.Id)).Available);
    }

    [Theory]
    [InlineData("status=done", "'status'")]
    [InlineData("limit=0", "'limit'")]
    [InlineData("limit=101", "'limit'")]
    [InlineData("limit=ten", "'limit'")]
    [InlineData("offset=-1", "'offset'")]
    [InlineData("shop_id=abc", "'shop_id'")]
    [InlineData("from=2026-13-01", "'from'")]
    [InlineData("to=yesterday", "'to'")]
    [InlineData("from=2026-11-20&to=2026-11-10", "'from'")]
    [InlineData("from=2024-01-01&to=2026-11-10", "366 days")]
    public async Task Bad_query_parameters_are_refused_naming_the_field(string query, string named)
    {
        var response = await SendAsync(app, HttpMethod.Get, "/admin/payouts?" + query, null, await app.AdminTokenAsync());

        var (status, code, error) = await ErrorAsync(response);
        Assert.Equal((HttpStatusCode.BadRequest, "validation_error"), (status, code));
        Assert.Contains(named, error);
    }
}
