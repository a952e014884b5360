using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Serverless.Commerce.Catalog;
using static Serverless.Tests.Commerce.Catalog.CatalogFactory;

namespace Serverless.Tests.Commerce.Catalog;

/// <summary>
/// Catalogue writes whose answer storage lost after doing them: the SDK's retry meets the write (409 on an insert, 412
/// on a conditional update) and the call recognises its own work instead of repeating it or refusing it.
/// </summary>
public sealed class CatalogLostAnswerTests(LossyCatalogFactory app) : IClassFixture<LossyCatalogFactory>
{
    private const string Company = CommerceFactory.CompanyId;

    private async Task<List<ProductToken>> TokensAsync(string productId)
    {
        var tokens = new List<ProductToken>();
        await foreach (var token in app.Catalog.Tokens.QueryAsync<ProductToken>(t => t.PartitionKey == ProductToken.PartitionFor(Company, productId)))
            tokens.Add(token);
        return tokens;
    }

    [Fact]
    public async Task A_token_reservation_whose_answer_was_lost_reserves_the_numbers_once()
    {
        var id = await app.NewProductAsync();
        var lost = app.Proxy!.Lost;
        app.Proxy!.LoseAnswerTo(r => r.Method == "PUT" && r.Path.Value!.Contains("commerceproducts", StringComparison.Ordinal));

        var response = await app.CompanyAdmin().PostAsJsonAsync($"/admin/companies/{Company}/products/{id}/tokens", new { quantity = 3 });

        Assert.Equal(lost + 1, app.Proxy!.Lost);
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        Assert.Equal(1, (await Json(response)).GetProperty("firstNumber").GetInt32());
        Assert.Equal(3, (await app.Catalog.ProductAsync(Company, id, CancellationToken.None))!.TokenCount);
        Assert.Equal([1, 2, 3], (await TokensAsync(id)).Select(t => t.Number).Order());
    }

    [Fact]
    public async Task A_token_batch_whose_answer_was_lost_is_recognised_and_adds_no_other_tokens()
    {
        var id = await app.NewProductAsync();
        var lost = app.Proxy!.Lost;
        app.Proxy!.LoseAnswerTo(r => r.Method == "POST" && r.Path.Value == "/devstoreaccount1/$batch");

        var response = await app.CompanyAdmin().PostAsJsonAsync($"/admin/companies/{Company}/products/{id}/tokens", new { quantity = 150 });

        Assert.Equal(lost + 1, app.Proxy!.Lost);
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        Assert.Equal(150, (await Json(response)).GetProperty("items").GetArrayLength());
        var tokens = await TokensAsync(id);
        Assert.Equal(Enumerable.Range(1, 150), tokens.Select(t => t.Number).Order());
        Assert.Equal(150, (await app.Catalog.ProductAsync(Company, id, CancellationToken.None))!.TokenCount);
    }

    [Fact]
    public async Task A_token_change_whose_answer_was_lost_answers_the_change()
    {
        var (id, tokens) = await app.AddProductAsync(tokens: 1);
        var lost = app.Proxy!.Lost;
        app.Proxy!.LoseAnswerTo(r => r.Method == "PUT" && r.Path.Value!.Contains("commercetokens", StringComparison.Ordinal));

        var response = await app.CompanyAdmin().PatchAsJsonAsync($"/admin/companies/{Company}/products/{id}/tokens/{tokens[0]}", new { status = "locked" });

        Assert.Equal(lost + 1, app.Proxy!.Lost);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("locked", (await Json(response)).GetProperty("status").GetString());
        Assert.Equal(TokenStatus.Locked, (await app.TokenAsync(id, tokens[0]))!.Status);
    }

    [Fact]
    public async Task A_product_insert_whose_answer_was_lost_creates_one_product()
    {
        var company = await app.NewCompanyAsync();
        var lost = app.Proxy!.Lost;
        app.Proxy!.LoseAnswerTo(r => r.Method == "POST" && r.Path.Value!.EndsWith("commerceproducts", StringComparison.Ordinal));

        var response = await app.CompanyAdmin(company).PostAsJsonAsync($"/admin/companies/{company}/products", new
        {
            name = "Once", distributionType = "random", prices = new[] { new { currencyId = CommerceFactory.Usd, amount = "1.00" } },
        });

        Assert.Equal(lost + 1, app.Proxy!.Lost);
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        Assert.Single(await app.Catalog.ProductsAsync(company, CancellationToken.None));
    }

    [Fact]
    public async Task A_coupon_whose_transaction_answer_was_lost_is_created_not_refused_as_a_duplicate()
    {
        var company = await app.NewCompanyAsync();
        var lost = app.Proxy!.Lost;
        app.Proxy!.LoseAnswerTo(r => r.Method == "POST" && r.Path.Value == "/devstoreaccount1/$batch");

        var response = await app.CompanyAdmin(company).PostAsJsonAsync($"/admin/companies/{company}/coupons", new { code = "ONCE", discountPercentage = 5 });

        Assert.Equal(lost + 1, app.Proxy!.Lost);
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var coupons = await app.CompanyAdmin(company).GetFromJsonAsync<JsonElement>($"/admin/companies/{company}/coupons");
        Assert.Equal("ONCE", Assert.Single(coupons.EnumerateArray()).GetProperty("code").GetString());
    }
}
