using Azure.Data.Tables;
using Serverless.Commerce;
using Serverless.Commerce.Catalog;
using Serverless.Platform.Identity;
using Serverless.Platform.Storage;
using Serverless.Tests.Platform.Webhooks;

namespace Serverless.Tests.Commerce;

/// <summary>
/// The app with two companies written straight into storage: <see cref="CompanyId"/> (USD and BRL, the sandbox for
/// USD credit cards, free for BRL pix, a 2.5% client service fee, a gas fee in USD, the coupon <c>SAVE10</c>) and
/// <see cref="OtherCompanyId"/>. Commerce callers are real accounts with real commerce tokens; deadline and webhook
/// messages are visible at once, so the fake clock decides what is due.
/// </summary>
public class CommerceFactory : WebhookFactory
{
    public override TokenAudience Audience => TokenAudiences.Commerce;

    public const string CompanyId = "2a1f6c3e-8b4d-4e2f-9a7c-1d2e3f4a5b6c";
    public const string OtherCompanyId = "7c6b5a4f-3e2d-4c1b-8a9f-0e1d2c3b4a59";
    public const string Usd = "5a3b2c1d-0e9f-4a8b-9c7d-6e5f4a3b2c1d";
    public const string Brl = "6b4c3d2e-1f0a-4b9c-8d7e-5f6a4b3c2d1e";

    private long _nextUser = 5000;

    public CommerceFactory()
    {
        With("Deadlines:MaxVisibilityDelay", "00:00:00");
        With("RateLimits:Auth:PermitLimit", "100000");
        With("RateLimits:PerCaller:PermitLimit", "100000");
    }

    public CommerceCatalog Catalog => Get<CommerceCatalog>();

    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        await Catalog.Currencies.UpsertEntityAsync(new CommerceCurrency { RowKey = Usd, Code = "USD", Name = "US Dollar", Symbol = "$" });
        await Catalog.Currencies.UpsertEntityAsync(new CommerceCurrency { RowKey = Brl, Code = "BRL", Name = "Real", Symbol = "R$" });
        foreach (var (company, name) in new[] { (CompanyId, "Acme Tokens"), (OtherCompanyId, "Other Company") })
        {
            await Catalog.Companies.UpsertEntityAsync(new CommerceCompany
            {
                PartitionKey = company, Name = name, ClientServiceFeeBasisPoints = 250, CreatedAt = Time.GetUtcNow(),
            });
            await Catalog.Companies.UpsertEntityAsync(new CompanyPaymentOption
            {
                PartitionKey = company, RowKey = CompanyPaymentOption.RowKeyFor(Usd, "credit_card"), CurrencyId = Usd,
                PaymentMethod = "credit_card", Provider = CommerceProviders.Sandbox,
            });
            await Catalog.Companies.UpsertEntityAsync(new CompanyPaymentOption
            {
                PartitionKey = company, RowKey = CompanyPaymentOption.RowKeyFor(Brl, "pix"), CurrencyId = Brl,
                PaymentMethod = "pix", Provider = CommerceProviders.Free,
            });
            await Catalog.Companies.UpsertEntityAsync(new CompanyGasFee
            {
                PartitionKey = company, RowKey = CompanyGasFee.RowKeyFor(Usd), CurrencyId = Usd, AmountMinor = 35,
            });
            await Catalog.Companies.UpsertEntityAsync(new CompanyCoupon
            {
                PartitionKey = company, RowKey = CompanyCoupon.RowKeyFor("SAVE10"), Code = "SAVE10", DiscountBasisPoints = 1000,
            });
        }
    }

    /// <summary>A product of <paramref name="companyId"/> with <paramref name="tokens"/> tokens for sale; answers its id and token ids.</summary>
    public async Task<(string ProductId, List<string> TokenIds)> AddProductAsync(string companyId = CompanyId, int tokens = 5,
        string distribution = DistributionTypes.Random, long usdMinor = 1000, long? brlMinor = 0, string? fixedUserId = null)
    {
        var productId = Guid.NewGuid().ToString();
        var prices = new List<ProductPrice> { new(Usd, usdMinor) };
        if (brlMinor is { } brl)
            prices.Add(new ProductPrice(Brl, brl));
        await Catalog.Products.AddEntityAsync(new CommerceProduct
        {
            PartitionKey = companyId, RowKey = productId, Name = "Product " + productId[..4], DistributionType = distribution,
            PricesJson = CommerceProduct.PricesToJson(prices), TokenCount = tokens, CreatedAt = Time.GetUtcNow(), UpdatedAt = Time.GetUtcNow(),
        });
        var ids = new List<string>();
        for (var n = 1; n <= tokens; n++)
        {
            var tokenId = Guid.NewGuid().ToString();
            ids.Add(tokenId);
            await Catalog.Tokens.AddEntityAsync(new ProductToken
            {
                PartitionKey = ProductToken.PartitionFor(companyId, productId), RowKey = tokenId, CompanyId = companyId, ProductId = productId,
                Number = n, Status = TokenStatus.ForSale, FixedUserId = fixedUserId, CreatedAt = Time.GetUtcNow(), UpdatedAt = Time.GetUtcNow(),
            });
        }
        return (productId, ids);
    }

    public Task<ProductToken?> TokenAsync(string productId, string tokenId, string companyId = CompanyId) =>
        Catalog.TokenAsync(companyId, productId, tokenId, CancellationToken.None);

    /// <summary>A new commerce account of <paramref name="companyId"/> with these roles, and a client carrying its token.</summary>
    public (HttpClient Client, long UserId) NewUser(string companyId = CompanyId, params string[] roles)
    {
        var userId = Interlocked.Increment(ref _nextUser);
        if (roles.Length == 0)
            roles = [CommerceRoles.User];
        var table = Get<StorageAccount>().Table(UserDirectory.TableName);
        table.UpsertEntity(new UserAccount
        {
            PartitionKey = UserDirectory.PartitionOf(userId), Id = userId, Username = "buyer" + userId,
            Roles = string.Join(',', roles), CreatedAt = Time.GetUtcNow(),
        });
        var token = Get<TokenService>().IssueForUser(TokenAudiences.Commerce, userId, "buyer" + userId, roles, 0,
            claims: new Dictionary<string, object> { [CommerceClaims.Company] = companyId }).Token;
        return (WithToken(token), userId);
    }

    /// <summary>An integration of <paramref name="companyId"/> (an enabled API client of kind integration).</summary>
    public async Task<HttpClient> IntegrationAsync(string companyId = CompanyId)
    {
        var clientId = "integration-" + Guid.NewGuid().ToString("N")[..8];
        await Get<ApiClientDirectory>().CreateAsync(ClientKinds.Integration, "Integration", clientId);
        var token = Get<TokenService>().IssueForClient(TokenAudiences.Commerce, clientId, clientId, ClientKinds.Integration,
            roles: [CommerceRoles.Integration], claims: new Dictionary<string, object> { [CommerceClaims.Company] = companyId }).Token;
        return WithToken(token);
    }
}
