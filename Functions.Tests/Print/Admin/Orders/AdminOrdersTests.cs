using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using Serverless.Platform.Payments;
using Serverless.Platform.Storage;
using Serverless.Print.Admin.Orders;
using Serverless.Print.Payments;
using Serverless.Print.Wallet;

namespace Serverless.Tests.Print.Admin.Orders;

/// <summary>The print app with the sandbox provider and deadlines visible at once, for orders of every kind.</summary>
public class AdminOrdersFactory : PrintFactory
{
    public AdminOrdersFactory()
    {
        With("Payments:Gateway", "sandbox");
        With("Deadlines:MaxVisibilityDelay", "00:00:00");
        With("PLATFORM_COMMISSION", "0.1");
    }

    public async Task FundAsync(PrintAccount customer, decimal rupees) =>
        Assert.Equal(MovementStatus.Applied, (await Get<Ledger>().CreditAsync(PrintWallets.Account(customer.Id), WalletKeys.Seed + Guid.NewGuid().ToString("N"),
            (long)(rupees * 100), memo: "Test funds")).Status);

    /// <summary>Creates an order; <paramref name="pay"/> then pays its provider part on the sandbox checkout.</summary>
    public async Task<JsonElement> OrderAsync(PrintAccount customer, decimal amount, bool useWallet, bool pay = false)
    {
        var response = await Bearer(customer).PostAsJsonAsync("/create-payment-order", new { amount, use_wallet = useWallet, print_type = "private" });
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.Created, text);
        var order = JsonDocument.Parse(text).RootElement.Clone();
        if (pay)
        {
            var paid = await CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false }).PostAsync(
                new Uri(order.GetProperty("checkout_url").GetString()!).PathAndQuery, new FormUrlEncodedContent(new Dictionary<string, string> { ["outcome"] = "pay", ["method"] = "upi" }));
            Assert.Equal(HttpStatusCode.Redirect, paid.StatusCode);
        }
        return order;
    }

    public async Task<long> WalletOrderAsync(PrintAccount customer, decimal amount)
    {
        await FundAsync(customer, amount);
        return (await OrderAsync(customer, amount, useWallet: true)).GetProperty("id").GetInt64();
    }

    public static string Day(DateTimeOffset at) => at.UtcDateTime.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);

    /// <summary>The listing as an admin sees it.</summary>
    public async Task<List<JsonElement>> ListAsync(string query = "")
    {
        var response = await WithToken(await AdminTokenAsync()).GetAsync("/admin/orders" + query);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, text);
        return JsonDocument.Parse(text).RootElement.GetProperty("orders").EnumerateArray().Select(o => o.Clone()).ToList();
    }

    /// <summary>The listed ids of the orders of these customers, in the listing's order.</summary>
    public async Task<List<long>> IdsOfAsync(string query, params PrintAccount[] customers) =>
        (await ListAsync(query)).Where(o => customers.Any(c => c.Id == o.GetProperty("user_id").GetInt64()))
        .Select(o => o.GetProperty("id").GetInt64()).ToList();
}

