using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using Azure.Data.Tables;
using Serverless.Commerce.Catalog;

namespace Serverless.Bench;

/// <summary>
/// Commerce over HTTP against the running app, as the demo buyer of the development seed's company: a product with
/// enough tokens for the run is written straight into the catalogue first, then workers either preview an order of
/// one token (<c>POST /companies/{id}/orders/preview</c>) or preview (untimed) and create it (<c>POST
/// /companies/{id}/orders</c>: the order row, its expiry deadline, the token's booking and the sandbox intent with its
/// provider order). Storage requests come from each timed response's <c>X-Storage-Requests</c>.
/// </summary>
public static class CommerceRun
{
    public const string Company = "11111111-1111-4111-8111-111111111111";
    public const string Usd = "9b1deb4d-3b7d-4bad-9bdd-2b0d7b3dcb6d";
    public const string Wallet = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed";
    public const int Workers = 16;

    sealed record Call(bool Ok, double Ms, int Storage, string? Error);

    /// <summary>A product of the seed's company with <paramref name="tokens"/> tokens for sale, written 100 to a transaction.</summary>
    public static async Task<string> SeedProductAsync(int tokens)
    {
        var service = new TableServiceClient(Infra.ConnectionString);
        var products = service.GetTableClient(CommerceCatalog.ProductsTable);
        var table = service.GetTableClient(CommerceCatalog.TokensTable);
        await products.CreateIfNotExistsAsync();
        await table.CreateIfNotExistsAsync();
        var productId = Guid.NewGuid().ToString();
        var now = DateTimeOffset.UtcNow;
        await products.AddEntityAsync(new CommerceProduct
        {
            PartitionKey = Company, RowKey = productId, Name = "Bench Collectible", DistributionType = DistributionTypes.Random,
            PricesJson = CommerceProduct.PricesToJson([new ProductPrice(Usd, 1000)]), TokenCount = tokens, CreatedAt = now, UpdatedAt = now,
        });
        var partition = ProductToken.PartitionFor(Company, productId);
        foreach (var chunk in Enumerable.Range(1, tokens).Chunk(100))
        {
            await table.SubmitTransactionAsync(chunk.Select(n => new TableTransactionAction(TableTransactionActionType.Add, new ProductToken
            {
                PartitionKey = partition, RowKey = Guid.NewGuid().ToString(), CompanyId = Company, ProductId = productId, Number = n,
                Status = TokenStatus.ForSale, CreatedAt = now, UpdatedAt = now,
            })));
        }
        return productId;
    }

    /// <summary>Only the commerce scenarios (<c>Bench commerce</c>): for looking into them alone.</summary>
    public static async Task<int> RunAloneAsync(bool smoke)
    {
        Infra.EnsurePortsFree();
        await using var infra = new Infra(Infra.FindRoot());
        await infra.StartAzuriteAsync(null);
        await infra.StartAppAsync();
        using var http = new HttpClient { BaseAddress = new Uri(Infra.AppUrl), Timeout = TimeSpan.FromSeconds(30) };
        var token = await SignInAsync(http);
        var product = await SeedProductAsync(smoke ? 500 : 3_000);
        var rows = new[]
        {
            await RunAsync("commerce order preview", create: false, token, product, smoke ? 1 : 5, smoke ? 2 : 15),
            await RunAsync("commerce order create", create: true, token, product, smoke ? 1 : 5, smoke ? 2 : 15),
        };
        foreach (var row in rows)
            Console.WriteLine(row.ToJsonString());
        return rows.Sum(r => r["errors"]!.GetValue<long>()) == 0 ? 0 : 1;
    }

