using System.Net.Http.Json;
using System.Text.Json;
using Serverless.Commerce;
using Serverless.Commerce.Catalog;
using Serverless.ECards;
using Serverless.Platform.Http;
using Serverless.Platform.Identity;
using Serverless.Platform.Storage;
using Serverless.Print;
using Serverless.Tests.Print;

namespace Serverless.Tests.Fuzz;

/// <summary>Who a fuzzed request comes from: a name for the report, the headers that carry its credentials, and the
/// OpenAPI tags (by prefix) of the surface it belongs to (none: anonymous, forged, or the platform's admin).</summary>
public sealed record Principal(string Name, IReadOnlyDictionary<string, string> Headers, params string[] Surfaces)
{
    public override string ToString() => Name;
}

/// <summary>
/// The whole app on a fake clock, with one principal of every kind each surface knows: a pre-orders merchant, an
/// e-cards partner (with a balance and an e-card in stock), commerce's user, company admin and integration of a
/// company that exists, a checkout store's API key, print's customer, shopkeeper and admin (signed up through the
/// documented sign-up), the platform's admin, a forged token and nobody at all. Limits are lifted so the fuzzer
/// reaches the handlers (a 429 is still a documented answer when one is met).
/// </summary>
public sealed class FuzzFactory : PrintFactory
{
    public const string Merchant = "fuzz-shop";
    public const string Partner = "fuzz-partner";
    public const string Secret = "fuzz-secret-for-tests-1";
    public const string CompanyId = "2a1f6c3e-8b4d-4e2f-9a7c-1d2e3f4a5b6c";
    public const string Usd = "5a3b2c1d-0e9f-4a8b-9c7d-6e5f4a3b2c1d";

    public FuzzFactory()
    {
        With("Deadlines:MaxVisibilityDelay", "00:00:00");
        With("RateLimits:PerIp:PermitLimit", "100000");
    }

    public List<Principal> Principals { get; } = [];

    /// <summary>Values that name things that exist, by parameter name, so some generated requests reach them.</summary>
    public Dictionary<string, List<string>> Known { get; } = new(StringComparer.OrdinalIgnoreCase);

    private void Know(string name, params string[] values)
    {
        if (!Known.TryGetValue(name, out var list))
            Known[name] = list = [];
        list.AddRange(values.Where(v => !string.IsNullOrEmpty(v)));
    }

    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        var tokens = Get<TokenService>();
        var clients = Get<ApiClientDirectory>();
        static Dictionary<string, string> Bearer(string token) => new() { ["Authorization"] = "Bearer " + token };

        Principals.Add(new Principal("anonymous", new Dictionary<string, string>()));
        Principals.Add(new Principal("forged-token", Bearer("eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIiwicm9sZSI6ImFkbWluIn0.c2lnbmF0dXJl")));
        var admin = CreateClientAs(1, Roles.Admin);
        Principals.Add(new Principal("platform-admin", new Dictionary<string, string> { ["Authorization"] = admin.DefaultRequestHeaders.Authorization!.ToString() },
            "Platform", "Webhooks", "Payments", "Development", "Checkout admin", "Commerce admin", "E-cards", "Pre-orders", "Print-shop admin"));

        // Pre-orders: a merchant, with a client token as /api/auth/login issues it.
        await clients.CreateAsync(ClientKinds.Merchant, "Fuzz Shop", Merchant, Secret);
        Principals.Add(new Principal("pre-orders-merchant", Bearer(tokens.IssueForClient(TokenAudiences.PreOrders, Merchant, Merchant, ClientKinds.Merchant).Token),
            "Pre-orders", "Pre-order payment page"));
        Know("username", Merchant);

        // E-cards: a partner with money and an e-card with codes.
        await clients.CreateAsync(ClientKinds.Partner, "Fuzz Partner", Partner, Secret);
        await Get<PartnerAccounts>().TopUpAsync(Partner, 1_000_000, "initial");
        FaceValue[] faceValues = [new("100 ₽", 100), new("500 ₽", 500)];
        await Get<ECardCatalog>().PutAsync(1, "Books", "Books gift card", "RUB", faceValues);
        foreach (var faceValue in faceValues)
            await Get<CertificateStock>().LoadAsync(1, faceValue.Name, Enumerable.Range(0, 50).Select(i => $"F1-{faceValue.Price}-{i:D4}-{Guid.NewGuid():N}").ToList());
        Principals.Add(new Principal("e-cards-partner", Bearer(tokens.IssueForClient(TokenAudiences.ECards, Partner, Partner, ClientKinds.Partner).Token), "E-cards"));
        Know("id", "1");
        Know("partnerId", Partner);
        Know("clientId", Partner, Merchant);

