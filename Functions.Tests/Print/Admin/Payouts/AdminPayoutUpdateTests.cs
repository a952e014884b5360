using System.Net;
using System.Text.Json;
using Serverless.Print.Payouts;
using Serverless.Tests.Print.Payouts;
using static Serverless.Tests.Print.Admin.Payouts.AdminPayoutsHelpers;

namespace Serverless.Tests.Print.Admin.Payouts;

/// <summary><c>PUT /admin/payouts/update</c> and <c>PUT /admin/payouts/bulk-update</c>.</summary>
public sealed class AdminPayoutUpdateTests(PrintPayoutFactory app) : IClassFixture<PrintPayoutFactory>
{
    private static int _day;

    /// <summary>Each test runs its payouts on a day of its own.</summary>
    private DateOnly NextDay() => Today(app).AddDays(-Interlocked.Increment(ref _day));

    private async Task<ShopPayoutRow> PayoutAsync(long jobMinor = 200_00)
    {
        var (shop, _) = await ShopWithEarningsAsync(app, jobMinor);
        return await PayoutOfAsync(app, NextDay(), shop);
    }

    private Task<HttpResponseMessage> UpdateAsync(string admin, object body) => SendAsync(app, HttpMethod.Put, "/admin/payouts/update", body, admin);

    private Task<HttpResponseMessage> BulkAsync(string admin, object body) => SendAsync(app, HttpMethod.Put, "/admin/payouts/bulk-update", body, admin);

    [Fact]
    public async Task A_payout_moves_along_its_legal_moves_and_an_illegal_one_is_refused_with_the_reason()
    {
        var admin = await app.AdminTokenAsync();
        var payout = await PayoutAsync();

        var skipping = await UpdateAsync(admin, new { payout_id = payout.Id, status = "paid", reference = "NEFT-1" });
        var (status, code, error) = await ErrorAsync(skipping);
        Assert.Equal((HttpStatusCode.Conflict, "illegal_transition"), (status, code));
        Assert.Equal($"Payout {payout.Id} is pending: it can become processing or failed, not paid.", error);

        var processing = await OkJsonAsync(await UpdateAsync(admin, new { payout_id = payout.Id, status = "processing", note = "Sent to the bank" }));
        Assert.Equal((payout.Id, "processing", "Sent to the bank"),
            (processing.GetProperty("id").GetInt64(), processing.GetProperty("status").GetString(), processing.GetProperty("note").GetString()));
        Assert.Equal(JsonValueKind.Null, processing.GetProperty("paid_at").ValueKind);

        app.Time.Advance(TimeSpan.FromHours(3));
        var paid = await OkJsonAsync(await UpdateAsync(admin, new { payout_id = payout.Id, status = "paid", reference = "UTR123456" }));
        Assert.Equal(("paid", "UTR123456", "Sent to the bank"),
            (paid.GetProperty("status").GetString(), paid.GetProperty("reference").GetString(), paid.GetProperty("note").GetString()));
        var at = Serverless.Print.Accounts.PrintTimes.Format(app.Time.GetUtcNow());
        Assert.Equal((at, at), (paid.GetProperty("paid_at").GetString(), paid.GetProperty("updated_at").GetString()));
        Assert.Equal("Shop of ", paid.GetProperty("shop_name").GetString()![..8]);

        // The same status again answers the payout as it is; a paid payout is final.
        var again = await OkJsonAsync(await UpdateAsync(admin, new { payout_id = payout.Id, status = "paid" }));
        Assert.Equal(("paid", at), (again.GetProperty("status").GetString(), again.GetProperty("paid_at").GetString()));
        var (failedStatus, failedCode, failedError) = await ErrorAsync(await UpdateAsync(admin, new { payout_id = payout.Id, status = "failed" }));
        Assert.Equal((HttpStatusCode.Conflict, "illegal_transition"), (failedStatus, failedCode));
        Assert.Equal($"Payout {payout.Id} is paid, which is final: it cannot become failed.", failedError);
        Assert.Equal(0, (await app.Get<PrintEarnings>().EarningsAsync(payout.ShopkeeperId)).Available);

        Assert.Equal(HttpStatusCode.NotFound, (await UpdateAsync(admin, new { payout_id = 987_654_321, status = "paid" })).StatusCode);
    }