public sealed class AdminOrdersTests(AdminOrdersFactory app) : IClassFixture<AdminOrdersFactory>
{
    [Fact]
    public async Task Only_an_admin_lists_the_orders()
    {
        var customer = await app.SignUpAsync();
        var shop = await app.SignUpAsync(role: "shopkeeper");

        Assert.Equal(HttpStatusCode.Unauthorized, (await app.CreateClient().GetAsync("/admin/orders")).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await app.Bearer(customer).GetAsync("/admin/orders")).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await app.Bearer(shop).GetAsync("/admin/orders")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await app.WithToken(await app.AdminTokenAsync()).GetAsync("/admin/orders")).StatusCode);
    }

    [Fact]
    public async Task Every_kind_of_order_is_listed_with_its_money_and_filtered_by_status_and_method()
    {
        var customer = await app.SignUpAsync();
        var wallet = await app.WalletOrderAsync(customer, 10);
        var razorpay = (await app.OrderAsync(customer, 20, useWallet: false, pay: true)).GetProperty("id").GetInt64();
        await app.FundAsync(customer, 5);
        var hybrid = (await app.OrderAsync(customer, 30, useWallet: true, pay: true)).GetProperty("id").GetInt64();
        var refunded = await app.WalletOrderAsync(customer, 50);
        Assert.Equal(OrderRefundOutcome.Refunded, await app.Get<PaymentOrders>().RefundAsync(customer.Id, refunded, toWallet: true, default));
        var expired = (await app.OrderAsync(customer, 40, useWallet: false)).GetProperty("id").GetInt64();
        app.Time.Advance(TimeSpan.FromMinutes(30));
        await app.RunDeadlinesAsync();
        var waiting = (await app.OrderAsync(customer, 60, useWallet: false)).GetProperty("id").GetInt64();

        var all = (await app.ListAsync("?limit=100")).Where(o => o.GetProperty("user_id").GetInt64() == customer.Id).ToList();

        Assert.Equal([waiting, expired, refunded, hybrid, razorpay, wallet], all.Select(o => o.GetProperty("id").GetInt64()));
        Assert.Equal(["created", "expired", "refunded", "paid", "paid", "paid"], all.Select(o => o.GetProperty("status").GetString()));
        Assert.Equal(["razorpay", "razorpay", "wallet", "hybrid", "razorpay", "wallet"], all.Select(o => o.GetProperty("payment_method").GetString()));
        var h = all[3];
        Assert.Equal((30m, 5m, 25m, customer.Username, "private", false, 0m),
            (h.GetProperty("amount").GetDecimal(), h.GetProperty("wallet_amount").GetDecimal(), h.GetProperty("razorpay_amount").GetDecimal(),
                h.GetProperty("username").GetString(), h.GetProperty("print_type").GetString(), h.GetProperty("used").GetBoolean(),
                h.GetProperty("refunded_amount").GetDecimal()));
        Assert.StartsWith("sbpay_", h.GetProperty("payment_id").GetString());
        Assert.NotEqual(JsonValueKind.Null, h.GetProperty("paid_at").ValueKind);
        Assert.Equal(50m, all[2].GetProperty("refunded_amount").GetDecimal());
        Assert.Equal(JsonValueKind.Null, all[0].GetProperty("paid_at").ValueKind);
        Assert.Equal(AdminOrdersFactory.Day(app.Time.GetUtcNow()), all[0].GetProperty("created_at").GetString()![..10]);

        Assert.Equal([hybrid, razorpay, wallet], await app.IdsOfAsync("?status=paid", customer));
        Assert.Equal([expired], await app.IdsOfAsync("?status=expired", customer));
        Assert.Equal([refunded], await app.IdsOfAsync("?status=refunded", customer));
        Assert.Equal([waiting], await app.IdsOfAsync("?status=created", customer));
        Assert.Equal([refunded, wallet], await app.IdsOfAsync("?method=wallet", customer));
        Assert.Equal([hybrid], await app.IdsOfAsync("?method=hybrid", customer));
        Assert.Equal([razorpay], await app.IdsOfAsync("?method=razorpay&status=paid", customer));
    }

    [Fact]
    public async Task A_waiting_order_past_its_deadline_is_listed_expired_before_the_deadline_runs()
    {
        var customer = await app.SignUpAsync();
        var order = (await app.OrderAsync(customer, 15, useWallet: false)).GetProperty("id").GetInt64();
        Assert.Equal([order], await app.IdsOfAsync("?status=created", customer));

        app.Time.Advance(TimeSpan.FromMinutes(30));

        Assert.Equal([order], await app.IdsOfAsync("?status=expired", customer));
        Assert.Empty(await app.IdsOfAsync("?status=created", customer));
    }

    [Fact]
    public async Task Pages_follow_each_other_newest_first()
    {
        var customer = await app.SignUpAsync();
        var ids = new List<long>();
        for (var i = 1; i <= 5; i++)
            ids.Add(await app.WalletOrderAsync(customer, i));
        ids.Reverse();

        // These are the newest orders of all, so the first pages are theirs alone.
        var first = await app.ListAsync("?limit=2");
        var second = await app.ListAsync("?limit=2&offset=2");
        var third = await app.ListAsync("?limit=2&offset=4");

        Assert.Equal(ids[..2], first.Select(o => o.GetProperty("id").GetInt64()));
        Assert.Equal(ids[2..4], second.Select(o => o.GetProperty("id").GetInt64()));
        Assert.Equal(ids[4], third[0].GetProperty("id").GetInt64());
        Assert.Equal(5, (await app.ListAsync("?limit=100")).Count(o => o.GetProperty("user_id").GetInt64() == customer.Id));
        Assert.Equal(ids[1..4], await app.IdsOfAsync("?method=wallet&limit=3&offset=1", customer));
    }

    [Fact]
    public async Task The_date_range_takes_whole_utc_days_across_months()
    {
        var before = await app.SignUpAsync();
        var early = await app.WalletOrderAsync(before, 7);
        var earlyDay = AdminOrdersFactory.Day(app.Time.GetUtcNow());
        app.Time.Advance(TimeSpan.FromDays(35)); // into another month, and past the default 31 days
        var after = await app.SignUpAsync();
        var late = await app.WalletOrderAsync(after, 8);
        var lateDay = AdminOrdersFactory.Day(app.Time.GetUtcNow());

        Assert.Equal([late], await app.IdsOfAsync("?limit=100", before, after));
        Assert.Equal([early], await app.IdsOfAsync($"?from={earlyDay}&to={earlyDay}&limit=100", before, after));
        Assert.Equal([late, early], await app.IdsOfAsync($"?from={earlyDay}&to={lateDay}&limit=100", before, after));
        Assert.Equal([late], await app.IdsOfAsync($"?from={lateDay}T00:00:00Z&limit=100", before, after));
        Assert.Empty(await app.IdsOfAsync($"?to={AdminOrdersFactory.Day(app.Time.GetUtcNow().AddDays(-1))}&limit=100", after));
    }

    [Fact]
    public async Task An_order_of_a_deleted_account_is_still_listed_without_the_user()
    {
        var customer = await app.SignUpAsync();
        var order = await app.WalletOrderAsync(customer, 12);
        var delete = await app.Bearer(customer).SendAsync(new HttpRequestMessage(HttpMethod.Delete, "/profile")
        {
            Content = JsonContent.Create(new { password = customer.Password }),
        });
        Assert.True(delete.IsSuccessStatusCode, await delete.Content.ReadAsStringAsync());

        var listed = (await app.ListAsync("?limit=100")).Single(o => o.GetProperty("id").GetInt64() == order);

        Assert.Equal((0L, "paid", "wallet", 12m), (listed.GetProperty("user_id").GetInt64(), listed.GetProperty("status").GetString(),
            listed.GetProperty("payment_method").GetString(), listed.GetProperty("amount").GetDecimal()));
        Assert.False(listed.TryGetProperty("username", out _));
        Assert.Contains(order, (await app.ListAsync("?status=paid&method=wallet&limit=100")).Select(o => o.GetProperty("id").GetInt64()));
        // The index forgets the user as the archive does.
        var indexed = await app.Get<StorageAccount>().Table(PaymentOrderIndex.TableName).GetEntityAsync<PaymentOrderIndexRow>(
            PaymentOrderIndex.PartitionFor(app.Time.GetUtcNow(), order), PaymentOrderIndex.RowKeyFor(order));
        Assert.Equal((0L, order), (indexed.Value.UserId, indexed.Value.OrderId));
    }

    [Fact]
    public async Task Orders_made_before_the_index_existed_are_indexed_once_at_start()
    {
        var customer = await app.SignUpAsync();
        var gone = await app.SignUpAsync();
        var order = await app.WalletOrderAsync(customer, 4);
        var archived = await app.WalletOrderAsync(gone, 6);
        var delete = await app.Bearer(gone).SendAsync(new HttpRequestMessage(HttpMethod.Delete, "/profile")
        {
            Content = JsonContent.Create(new { password = gone.Password }),
        });
        Assert.True(delete.IsSuccessStatusCode, await delete.Content.ReadAsStringAsync());
        // As before the index: neither row, and no marker.
        var index = app.Get<StorageAccount>().Table(PaymentOrderIndex.TableName);
        var now = app.Time.GetUtcNow();
        await index.DeleteEntityAsync(PaymentOrderIndex.PartitionFor(now, order), PaymentOrderIndex.RowKeyFor(order));
        await index.DeleteEntityAsync(PaymentOrderIndex.PartitionFor(now, archived), PaymentOrderIndex.RowKeyFor(archived));
        await index.DeleteEntityAsync(PaymentOrderIndexBackfill.MarkerPartition, PaymentOrderIndexBackfill.MarkerKey);
        Assert.DoesNotContain(order, (await app.ListAsync("?limit=100")).Select(o => o.GetProperty("id").GetInt64()));

        var backfill = app.Services.GetServices<IStartupTask>().OfType<PaymentOrderIndexBackfill>().Single();
        await backfill.RunAsync(app.Services, default);

        var listed = (await app.ListAsync("?limit=100")).Select(o => (o.GetProperty("id").GetInt64(), o.GetProperty("user_id").GetInt64())).ToList();
        Assert.Contains((order, customer.Id), listed);
        Assert.Contains((archived, 0L), listed);
        Assert.Equal(order, (await index.GetEntityAsync<PaymentOrderIndexRow>(PaymentOrderIndex.PartitionFor(now, order), PaymentOrderIndex.RowKeyFor(order))).Value.OrderId);
        Assert.True((await index.GetEntityIfExistsAsync<Azure.Data.Tables.TableEntity>(PaymentOrderIndexBackfill.MarkerPartition,
            PaymentOrderIndexBackfill.MarkerKey)).HasValue);
    }

    [Fact]
    public async Task An_index_row_whose_order_was_never_written_is_skipped()
    {
        var customer = await app.SignUpAsync();
        var order = await app.WalletOrderAsync(customer, 3);
        // A create that stopped after its index row: the next id, indexed, with no order behind it.
        await PaymentOrderIndex.AddAsync(app.Get<StorageAccount>(), customer.Id, order + 1_000_000,
            app.Time.GetUtcNow(), default);

        Assert.Equal([order], await app.IdsOfAsync("?limit=100", customer));
        Assert.Equal(order, (await app.ListAsync("?limit=1")).Single().GetProperty("id").GetInt64());
    }

    [Fact]
    public async Task The_openapi_document_describes_the_listing()
    {
        var document = await app.CreateClient().GetFromJsonAsync<JsonElement>("/openapi/v1.json");

        var get = document.GetProperty("paths").GetProperty("/admin/orders").GetProperty("get");
        Assert.Contains("filters are applied to the orders after the index", get.GetProperty("summary").GetString());
        Assert.Equal(["status", "method", "from", "to", "limit", "offset"], get.GetProperty("parameters").EnumerateArray()
            .Select(p => p.GetProperty("name").GetString()));
        Assert.True(get.GetProperty("responses").TryGetProperty("200", out _));
        var view = document.GetProperty("components").GetProperty("schemas").GetProperty("AdminOrderView").GetProperty("properties");
        foreach (var field in new[] { "id", "user_id", "username", "order_id", "payment_id", "amount", "status", "payment_method", "wallet_amount",
                     "razorpay_amount", "print_type", "shopkeeper_id", "created_at", "paid_at", "used", "refunded_amount" })
            Assert.True(view.TryGetProperty(field, out _), field);
    }

    [Theory]
    [InlineData("?status=pending", "status")]
    [InlineData("?method=card", "method")]
    [InlineData("?limit=0", "limit")]
    [InlineData("?limit=101", "limit")]
    [InlineData("?limit=ten", "limit")]
    [InlineData("?offset=-1", "offset")]
    [InlineData("?from=2026-13-01", "from")]
    [InlineData("?to=yesterday", "to")]
    [InlineData("?from=2026-11-20&to=2026-11-19", "from")]
    [InlineData("?from=2025-01-01&to=2026-01-03", "366 days")]
    public async Task Bad_input_is_refused_naming_the_field(string query, string named)
    {
        var response = await app.WithToken(await app.AdminTokenAsync()).GetAsync("/admin/orders" + query);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("validation_error", body.GetProperty("code").GetString());
        Assert.Contains(named, body.GetProperty("error").GetString());
    }
}

