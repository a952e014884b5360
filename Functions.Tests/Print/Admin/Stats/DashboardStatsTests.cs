using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.AspNetCore.Mvc.Testing;
using Serverless.Print.Admin.Stats;
using Serverless.Print.Payouts;
using Serverless.Tests.Print.Files;

namespace Serverless.Tests.Print.Admin.Stats;

/// <summary>The print app for the dashboard: sandbox payments, 10% commission, payouts from ₹1, admin endpoints only from one address.</summary>
public sealed class DashboardStatsFactory : PrintFilesFactory
{
    public const string AdminIp = "10.7.7.7";

    public DashboardStatsFactory()
    {
        With("Print:Payouts:Minimum", "1");
        With("ALLOWED_ADMIN_IPS", AdminIp);
    }
}

/// <summary>GET /admin/dashboard/stats: what the dashboard says after what a test did, counted from a first read.</summary>
public sealed class DashboardStatsTests(DashboardStatsFactory app) : IClassFixture<DashboardStatsFactory>
{
    private const string Path = "/admin/dashboard/stats";

    private async Task<HttpResponseMessage> GetAsync(string? token, string? ip = DashboardStatsFactory.AdminIp) =>
        await app.CreateClient().SendAsync(PrintFactory.Json(HttpMethod.Get, Path, null, token, ip));

    private async Task<JsonElement> StatsAsync()
    {
        var response = await GetAsync(await app.AdminTokenAsync());
        var body = await PrintFilesFactory.BodyAsync(response);
        Assert.True(response.StatusCode == HttpStatusCode.OK, body.ToString());
        return body;
    }

    private static decimal At(JsonElement stats, string path)
    {
        var node = stats;
        foreach (var name in path.Split('.'))
            node = node.GetProperty(name);
        return node.GetDecimal();
    }

    /// <summary>How each figure named moved between two reads.</summary>
    private static Dictionary<string, decimal> Delta(JsonElement before, JsonElement after, params string[] paths) =>
        paths.ToDictionary(p => p, p => At(after, p) - At(before, p));

    private static readonly string[] PeriodFigures =
    [
        "files_uploaded", "pages_uploaded", "prints_confirmed", "orders_paid", "revenue", "by_method.wallet.orders_paid", "by_method.wallet.revenue",
        "by_method.razorpay.orders_paid", "by_method.razorpay.revenue", "by_method.hybrid.orders_paid", "by_method.hybrid.revenue", "refunds.count",
        "refunds.amount", "new_users",
    ];

