using System.Net;
using System.Net.Http.Json;
using Serverless.Commerce;
using Serverless.Platform.Identity;
using static Serverless.Tests.Commerce.Catalog.CatalogFactory;

namespace Serverless.Tests.Commerce.Catalog;

/// <summary>Who may call which catalogue route: the document's role messages, 404 for another company, 401 without a commerce token.</summary>
public sealed class CatalogAuthorizationTests(CatalogFactory app) : IClassFixture<CatalogFactory>
{
    private const string Company = CommerceFactory.CompanyId;

    public static TheoryData<string, string> CompanyAdminRoutes => new()
    {
        { "GET", $"/admin/companies/{Company}" },
        { "GET", $"/admin/companies/{Company}/products" },
        { "POST", $"/admin/companies/{Company}/products" },
        { "GET", $"/admin/companies/{Company}/payment-providers" },
        { "PUT", $"/admin/companies/{Company}/payment-providers" },
        { "GET", $"/admin/companies/{Company}/gas-fees" },
        { "PUT", $"/admin/companies/{Company}/gas-fees" },
        { "GET", $"/admin/companies/{Company}/coupons" },
        { "POST", $"/admin/companies/{Company}/coupons" },
        { "GET", $"/admin/companies/{Company}/webhook" },
        { "PUT", $"/admin/companies/{Company}/webhook" },
    };

    // Bodies that bind, so the roles decide: a body that does not bind is refused (400) before any filter runs.
    private static readonly Dictionary<string, object> Bodies = new()
    {
        ["/products"] = new { name = "P", distributionType = "random", prices = Array.Empty<object>() },
        ["/payment-providers"] = new { providers = Array.Empty<object>() },
        ["/gas-fees"] = new { gasFees = Array.Empty<object>() },
        ["/coupons"] = new { code = "ABC", discountPercentage = 5 },
        ["/webhook"] = new { url = "https://example.com/hook" },
        ["/admin/currencies"] = new { code = "EUR", name = "Euro", symbol = "€" },
        ["/admin/companies"] = new { name = "X" },
    };

    private static HttpRequestMessage Request(string method, string path) =>
        new(new HttpMethod(method), path)
        {
            Content = method == "GET" ? null : JsonContent.Create(Bodies.FirstOrDefault(b => path.EndsWith(b.Key, StringComparison.Ordinal)).Value ?? new { }),
        };

    [Theory]
    [MemberData(nameof(CompanyAdminRoutes))]
    public async Task A_company_admin_route_refuses_anonymous_callers_users_other_companies_and_other_surfaces(string method, string path)
    {
        Assert.Equal(HttpStatusCode.Unauthorized, (await app.CreateClient().SendAsync(Request(method, path))).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await app.CreateClientAs(1, Roles.Admin).SendAsync(Request(method, path))).StatusCode);

        var (status, message) = await Refusal(await app.Buyer().SendAsync(Request(method, path)));
        Assert.Equal(HttpStatusCode.Forbidden, status);
        Assert.Equal("User doesn't have any of the expected roles: superAdmin, companyAdmin", message);
        Assert.Equal(HttpStatusCode.Forbidden, (await (await app.IntegrationAsync()).SendAsync(Request(method, path))).StatusCode);

        var other = await Refusal(await app.CompanyAdmin(CommerceFactory.OtherCompanyId).SendAsync(Request(method, path)));
        Assert.Equal(HttpStatusCode.NotFound, other.Status);
        Assert.Equal($"Company {Company} not found.", other.Message);
    }

    [Fact]
    public async Task A_company_admin_and_a_super_admin_read_the_company()
    {
        foreach (var client in new[] { app.CompanyAdmin(), app.NewUser(CommerceFactory.OtherCompanyId, CommerceRoles.SuperAdmin).Client })
        {
            var response = await client.GetAsync($"/admin/companies/{Company}");
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            var body = await Json(response);
            Assert.Equal("Acme Tokens", body.GetProperty("name").GetString());
            Assert.Equal(2.5m, body.GetProperty("clientServiceFeePercentage").GetDecimal());
        }
    }

    [Theory]
    [InlineData("POST", "/admin/currencies")]
    [InlineData("POST", "/admin/companies")]
    [InlineData("PATCH", $"/admin/companies/{Company}")]
    public async Task Super_admin_routes_refuse_a_company_admin_with_the_documents_message(string method, string path)
    {
        Assert.Equal(HttpStatusCode.Unauthorized, (await app.CreateClient().SendAsync(Request(method, path))).StatusCode);
        var (status, message) = await Refusal(await app.CompanyAdmin().SendAsync(Request(method, path)));
        Assert.Equal(HttpStatusCode.Forbidden, status);
        Assert.Equal("User doesn't have any of the expected roles: superAdmin", message);
    }

    [Fact]
    public async Task The_buyer_catalogue_takes_users_integrations_and_super_admins_and_refuses_company_admins()
    {
        var productId = await app.NewProductAsync();
        var path = $"/companies/{Company}/products/{productId}";
        foreach (var client in new[] { app.Buyer(), await app.IntegrationAsync(), app.NewUser(CommerceFactory.OtherCompanyId, CommerceRoles.SuperAdmin).Client })
            Assert.Equal(HttpStatusCode.OK, (await client.GetAsync(path)).StatusCode);

        Assert.Equal(HttpStatusCode.Unauthorized, (await app.CreateClient().GetAsync(path)).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await app.CreateClientAs(7, Roles.User).GetAsync(path)).StatusCode);
        var (status, message) = await Refusal(await app.CompanyAdmin().GetAsync(path));
        Assert.Equal(HttpStatusCode.Forbidden, status);
        Assert.Equal("User doesn't have any of the expected roles: user, superAdmin, integration", message);
        Assert.Equal(HttpStatusCode.NotFound, (await app.Buyer(CommerceFactory.OtherCompanyId).GetAsync(path)).StatusCode);
    }

    [Fact]
    public async Task Every_commerce_role_reads_the_currencies_and_other_surfaces_do_not()
    {
        foreach (var client in new[] { app.Buyer(), app.CompanyAdmin(), app.SuperAdmin(), await app.IntegrationAsync() })
            Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/currencies")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await app.CreateClient().GetAsync("/currencies")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await app.CreateClientAs(1, Roles.Admin).GetAsync("/currencies")).StatusCode);
    }
}
