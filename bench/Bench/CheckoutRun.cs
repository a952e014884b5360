using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using Serverless.Checkout;

namespace Serverless.Bench;

/// <summary>
/// The checkout plugin API over HTTP against the running app, as the development seed's store (<c>demo-store</c>,
/// its <c>x-api-key</c>): workers create orders with distinct <c>ecommerceOrderId</c>s (<c>POST
/// /plugins/orders/checkout</c>: the expiry deadline, then the order and the claim of its id in one write), create
/// one order again with its same body (the idempotent path: the claim and the order read back), or read one order
/// (<c>GET /plugins/orders/{id}</c>). Storage requests come from each timed response's <c>X-Storage-Requests</c>.
/// </summary>
public static class CheckoutRun
{
    public const int Workers = 16;
    public const string CreateName = "checkout order create";
    public const string RepeatName = "checkout order create, same body again";
    public const string GetName = "checkout order get";

    /// <summary>
    /// The order's callback: loopback, where nothing listens during the bench (a create sends no callback; only a
    /// status change would). The sample settings allow http and private targets, as in development.
    /// </summary>
    static readonly string CallbackUrl = $"http://127.0.0.1:{Infra.ReceiverPort}/checkout-callback";

    /// <summary>Only the checkout scenarios (<c>Bench checkout</c>): for looking into them alone.</summary>
    public static Task<int> RunAloneAsync(bool smoke) => Drive.AloneAsync(_ => RunAllAsync(smoke ? 1 : 5, smoke ? 2 : 15));

    /// <summary>Create, the same create again, and get, each with its warm-up; the repeated and read orders are created first.</summary>
    public static async Task<JsonObject[]> RunAllAsync(int warmupSeconds, int durationSeconds)
    {
        using var http = Drive.Client(Workers, headers => headers.Add("x-api-key", CheckoutSeed.ApiKey));
        var run = Guid.NewGuid().ToString("N")[..8];
        var repeated = OrderBody($"bench-{run}-repeated");
        var existing = await CreateAsync(http, repeated);
        var sequence = 0;
        return
        [
            await Drive.ScenarioAsync(CreateName, $"HTTP, {Workers} workers: POST /plugins/orders/checkout, a new ecommerceOrderId each",
                Workers, warmupSeconds, durationSeconds,
                () => Drive.TimedAsync("create", HttpStatusCode.Created,
                    () => http.PostAsJsonAsync("/plugins/orders/checkout", OrderBody($"bench-{run}-{Interlocked.Increment(ref sequence)}")))),
            await Drive.ScenarioAsync(RepeatName, $"HTTP, {Workers} workers: POST /plugins/orders/checkout, one ecommerceOrderId and body (200, the existing order)",
                Workers, warmupSeconds, durationSeconds,
                () => Drive.TimedAsync("repeated create", HttpStatusCode.OK, () => http.PostAsJsonAsync("/plugins/orders/checkout", repeated))),
            await Drive.ScenarioAsync(GetName, $"HTTP, {Workers} workers: GET /plugins/orders/{{id}} of one order",
                Workers, warmupSeconds, durationSeconds,
                () => Drive.TimedAsync("get", HttpStatusCode.OK, () => http.GetAsync($"/plugins/orders/{existing}"))),
        ];
    }

    static async Task<string> CreateAsync(HttpClient http, object body)
    {
        using var response = await http.PostAsJsonAsync("/plugins/orders/checkout", body);
        if (response.StatusCode != HttpStatusCode.Created)
            throw new InvalidOperationException($"checkout order create answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
        return (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString()!;
    }

    /// <summary>An order of the demo store as a store's plugin sends it: 25.40 USD, pending, with return URLs.</summary>
    static object OrderBody(string ecommerceOrderId) => new
    {
        ecommerceOrderId,
        ecommerceType = "api",
        orderTotal = "25.40",
        orderCurrency = "USD",
        callbackUrl = CallbackUrl,
        store = CheckoutSeed.StoreId,
        deliveryInfo = new { firstName = "Ana", lastName = "Silva", email = "ana@example.test", country = "AR" },
        cancelReturnUrl = "https://store.example.test/cancel",
        successReturnUrl = "https://store.example.test/thanks",
        paymentStatus = "pending",
    };
}
