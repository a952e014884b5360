using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Azure.Data.Tables;
using Serverless.Platform.Deadlines;
using Serverless.Platform.Storage;
using Serverless.Platform.Hosting;
using Serverless.Platform.Identity;
using Serverless.PreOrders;
using Serverless.Tests.Platform.Webhooks;

namespace Serverless.Tests.PreOrders;

/// <summary>
/// The app with two merchants, a partner (no access to this API) and a webhook receiver for the first merchant;
/// deadline and webhook messages are visible at once, so the fake clock decides what is due.
/// </summary>
public class PreOrdersFactory : WebhookFactory
{
    public override TokenAudience Audience => TokenAudiences.PreOrders;

    public const string Merchant = "acme-shop";
    public const string OtherMerchant = "other-shop";
    public const string Password = "merchant-password-1";
    public const string BaseUrl = "https://pay.example.test";

    public PreOrdersFactory()
    {
        With("Deadlines:MaxVisibilityDelay", "00:00:00");
        With("PublicBaseUrl", BaseUrl);
        // Tests sign in far more often than a person; the limits themselves are tested on their own.
        With("RateLimits:Auth:PermitLimit", "100000");
        With("RateLimits:PerCaller:PermitLimit", "100000");
    }

    public WebhookReceiver.Hook MerchantHook { get; private set; } = null!;

    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        var clients = Get<ApiClientDirectory>();
        await clients.CreateAsync(ClientKinds.Merchant, "Acme Shop", Merchant, Password);
        await clients.CreateAsync(ClientKinds.Merchant, "Other Shop", OtherMerchant, Password);
        await clients.CreateAsync(ClientKinds.Partner, "Gift Partner", "gift-partner", Password);
        MerchantHook = Receiver.Add(Merchant);
        var response = await Admin().PutAsJsonAsync($"/api/admin/merchants/{Merchant}/webhook", new { url = MerchantHook.Url });
        response.EnsureSuccessStatusCode();
        MerchantHook.Secret = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("secret").GetString();
    }

    public async Task<HttpClient> MerchantClientAsync(string merchant = Merchant)
    {
        var login = await CreateClient().PostAsJsonAsync("/api/auth/login", new { username = merchant, password = Password });
        login.EnsureSuccessStatusCode();
        var token = (await login.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("token").GetString();
        var client = CreateClient();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return client;
    }

    public static object Body(string expiration, decimal amount = 100.00m, string currency = "USD", string description = "Pre-order for product X") => new
    {
        amount,
        currency,
        description,
        expiration_date = expiration,
        customer = new { name = "John Doe", email = "john@example.com", phone = "+1234567890" },
    };

    public string In(TimeSpan span) => (Time.GetUtcNow() + span).UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'");

    public async Task<JsonElement> CreateAsync(HttpClient merchant, TimeSpan expiresIn, decimal amount = 100.00m)
    {
        var response = await merchant.PostAsJsonAsync("/api/pre-orders", Body(In(expiresIn), amount));
        Assert.Equal(System.Net.HttpStatusCode.Created, response.StatusCode);
        return await response.Content.ReadFromJsonAsync<JsonElement>();
    }

    /// <summary>
    /// A customer's whole payment in the sandbox: the pay page's button (<c>POST /pay/{id}/checkout</c>), then
    /// <paramref name="outcome"/> (<c>pay</c> or <c>fail</c>) on the sandbox's checkout page, whose signed event goes
    /// through the inbound webhook path. Answers the button's response (200 when a checkout was opened).
    /// </summary>
    public async Task<HttpResponseMessage> PayAsync(string id, string outcome = "pay")
    {
        var checkout = await CreateClient().PostAsync($"/pay/{id}/checkout", null);
        if (checkout.StatusCode != System.Net.HttpStatusCode.OK)
            return checkout;
        var url = (await checkout.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("checkout_url").GetString()!;
        // The default client's address: on a real socket (the browser tests) that is where the app listens.
        var submit = await CreateClient(new Microsoft.AspNetCore.Mvc.Testing.WebApplicationFactoryClientOptions
            {
                AllowAutoRedirect = false, BaseAddress = CreateClient().BaseAddress!,
            })
            .PostAsync(url, new FormUrlEncodedContent(new Dictionary<string, string> { ["outcome"] = outcome, ["method"] = "upi" }));
        // Sent back to the pay page (on a real socket the client follows the redirect itself).
        Assert.True(submit.StatusCode == System.Net.HttpStatusCode.Redirect
                    || (submit.StatusCode == System.Net.HttpStatusCode.OK && submit.RequestMessage!.RequestUri!.AbsolutePath == $"/pay/{id}"),
            $"the sandbox answered {submit.StatusCode} at {submit.RequestMessage?.RequestUri}");
        return checkout;
    }

    /// <summary>Every webhook the merchant's receiver got, as parsed bodies.</summary>
    public List<JsonElement> MerchantEvents() =>
        MerchantHook.Received.Select(r => JsonDocument.Parse(r.Body).RootElement).ToList();

    public List<JsonElement> EventsFor(string id) =>
        MerchantEvents().Where(e => e.GetProperty("data").GetProperty("id").GetString() == id).ToList();
}