    public static async Task<string> SignInAsync(HttpClient http)
    {
        using var response = await http.PostAsJsonAsync("/auth/signin", new { email = "demo-buyer@example.com", password = "demo-password", companyId = Company });
        if (response.StatusCode != HttpStatusCode.OK)
            throw new InvalidOperationException($"commerce sign-in answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
        return (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("token").GetString()!;
    }

    public static async Task<JsonObject> RunAsync(string name, bool create, string token, string productId, int warmupSeconds, int durationSeconds)
    {
        using var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = Workers * 2 })
        {
            BaseAddress = new Uri(Infra.AppUrl), Timeout = TimeSpan.FromSeconds(30),
        };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        Console.WriteLine($"Scenario {name}: warm-up {warmupSeconds} s, then {Workers} workers for {durationSeconds} s...");
        await DriveAsync(http, create, productId, TimeSpan.FromSeconds(warmupSeconds));
        var (calls, elapsed) = await DriveAsync(http, create, productId, TimeSpan.FromSeconds(durationSeconds));

        var ok = calls.Where(c => c.Ok).ToArray();
        var failed = calls.Length - ok.Length;
        static double Percentile(IEnumerable<double> values, double p) => Drive.Percentile(values, p);
        var latency = ok.Select(c => c.Ms).ToArray();
        var storage = ok.Select(c => c.Storage).DefaultIfEmpty(-1).ToArray();
        var median = (int)Percentile(storage.Select(s => (double)s), 0.5);
        Console.WriteLine($"  {ok.Length / elapsed:F1}/s; p50 {Percentile(latency, 0.5):F1} ms, p99 {Percentile(latency, 0.99):F1} ms; " +
                          $"storage requests {median} ({storage.Min()}–{storage.Max()}); {failed} failed");
        if (calls.FirstOrDefault(c => !c.Ok) is { } first)
            Console.Error.WriteLine($"  {name}: {failed} calls failed; the first: {first.Error}");
        return new JsonObject
        {
            ["scenario"] = name,
            ["driver"] = create
                ? $"HTTP, {Workers} workers: preview (untimed), then POST /companies/{{id}}/orders of one token (sandbox checkout)"
                : $"HTTP, {Workers} workers: POST /companies/{{id}}/orders/preview of one token",
            ["connections"] = Workers,
            ["requests"] = (long)calls.Length,
            ["rps"] = Math.Round(ok.Length / elapsed, 1),
            ["p50_ms"] = Math.Round(Percentile(latency, 0.5), 2),
            ["p99_ms"] = Math.Round(Percentile(latency, 0.99), 2),
            ["max_ms"] = Math.Round(latency.DefaultIfEmpty().Max(), 2),
            ["errors"] = (long)failed,
            ["storage_requests_per_request"] = median,
            ["storage_requests_min"] = storage.Min(),
            ["storage_requests_max"] = storage.Max(),
        };
    }

    static Task<(Call[] Calls, double Seconds)> DriveAsync(HttpClient http, bool create, string productId, TimeSpan duration) =>
        Drive.WorkersAsync(Workers, duration, () => OnceAsync(http, create, productId), error => new Call(false, 0, 0, error));

    static readonly object[] Payments = [new { currencyId = Usd, amountType = "percentage", amount = "100", paymentMethod = "credit_card" }];

    static async Task<Call> OnceAsync(HttpClient http, bool create, string productId)
    {
        var started = Stopwatch.GetTimestamp();
        using var preview = await http.PostAsJsonAsync($"/companies/{Company}/orders/preview",
            new { orderProducts = new[] { new { productId, quantity = 1 } }, payments = Payments });
        var previewMs = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
        if (preview.StatusCode != HttpStatusCode.OK)
            return new Call(false, 0, 0, $"preview answered {(int)preview.StatusCode}: {await preview.Content.ReadAsStringAsync()}");
        if (!create)
            return new Call(true, previewMs, Storage(preview), null);

        var quote = await preview.Content.ReadFromJsonAsync<JsonElement>();
        var price = quote.GetProperty("products")[0].GetProperty("price").GetString();
        var signature = quote.GetProperty("gasFee").GetProperty("signature").GetString();
        started = Stopwatch.GetTimestamp();
        using var order = await http.PostAsJsonAsync($"/companies/{Company}/orders", new
        {
            orderProducts = new[] { new { productId, expectedPrices = new[] { new { currencyId = Usd, expectedPrice = price } } } },
            signedGasFees = new[] { new { currencyId = Usd, signedGasFee = signature } },
            payments = Payments,
            destinationWalletAddress = Wallet,
            acceptSimilarOrderInShortPeriod = true,
        });
        var createMs = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
        if (order.StatusCode != HttpStatusCode.Created)
            return new Call(false, 0, 0, $"create answered {(int)order.StatusCode}: {await order.Content.ReadAsStringAsync()}");
        return new Call(true, createMs, Storage(order), null);
    }

    static int Storage(HttpResponseMessage response) =>
        response.Headers.TryGetValues("X-Storage-Requests", out var values) && int.TryParse(values.First(), out var n) ? n : -1;
}