        // Commerce: a company with a currency and a payment option; its user, its admin and an integration.
        var catalog = Get<CommerceCatalog>();
        await catalog.Currencies.UpsertEntityAsync(new CommerceCurrency { RowKey = Usd, Code = "USD", Name = "US Dollar", Symbol = "$" });
        await catalog.Companies.UpsertEntityAsync(new CommerceCompany
        {
            PartitionKey = CompanyId, Name = "Fuzz Tokens", ClientServiceFeeBasisPoints = 250, CreatedAt = Time.GetUtcNow(),
        });
        await catalog.Companies.UpsertEntityAsync(new CompanyPaymentOption
        {
            PartitionKey = CompanyId, RowKey = CompanyPaymentOption.RowKeyFor(Usd, "credit_card"), CurrencyId = Usd,
            PaymentMethod = "credit_card", Provider = CommerceProviders.Sandbox,
        });
        var company = new Dictionary<string, object> { [CommerceClaims.Company] = CompanyId };
        Principals.Add(new Principal("commerce-user", Bearer(CommerceUser(7001, [CommerceRoles.User], company)), "Commerce"));
        Principals.Add(new Principal("commerce-company-admin", Bearer(CommerceUser(7002, [CommerceRoles.Admin], company)), "Commerce"));
        const string integration = "fuzz-integration";
        await clients.CreateAsync(ClientKinds.Integration, "Fuzz Integration", integration);
        Principals.Add(new Principal("commerce-integration", Bearer(tokens.IssueForClient(TokenAudiences.Commerce, integration, integration,
            ClientKinds.Integration, roles: [CommerceRoles.Integration], claims: company).Token), "Commerce"));
        Know("companyId", CompanyId);
        Know("currencyId", Usd);

        // Checkout: a store made through the admin API; its API key.
        var created = await admin.PostAsJsonAsync("/plugins/admin/stores", new { name = "Fuzz Store", email = "owner@fuzz-store.test" });
        created.EnsureSuccessStatusCode();
        var store = await created.Content.ReadFromJsonAsync<JsonElement>();
        Principals.Add(new Principal("checkout-store", new Dictionary<string, string> { ["x-api-key"] = store.GetProperty("apiKey").GetString()! },
            "Checkout"));
        Know("storeId", store.GetProperty("store").GetProperty("id").GetString()!);

        // Print: a customer and a shopkeeper through the documented sign-up, and the platform admin's print sign-in.
        var customer = await SignUpAsync();
        var shopkeeper = await SignUpAsync(role: "shopkeeper");
        Principals.Add(new Principal("print-customer", Bearer(customer.Token), "Print-shop"));
        Principals.Add(new Principal("print-shopkeeper", Bearer(shopkeeper.Token), "Print-shop"));
        Principals.Add(new Principal("print-admin", Bearer(await AdminTokenAsync()), "Print-shop"));
        // A browser signed in by the HttpOnly cookie: once with the CSRF token its page would send, once without
        // (every state-changing request of that one must be a documented 403).
        var secret = Microsoft.AspNetCore.WebUtilities.WebEncoders.Base64UrlEncode(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32));
        var page = new Microsoft.AspNetCore.Http.DefaultHttpContext();
        page.Request.Headers.Cookie = $"{CsrfTokens.CookieName}={secret}";
        var cookies = $"{PrintAuth.CookieName}={customer.Token}; {CsrfTokens.CookieName}={secret}";
        Principals.Add(new Principal("print-customer-cookie", new Dictionary<string, string>
            { ["Cookie"] = cookies, [CsrfTokens.HeaderName] = Get<CsrfTokens>().Issue(page) }, "Print-shop"));
        Principals.Add(new Principal("print-customer-cookie-without-csrf", new Dictionary<string, string> { ["Cookie"] = cookies }, "Print-shop"));
        Know("shopId", shopkeeper.Id.ToString(System.Globalization.CultureInfo.InvariantCulture));
        Know("userId", customer.Id.ToString(System.Globalization.CultureInfo.InvariantCulture));
    }

    private string CommerceUser(long userId, string[] roles, Dictionary<string, object> claims)
    {
        Get<StorageAccount>().Table(UserDirectory.TableName).UpsertEntity(new UserAccount
        {
            PartitionKey = UserDirectory.PartitionOf(userId), Id = userId, Username = "fuzz" + userId,
            Roles = string.Join(',', roles), CreatedAt = Time.GetUtcNow(),
        });
        return Get<TokenService>().IssueForUser(TokenAudiences.Commerce, userId, "fuzz" + userId, roles, 0, claims: claims).Token;
    }
}