    [Theory]
    [InlineData("{\"status\":\"paid\"}", "'payout_id'")]
    [InlineData("{\"payout_id\":1,\"status\":\"done\"}", "'status'")]
    [InlineData("{\"payout_id\":1}", "'status'")]
    [InlineData("{\"payout_id\":0,\"status\":\"paid\"}", "'payout_id'")]
    public async Task A_bad_update_is_refused_naming_the_field(string json, string named)
    {
        var request = PrintFactory.Json(HttpMethod.Put, "/admin/payouts/update", null, await app.AdminTokenAsync());
        request.Content = new StringContent(json, System.Text.Encoding.UTF8, "application/json");

        var (status, code, error) = await ErrorAsync(await app.CreateClient().SendAsync(request));

        Assert.Equal((HttpStatusCode.BadRequest, "validation_error"), (status, code));
        Assert.Contains(named, error);
    }

    [Fact]
    public async Task A_long_reference_is_refused()
    {
        var (status, _, error) = await ErrorAsync(await UpdateAsync(await app.AdminTokenAsync(),
            new { payout_id = 1, status = "processing", reference = new string('r', 101) }));
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Contains("'reference'", error);
    }

    [Fact]
    public async Task A_failed_payout_returns_its_money_to_the_shop_once_however_often_it_is_failed()
    {
        var admin = await app.AdminTokenAsync();
        var earnings = app.Get<PrintEarnings>();
        var payout = await PayoutAsync(300_00);
        Assert.Equal(255_00, payout.AmountMinor);
        Assert.Equal(0, (await earnings.EarningsAsync(payout.ShopkeeperId)).Available);

        var failed = await OkJsonAsync(await UpdateAsync(admin, new { payout_id = payout.Id, status = "failed", note = "Account closed" }));
        Assert.Equal(("failed", "Account closed"), (failed.GetProperty("status").GetString(), failed.GetProperty("note").GetString()));
        Assert.Equal(255_00, (await earnings.EarningsAsync(payout.ShopkeeperId)).Available);

        // Again, singly and in bulk: reported as failed, and no money moves a second time.
        Assert.Equal("failed", (await OkJsonAsync(await UpdateAsync(admin, new { payout_id = payout.Id, status = "failed" }))).GetProperty("status").GetString());
        var bulk = await OkJsonAsync(await BulkAsync(admin, new { payout_ids = new[] { payout.Id }, status = "failed" }));
        Assert.Equal(payout.Id, Assert.Single(bulk.GetProperty("succeeded").EnumerateArray()).GetProperty("payout_id").GetInt64());
        var balance = await earnings.EarningsAsync(payout.ShopkeeperId);
        Assert.Equal(255_00, balance.Available);
        Assert.Equal(3, balance.Movements); // the job's credit, the payout's debit, the one return
        Assert.Equal(HttpStatusCode.Conflict, (await UpdateAsync(admin, new { payout_id = payout.Id, status = "processing" })).StatusCode);
    }

    [Fact]
    public async Task A_bulk_update_moves_each_payout_it_may_and_reports_the_rest_and_a_repeat_moves_nothing_twice()
    {
        var admin = await app.AdminTokenAsync();
        var earnings = app.Get<PrintEarnings>();
        var pending = await PayoutAsync();
        var processing = await PayoutAsync();
        var paid = await PayoutAsync();
        var failing = await PayoutAsync(400_00);
        await earnings.MarkAsync(processing.Id, ShopPayoutStatus.Processing, null);
        await earnings.MarkAsync(paid.Id, ShopPayoutStatus.Processing, null);
        await earnings.MarkAsync(paid.Id, ShopPayoutStatus.Paid, "UTR-OLD");
        await earnings.MarkAsync(failing.Id, ShopPayoutStatus.Processing, null);
        const long unknown = 987_654_320;

        var toPaid = new { payout_ids = new[] { pending.Id, processing.Id, unknown, paid.Id }, status = "paid", reference = "BATCH-7" };
        var first = await OkJsonAsync(await BulkAsync(admin, toPaid));

        Assert.Equal(new[] { (processing.Id, "paid"), (paid.Id, "paid") }, Succeeded(first));
        Assert.Equal(new[] { (pending.Id, "illegal_transition"), (unknown, "not_found") }, Failed(first));
        Assert.Equal($"Payout {pending.Id} is pending: it can become processing or failed, not paid.",
            first.GetProperty("failed")[0].GetProperty("message").GetString());
        var processed = (await earnings.FindPayoutAsync(processing.Id))!;
        Assert.Equal((ShopPayoutStatus.Paid, "BATCH-7"), (processed.Status, processed.Reference));
        Assert.Equal("UTR-OLD", (await earnings.FindPayoutAsync(paid.Id))!.Reference); // already paid: left as it was
        Assert.Equal(ShopPayoutStatus.Pending, (await earnings.FindPayoutAsync(pending.Id))!.Status);

        app.Time.Advance(TimeSpan.FromMinutes(5));
        var again = await OkJsonAsync(await BulkAsync(admin, toPaid));
        Assert.Equal(Succeeded(first), Succeeded(again));
        Assert.Equal(Failed(first), Failed(again));
        Assert.Equal(processed.PaidAt, (await earnings.FindPayoutAsync(processing.Id))!.PaidAt);

        // To failed: the pending and processing ones may; the paid one may not; money goes back once.
        var toFailed = new { payout_ids = new[] { pending.Id, failing.Id, paid.Id }, status = "failed" };
        var failedOnce = await OkJsonAsync(await BulkAsync(admin, toFailed));
        var failedTwice = await OkJsonAsync(await BulkAsync(admin, toFailed));
        foreach (var report in new[] { failedOnce, failedTwice })
        {
            Assert.Equal(new[] { (pending.Id, "failed"), (failing.Id, "failed") }, Succeeded(report));
            Assert.Equal(new[] { (paid.Id, "illegal_transition") }, Failed(report));
        }
        Assert.Equal(170_00, (await earnings.EarningsAsync(pending.ShopkeeperId)).Available);
        Assert.Equal(340_00, (await earnings.EarningsAsync(failing.ShopkeeperId)).Available);
        Assert.Equal(0, (await earnings.EarningsAsync(paid.ShopkeeperId)).Available);
    }

