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
    public static Task<int> RunAloneAsync(bool smoke) => Drive.AloneAsync(async http =>
    {
        var token = await SignInAsync(http);
        var product = await SeedProductAsync(smoke ? 500 : 3_000);
        return
        [
            await RunAsync("commerce order preview", create: false, token, product, smoke ? 1 : 5, smoke ? 2 : 15),
            await RunAsync("commerce order create", create: true, token, product, smoke ? 1 : 5, smoke ? 2 : 15),
        ];
    });

    public static async Task<string> SignInAsync(HttpClient http)
    {
        using var response = await http.PostAsJsonAsync("/auth/signin", new { email = "demo-buyer@example.com", password = "demo-password", companyId = Company });
        if (response.StatusCode != HttpStatusCode.OK)
            throw new InvalidOperationException($"commerce sign-in answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
        return (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("token").GetString()!;
    }

    public static async Task<JsonObject> RunAsync(string name, bool create, string token, string productId, int warmupSeconds, int durationSeconds)
    {
        using var http = Drive.Client(Workers, headers => headers.Authorization = new AuthenticationHeaderValue("Bearer", token));
        var driver = create
            ? $"HTTP, {Workers} workers: preview (untimed), then POST /companies/{{id}}/orders of one token (sandbox checkout)"
            : $"HTTP, {Workers} workers: POST /companies/{{id}}/orders/preview of one token";
        return await Drive.ScenarioAsync(name, driver, Workers, warmupSeconds, durationSeconds, () => OnceAsync(http, create, productId));
    }

    static readonly object[] Payments = [new { currencyId = Usd, amountType = "percentage", amount = "100", paymentMethod = "credit_card" }];

    static Task<HttpResponseMessage> PreviewAsync(HttpClient http, string productId) =>
        http.PostAsJsonAsync($"/companies/{Company}/orders/preview", new { orderProducts = new[] { new { productId, quantity = 1 } }, payments = Payments });

    static async Task<Drive.Call> OnceAsync(HttpClient http, bool create, string productId)
    {
        if (!create)
            return await Drive.TimedAsync("preview", HttpStatusCode.OK, () => PreviewAsync(http, productId));

        using var preview = await PreviewAsync(http, productId);
        if (preview.StatusCode != HttpStatusCode.OK)
            return Drive.Call.Failed($"preview answered {(int)preview.StatusCode}: {await preview.Content.ReadAsStringAsync()}");
        var quote = await preview.Content.ReadFromJsonAsync<JsonElement>();
        var price = quote.GetProperty("products")[0].GetProperty("price").GetString();
        var signature = quote.GetProperty("gasFee").GetProperty("signature").GetString();
        return await Drive.TimedAsync("create", HttpStatusCode.Created, () => http.PostAsJsonAsync($"/companies/{Company}/orders", new
        {
            orderProducts = new[] { new { productId, expectedPrices = new[] { new { currencyId = Usd, expectedPrice = price } } } },
            signedGasFees = new[] { new { currencyId = Usd, signedGasFee = signature } },
            payments = Payments,
            destinationWalletAddress = Wallet,
            acceptSimilarOrderInShortPeriod = true,
        }));
    }
}
