using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Serverless.Commerce;
using Serverless.Commerce.Catalog;

namespace Serverless.Tests.Commerce.Catalog;

/// <summary>The development seed of the catalogue, run twice as every start would.</summary>
public sealed class CommerceSeedTests(CatalogFactory app) : IClassFixture<CatalogFactory>
{
    [Fact]
    public async Task The_seed_gives_a_demo_company_with_two_products_20_tokens_payment_options_gas_fees_and_a_coupon()
    {
        var seed = new CommerceSeed();
        await seed.SeedAsync(app.Services, CancellationToken.None);
        // An admin's change survives the next start.
        await app.Catalog.Companies.UpsertEntityAsync(new CompanyCoupon
        {
            PartitionKey = CommerceSeed.CompanyId, RowKey = CompanyCoupon.RowKeyFor(CommerceSeed.Coupon), Code = CommerceSeed.Coupon, DiscountBasisPoints = 1000,
            Active = false,
        });
        await seed.SeedAsync(app.Services, CancellationToken.None);

        var buyer = app.NewUser(CommerceSeed.CompanyId, CommerceRoles.User).Client;
        var page = await buyer.GetFromJsonAsync<JsonElement>($"/companies/{CommerceSeed.CompanyId}/products");
        var products = page.GetProperty("items").EnumerateArray().ToDictionary(p => p.GetProperty("id").GetString()!);
        Assert.Equal(2, products.Count);
        Assert.Equal(("random", 12), (products[CommerceSeed.CollectibleId].GetProperty("distributionType").GetString(),
            products[CommerceSeed.CollectibleId].GetProperty("stockAmount").GetInt32()));
        Assert.Equal(("fixed", 8), (products[CommerceSeed.TicketId].GetProperty("distributionType").GetString(),
            products[CommerceSeed.TicketId].GetProperty("stockAmount").GetInt32()));
        var ticketPrices = products[CommerceSeed.TicketId].GetProperty("prices").EnumerateArray()
            .ToDictionary(p => p.GetProperty("currency").GetProperty("code").GetString()!, p => p.GetProperty("amount").GetString());
        Assert.Equal("25.00", ticketPrices["USD"]);
        Assert.Equal("120.00", ticketPrices["BRL"]);

        var settings = (await app.Catalog.CompanyAsync(CommerceSeed.CompanyId, CancellationToken.None))!;
        Assert.Equal("Demo Company", settings.Company.Name);
        Assert.Equal(250, settings.Company.ClientServiceFeeBasisPoints);
        Assert.Equal(CommerceProviders.Sandbox, settings.PaymentOption(CommerceSeed.UsdId, "credit_card")!.Provider);
        Assert.Equal(CommerceProviders.Sandbox, settings.PaymentOption(CommerceSeed.BrlId, "pix")!.Provider);
        Assert.Equal(1440, settings.PaymentOption(CommerceSeed.UsdId, "transfer")!.ExpiryMinutes);
        Assert.Equal(35, settings.GasFeeMinor(CommerceSeed.UsdId));
        Assert.Equal(175, settings.GasFeeMinor(CommerceSeed.BrlId));
        Assert.False(settings.Coupon(CommerceSeed.Coupon)!.Active);

        var currencies = await buyer.GetFromJsonAsync<JsonElement>("/currencies");
        Assert.Contains(currencies.EnumerateArray(), c => c.GetProperty("id").GetString() == CommerceSeed.BrlId);
        Assert.Equal(HttpStatusCode.Conflict,
            (await app.NewUser(CommerceSeed.CompanyId, CommerceRoles.SuperAdmin).Client.PostAsJsonAsync("/admin/currencies", new { code = "BRL", name = "R", symbol = "R$" })).StatusCode);
    }
}
