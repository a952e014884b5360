using System.Net;
using System.Net.Http.Json;
using System.Text.Json;

namespace Serverless.Tests.Print.Admin.Users;

/// <summary>GET /admin/users without a search: an app of its own, so the totals are exactly the users signed up here.</summary>
public sealed class AdminUsersListTests(PrintFactory app) : IClassFixture<PrintFactory>
{
    [Fact]
    public async Task Users_are_listed_newest_first_filtered_by_role_and_paged()
    {
        var admin = await app.AdminAsync();
        var customers = new List<PrintAccount>();
        var shops = new List<PrintAccount>();
        for (var i = 0; i < 3; i++)
        {
            customers.Add(await app.SignUpAsync(role: "customer"));
            app.Time.Advance(TimeSpan.FromMinutes(1));
            if (i < 2)
            {
                shops.Add(await app.SignUpAsync(role: "shopkeeper"));
                app.Time.Advance(TimeSpan.FromMinutes(1));
            }
        }

        var shopList = await admin.UsersAsync("role=shopkeeper");
        Assert.Equal(2, shopList.Total());
        Assert.Equal([shops[1].Id, shops[0].Id], shopList.Ids());
        var shop = shopList.GetProperty("users")[0];
        Assert.Equal(shops[1].Username, shop.GetProperty("username").GetString());
        Assert.Equal(shops[1].Email, shop.GetProperty("email").GetString());
        Assert.Equal("Test " + shops[1].Username, shop.GetProperty("full_name").GetString());
        Assert.Equal("shopkeeper", shop.GetProperty("role").GetString());
        Assert.Equal("Shop of " + shops[1].Username, shop.GetProperty("shop_name").GetString());
        Assert.True(shop.GetProperty("is_open").GetBoolean());
        Assert.Equal("2026-11-22T12:03:00Z", shop.GetProperty("created_at").GetString());

        var firstPage = await admin.UsersAsync("role=customer&limit=2");
        Assert.Equal(3, firstPage.Total());
        Assert.Equal([customers[2].Id, customers[1].Id], firstPage.Ids());
        var secondPage = await admin.UsersAsync("role=customer&limit=2&offset=2");
        Assert.Equal(3, secondPage.Total());
        Assert.Equal([customers[0].Id], secondPage.Ids());
        var customer = secondPage.GetProperty("users")[0];
        Assert.Equal(JsonValueKind.Null, customer.GetProperty("shop_name").ValueKind);
        Assert.False(customer.GetProperty("is_open").GetBoolean());

        var everyone = await admin.UsersAsync();
        Assert.Equal(5, everyone.Total());
        Assert.Equal([customers[2].Id, shops[1].Id, customers[1].Id, shops[0].Id, customers[0].Id], everyone.Ids());
        Assert.Equal([shops[0].Id, customers[0].Id], (await admin.UsersAsync("limit=2&offset=3")).Ids());
        Assert.Empty((await admin.UsersAsync("offset=5")).Ids());
    }

    [Theory]
    [InlineData("limit=0", "'limit' must be between 1 and 100.")]
    [InlineData("limit=101", "'limit' must be between 1 and 100.")]
    [InlineData("offset=-1", "'offset' must be between 0 and 1000000.")]
    [InlineData("role=owner", "'role' must be one of: customer, shopkeeper, admin.")]
    public async Task Bad_list_parameters_are_refused(string query, string message)
    {
        var response = await (await app.AdminAsync()).GetAsync("/admin/users?" + query);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("validation_error", body.GetProperty("code").GetString());
        Assert.Equal(message, body.GetProperty("error").GetString());
    }
}