    private async Task<long> PayOnlineAsync(PrintAccount customer, decimal amount, string method, decimal fund = 0)
    {
        if (fund > 0)
            await app.FundAsync(customer, fund);
        var response = await app.Bearer(customer).PostAsJsonAsync("/create-payment-order", new { amount, use_wallet = fund > 0, print_type = "private" });
        var order = await PrintFilesFactory.BodyAsync(response);
        Assert.Equal(method, order.GetProperty("payment_method").GetString());
        var paid = await app.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false }).PostAsync(
            new Uri(order.GetProperty("checkout_url").GetString()!).PathAndQuery, new FormUrlEncodedContent(new Dictionary<string, string> { ["outcome"] = "pay", ["method"] = "upi" }));
        Assert.Equal(HttpStatusCode.Redirect, paid.StatusCode);
        return order.GetProperty("id").GetInt64();
    }

    private async Task<JsonElement> UploadAsync(PrintAccount customer, long order, params int[] pages)
    {
        var (status, upload) = await app.UploadAsync(customer, pages.Select((p, i) => ($"f{i}.pdf", TestDocuments.Pdf(p))),
            new { print_type = "private", payment_order_id = order });
        Assert.True(status == HttpStatusCode.Created, upload.ToString());
        return upload;
    }

    [Fact]
    public async Task The_dashboard_counts_what_happened_users_orders_by_method_files_prints_refunds_earnings_and_payouts()
    {
        var before = await StatsAsync();

        var alice = await app.SignUpAsync();
        var bob = await app.SignUpAsync();
        var shop = await app.SignUpAsync(role: "shopkeeper");
        var registered = await StatsAsync();
        // A shop opens when it registers; closing it takes it off the open count.
        Assert.Equal(1m, At(registered, "shops_open_now") - At(before, "shops_open_now"));
        Assert.Equal(HttpStatusCode.OK, (await app.Bearer(shop).PostAsJsonAsync("/shop/status", new { is_open = false })).StatusCode);
        Assert.Equal(-1m, At(await StatsAsync(), "shops_open_now") - At(registered, "shops_open_now"));
        Assert.Equal(HttpStatusCode.OK, (await app.Bearer(shop).PostAsJsonAsync("/shop/status", new { is_open = true })).StatusCode);

        // ₹10 from the wallet (scenario A), ₹6 online, ₹10 hybrid (₹3 wallet + ₹7 online).
        var walletOrder = await app.PaidOrderAsync(alice, 10);
        var onlineOrder = await PayOnlineAsync(alice, 6, "razorpay");
        var hybridOrder = await PayOnlineAsync(bob, 10, "hybrid", fund: 3);

        // Files: 1 (4 pages) on the wallet order, 2 (3 + 2 pages) on the hybrid one, 1 (1 page) on the online one.
        var first = await UploadAsync(alice, walletOrder, 4);
        var pair = await UploadAsync(bob, hybridOrder, 3, 2);
        await UploadAsync(alice, onlineOrder, 1);

        // The shop prints the ₹4 file: ₹3.60 to its earnings, ₹0.40 commission. Bob withdraws his ₹3 file.
        Assert.Equal(HttpStatusCode.OK, (await app.Bearer(shop).PostAsync($"/file/{first.GetProperty("code").GetString()}/confirm", null)).StatusCode);
        var withdrawn = pair.GetProperty("files")[0].GetProperty("file_id").GetInt64();
        Assert.Equal(HttpStatusCode.OK, (await app.Bearer(bob).PostAsync($"/withdraw/{withdrawn}", null)).StatusCode);

        var after = await StatsAsync();
        Assert.Equal(1m, At(after, "users.admin"));
        Assert.Equal(new Dictionary<string, decimal> { ["users.customer"] = 2, ["users.shopkeeper"] = 1, ["users.total"] = 3 },
            Delta(before, registered, "users.customer", "users.shopkeeper", "users.total"));
        Assert.Equal(0m, At(after, "shops_open_now") - At(registered, "shops_open_now"));
        var expected = new Dictionary<string, decimal>
        {
            ["files_uploaded"] = 4, ["pages_uploaded"] = 10, ["prints_confirmed"] = 1, ["orders_paid"] = 3, ["revenue"] = 26,
            ["by_method.wallet.orders_paid"] = 1, ["by_method.wallet.revenue"] = 10, ["by_method.razorpay.orders_paid"] = 1,
            ["by_method.razorpay.revenue"] = 6, ["by_method.hybrid.orders_paid"] = 1, ["by_method.hybrid.revenue"] = 10,
            ["refunds.count"] = 1, ["refunds.amount"] = 3, ["new_users"] = 3,
        };
        foreach (var period in new[] { "today", "this_month", "all_time" })
            Assert.Equal(expected, Delta(before, after, PeriodFigures.Select(f => period + "." + f).ToArray())
                .ToDictionary(kv => kv.Key[(period.Length + 1)..], kv => kv.Value));
        Assert.Equal(new Dictionary<string, decimal>
        {
            ["commission_earned"] = 0.4m, ["unpaid_shop_earnings"] = 3.6m, ["pending_payouts.count"] = 0, ["pending_payouts.amount"] = 0,
        }, Delta(before, after, "commission_earned", "unpaid_shop_earnings", "pending_payouts.count", "pending_payouts.amount"));

        // The payout run turns the shop's ₹3.60 into a pending payout; it moves to processing, then fails and the money is owed again.
        var earnings = app.Get<PrintEarnings>();
        var payout = Assert.Single(await earnings.RunPayoutsAsync(DateOnly.FromDateTime(app.Time.GetUtcNow().UtcDateTime)), p => p.ShopkeeperId == shop.Id);
        var run = await StatsAsync();
        Assert.Equal(new Dictionary<string, decimal> { ["unpaid_shop_earnings"] = -3.6m, ["pending_payouts.count"] = 1, ["pending_payouts.amount"] = 3.6m },
            Delta(after, run, "unpaid_shop_earnings", "pending_payouts.count", "pending_payouts.amount"));
        Assert.Equal(PayoutMark.Updated, (await earnings.MarkAsync(payout.Id, ShopPayoutStatus.Processing, null)).Outcome);
        var processing = await StatsAsync();
        Assert.Equal(new Dictionary<string, decimal>
        {
            ["pending_payouts.count"] = -1, ["pending_payouts.amount"] = -3.6m, ["processing_payouts.count"] = 1, ["processing_payouts.amount"] = 3.6m,
        }, Delta(run, processing, "pending_payouts.count", "pending_payouts.amount", "processing_payouts.count", "processing_payouts.amount"));
        Assert.Equal(PayoutMark.Updated, (await earnings.MarkAsync(payout.Id, ShopPayoutStatus.Failed, "bounced")).Outcome);
        Assert.Equal(PayoutMark.Unchanged, (await earnings.MarkAsync(payout.Id, ShopPayoutStatus.Failed, null)).Outcome);
        var failed = await StatsAsync();
        Assert.Equal(new Dictionary<string, decimal> { ["unpaid_shop_earnings"] = 3.6m, ["processing_payouts.count"] = -1, ["processing_payouts.amount"] = -3.6m },
            Delta(processing, failed, "unpaid_shop_earnings", "processing_payouts.count", "processing_payouts.amount"));

        // Tomorrow (UTC) the day's figures start again; the month's and all time's stay.
        app.Time.Advance(TimeSpan.FromDays(1));
        var tomorrow = await StatsAsync();
        Assert.Equal((0m, 0m, 0m), (At(tomorrow, "today.files_uploaded"), At(tomorrow, "today.orders_paid"), At(tomorrow, "today.revenue")));
        Assert.Equal(At(failed, "all_time.revenue"), At(tomorrow, "all_time.revenue"));
        if (app.Time.GetUtcNow().Month == app.Time.GetUtcNow().AddDays(-1).Month)
            Assert.Equal(At(failed, "this_month.files_uploaded"), At(tomorrow, "this_month.files_uploaded"));
    }

    [Fact]
    public async Task An_event_delivered_twice_or_at_once_counts_once()
    {
        var before = await StatsAsync();
        var channel = app.Get<PrintStatsChannel>();
        var once = PrintStatEvents.Confirmed(Random.Shared.NextInt64(1L << 40, 1L << 50), app.Time.GetUtcNow());
        var twice = PrintStatEvents.Confirmed(Random.Shared.NextInt64(1L << 40, 1L << 50), app.Time.GetUtcNow());

        await channel.DeliverAsync(once, default);
        await channel.DeliverAsync(once, default);
        Assert.False(await channel.ApplyAsync(once, checkFirst: false, default));
        var racing = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => channel.ApplyAsync(twice, checkFirst: false, default)));
        Assert.Single(racing, counted => counted);

        var after = await StatsAsync();
        Assert.Equal(new Dictionary<string, decimal> { ["today.prints_confirmed"] = 2, ["this_month.prints_confirmed"] = 2, ["all_time.prints_confirmed"] = 2 },
            Delta(before, after, "today.prints_confirmed", "this_month.prints_confirmed", "all_time.prints_confirmed"));
    }

    [Fact]
    public async Task A_registration_reported_again_counts_once_and_a_deleted_account_counts_no_more()
    {
        var customer = await app.SignUpAsync();
        var before = await StatsAsync();
        var profile = await app.Bearer(customer).PutAsJsonAsync("/profile", new { address = "2 Side St" });
        Assert.Equal(HttpStatusCode.OK, profile.StatusCode);
        Assert.Equal(0m, At(await StatsAsync(), "users.customer") - At(before, "users.customer"));

        var deleted = await app.Bearer(customer).SendAsync(new HttpRequestMessage(HttpMethod.Delete, "/profile")
        {
            Content = JsonContent.Create(new { password = customer.Password }),
        });
        Assert.Equal(HttpStatusCode.OK, deleted.StatusCode);
        Assert.Equal(-1m, At(await StatsAsync(), "users.customer") - At(before, "users.customer"));
    }

    [Fact]
    public async Task Only_an_admin_from_an_allowed_address_reads_the_dashboard()
    {
        var admin = await app.AdminTokenAsync();
        var customer = await app.SignUpAsync();
        var shop = await app.SignUpAsync(role: "shopkeeper");

        Assert.Equal(HttpStatusCode.OK, (await GetAsync(admin)).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await GetAsync(null)).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await GetAsync(customer.Token)).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await GetAsync(shop.Token)).StatusCode);
        var elsewhere = await GetAsync(admin, "10.7.7.8");
        Assert.Equal(HttpStatusCode.Forbidden, elsewhere.StatusCode);
        Assert.Equal("forbidden", (await PrintFilesFactory.BodyAsync(elsewhere)).GetProperty("code").GetString());
        Assert.Equal(HttpStatusCode.Forbidden, (await GetAsync(admin, ip: null)).StatusCode);
    }

    [Fact]
    public async Task The_dashboard_is_a_fixed_number_of_storage_requests_whatever_was_counted()
    {
        var admin = await app.AdminTokenAsync();
        var first = await GetAsync(admin);
        var customer = await app.SignUpAsync();
        await app.PaidOrderAsync(customer, 5);
        var second = await GetAsync(admin);

        static int Requests(HttpResponseMessage response) => int.Parse(response.Headers.GetValues("X-Storage-Requests").Single(), System.Globalization.CultureInfo.InvariantCulture);
        // The session (2), 8 shards × (total, today, this month) (24), 8 commission accounts, 8 open-shops lists, the platform admin (2).
        Assert.Equal((44, 44), (Requests(first), Requests(second)));
    }
}

