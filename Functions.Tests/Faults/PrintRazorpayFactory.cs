using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Serverless.Platform.Payments;
using Serverless.Print.Wallet;
using Serverless.Tests.Platform.Payments.Razorpay;
using Serverless.Tests.Print;

namespace Serverless.Tests.Faults;

/// <summary>
/// The whole print app paying through Razorpay, Razorpay's API a <see cref="FakeRazorpay"/> on loopback speaking its
/// protocol and signing its webhooks with the real algorithm; deadlines visible at once, on the test clock.
/// </summary>
public sealed class PrintRazorpayFactory : PrintFactory
{
    public PrintRazorpayFactory()
    {
        With("Deadlines:MaxVisibilityDelay", "00:00:00");
        With("PLATFORM_COMMISSION", "0.1");
    }

    public FakeRazorpay Razorpay { get; } = new();

    public override async Task InitializeAsync()
    {
        await Razorpay.StartAsync();
        foreach (var (key, value) in Razorpay.Settings)
            With(key, value);
        await base.InitializeAsync();
    }

    public override async ValueTask DisposeAsync()
    {
        await base.DisposeAsync();
        await Razorpay.DisposeAsync();
    }

    public Ledger Ledger => Get<Ledger>();

    /// <summary>Razorpay delivers a webhook to the print surface's documented path, or to the platform's.</summary>
    public Task<HttpResponseMessage> DeliverAsync((byte[] Body, string Signature, string EventId) webhook, bool printPath = false)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, printPath ? "/payment/webhook" : "/payments/webhooks/razorpay")
            { Content = new ByteArrayContent(webhook.Body) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        request.Headers.Add("X-Razorpay-Signature", webhook.Signature);
        request.Headers.Add("x-razorpay-event-id", webhook.EventId);
        return CreateClient().SendAsync(request);
    }

    /// <summary>Razorpay capturing an authorised payment on its own (automatic capture), through its API.</summary>
    public async Task CaptureAtRazorpayAsync(string paymentId, long amountMinor)
    {
        using var client = new HttpClient { BaseAddress = new Uri(Razorpay.Url) };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Basic",
            Convert.ToBase64String(Encoding.UTF8.GetBytes($"{FakeRazorpay.KeyId}:{FakeRazorpay.KeySecret}")));
        var response = await client.PostAsJsonAsync($"/v1/payments/{paymentId}/capture", new { amount = amountMinor, currency = "INR" });
        response.EnsureSuccessStatusCode();
    }

    public Task<PaymentIntent?> IntentOfOrderAsync(string razorpayOrderId) =>
        Get<PaymentIntents>().FindByOrderAsync(RazorpayProvider.ProviderName, razorpayOrderId, default);

    public async Task<decimal> BalanceAsync(PrintAccount customer) =>
        (await Bearer(customer).GetFromJsonAsync<JsonElement>("/wallet/balance")).GetProperty("balance").GetDecimal();

    /// <summary>The wallet statement through the API, newest first.</summary>
    public async Task<List<JsonElement>> TransactionsAsync(PrintAccount customer) =>
        (await Bearer(customer).GetFromJsonAsync<JsonElement>("/wallet/transactions?limit=100")).GetProperty("transactions").EnumerateArray().ToList();

    /// <summary>
    /// The money of one wallet holds together: the balance the API shows is <paramref name="expected"/>, it is the sum
    /// of the statement rows the API shows, each row's balance follows from the one before, and the ledger's own
    /// balance and statement agree.
    /// </summary>
    public async Task AssertWalletAsync(PrintAccount customer, decimal expected)
    {
        var balance = await BalanceAsync(customer);
        var rows = await TransactionsAsync(customer);
        Assert.Equal(expected, balance);
        Assert.Equal(balance, rows.Sum(r => r.GetProperty("amount").GetDecimal()));
        var running = 0m;
        foreach (var row in Enumerable.Reverse(rows))
        {
            Assert.Equal(running, row.GetProperty("balance_before").GetDecimal());
            running += row.GetProperty("amount").GetDecimal();
            Assert.Equal(running, row.GetProperty("balance_after").GetDecimal());
        }
        var ledger = await Ledger.BalanceAsync(PrintWallets.Account(customer.Id));
        var (statement, total) = await Ledger.StatementAsync(PrintWallets.Account(customer.Id), 100, 0);
        Assert.Equal((long)(expected * 100), ledger.Available);
        Assert.Equal(0, ledger.Held);
        Assert.Equal(rows.Count, total);
        Assert.Equal(ledger.Available, statement.Sum(r => r.Amount));
    }
}
