using Serverless.Platform.Identity;
using Serverless.Platform.Storage;

namespace Serverless.Commerce.Catalog;

public static class CatalogRegistration
{
    /// <summary>The catalogue's admin service and its development seed (the tables are the commerce surface's).</summary>
    public static IServiceCollection AddCommerceCatalog(this IServiceCollection services)
    {
        services.AddSingleton<CatalogAdmin>();
        services.AddSingleton<IDevelopmentSeed, CommerceSeed>();
        return services;
    }
}

/// <summary>
/// Development seed: the currencies USD and BRL, the company "Demo Company" (2.5% client service fee) with a random
/// and a fixed product (20 tokens for sale), payment options (sandbox for USD cards and BRL pix, transfer for USD), gas
/// fees and the coupon <c>DEMO10</c>. Rows are only added, never overwritten, so a restart keeps what was tried.
/// </summary>
public sealed class CommerceSeed : IDevelopmentSeed
{
    public const string UsdId = "9b1deb4d-3b7d-4bad-9bdd-2b0d7b3dcb6d";
    public const string BrlId = "1b9d6bcd-bbfd-4b2d-9b5d-ab8dfbbd4bed";
    public const string CompanyId = "11111111-1111-4111-8111-111111111111";
    public const string CollectibleId = "22222222-2222-4222-8222-222222222222";
    public const string TicketId = "33333333-3333-4333-8333-333333333333";
    public const string Coupon = "DEMO10";

    public IEnumerable<string> Credentials =>
        [$"commerce catalogue: company {CompanyId} (products {CollectibleId}, {TicketId}; coupon {Coupon})"];

    public async Task SeedAsync(IServiceProvider services, CancellationToken cancellationToken)
    {
        var catalog = services.GetRequiredService<CommerceCatalog>();
        var now = services.GetRequiredService<TimeProvider>().GetUtcNow();
        foreach (var (id, code, name, symbol) in new[] { (UsdId, "USD", "US Dollar", "$"), (BrlId, "BRL", "Brazilian Real", "R$") })
        {
            await catalog.Currencies.TryAddAsync(new CurrencyCodeClaim { RowKey = code, CurrencyId = id, Name = name, Symbol = symbol }, cancellationToken);
            await catalog.Currencies.TryAddAsync(new CommerceCurrency { RowKey = id, Code = code, Name = name, Symbol = symbol }, cancellationToken);
        }

        var companies = catalog.Companies;
        await companies.TryAddAsync(new CommerceCompany { PartitionKey = CompanyId, Name = "Demo Company", ClientServiceFeeBasisPoints = 250, CreatedAt = now },
            cancellationToken);
        foreach (var (currency, method, provider, expiry) in new[]
                 {
                     (UsdId, "credit_card", CommerceProviders.Sandbox, 9), (BrlId, "pix", CommerceProviders.Sandbox, 9),
                     (UsdId, "transfer", CommerceProviders.Transfer, 1440),
                 })
        {
            await companies.TryAddAsync(new CompanyPaymentOption
            {
                PartitionKey = CompanyId, RowKey = CompanyPaymentOption.RowKeyFor(currency, method), CurrencyId = currency, PaymentMethod = method,
                Provider = provider, ExpiryMinutes = expiry,
            }, cancellationToken);
        }
        foreach (var (currency, minor) in new[] { (UsdId, 35L), (BrlId, 175L) })
            await companies.TryAddAsync(new CompanyGasFee { PartitionKey = CompanyId, RowKey = CompanyGasFee.RowKeyFor(currency), CurrencyId = currency, AmountMinor = minor },
                cancellationToken);
        await companies.TryAddAsync(new CompanyCoupon { PartitionKey = CompanyId, RowKey = CompanyCoupon.RowKeyFor(Coupon), Code = Coupon, DiscountBasisPoints = 1000 },
            cancellationToken);

        await ProductAsync(catalog, CollectibleId, "Demo Collectible", "A collectible token, picked at random from the collection.",
            DistributionTypes.Random, 12, 1000, 5000, now, cancellationToken);
        await ProductAsync(catalog, TicketId, "Demo Ticket", "A numbered ticket: the buyer chooses the token.", DistributionTypes.Fixed, 8, 2500, 12000, now,
            cancellationToken);
        catalog.Forget(CompanyId);
    }

    /// <summary>The tokens first (derived ids, added once each), the product row last: its presence means the product is complete.</summary>
    private static async Task ProductAsync(CommerceCatalog catalog, string productId, string name, string description, string distribution, int tokens,
        long usdMinor, long brlMinor, DateTimeOffset now, CancellationToken cancellationToken)
    {
        if (await catalog.Products.FindAsync<CommerceProduct>(CompanyId, productId, cancellationToken) is not null)
            return;
        var partition = ProductToken.PartitionFor(CompanyId, productId);
        await catalog.Tokens.AddAllOnceAsync(Enumerable.Range(1, tokens).Select(n => (Azure.Data.Tables.ITableEntity)new ProductToken
        {
            PartitionKey = partition, RowKey = ProductToken.IdFor(productId, n), CompanyId = CompanyId, ProductId = productId, Number = n,
            Status = TokenStatus.ForSale, CreatedAt = now, UpdatedAt = now,
        }).ToList(), cancellationToken);
        await catalog.Products.TryAddAsync(new CommerceProduct
        {
            PartitionKey = CompanyId, RowKey = productId, Name = name, Description = description, DistributionType = distribution,
            PricesJson = CommerceProduct.PricesToJson([new ProductPrice(UsdId, usdMinor), new ProductPrice(BrlId, brlMinor)]), TokenCount = tokens,
            CreatedAt = now, UpdatedAt = now,
        }, cancellationToken);
    }
}