    [Fact]
    public async Task Admins_failing_one_payout_at_the_same_moment_return_its_money_once()
    {
        var admin = await app.AdminTokenAsync();
        var payout = await PayoutAsync(500_00);

        var answers = await Task.WhenAll(Enumerable.Range(0, 6).Select(i => i % 2 == 0
            ? UpdateAsync(admin, new { payout_id = payout.Id, status = "failed" })
            : BulkAsync(admin, new { payout_ids = new[] { payout.Id }, status = "failed" })));

        Assert.All(answers, a => Assert.Equal(HttpStatusCode.OK, a.StatusCode));
        var balance = await app.Get<PrintEarnings>().EarningsAsync(payout.ShopkeeperId);
        Assert.Equal((425_00L, 3), (balance.Available, balance.Movements));
        Assert.Equal(ShopPayoutStatus.Failed, (await app.Get<PrintEarnings>().FindPayoutAsync(payout.Id))!.Status);
    }

    [Fact]
    public async Task A_bulk_update_takes_one_to_a_hundred_distinct_ids()
    {
        var admin = await app.AdminTokenAsync();

        foreach (var body in new object[]
                 {
                     new { payout_ids = Array.Empty<long>(), status = "paid" },
                     new { payout_ids = Enumerable.Range(1, 101).Select(i => (long)i).ToArray(), status = "paid" },
                     new { status = "paid" },
                 })
        {
            var (status, _, error) = await ErrorAsync(await BulkAsync(admin, body));
            Assert.Equal(HttpStatusCode.BadRequest, status);
            Assert.Contains("'payout_ids'", error);
        }
        var (dupStatus, _, dupError) = await ErrorAsync(await BulkAsync(admin, new { payout_ids = new long[] { 5, 6, 5 }, status = "paid" }));
        Assert.Equal((HttpStatusCode.BadRequest, "'payout_ids' must not repeat an id."), (dupStatus, dupError));
        var (badStatus, _, statusError) = await ErrorAsync(await BulkAsync(admin, new { payout_ids = new long[] { 5 }, status = "sent" }));
        Assert.Equal(HttpStatusCode.BadRequest, badStatus);
        Assert.Contains("'status'", statusError);

        var hundred = await OkJsonAsync(await BulkAsync(admin, new { payout_ids = Enumerable.Range(1, 100).Select(i => 900_000_000L + i).ToArray(), status = "paid" }));
        Assert.Equal(0, hundred.GetProperty("succeeded").GetArrayLength());
        Assert.Equal(100, hundred.GetProperty("failed").GetArrayLength());
    }

    private static (long, string)[] Succeeded(JsonElement report) => report.GetProperty("succeeded").EnumerateArray()
        .Select(s => (s.GetProperty("payout_id").GetInt64(), s.GetProperty("status").GetString()!)).ToArray();

    private static (long, string)[] Failed(JsonElement report) => report.GetProperty("failed").EnumerateArray()
        .Select(s => (s.GetProperty("payout_id").GetInt64(), s.GetProperty("error").GetString()!)).ToArray();
}
