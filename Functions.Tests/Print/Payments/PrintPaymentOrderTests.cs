using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.AspNetCore.Mvc.Testing;
using Serverless.Platform.Payments;
using Serverless.Print.Payments;
using Serverless.Print.Wallet;

namespace Serverless.Tests.Print.Payments;

/// <summary>The print app with the sandbox provider, deadlines visible at once, and a 10% platform commission.</summary>
public sealed class PrintMoneyFactory : PrintFactory
{
    public PrintMoneyFactory()
    {
        With("Payments:Gateway", "sandbox");
        With("Deadlines:MaxVisibilityDelay", "00:00:00");
        With("PLATFORM_COMMISSION", "0.1");
    }

    public Ledger Ledger => Get<Ledger>();

    /// <summary>Puts rupees in a customer's wallet through the ledger (as the seed does).</summary>
    public async Task FundAsync(PrintAccount customer, decimal rupees) =>
        Assert.Equal(MovementStatus.Applied, (await Ledger.CreditAsync(PrintWallets.Account(customer.Id), WalletKeys.Seed + Guid.NewGuid().ToString("N"),
            (long)(rupees * 100), memo: "Test funds")).Status);

    public async Task<decimal> BalanceAsync(PrintAccount customer) =>
        (await Bearer(customer).GetFromJsonAsync<JsonElement>("/wallet/balance")).GetProperty("balance").GetDecimal();

    /// <summary>The customer pays (or fails) on the sandbox checkout page the order or top-up sent them to.</summary>
    public async Task SandboxAsync(string checkoutUrl, string outcome = "pay")
    {
        // An absolute link to this app's own sandbox page, so a phone or a browser elsewhere can open it.
        Assert.StartsWith("/payments/sandbox/", new Uri(checkoutUrl, UriKind.Absolute).AbsolutePath);
        var response = await CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false })
            .PostAsync(new Uri(checkoutUrl).PathAndQuery, new FormUrlEncodedContent(new Dictionary<string, string> { ["outcome"] = outcome, ["method"] = "upi" }));
        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
    }
}

public sealed class PrintPaymentOrderTests(PrintMoneyFactory app) : IClassFixture<PrintMoneyFactory>
{
    private static object Order(decimal amount, bool useWallet = true, string printType = "private", long? shop = null) => new
    {
        amount, use_wallet = useWallet, print_type = printType, copies = 1, print_mode = "single", color_mode = "bw", paper_size = "A4",
        shopkeeper_id = shop, comment = "test", platform_commission = 0.5,
    };