/// <summary>A counters' transaction whose answer is lost (stored, then the SDK's retry meets it) still counts its event once.</summary>
public sealed class DashboardStatsLostAnswerTests(DashboardStatsLostAnswerTests.Factory app) : IClassFixture<DashboardStatsLostAnswerTests.Factory>
{
    public sealed class Factory : PrintFilesFactory
    {
        public Factory() => FrontTablesWithLossyProxy();
    }

    private async Task<decimal> PrintsConfirmedAsync()
    {
        var stats = await app.WithToken(await app.AdminTokenAsync()).GetFromJsonAsync<JsonElement>("/admin/dashboard/stats");
        return stats.GetProperty("all_time").GetProperty("prints_confirmed").GetDecimal();
    }

    [Fact]
    public async Task A_lost_answer_to_the_counters_transaction_counts_the_event_once()
    {
        var channel = app.Get<PrintStatsChannel>();
        var before = await PrintsConfirmedAsync();
        var fileId = Random.Shared.NextInt64(1L << 40, 1L << 50);
        var stat = PrintStatEvents.Confirmed(fileId, app.Time.GetUtcNow());
        var lost = app.Proxy!.Lost;
        app.Proxy!.LoseAnswerTo(r => r.Method == "POST" && r.Path.Value == "/devstoreaccount1/$batch"
                                     && Infrastructure.LossyStorageProxy.BodyOf(r).Contains(fileId.ToString(System.Globalization.CultureInfo.InvariantCulture),
                                         StringComparison.Ordinal));

        Assert.True(await channel.ApplyAsync(stat, checkFirst: false, default));

        Assert.Equal(lost + 1, app.Proxy!.Lost);
        Assert.False(await channel.ApplyAsync(stat, checkFirst: false, default));
        Assert.Equal(1m, await PrintsConfirmedAsync() - before);
    }
}
