using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Serverless.Print;

namespace Serverless.Tests.Print.Accounts;

/// <summary>The development seed on an empty app.</summary>
public sealed class PrintSeedTests(PrintFactory app) : IClassFixture<PrintFactory>
{
    [Fact]
    public async Task The_seed_creates_a_demo_customer_and_an_open_demo_shop_once()
    {
        var seed = new PrintSeed();
        await seed.SeedAsync(app.Services, CancellationToken.None);
        await seed.SeedAsync(app.Services, CancellationToken.None);

        var customer = await app.CreateClient().PostAsJsonAsync("/login", new { username = PrintSeed.Customer, password = PrintSeed.Password });
        Assert.Equal(HttpStatusCode.OK, customer.StatusCode);
        Assert.Equal("customer", (await customer.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("role").GetString());

        var shop = await app.CreateClient().PostAsJsonAsync("/login", new { username = PrintSeed.Shopkeeper, password = PrintSeed.Password });
        Assert.Equal(HttpStatusCode.OK, shop.StatusCode);
        var token = (await shop.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("token").GetString()!;
        var profile = await app.WithToken(token).GetFromJsonAsync<JsonElement>("/profile");
        Assert.Equal("shopkeeper", profile.GetProperty("role").GetString());
        Assert.Equal("Demo Print Shop", profile.GetProperty("shop_name").GetString());
        Assert.Equal(12.9716, profile.GetProperty("lat").GetDouble());
        Assert.Equal(77.5946, profile.GetProperty("long").GetDouble());
        Assert.True(profile.GetProperty("is_open").GetBoolean());
    }
}
