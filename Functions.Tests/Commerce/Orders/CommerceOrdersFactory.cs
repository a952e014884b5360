using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Serverless.Commerce.Orders;
using Serverless.Platform.Hosting;
using Serverless.Tests.Platform.Webhooks;

namespace Serverless.Tests.Commerce.Orders;

/// <summary>The commerce app with a webhook receiver for <see cref="CommerceFactory.CompanyId"/>, and helpers that walk an order through.</summary>
public class CommerceOrdersFactory : CommerceFactory
{
    /// <summary>An EIP-55 checksummed address (the specification's own example).</summary>
    public const string Wallet = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed";

    public WebhookReceiver.Hook CompanyHook { get; private set; } = null!;

    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        CompanyHook = await RegisterAsync(CommerceOrders.WebhookOwner(CompanyId));
    }

    public static object Preview(string productId, string currencyId = Usd, string? method = "credit_card", int quantity = 1, string? tokenId = null,
        string? coupon = null) => new
    {
        orderProducts = new[] { new { productId, productTokenId = tokenId, quantity } },
        payments = new[] { new { currencyId, paymentMethod = method } },
        couponCode = coupon,
    };

    /// <summary>A preview's signed gas fee for this product (a fresh one each call).</summary>
    public static async Task<JsonElement> PreviewAsync(HttpClient buyer, string productId, string companyId = CompanyId, string currencyId = Usd,
        string? method = "credit_card", string? tokenId = null)
    {
        var response = await buyer.PostAsJsonAsync($"/companies/{companyId}/orders/preview", Preview(productId, currencyId, method, tokenId: tokenId));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return await response.Content.ReadFromJsonAsync<JsonElement>();
    }

    public static object Create(string productId, string expectedPrice, string signature, string currencyId = Usd, string method = "credit_card",
        string? tokenId = null, bool acceptSimilar = false, string wallet = Wallet) => new
    {
        orderProducts = new[] { new { productId, productTokenId = tokenId, expectedPrices = new[] { new { currencyId, expectedPrice } } } },
        signedGasFees = new[] { new { currencyId, signedGasFee = signature } },
        payments = new[] { new { currencyId, amountType = "percentage", amount = "100", paymentMethod = method } },
        destinationWalletAddress = wallet,
        successUrl = "https://shop.example.test/thanks",
        acceptSimilarOrderInShortPeriod = acceptSimilar,
    };

    /// <summary>Preview then create, as a client does; answers the create's response.</summary>
    public static async Task<HttpResponseMessage> OrderAsync(HttpClient buyer, string productId, string companyId = CompanyId, string currencyId = Usd,
        string method = "credit_card", string? tokenId = null, bool acceptSimilar = true)
    {
        var preview = await PreviewAsync(buyer, productId, companyId, currencyId, method, tokenId);
        var products = preview.GetProperty("products");
        var price = products.GetArrayLength() > 0 ? products[0].GetProperty("price").GetString()! : "10.00";
        var signature = preview.GetProperty("gasFee").GetProperty("signature").GetString()!;
        return await buyer.PostAsJsonAsync($"/companies/{companyId}/orders", Create(productId, price, signature, currencyId, method, tokenId, acceptSimilar));
    }

    public static async Task<JsonElement> CreatedAsync(HttpResponseMessage response)
    {
        Assert.True(response.StatusCode == HttpStatusCode.Created, $"{response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
        return await response.Content.ReadFromJsonAsync<JsonElement>();
    }

    /// <summary>The buyer pays (or fails) on the sandbox's checkout page; its signed event comes back through the inbound path.</summary>
    public async Task PaySandboxAsync(string paymentUrl, string outcome = "pay")
    {
        var client = CreateClient(new Microsoft.AspNetCore.Mvc.Testing.WebApplicationFactoryClientOptions { AllowAutoRedirect = false });
        var submit = await client.PostAsync(new Uri(paymentUrl).PathAndQuery,
            new FormUrlEncodedContent(new Dictionary<string, string> { ["outcome"] = outcome, ["method"] = "card" }));
        Assert.True(submit.StatusCode is HttpStatusCode.Redirect or HttpStatusCode.OK or HttpStatusCode.SeeOther,
            $"the sandbox answered {submit.StatusCode}: {await submit.Content.ReadAsStringAsync()}");
    }

    /// <summary>Runs the delivery queue until it is empty.</summary>
    public Task<int> DeliverAsync() =>
        Get<StandalonePumps>().CreatePump(OrderDelivery.FunctionName).DrainAsync(new CancellationTokenSource(TimeSpan.FromSeconds(60)).Token);

    public static async Task<JsonElement> GetAsync(HttpClient client, string path)
    {
        var response = await client.GetAsync(path);
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
        return await response.Content.ReadFromJsonAsync<JsonElement>();
    }

    /// <summary>The company webhooks received for an order, as (event, status) in arrival order.</summary>
    public List<string> EventsFor(string orderId) => CompanyHook.Received
        .Select(r => JsonDocument.Parse(r.Body).RootElement)
        .Where(e => e.GetProperty("order").GetProperty("id").GetString() == orderId)
        .Select(e => e.GetProperty("event").GetString()!)
        .ToList();
}
