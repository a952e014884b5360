using System.Globalization;
using System.Net;
using CsvHelper;
using Serverless.Print.Payouts;
using Serverless.Tests.Print.Payouts;
using static Serverless.Tests.Print.Admin.Payouts.AdminPayoutsHelpers;

namespace Serverless.Tests.Print.Admin.Payouts;

/// <summary><c>GET /admin/payouts/export</c> and the shop's bank account it shows (storage of its own: the rows are exact).</summary>
public sealed class AdminPayoutExportTests(PrintPayoutFactory app) : IClassFixture<PrintPayoutFactory>
{
    private static string Date(DateOnly day) => day.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);

    private Task<HttpResponseMessage> SaveBankAccountAsync(PrintAccount shop, object body) =>
        SendAsync(app, HttpMethod.Put, "/shop/bank-account", body, shop.Token);

    private static object Bank(string account = "123456789012", string ifsc = "hdfc0001234", string name = "Asha Rao") =>
        new Dictionary<string, object?> { ["bank_account"] = account, ["ifsc_code"] = ifsc, ["account_holder_name"] = name };

    [Fact]
    public async Task The_export_is_a_csv_of_the_window_with_masked_accounts_and_formula_cells_escaped()
    {
        var admin = await app.AdminTokenAsync();
        var today = Today(app);
        var (withBank, bankShare) = await ShopWithEarningsAsync(app, 123_45, 100_00);
        var (noBank, noBankShare) = await ShopWithEarningsAsync(app, 250_00);
        await OkJsonAsync(await SaveBankAccountAsync(withBank, Bank("000012349876", "sbin0004321", "=HYPERLINK(\"http://evil\",\"x\")")));
        var day = today.AddDays(-2);
        var paidOut = await PayoutOfAsync(app, day, withBank);
        var pending = Assert.Single(await app.Get<PrintEarnings>().PayoutsAsync(noBank.Id));
        var earnings = app.Get<PrintEarnings>();
        await earnings.MarkAsync(paidOut.Id, ShopPayoutStatus.Processing, null);
        app.Time.Advance(TimeSpan.FromMinutes(30));
        await earnings.MarkAsync(paidOut.Id, ShopPayoutStatus.Paid, "+SUM(A1:A9)");
        await earnings.MarkAsync(pending.Id, ShopPayoutStatus.Processing, "@cmd -x");

        var response = await SendAsync(app, HttpMethod.Get, $"/admin/payouts/export?from={Date(day)}&to={Date(today)}", null, admin);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/csv; charset=utf-8", response.Content.Headers.ContentType!.ToString());
        Assert.Equal($"attachment; filename=\"payouts-{Date(day)}-{Date(today)}.csv\"", response.Content.Headers.ContentDisposition!.ToString());
        var text = await response.Content.ReadAsStringAsync();
        Assert.DoesNotContain("000012349876", text);
        var rows = Parse(await response.Content.ReadAsByteArrayAsync(), out var header);
        Assert.Equal(new[]
        {
            "payout_id", "shop_id", "shop_name", "bank_account", "ifsc_code", "account_holder_name", "amount", "status", "created_at", "paid_at", "reference",
        }, header);
        Assert.Equal(2, rows.Count);
        var byId = rows.ToDictionary(r => long.Parse(r[0], CultureInfo.InvariantCulture));
        // Newest payout first, as the list.
        Assert.Equal(new[] { paidOut.Id, pending.Id }.OrderDescending().ToArray(), rows.Select(r => long.Parse(r[0], CultureInfo.InvariantCulture)).ToArray());

        var paidRow = byId[paidOut.Id];
        Assert.Equal(withBank.Id.ToString(CultureInfo.InvariantCulture), paidRow[1]);
        Assert.Equal("Shop of " + withBank.Username, paidRow[2]);
        Assert.Equal("XXXXXX9876", paidRow[3]);
        Assert.Equal("SBIN0004321", paidRow[4]);
        Assert.Equal("'=HYPERLINK(\"http://evil\",\"x\")", paidRow[5]);
        Assert.Equal((bankShare / 100m).ToString("0.00", CultureInfo.InvariantCulture), paidRow[6]);
        Assert.Equal("paid", paidRow[7]);
        Assert.Equal("2026-11-22T12:00:00Z", paidRow[8]);
        Assert.Equal("2026-11-22T12:30:00Z", paidRow[9]);
        Assert.Equal("'+SUM(A1:A9)", paidRow[10]);

        var pendingRow = byId[pending.Id];
        Assert.Equal(new[] { noBank.Id.ToString(CultureInfo.InvariantCulture), "Shop of " + noBank.Username, "", "", "", "212.50", "processing", "2026-11-22T12:00:00Z", "", "'@cmd -x" },
            pendingRow[1..]);
        Assert.Equal(212_50, noBankShare);

        // A status filter, and a window without payouts: the header alone.
        var processing = Parse(await (await SendAsync(app, HttpMethod.Get, $"/admin/payouts/export?status=processing&from={Date(day)}", null, admin))
            .Content.ReadAsByteArrayAsync(), out _);
        Assert.Equal(pending.Id.ToString(CultureInfo.InvariantCulture), Assert.Single(processing)[0]);
        var empty = await SendAsync(app, HttpMethod.Get, $"/admin/payouts/export?from={Date(today.AddDays(-60))}&to={Date(today.AddDays(-30))}", null, admin);
        Assert.Empty(Parse(await empty.Content.ReadAsByteArrayAsync(), out var emptyHeader));
        Assert.Equal(11, emptyHeader.Length);

        var bad = await SendAsync(app, HttpMethod.Get, "/admin/payouts/export?from=2026-11-30&to=2026-11-01", null, admin);
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
    }

    [Fact]
    public async Task A_shop_saves_its_bank_account_checked_as_a_withdrawal_and_reads_it_back_masked()
    {
        var shop = await app.SignUpAsync(role: "shopkeeper");
        var none = await SendAsync(app, HttpMethod.Get, "/shop/bank-account", null, shop.Token);
        Assert.Equal(HttpStatusCode.NotFound, none.StatusCode);

        foreach (var (body, field) in new[]
                 {
                     (Bank(account: "12345678"), "'bank_account'"),
                     (Bank(account: "1234567890123456789"), "'bank_account'"),
                     (Bank(account: "12345abc901"), "'bank_account'"),
                     (Bank(ifsc: "HDFC1001234"), "'ifsc_code'"),
                     (Bank(ifsc: "HDF0001234"), "'ifsc_code'"),
                     (Bank(name: "  "), "'account_holder_name'"),
                     (Bank(name: new string('n', 101)), "'account_holder_name'"),
                     (new Dictionary<string, object?>(), "'bank_account'"),
                 })
        {
            var (status, code, error) = await ErrorAsync(await SaveBankAccountAsync(shop, body));
            Assert.Equal((HttpStatusCode.BadRequest, "validation_error"), (status, code));
            Assert.Contains(field, error);
        }

        var saved = await SaveBankAccountAsync(shop, Bank(" 123456789012 ", " hdfc0001234 ", " Asha Rao "));
        var savedText = await saved.Content.ReadAsStringAsync();
        Assert.DoesNotContain("123456789012", savedText);
        var view = await OkJsonAsync(saved);
        Assert.Equal(("XXXXXX9012", "HDFC0001234", "Asha Rao"),
            (view.GetProperty("bank_account").GetString(), view.GetProperty("ifsc_code").GetString(), view.GetProperty("account_holder_name").GetString()));
        var read = await OkJsonAsync(await SendAsync(app, HttpMethod.Get, "/shop/bank-account", null, shop.Token));
        Assert.Equal("XXXXXX9012", read.GetProperty("bank_account").GetString());

        // Only the last four digits are stored.
        var row = await app.Get<Serverless.Print.Admin.Payouts.ShopBankAccounts>().FindAsync(shop.Id);
        Assert.Equal("9012", row!.AccountLast4);

        // A new save replaces it; a customer has no bank account here.
        await OkJsonAsync(await SaveBankAccountAsync(shop, Bank("987654321", "ICIC0A12345", "Asha R")));
        Assert.Equal("XXXXXX4321", (await OkJsonAsync(await SendAsync(app, HttpMethod.Get, "/shop/bank-account", null, shop.Token)))
            .GetProperty("bank_account").GetString());
        var customer = await app.SignUpAsync();
        Assert.Equal(HttpStatusCode.Forbidden, (await SaveBankAccountAsync(customer, Bank())).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await SendAsync(app, HttpMethod.Get, "/shop/bank-account", null, null)).StatusCode);
    }

    private static List<string[]> Parse(byte[] csv, out string[] header)
    {
        using var reader = CsvReader.Create(csv, CsvReaderOptions.Default);
        var rows = new List<string[]>();
        header = reader.Headers.ToArray();
        while (reader.Read())
            rows.Add(Enumerable.Range(0, reader.FieldCount).Select(reader.GetString).ToArray());
        return rows;
    }
}
