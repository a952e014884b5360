using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Azure.Data.Tables;
using Serverless.Commerce.Catalog;
using static Serverless.Tests.Commerce.Catalog.CatalogFactory;

namespace Serverless.Tests.Commerce.Catalog;

/// <summary>Products and their tokens as a company's admin manages them, and the buyer's catalogue.</summary>
public sealed class CatalogProductTests(CatalogFactory app) : IClassFixture<CatalogFactory>
{
    private const string Company = CommerceFactory.CompanyId;
    private const string Usd = CommerceFactory.Usd;
    private const string Brl = CommerceFactory.Brl;

    private static StringContent Body(string json) => new(json, Encoding.UTF8, "application/json");

    [Fact]
    public async Task An_admin_creates_a_product_with_prices_in_minor_units_and_reads_it_back()
    {
        var response = await app.CompanyAdmin().PostAsJsonAsync($"/admin/companies/{Company}/products", new
        {
            name = "Golden Ticket", description = "Entry for two", distributionType = "sequential",
            prices = new[] { new { currencyId = Usd, amount = "12.5" }, new { currencyId = Brl, amount = "60.00" } },
        });

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var product = await Json(response);
        var id = product.GetProperty("id").GetString()!;
        Assert.Equal("sequential", product.GetProperty("distributionType").GetString());
        Assert.Equal(0, product.GetProperty("tokenCount").GetInt32());
        var stored = (await app.Catalog.ProductAsync(Company, id, CancellationToken.None))!;
        Assert.Equal(1250, stored.PriceIn(Usd)!.AmountMinor);
        Assert.Equal(6000, stored.PriceIn(Brl)!.AmountMinor);

        var read = await app.SuperAdmin().GetFromJsonAsync<JsonElement>($"/admin/companies/{Company}/products/{id}");
        var usd = read.GetProperty("prices")[0];
        Assert.Equal("12.50", usd.GetProperty("amount").GetString());
        Assert.Equal("USD", usd.GetProperty("currency").GetProperty("code").GetString());
        Assert.Equal("$", usd.GetProperty("currency").GetProperty("symbol").GetString());
        Assert.Equal(HttpStatusCode.NotFound, (await app.CompanyAdmin().GetAsync($"/admin/companies/{Company}/products/{Guid.NewGuid()}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await app.CompanyAdmin().GetAsync($"/admin/companies/{Company}/products/not-an-id")).StatusCode);

        // The admin's list has it, with its prices, in pages of the size asked for.
        var listed = await app.CompanyAdmin().GetFromJsonAsync<JsonElement>($"/admin/companies/{Company}/products?page=1&limit=100");
        var item = listed.GetProperty("items").EnumerateArray().Single(p => p.GetProperty("id").GetString() == id);
        Assert.Equal("Golden Ticket", item.GetProperty("name").GetString());
        Assert.Equal(2, item.GetProperty("prices").GetArrayLength());
    }

    [Theory]
    [InlineData("{\"name\":\"\",\"distributionType\":\"random\",\"prices\":[{\"currencyId\":\"" + Usd + "\",\"amount\":\"1.00\"}]}", "'name' is required.")]
    [InlineData("{\"name\":\"P\",\"distributionType\":\"lottery\",\"prices\":[{\"currencyId\":\"" + Usd + "\",\"amount\":\"1.00\"}]}", "'distributionType' must be one of: fixed, random, sequential.")]
    [InlineData("{\"name\":\"P\",\"distributionType\":\"random\",\"prices\":[]}", "'prices' must have at least one price.")]
    [InlineData("{\"name\":\"P\",\"distributionType\":\"random\",\"prices\":[{\"currencyId\":\"00000000-0000-4000-8000-000000000000\",\"amount\":\"1.00\"}]}", "'prices[0].currencyId' names no currency: 00000000-0000-4000-8000-000000000000.")]
    [InlineData("{\"name\":\"P\",\"distributionType\":\"random\",\"prices\":[{\"currencyId\":\"" + Usd + "\",\"amount\":\"1.00\"},{\"currencyId\":\"" + Usd + "\",\"amount\":\"2.00\"}]}", "'prices[1].currencyId' repeats the currency of another price.")]
    [InlineData("{\"name\":\"P\",\"distributionType\":\"random\",\"prices\":[{\"currencyId\":\"" + Usd + "\",\"amount\":\"1.001\"}]}", "'prices[0].amount' must be a positive amount in USD written as a string with at most 2 decimals, such as \"1000.00\".")]
    [InlineData("{\"name\":\"P\",\"distributionType\":\"random\",\"prices\":[{\"currencyId\":\"" + Usd + "\",\"amount\":\"0\"}]}", "'prices[0].amount' must be a positive amount in USD written as a string with at most 2 decimals, such as \"1000.00\".")]
    [InlineData("{\"name\":\"P\",\"distributionType\":\"random\",\"prices\":[{\"currencyId\":\"" + Usd + "\",\"amount\":\"-3\"}]}", "'prices[0].amount' must be a positive amount in USD written as a string with at most 2 decimals, such as \"1000.00\".")]
    public async Task A_bad_product_is_refused_naming_the_field(string json, string message)
    {
        var response = await app.CompanyAdmin().PostAsync($"/admin/companies/{Company}/products", Body(json));
        Assert.Equal((HttpStatusCode.BadRequest, message), await Refusal(response));
    }

    [Fact]
    public async Task A_price_sent_as_a_number_is_refused_not_a_500()
    {
        var response = await app.CompanyAdmin().PostAsync($"/admin/companies/{Company}/products",
            Body("{\"name\":\"P\",\"distributionType\":\"random\",\"prices\":[{\"currencyId\":\"" + Usd + "\",\"amount\":10}]}"));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
    }

    [Fact]
    public async Task Patching_a_product_changes_only_what_is_sent()
    {
        var id = await app.NewProductAsync();
        var response = await app.CompanyAdmin().PatchAsJsonAsync($"/admin/companies/{Company}/products/{id}",
            new { name = "Renamed", prices = new[] { new { currencyId = Brl, amount = "9.90" } } });

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = await Json(response);
        Assert.Equal("Renamed", body.GetProperty("name").GetString());
        Assert.Equal("A token", body.GetProperty("description").GetString());
        Assert.Equal("random", body.GetProperty("distributionType").GetString());
        Assert.Equal("9.90", Assert.Single(body.GetProperty("prices").EnumerateArray()).GetProperty("amount").GetString());
        Assert.Equal((HttpStatusCode.BadRequest, "'distributionType' must be one of: fixed, random, sequential."),
            await Refusal(await app.CompanyAdmin().PatchAsJsonAsync($"/admin/companies/{Company}/products/{id}", new { distributionType = "x" })));
        Assert.Equal(HttpStatusCode.NotFound,
            (await app.CompanyAdmin().PatchAsJsonAsync($"/admin/companies/{Company}/products/{Guid.NewGuid()}", new { name = "x" })).StatusCode);
    }

    [Fact]
    public async Task Tokens_are_numbered_after_the_products_last_and_listed_by_status()
    {
        var id = await app.NewProductAsync();
        var first = await app.AddTokensAsync(id, 3);
        var second = await app.AddTokensAsync(id, 2, status: "publishing");

        Assert.Equal((1, 3), (first.GetProperty("firstNumber").GetInt32(), first.GetProperty("lastNumber").GetInt32()));
        Assert.Equal((4, 5), (second.GetProperty("firstNumber").GetInt32(), second.GetProperty("lastNumber").GetInt32()));
        Assert.All(second.GetProperty("items").EnumerateArray(), t => Assert.Equal("publishing", t.GetProperty("status").GetString()));
        Assert.Equal(5, (await app.Catalog.ProductAsync(Company, id, CancellationToken.None))!.TokenCount);

        var forSale = await app.CompanyAdmin().GetFromJsonAsync<JsonElement>($"/admin/companies/{Company}/products/{id}/tokens?status=for_sale");
        Assert.Equal([1, 2, 3], forSale.GetProperty("items").EnumerateArray().Select(t => t.GetProperty("number").GetInt32()));
        Assert.Equal(3, forSale.GetProperty("meta").GetProperty("totalItems").GetInt32());
        var all = await app.CompanyAdmin().GetFromJsonAsync<JsonElement>($"/admin/companies/{Company}/products/{id}/tokens?limit=2&page=3");
        Assert.Equal([5], all.GetProperty("items").EnumerateArray().Select(t => t.GetProperty("number").GetInt32()));
        Assert.Equal($"/admin/companies/{Company}/products/{id}/tokens?page=2&limit=2", all.GetProperty("links").GetProperty("prev").GetString());
    }

    [Fact]
    public async Task A_token_request_repeated_with_its_idempotency_key_adds_the_tokens_once()
    {
        var id = await app.NewProductAsync();
        var admin = app.CompanyAdmin();
        HttpRequestMessage Request() => new(HttpMethod.Post, $"/admin/companies/{Company}/products/{id}/tokens")
        {
            Content = JsonContent.Create(new { quantity = 4 }), Headers = { { "Idempotency-Key", "add-4-tokens" } },
        };

        var first = await admin.SendAsync(Request());
        var again = await admin.SendAsync(Request());

        Assert.Equal(HttpStatusCode.Created, first.StatusCode);
        Assert.Equal(HttpStatusCode.Created, again.StatusCode);
        Assert.Equal(1, (await Json(again)).GetProperty("firstNumber").GetInt32());
        Assert.Equal(4, (await app.Catalog.ProductAsync(Company, id, CancellationToken.None))!.TokenCount);
    }

    [Theory]
    [InlineData("{\"quantity\":0}", "'quantity' must be between 1 and 500.")]
    [InlineData("{\"quantity\":501}", "'quantity' must be between 1 and 500.")]
    [InlineData("{\"quantity\":1,\"status\":\"sold\"}", "'status' must be one of: for_sale, publishing.")]
    [InlineData("{\"quantity\":1,\"fixedUserId\":\" \"}", "'fixedUserId' is required.")]
    public async Task A_bad_token_request_is_refused_naming_the_field(string json, string message)
    {
        var id = await app.NewProductAsync();
        var response = await app.CompanyAdmin().PostAsync($"/admin/companies/{Company}/products/{id}/tokens", Body(json));
        Assert.Equal((HttpStatusCode.BadRequest, message), await Refusal(response));
        Assert.Equal(HttpStatusCode.NotFound,
            (await app.CompanyAdmin().PostAsync($"/admin/companies/{Company}/products/{Guid.NewGuid()}/tokens", Body("{\"quantity\":1}"))).StatusCode);
    }

    [Fact]
    public async Task Two_concurrent_token_requests_of_50_each_number_100_tokens_from_1_to_100()
    {
        var id = await app.NewProductAsync();
        var path = $"/admin/companies/{Company}/products/{id}/tokens";
        var answers = await Task.WhenAll(
            app.CompanyAdmin().PostAsJsonAsync(path, new { quantity = 50 }),
            app.CompanyAdmin().PostAsJsonAsync(path, new { quantity = 50 }));

        Assert.All(answers, a => Assert.Equal(HttpStatusCode.Created, a.StatusCode));
        var tokens = new List<ProductToken>();
        await foreach (var token in app.Catalog.Tokens.QueryAsync<ProductToken>(t => t.PartitionKey == ProductToken.PartitionFor(Company, id)))
            tokens.Add(token);
        Assert.Equal(Enumerable.Range(1, 100), tokens.Select(t => t.Number).Order());
        Assert.Equal(100, tokens.Select(t => t.Id).Distinct().Count());
        Assert.Equal(100, (await app.Catalog.ProductAsync(Company, id, CancellationToken.None))!.TokenCount);
        var ranges = (await Task.WhenAll(answers.Select(Json))).Select(b => b.GetProperty("firstNumber").GetInt32()).Order();
        Assert.Equal([1, 51], ranges);
    }

    [Fact]
    public async Task An_admin_moves_a_token_between_its_own_statuses_and_fixes_it_to_a_user()
    {
        var id = await app.NewProductAsync();
        var token = (await app.AddTokensAsync(id, 1)).GetProperty("items")[0].GetProperty("id").GetString()!;
        var path = $"/admin/companies/{Company}/products/{id}/tokens/{token}";

        var locked = await app.CompanyAdmin().PatchAsJsonAsync(path, new { status = "locked", fixedUserId = "user-42" });
        Assert.Equal(HttpStatusCode.OK, locked.StatusCode);
        var body = await Json(locked);
        Assert.Equal(("locked", "user-42"), (body.GetProperty("status").GetString(), body.GetProperty("fixedUserId").GetString()));

        var cleared = await Json(await app.CompanyAdmin().PatchAsJsonAsync(path, new { status = "for_sale", fixedUserId = "" }));
        Assert.Equal("for_sale", cleared.GetProperty("status").GetString());
        Assert.Equal(JsonValueKind.Null, cleared.GetProperty("fixedUserId").ValueKind);

        Assert.Equal(HttpStatusCode.OK, (await app.CompanyAdmin().PatchAsJsonAsync(path, new { status = "cancelled" })).StatusCode);
        Assert.Equal((HttpStatusCode.Conflict, "A product token cannot move from 'cancelled' to 'for_sale'."),
            await Refusal(await app.CompanyAdmin().PatchAsJsonAsync(path, new { status = "for_sale" })));
        Assert.Equal((HttpStatusCode.BadRequest, "'status' must be one of: cancelled, for_sale, locked, publishing."),
            await Refusal(await app.CompanyAdmin().PatchAsJsonAsync(path, new { status = "sold" })));
        Assert.Equal(HttpStatusCode.NotFound,
            (await app.CompanyAdmin().PatchAsJsonAsync($"/admin/companies/{Company}/products/{id}/tokens/{Guid.NewGuid()}", new { status = "locked" })).StatusCode);
    }

    [Theory]
    [InlineData(TokenStatus.LockedByBooking)]
    [InlineData(TokenStatus.Sold)]
    public async Task A_booked_or_sold_token_is_the_orders_and_an_admin_cannot_change_it(string status)
    {
        var (id, tokens) = await app.AddProductAsync(tokens: 1);
        var row = (await app.TokenAsync(id, tokens[0]))!;
        await app.Catalog.Tokens.UpdateEntityAsync(row with { Status = status, OrderId = "order-1" }, row.ETag, TableUpdateMode.Replace);

        foreach (object change in new object[] { new { status = "for_sale" }, new { fixedUserId = "someone" } })
        {
            var (code, message) = await Refusal(await app.CompanyAdmin().PatchAsJsonAsync($"/admin/companies/{Company}/products/{id}/tokens/{tokens[0]}", change));
            Assert.Equal(HttpStatusCode.Conflict, code);
            Assert.Equal($"The product token is {status}: it belongs to an order and cannot be changed.", message);
        }
        Assert.Equal(status, (await app.TokenAsync(id, tokens[0]))!.Status);
    }

    [Fact]
    public async Task The_buyer_sees_a_products_prices_and_only_its_tokens_for_sale_as_stock()
    {
        var id = await app.NewProductAsync(distributionType: "fixed", name: "Stocked");
        var created = await app.AddTokensAsync(id, 6);
        await app.AddTokensAsync(id, 2, status: "publishing");
        var ids = created.GetProperty("items").EnumerateArray().Select(t => t.GetProperty("id").GetString()!).ToList();
        await app.CompanyAdmin().PatchAsJsonAsync($"/admin/companies/{Company}/products/{id}/tokens/{ids[0]}", new { status = "locked" });
        await app.CompanyAdmin().PatchAsJsonAsync($"/admin/companies/{Company}/products/{id}/tokens/{ids[1]}", new { status = "cancelled" });
        foreach (var (tokenId, status) in new[] { (ids[2], TokenStatus.Sold), (ids[3], TokenStatus.LockedByBooking) })
        {
            var row = (await app.TokenAsync(id, tokenId))!;
            await app.Catalog.Tokens.UpdateEntityAsync(row with { Status = status, BookedUntil = app.Time.GetUtcNow().AddMinutes(9) }, row.ETag, TableUpdateMode.Replace);
        }

        var response = await app.Buyer().GetAsync($"/companies/{Company}/products/{id}");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var product = await Json(response);
        Assert.Equal(2, product.GetProperty("stockAmount").GetInt32());
        Assert.Equal(Company, product.GetProperty("companyId").GetString());
        Assert.Equal("fixed", product.GetProperty("distributionType").GetString());
        var price = product.GetProperty("prices")[0];
        Assert.Equal(Usd, price.GetProperty("currencyId").GetString());
        Assert.Equal(Usd, price.GetProperty("currency").GetProperty("id").GetString());
        Assert.Equal("10.00", price.GetProperty("amount").GetString());
        Assert.False(product.TryGetProperty("tokenCount", out _));
    }

    [Fact]
    public async Task Unknown_products_and_companies_are_404_in_the_commerce_shape()
    {
        var missing = Guid.NewGuid().ToString();
        Assert.Equal((HttpStatusCode.NotFound, $"Product {missing} not found."),
            await Refusal(await app.Buyer().GetAsync($"/companies/{Company}/products/{missing}")));
        var (status, message) = await Refusal(await app.SuperAdmin().GetAsync($"/companies/{missing}/products"));
        Assert.Equal((HttpStatusCode.NotFound, $"Company {missing} not found."), (status, message));
        Assert.Equal(HttpStatusCode.NotFound, (await app.SuperAdmin().GetAsync($"/companies/{missing}/products/{missing}")).StatusCode);
    }

    [Fact]
    public async Task The_buyer_catalogue_pages_with_meta_and_links()
    {
        var company = await app.NewCompanyAsync("Paged Company");
        for (var i = 0; i < 5; i++)
        {
            app.Time.Advance(TimeSpan.FromSeconds(1));
            await app.NewProductAsync(company, name: "Product " + i);
        }
        var buyer = app.Buyer(company);

        var page = await buyer.GetFromJsonAsync<JsonElement>($"/companies/{company}/products?limit=2&page=2");

        Assert.Equal(["Product 2", "Product 3"], page.GetProperty("items").EnumerateArray().Select(p => p.GetProperty("name").GetString()));
        var meta = page.GetProperty("meta");
        Assert.Equal((2, 5, 2, 3, 2), (meta.GetProperty("itemCount").GetInt32(), meta.GetProperty("totalItems").GetInt32(),
            meta.GetProperty("itemsPerPage").GetInt32(), meta.GetProperty("totalPages").GetInt32(), meta.GetProperty("currentPage").GetInt32()));
        var links = page.GetProperty("links");
        Assert.Equal($"/companies/{company}/products?page=1&limit=2", links.GetProperty("first").GetString());
        Assert.Equal($"/companies/{company}/products?page=1&limit=2", links.GetProperty("prev").GetString());
        Assert.Equal($"/companies/{company}/products?page=3&limit=2", links.GetProperty("next").GetString());
        Assert.Equal($"/companies/{company}/products?page=3&limit=2", links.GetProperty("last").GetString());

        var defaults = await buyer.GetFromJsonAsync<JsonElement>($"/companies/{company}/products");
        Assert.Equal(5, defaults.GetProperty("meta").GetProperty("itemCount").GetInt32());
        Assert.Equal(10, defaults.GetProperty("meta").GetProperty("itemsPerPage").GetInt32());
        Assert.Equal("", defaults.GetProperty("links").GetProperty("prev").GetString());
        Assert.Equal("", defaults.GetProperty("links").GetProperty("next").GetString());
        Assert.Equal(0, defaults.GetProperty("items")[0].GetProperty("stockAmount").GetInt32());

        Assert.Equal((HttpStatusCode.BadRequest, "'limit' must be between 1 and 100."),
            await Refusal(await buyer.GetAsync($"/companies/{company}/products?limit=101")));
        Assert.Equal((HttpStatusCode.BadRequest, "'page' must be between 1 and 1000000."),
            await Refusal(await buyer.GetAsync($"/companies/{company}/products?page=0")));
        Assert.Equal(HttpStatusCode.BadRequest, (await buyer.GetAsync($"/companies/{company}/products?page=abc")).StatusCode);
    }

    [Fact]
    public async Task The_openapi_document_describes_the_catalogue_routes_with_their_schemas()
    {
        var document = await app.CreateClient().GetFromJsonAsync<JsonElement>("/openapi/v1.json");

        var paths = document.GetProperty("paths");
        foreach (var path in new[] { "/admin/currencies", "/currencies", "/admin/companies/{companyId}/products/{productId}/tokens",
                     "/admin/companies/{companyId}/payment-providers", "/companies/{companyId}/products/{productId}" })
            Assert.True(paths.TryGetProperty(path, out _), $"{path} is missing from the OpenAPI document");
        var schemas = document.GetProperty("components").GetProperty("schemas");
        Assert.True(schemas.GetProperty("CreateTokensRequest").GetProperty("properties").TryGetProperty("quantity", out _));
        Assert.True(schemas.GetProperty("ProductResponse").GetProperty("properties").TryGetProperty("stockAmount", out _));
    }
}
