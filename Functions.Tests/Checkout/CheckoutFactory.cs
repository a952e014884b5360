using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Serverless.Checkout;
using Serverless.Platform.Identity;
using Serverless.Tests.Platform.Webhooks;

namespace Serverless.Tests.Checkout;

/// <summary>
/// The app with two stores created through the admin API (the first with a 10% markup and wallets), a callback
/// receiver on a real socket for each, and visibility delays off so the fake clock decides what is due.
/// </summary>
public class CheckoutFactory : WebhookFactory
{
    public const string BaseUrl = "https://checkout.example.test";

    public CheckoutFactory()
    {
        With("Deadlines:MaxVisibilityDelay", "00:00:00");
        With("PublicBaseUrl", BaseUrl);
        With("RateLimits:PerCaller:PermitLimit", "100000");
    }

    public StoreKeys StoreA { get; private set; } = null!;
    public StoreKeys StoreB { get; private set; } = null!;

    /// <summary>A store as the tests know it: its id, API key, callback secret and callback receiver.</summary>
    public sealed record StoreKeys(string Id, string ApiKey, string WebhookSecret, WebhookReceiver.Hook Hook)
    {
        public string WebhookSecret { get; set; } = WebhookSecret;
    }

    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        StoreA = await CreateStoreAsync("store-a", new
        {
            name = "Store A", email = "owner@store-a.test", storeMarkupPercentage = "10", storeDiscountPercentage = "0",
            wallets = new[] { new { protocol = "ETHEREUM", address = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed" } },
        });
        StoreB = await CreateStoreAsync("store-b", new { name = "Store B", email = "owner@store-b.test" });
    }

    public async Task<StoreKeys> CreateStoreAsync(string hookName, object body)
    {
        var response = await Admin().PostAsJsonAsync("/plugins/admin/stores", body);
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var created = await response.Content.ReadFromJsonAsync<JsonElement>();
        return new StoreKeys(created.GetProperty("store").GetProperty("id").GetString()!, created.GetProperty("apiKey").GetString()!,
            created.GetProperty("webhookSecret").GetString()!, Receiver.Add(hookName));
    }

    public HttpClient StoreClient(StoreKeys store) => KeyClient(store.ApiKey);

    public HttpClient KeyClient(string apiKey)
    {
        var client = CreateClient();
        client.DefaultRequestHeaders.Add(ApiKeyAuthentication.Header, apiKey);
        return client;
    }

    public static Dictionary<string, object?> OrderBody(StoreKeys store, string ecommerceOrderId, string orderTotal = "25.40", string currency = "USD") => new()
    {
        ["ecommerceOrderId"] = ecommerceOrderId,
        ["ecommerceType"] = "api",
        ["orderTotal"] = orderTotal,
        ["orderCurrency"] = currency,
        ["callbackUrl"] = store.Hook.Url,
        ["store"] = store.Id,
        ["deliveryInfo"] = new Dictionary<string, object?>
        {
            ["firstName"] = "Ana", ["lastName"] = "Silva", ["email"] = "ana@example.test", ["country"] = "AR",
        },
        ["cancelReturnUrl"] = "https://store.example.test/cancel",
        ["successReturnUrl"] = "https://store.example.test/thanks",
    };

    public async Task<JsonElement> CreateOrderAsync(StoreKeys store, string ecommerceOrderId, string orderTotal = "25.40")
    {
        var response = await StoreClient(store).PostAsJsonAsync("/plugins/orders/checkout", OrderBody(store, ecommerceOrderId, orderTotal));
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return await response.Content.ReadFromJsonAsync<JsonElement>();
    }

    /// <summary>The callbacks a store received (after delivering what is queued), each checked against its signature.</summary>
    public async Task<List<JsonElement>> CallbacksAsync(StoreKeys store, string? orderId = null)
    {
        await DrainAsync();
        var callbacks = new List<JsonElement>();
        foreach (var received in store.Hook.Received.Where(r => r.Header("x-webhook-signature") is not null))
        {
            Assert.True(Hmac.Verify(store.WebhookSecret, received.Body, received.Header("x-webhook-signature")!),
                "the callback's x-webhook-signature does not match its body");
            var body = JsonDocument.Parse(received.Body).RootElement;
            if (orderId is null || body.GetProperty("orderId").GetString() == orderId)
                callbacks.Add(body);
        }
        return callbacks;
    }

    /// <summary>
    /// A customer's whole gateway payment in the sandbox: the page's pay button, then <paramref name="outcome"/> on
    /// the sandbox's checkout page, whose signed event comes back through the inbound webhook path.
    /// </summary>
    public async Task PayInSandboxAsync(string sessionToken, string outcome = "pay")
    {
        var checkout = await CreateClient().PostAsync($"/checkout/{sessionToken}/pay", null);
        Assert.Equal(HttpStatusCode.OK, checkout.StatusCode);
        var url = (await checkout.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("checkoutUrl").GetString()!;
        var submit = await CreateClient(new Microsoft.AspNetCore.Mvc.Testing.WebApplicationFactoryClientOptions
            {
                AllowAutoRedirect = false, BaseAddress = CreateClient().BaseAddress!,
            })
            .PostAsync(url, new FormUrlEncodedContent(new Dictionary<string, string> { ["outcome"] = outcome, ["method"] = "card" }));
        Assert.True(submit.StatusCode is HttpStatusCode.Redirect or HttpStatusCode.OK, $"the sandbox answered {submit.StatusCode}");
    }
}

/// <summary>
/// HMAC-SHA256 written out from RFC 2104 over the platform's SHA-256 primitive, so the callbacks' signatures are
/// checked by code that shares nothing with the signer under test: base64(H((K ^ opad) || H((K ^ ipad) || body))).
/// </summary>
public static class Hmac
{
    private const int BlockSize = 64;

    public static byte[] Compute(byte[] key, byte[] message)
    {
        if (key.Length > BlockSize)
            key = SHA256.HashData(key);
        var padded = new byte[BlockSize];
        key.CopyTo(padded, 0);
        var inner = new byte[BlockSize + message.Length];
        var outer = new byte[BlockSize + 32];
        for (var i = 0; i < BlockSize; i++)
        {
            inner[i] = (byte)(padded[i] ^ 0x36);
            outer[i] = (byte)(padded[i] ^ 0x5c);
        }
        message.CopyTo(inner, BlockSize);
        SHA256.HashData(inner).CopyTo(outer, BlockSize);
        return SHA256.HashData(outer);
    }

    public static bool Verify(string secret, byte[] body, string signature)
    {
        byte[] presented;
        try
        {
            presented = Convert.FromBase64String(signature);
        }
        catch (FormatException)
        {
            return false;
        }
        return CryptographicOperations.FixedTimeEquals(presented, Compute(Encoding.UTF8.GetBytes(secret), body));
    }
}
