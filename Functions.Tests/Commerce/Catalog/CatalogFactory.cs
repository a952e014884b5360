using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Serverless.Commerce;

namespace Serverless.Tests.Commerce.Catalog;

/// <summary>The commerce app with helpers for the catalogue's callers: a super admin, a company's admin, a buyer.</summary>
public class CatalogFactory : CommerceFactory
{
    public HttpClient SuperAdmin() => NewUser(CompanyId, CommerceRoles.SuperAdmin).Client;

    public HttpClient CompanyAdmin(string companyId = CompanyId) => NewUser(companyId, CommerceRoles.Admin).Client;

    public HttpClient Buyer(string companyId = CompanyId) => NewUser(companyId, CommerceRoles.User).Client;

    public static async Task<JsonElement> Json(HttpResponseMessage response) => await response.Content.ReadFromJsonAsync<JsonElement>();

    /// <summary>The status and the commerce error message of a refusal.</summary>
    public static async Task<(HttpStatusCode Status, string Message)> Refusal(HttpResponseMessage response)
    {
        var body = await Json(response);
        Assert.Equal((int)response.StatusCode, body.GetProperty("statusCode").GetInt32());
        return (response.StatusCode, body.GetProperty("message").GetString()!);
    }

    /// <summary>A new company made through the API by a super admin; answers its id.</summary>
    public async Task<string> NewCompanyAsync(string name = "New Company")
    {
        var response = await SuperAdmin().PostAsJsonAsync("/admin/companies", new { name, clientServiceFeePercentage = 1.5 });
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return (await Json(response)).GetProperty("id").GetString()!;
    }

    /// <summary>A new product made through the API by the company's admin; answers its id.</summary>
    public async Task<string> NewProductAsync(string companyId = CompanyId, string distributionType = "random", string name = "Collectible")
    {
        var response = await CompanyAdmin(companyId).PostAsJsonAsync($"/admin/companies/{companyId}/products", new
        {
            name, description = "A token", distributionType, prices = new[] { new { currencyId = Usd, amount = "10.00" }, new { currencyId = Brl, amount = "50.00" } },
        });
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return (await Json(response)).GetProperty("id").GetString()!;
    }

    public async Task<JsonElement> AddTokensAsync(string productId, int quantity, string companyId = CompanyId, string? status = null)
    {
        var response = await CompanyAdmin(companyId).PostAsJsonAsync($"/admin/companies/{companyId}/products/{productId}/tokens",
            status is null ? (object)new { quantity } : new { quantity, status });
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return await Json(response);
    }
}

/// <summary>The same with its table endpoint behind a proxy that can lose answers.</summary>
public sealed class LossyCatalogFactory : CatalogFactory
{
    public LossyCatalogFactory() => FrontTablesWithLossyProxy();
}