    private async Task<JsonElement> CreateAsync(PrintAccount customer, object body, HttpStatusCode expected = HttpStatusCode.Created)
    {
        var response = await app.Bearer(customer).PostAsJsonAsync("/create-payment-order", body);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == expected, text);
        return JsonDocument.Parse(text).RootElement;
    }

    private async Task<List<JsonElement>> TransactionsAsync(PrintAccount customer) =>
        (await app.Bearer(customer).GetFromJsonAsync<JsonElement>("/wallet/transactions")).GetProperty("transactions").EnumerateArray().ToList();

    [Fact]
    public async Task Scenario_A_a_wallet_with_enough_pays_at_once_in_one_debit_and_the_commission_is_the_servers()
    {
        var customer = await app.SignUpAsync();
        await app.FundAsync(customer, 200);

        var order = await CreateAsync(customer, Order(50));

        Assert.Equal(("paid", "wallet", true), (order.GetProperty("status").GetString(), order.GetProperty("payment_method").GetString(),
            order.GetProperty("skip_payment").GetBoolean()));
        Assert.Equal((50m, 50m, 0m), (order.GetProperty("amount").GetDecimal(), order.GetProperty("wallet_amount").GetDecimal(),
            order.GetProperty("razorpay_amount").GetDecimal()));
        // PLATFORM_COMMISSION is 0.1; the request's 0.5 is ignored.
        Assert.Equal((45m, 0.1m), (order.GetProperty("shopkeeper_amount").GetDecimal(), order.GetProperty("platform_commission").GetDecimal()));
        Assert.Equal(150m, await app.BalanceAsync(customer));
        var payment = (await TransactionsAsync(customer))[0];
        Assert.Equal(("payment", -50m, 200m, 150m), (payment.GetProperty("type").GetString(), payment.GetProperty("amount").GetDecimal(),
            payment.GetProperty("balance_before").GetDecimal(), payment.GetProperty("balance_after").GetDecimal()));
        Assert.Equal(order.GetProperty("id").GetInt64(), payment.GetProperty("payment_order_id").GetInt64());
        var status = await app.Bearer(customer).GetFromJsonAsync<JsonElement>($"/payment-order/{order.GetProperty("order_id").GetString()}/status");
        Assert.Equal(("paid", order.GetProperty("id").GetInt64()), (status.GetProperty("status").GetString(), status.GetProperty("id").GetInt64()));
    }

    [Fact]
    public async Task A_wallet_payment_costs_eight_storage_requests()
    {
        var customer = await app.SignUpAsync();
        await app.FundAsync(customer, 100);
        await CreateAsync(customer, Order(1)); // the first order of a run reserves a block of 32 ids, which serves this class

        var response = await app.Bearer(customer).PostAsJsonAsync("/create-payment-order", Order(1));

        // The session's profile row, the wallet's balance row, the admin listing's index row, and one transaction of the
        // debit with the paid order; its stat event (dashboard) costs the outbox's recovery message, sent and withdrawn,
        // and its row deleted, plus one transaction of the counters (the first event of the day, in the order above, read them).
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        Assert.Equal("8", response.Headers.GetValues("X-Storage-Requests").Single());
    }

    [Fact]
    public async Task Without_the_wallet_the_whole_amount_goes_through_the_provider_and_the_order_is_paid_by_its_confirmation()
    {
        var customer = await app.SignUpAsync();
        await app.FundAsync(customer, 200);

        var order = await CreateAsync(customer, Order(50, useWallet: false));
        Assert.Equal(("created", "razorpay", false), (order.GetProperty("status").GetString(), order.GetProperty("payment_method").GetString(),
            order.GetProperty("skip_payment").GetBoolean()));
        Assert.Equal((0m, 50m), (order.GetProperty("wallet_amount").GetDecimal(), order.GetProperty("razorpay_amount").GetDecimal()));
        await app.SandboxAsync(order.GetProperty("checkout_url").GetString()!);

        var status = await app.Bearer(customer).GetFromJsonAsync<JsonElement>($"/payment-order/{order.GetProperty("id").GetInt64()}/status");
        Assert.Equal("paid", status.GetProperty("status").GetString());
        Assert.StartsWith("sbpay_", status.GetProperty("payment_id").GetString());
        Assert.Equal(200m, await app.BalanceAsync(customer));
    }

    [Fact]
    public async Task Scenario_C_a_partial_balance_pays_its_part_and_the_provider_the_rest()
    {
        var customer = await app.SignUpAsync();
        await app.FundAsync(customer, 30);

        var order = await CreateAsync(customer, Order(50));

        Assert.Equal(("created", "hybrid"), (order.GetProperty("status").GetString(), order.GetProperty("payment_method").GetString()));
        Assert.Equal((30m, 20m), (order.GetProperty("wallet_amount").GetDecimal(), order.GetProperty("razorpay_amount").GetDecimal()));
        Assert.Equal(0m, await app.BalanceAsync(customer));
        await app.SandboxAsync(order.GetProperty("checkout_url").GetString()!);
        var status = await app.Bearer(customer).GetFromJsonAsync<JsonElement>($"/payment-order/{order.GetProperty("id").GetInt64()}/status");
        Assert.Equal("paid", status.GetProperty("status").GetString());
        var intent = await app.Get<PaymentIntents>().FindAsync(PaymentOrders.Surface, PaymentOrderRow.IntentReference(customer.Id, order.GetProperty("id").GetInt64()), default);
        Assert.Equal((IntentStatus.Succeeded, 20_00L), (intent!.Status, intent.AmountMinor));
    }

    [Fact]
    public async Task A_hybrid_order_not_paid_in_time_expires_and_its_wallet_part_comes_back_and_a_late_payment_is_refunded()
    {
        var customer = await app.SignUpAsync();
        await app.FundAsync(customer, 30);
        var order = await CreateAsync(customer, Order(50));
        var id = order.GetProperty("id").GetInt64();
        // The customer pays at the last moment; the provider's webhook arrives only after the order expired.
        var (_, late) = await app.Get<SandboxProvider>().PayAsync(order.GetProperty("order_id").GetString()!, true, "upi", default);

        app.Time.Advance(TimeSpan.FromMinutes(30));
        await app.RunDeadlinesAsync();

        var status = await app.Bearer(customer).GetFromJsonAsync<JsonElement>($"/payment-order/{id}/status");
        Assert.Equal("expired", status.GetProperty("status").GetString());
        Assert.Equal(30m, await app.BalanceAsync(customer));
        var refund = (await TransactionsAsync(customer))[0];
        Assert.Equal(("refund", 30m, id), (refund.GetProperty("type").GetString(), refund.GetProperty("amount").GetDecimal(),
            refund.GetProperty("payment_order_id").GetInt64()));
        // Running the expiry again changes nothing.
        await app.Get<PaymentOrders>().ExpireAsync(customer.Id, id, force: true, default);
        Assert.Equal(30m, await app.BalanceAsync(customer));
        var request = new HttpRequestMessage(HttpMethod.Post, "/payments/webhooks/sandbox") { Content = new ByteArrayContent(late!.Body) };
        request.Headers.Add(SandboxProvider.SignatureHeader, late.Signature);
        request.Headers.Add(SandboxProvider.EventIdHeader, late.EventId);
        Assert.Equal(HttpStatusCode.OK, (await app.CreateClient().SendAsync(request)).StatusCode);
        var intent = await app.Get<PaymentIntents>().FindAsync(PaymentOrders.Surface, PaymentOrderRow.IntentReference(customer.Id, id), default);
        Assert.Equal(IntentStatus.Refunded, intent!.Status);
        Assert.Equal(RefundStatus.Processed, Assert.Single(await app.Get<PaymentIntents>().RefundsAsync(intent.Id, default)).Status);
        Assert.Equal("expired", (await app.Bearer(customer).GetFromJsonAsync<JsonElement>($"/payment-order/{id}/status")).GetProperty("status").GetString());
    }

    [Fact]
    public async Task Refunding_a_paid_order_ten_times_concurrently_refunds_it_once()
    {
        var customer = await app.SignUpAsync();
        await app.FundAsync(customer, 100);
        var order = await CreateAsync(customer, Order(40));
        var orders = app.Get<PaymentOrders>();

        var outcomes = await Task.WhenAll(Enumerable.Range(0, 10).Select(_ => orders.RefundAsync(customer.Id, order.GetProperty("id").GetInt64(), false, default)));

        Assert.Single(outcomes, o => o == OrderRefundOutcome.Refunded);
        Assert.Equal(100m, await app.BalanceAsync(customer));
        var status = await app.Bearer(customer).GetFromJsonAsync<JsonElement>($"/payment-order/{order.GetProperty("id").GetInt64()}/status");
        Assert.Equal("refunded", status.GetProperty("status").GetString());
    }

    [Theory]
    [InlineData(false)] // the online part back through the provider
    [InlineData(true)] // everything to the wallet, as the customer chose
    public async Task A_paid_hybrid_order_is_refunded_once_split_as_it_was_paid(bool toWallet)
    {
        var customer = await app.SignUpAsync();
        await app.FundAsync(customer, 30);
        var order = await CreateAsync(customer, Order(50));
        await app.SandboxAsync(order.GetProperty("checkout_url").GetString()!);
        var id = order.GetProperty("id").GetInt64();
        var orders = app.Get<PaymentOrders>();

        var outcomes = await Task.WhenAll(Enumerable.Range(0, 5).Select(_ => orders.RefundAsync(customer.Id, id, toWallet, default)));

        Assert.Single(outcomes, o => o == OrderRefundOutcome.Refunded);
        Assert.Equal(toWallet ? 50m : 30m, await app.BalanceAsync(customer));
        var intent = await app.Get<PaymentIntents>().FindAsync(PaymentOrders.Surface, PaymentOrderRow.IntentReference(customer.Id, id), default);
        Assert.Equal(toWallet ? IntentStatus.Succeeded : IntentStatus.Refunded, intent!.Status);
        Assert.Equal(toWallet ? 0 : 20_00, (await app.Get<PaymentIntents>().RefundsAsync(intent.Id, default)).Sum(r => r.AmountMinor));
        Assert.Equal("refunded", (await app.Bearer(customer).GetFromJsonAsync<JsonElement>($"/payment-order/{id}/status")).GetProperty("status").GetString());
    }

    [Fact]
    public async Task Orders_are_validated_and_queue_prints_need_a_shopkeeper()
    {
        var customer = await app.SignUpAsync();
        var otherCustomer = await app.SignUpAsync();
        var shop = await app.SignUpAsync(role: "shopkeeper");
        await app.FundAsync(customer, 100);

        await CreateAsync(customer, new { amount = 0.001m, print_type = "private" }, HttpStatusCode.BadRequest);
        await CreateAsync(customer, new { amount = -5m, print_type = "private" }, HttpStatusCode.BadRequest);
        await CreateAsync(customer, new { amount = 5m, print_type = "mail" }, HttpStatusCode.BadRequest);
        await CreateAsync(customer, new { amount = 5m, print_type = "private", copies = 0 }, HttpStatusCode.BadRequest);
        await CreateAsync(customer, new { amount = 5m, print_type = "queue" }, HttpStatusCode.BadRequest);
        var notShop = await CreateAsync(customer, new { amount = 5m, print_type = "queue", shopkeeper_id = otherCustomer.Id }, HttpStatusCode.BadRequest);
        Assert.Contains("not a shopkeeper", notShop.GetProperty("error").GetString());
        var queued = await CreateAsync(customer, Order(5, printType: "queue", shop: shop.Id));
        Assert.Equal(shop.Id, queued.GetProperty("shopkeeper_id").GetInt64());
        Assert.Equal(95m, await app.BalanceAsync(customer));
    }

    [Fact]
    public async Task Orders_are_their_customers_own_and_listed_newest_first()
    {
        var customer = await app.SignUpAsync();
        var other = await app.SignUpAsync();
        await app.FundAsync(customer, 100);
        var first = await CreateAsync(customer, Order(10));
        var second = await CreateAsync(customer, Order(20));

        Assert.Equal(HttpStatusCode.NotFound, (await app.Bearer(other).GetAsync($"/payment-order/{first.GetProperty("id").GetInt64()}/status")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await app.Bearer(other).GetAsync($"/payment-order/{first.GetProperty("order_id").GetString()}/status")).StatusCode);
        var mine = await app.Bearer(customer).GetFromJsonAsync<JsonElement>("/my-orders?limit=1");
        Assert.Equal(2, mine.GetProperty("total").GetInt32());
        Assert.Equal(second.GetProperty("id").GetInt64(), mine.GetProperty("orders")[0].GetProperty("id").GetInt64());
        Assert.Equal(HttpStatusCode.BadRequest, (await app.Bearer(customer).GetAsync("/my-orders?limit=0")).StatusCode);
    }

    [Fact]
    public async Task A_deleted_account_leaves_its_payment_orders_as_records_without_the_user()
    {
        var customer = await app.SignUpAsync();
        await app.FundAsync(customer, 40);
        var order = await CreateAsync(customer, Order(40));

        var delete = await app.Bearer(customer).SendAsync(new HttpRequestMessage(HttpMethod.Delete, "/profile")
        {
            Content = JsonContent.Create(new { password = customer.Password }),
        });

        Assert.True(delete.IsSuccessStatusCode, await delete.Content.ReadAsStringAsync());
        var archived = await app.Get<Serverless.Platform.Storage.StorageAccount>().Table(PaymentOrderArchive.TableName)
            .GetEntityAsync<PaymentOrderRow>(PaymentOrderArchive.Partition, PaymentOrderRow.Prefix + order.GetProperty("id").GetInt64().ToString("D19"));
        Assert.Equal((0L, 40_00L, "paid"), (archived.Value.UserId, archived.Value.AmountMinor, archived.Value.Status));
        Assert.Empty(await app.Get<PaymentOrders>().ListAsync(customer.Id, 10, 0, default) is var (page, _) ? page : []);
    }

    [Fact]
    public async Task Only_a_signed_in_customer_pays_or_reads_a_wallet()
    {
        var shop = await app.SignUpAsync(role: "shopkeeper");
        var anonymous = app.CreateClient();

        foreach (var (method, path) in new[] { ("POST", "/create-payment-order"), ("GET", "/my-orders"), ("GET", "/wallet/balance"),
                     ("POST", "/wallet/topup"), ("GET", "/wallet/transactions"), ("GET", "/payment-order/1/status") })
        {
            var request = new HttpRequestMessage(new HttpMethod(method), path) { Content = method == "POST" ? JsonContent.Create(new { amount = 10 }) : null };
            Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.SendAsync(request)).StatusCode);
            var asShop = new HttpRequestMessage(new HttpMethod(method), path) { Content = method == "POST" ? JsonContent.Create(new { amount = 10 }) : null };
            Assert.Equal(HttpStatusCode.Forbidden, (await app.Bearer(shop).SendAsync(asShop)).StatusCode);
        }
    }
}