/// <summary>The print app with <c>ALLOWED_ADMIN_IPS</c> set.</summary>
public sealed class AdminOrdersAllowedIpsFactory : AdminOrdersFactory
{
    public const string AllowedIp = "10.9.9.7";

    public AdminOrdersAllowedIpsFactory() => With("ALLOWED_ADMIN_IPS", AllowedIp);
}

public sealed class AdminOrdersAllowedIpsTests(AdminOrdersAllowedIpsFactory app) : IClassFixture<AdminOrdersAllowedIpsFactory>
{
    [Fact]
    public async Task An_admin_lists_orders_only_from_an_allowed_address()
    {
        var admin = await app.AdminTokenAsync();
        var client = app.CreateClient();

        Assert.Equal(HttpStatusCode.OK, (await client.SendAsync(PrintFactory.Json(HttpMethod.Get, "/admin/orders", null, admin, AdminOrdersAllowedIpsFactory.AllowedIp))).StatusCode);
        var elsewhere = await client.SendAsync(PrintFactory.Json(HttpMethod.Get, "/admin/orders", null, admin, "10.9.9.8"));
        Assert.Equal(HttpStatusCode.Forbidden, elsewhere.StatusCode);
        Assert.Equal("forbidden", (await elsewhere.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("code").GetString());
    }
}

/// <summary>Its own tables, so the index holds only this test's orders and the count is exact.</summary>
public sealed class AdminOrdersCostTests(AdminOrdersFactory app) : IClassFixture<AdminOrdersFactory>
{
    [Fact]
    public async Task A_page_costs_the_session_read_one_query_per_index_partition_and_a_read_per_order_and_customer()
    {
        var customer = await app.SignUpAsync();
        for (var i = 0; i < 3; i++)
            await app.WalletOrderAsync(customer, 5);
        var admin = app.WithToken(await app.AdminTokenAsync());

        var response = await admin.GetAsync("/admin/orders?limit=3");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        // Default range: the 31 days to today span 2 months, 8 shards each.
        var partitions = app.Time.GetUtcNow().Day == 31 ? 8 : 16;
        Assert.Equal(2 + partitions + 3 + 1, int.Parse(response.Headers.GetValues("X-Storage-Requests").Single(), CultureInfo.InvariantCulture));
    }
}
