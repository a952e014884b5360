using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Serverless.Platform.Payments;
using Serverless.Print.Payments;
using Serverless.Print.Wallet;

namespace Serverless.Tests.Print.Payments;

public sealed class PrintWalletTopupTests(PrintMoneyFactory app) : IClassFixture<PrintMoneyFactory>
{
    private async Task<JsonElement> TopupAsync(PrintAccount customer, decimal amount, HttpStatusCode expected = HttpStatusCode.OK)
    {
        var response = await app.Bearer(customer).PostAsJsonAsync("/wallet/topup", new { amount });
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == expected, text);
        return JsonDocument.Parse(text).RootElement;
    }

    [Fact]
    public async Task A_confirmed_top_up_credits_the_wallet_once_however_often_its_webhook_comes()
    {
        var customer = await app.SignUpAsync();
        var topup = await TopupAsync(customer, 500);
        Assert.Equal((500m, "sandbox"), (topup.GetProperty("amount").GetDecimal(), topup.GetProperty("key_id").GetString()));
        var orderId = topup.GetProperty("order_id").GetString()!;
        var (_, delivery) = await app.Get<SandboxProvider>().PayAsync(orderId, true, "upi", default);

        var responses = await Task.WhenAll(Enumerable.Range(0, 50).Select(_ =>
        {
            var request = new HttpRequestMessage(HttpMethod.Post, "/payments/webhooks/sandbox") { Content = new ByteArrayContent(delivery!.Body) };
            request.Headers.Add(SandboxProvider.SignatureHeader, delivery.Signature);
            request.Headers.Add(SandboxProvider.EventIdHeader, delivery.EventId);
            return app.CreateClient().SendAsync(request);
        }));

        Assert.All(responses, r => Assert.Equal(HttpStatusCode.OK, r.StatusCode));
        Assert.Equal(500m, await app.BalanceAsync(customer));
        var transactions = (await app.Bearer(customer).GetFromJsonAsync<JsonElement>("/wallet/transactions")).GetProperty("transactions");
        var credit = Assert.Single(transactions.EnumerateArray());
        Assert.Equal(("topup", 500m, 0m, 500m), (credit.GetProperty("type").GetString(), credit.GetProperty("amount").GetDecimal(),
            credit.GetProperty("balance_before").GetDecimal(), credit.GetProperty("balance_after").GetDecimal()));
    }

    [Fact]
    public async Task Top_ups_are_limited_to_ten_to_ten_thousand_rupees_and_a_fifty_thousand_balance()
    {
        var customer = await app.SignUpAsync();
        await TopupAsync(customer, 9.99m, HttpStatusCode.BadRequest);
        await TopupAsync(customer, 10_000.01m, HttpStatusCode.BadRequest);
        await TopupAsync(customer, 10.001m, HttpStatusCode.BadRequest);
        await app.FundAsync(customer, 45_000);
        var over = await TopupAsync(customer, 5_001, HttpStatusCode.BadRequest);
        Assert.Contains("50000", over.GetProperty("error").GetString()!.Replace(",", ""));
        await TopupAsync(customer, 5_000);
    }

    [Fact]
    public async Task A_confirmed_top_up_is_credited_even_when_the_wallet_reached_its_ceiling_meanwhile()
    {
        var customer = await app.SignUpAsync();
        await app.FundAsync(customer, 40_000);
        var topup = await TopupAsync(customer, 10_000);
        await app.FundAsync(customer, 5_000); // the ceiling is reached before the payment is confirmed
        var url = topup.GetProperty("checkout_url").GetString()!;

        await app.SandboxAsync(url);

        Assert.Equal(55_000m, await app.BalanceAsync(customer));
    }

    [Fact]
    public async Task A_referred_customers_first_confirmed_top_up_credits_the_referrer_and_the_customer_once()
    {
        var referrer = await app.SignUpAsync();
        var code = (await app.Bearer(referrer).GetFromJsonAsync<JsonElement>("/profile")).GetProperty("referral_code").GetString();
        var friend = await app.SignUpAsync(referralCode: code);

        await app.SandboxAsync((await TopupAsync(friend, 100)).GetProperty("checkout_url").GetString()!);
        await app.SandboxAsync((await TopupAsync(friend, 100)).GetProperty("checkout_url").GetString()!);

        Assert.Equal(50m, await app.BalanceAsync(referrer));
        Assert.Equal(225m, await app.BalanceAsync(friend));
        var types = (await app.Bearer(friend).GetFromJsonAsync<JsonElement>("/wallet/transactions")).GetProperty("transactions")
            .EnumerateArray().Select(t => t.GetProperty("type").GetString()).ToList();
        Assert.Equal(["topup", "referral_welcome", "topup"], types);
        var summary = await app.Bearer(referrer).GetFromJsonAsync<JsonElement>("/referral/summary");
        Assert.Contains("50", summary.GetRawText());
    }

    [Fact]
    public async Task A_top_up_racing_a_wallet_payment_ends_with_both_counted_exactly()
    {
        var customer = await app.SignUpAsync();
        await app.FundAsync(customer, 100);
        var topup = await TopupAsync(customer, 200);
        var (_, delivery) = await app.Get<SandboxProvider>().PayAsync(topup.GetProperty("order_id").GetString()!, true, "upi", default);

        var webhook = new HttpRequestMessage(HttpMethod.Post, "/payments/webhooks/sandbox") { Content = new ByteArrayContent(delivery!.Body) };
        webhook.Headers.Add(SandboxProvider.SignatureHeader, delivery.Signature);
        webhook.Headers.Add(SandboxProvider.EventIdHeader, delivery.EventId);
        var results = await Task.WhenAll(
            app.CreateClient().SendAsync(webhook),
            app.Bearer(customer).PostAsJsonAsync("/create-payment-order", new { amount = 80m, use_wallet = true, print_type = "private" }));

        Assert.All(results, r => Assert.True(r.IsSuccessStatusCode, r.StatusCode.ToString()));
        Assert.Equal(220m, await app.BalanceAsync(customer));
        var balance = await app.Get<Ledger>().BalanceAsync(PrintWallets.Account(customer.Id));
        var (statement, total) = await app.Get<Ledger>().StatementAsync(PrintWallets.Account(customer.Id), 100, 0);
        Assert.Equal(3, total);
        Assert.Equal(balance.Available, statement.Sum(r => r.Amount));
    }

    [Fact]
    public async Task The_print_webhook_path_verifies_like_the_platform_one()
    {
        var response = await app.CreateClient().PostAsync("/payment/webhook", new StringContent("{\"event\":\"payment.captured\"}"));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("invalid_signature", await response.Content.ReadAsStringAsync());

        // A signed event of the configured provider (the sandbox here) is stored and settles the top-up, once.
        var customer = await app.SignUpAsync();
        var topup = await TopupAsync(customer, 200);
        var (_, delivery) = await app.Get<SandboxProvider>().PayAsync(topup.GetProperty("order_id").GetString()!, true, "upi", default);
        HttpRequestMessage Signed()
        {
            var webhook = new HttpRequestMessage(HttpMethod.Post, "/payment/webhook") { Content = new ByteArrayContent(delivery!.Body) };
            webhook.Headers.Add(SandboxProvider.SignatureHeader, delivery.Signature);
            webhook.Headers.Add(SandboxProvider.EventIdHeader, delivery.EventId);
            return webhook;
        }
        var stored = await (await app.CreateClient().SendAsync(Signed())).Content.ReadFromJsonAsync<JsonElement>();
        var repeat = await (await app.CreateClient().SendAsync(Signed())).Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("stored", stored.GetProperty("status").GetString());
        Assert.Equal("duplicate", repeat.GetProperty("status").GetString());
        Assert.Equal(200m, await app.BalanceAsync(customer));
    }
}
