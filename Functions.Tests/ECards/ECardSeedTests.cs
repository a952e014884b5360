using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Serverless.ECards;
using Serverless.Tests.Infrastructure;
using static Serverless.Tests.ECards.ECardsFactory;

namespace Serverless.Tests.ECards;

/// <summary>The development seed on an empty app.</summary>
public sealed class ECardSeedTests(PlatformFactory app) : IClassFixture<PlatformFactory>
{
    [Fact]
    public async Task The_seed_gives_the_demo_partner_a_balance_and_a_stocked_catalogue_it_can_order_from()
    {
        var seed = new ECardsSeed();
        await seed.SeedAsync(app.Services, CancellationToken.None);
        await seed.SeedAsync(app.Services, CancellationToken.None);

        var token = await app.CreateClient().PostAsync("/connect/token", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["client_id"] = ECardsSeed.ClientId, ["client_secret"] = ECardsSeed.ClientSecret, ["grant_type"] = "client_credentials",
        }));
        Assert.Equal(HttpStatusCode.OK, token.StatusCode);
        var partner = app.WithToken((await Json(token)).GetProperty("access_token").GetString()!);
        Assert.Equal("100000", (await partner.GetFromJsonAsync<JsonElement>("/v1/balance")).GetProperty("balance").GetString());
        var cards = await partner.GetFromJsonAsync<JsonElement>("/v1/ecards");
        Assert.True(cards.GetArrayLength() >= 2);
        foreach (var card in cards.EnumerateArray())
            foreach (var faceValue in card.GetProperty("faceValues").EnumerateArray())
                Assert.Equal(20, await app.Get<CertificateStock>().CountAvailableAsync(card.GetProperty("id").GetInt32(), faceValue.GetProperty("name").GetString()!));

        var order = await partner.PostAsJsonAsync("/v1/orders", Order("B5AA69DF-61A5-4D97-B1FB-4F6772DFBBEB", Line("1", 1, "100 ₽"), Line("2", 4, "500 ₽")));
        Assert.Equal(HttpStatusCode.OK, order.StatusCode);
        Assert.Equal("Delivered", (await Json(order)).GetProperty("status").GetString());
        Assert.Equal("97900", (await partner.GetFromJsonAsync<JsonElement>("/v1/balance")).GetProperty("balance").GetString());

        // Seeding again (every start does) never puts a handed-out code back in stock.
        await seed.SeedAsync(app.Services, CancellationToken.None);
        Assert.Equal(19, await app.Get<CertificateStock>().CountAvailableAsync(1, "100 ₽"));
        Assert.Equal(16, await app.Get<CertificateStock>().CountAvailableAsync(2, "500 ₽"));
    }
}

/// <summary>A start that stopped half-way through the seed (the catalogue written, no codes yet) is finished by the next.</summary>
public sealed class ECardSeedResumeTests(PlatformFactory app) : IClassFixture<PlatformFactory>
{
    [Fact]
    public async Task A_seed_cut_short_after_the_catalogue_is_finished_by_the_next_start()
    {
        await app.Get<ECardCatalog>().PutAsync(1, "Books & More", "Cut short.", "RUB", [new("100 ₽", 100), new("500 ₽", 500), new("1000 ₽", 1000)],
            CancellationToken.None);

        await new ECardsSeed().SeedAsync(app.Services, CancellationToken.None);

        foreach (var id in new[] { 1, 2 })
            foreach (var faceValue in new[] { "100 ₽", "500 ₽", "1000 ₽" })
                Assert.Equal(20, await app.Get<CertificateStock>().CountAvailableAsync(id, faceValue));
    }
}
