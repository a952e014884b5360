using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.Hosting;
using Serverless.Commerce.Catalog;
using Serverless.Platform.Http;
using static Serverless.Tests.Commerce.Catalog.CatalogFactory;

namespace Serverless.Tests.Commerce.Catalog;

/// <summary>Currencies, companies and a company's settings: payment providers, gas fees, coupons, webhook.</summary>
public sealed class CatalogAdminTests(CatalogFactory app) : IClassFixture<CatalogFactory>
{
    [Fact]
    public async Task A_super_admin_adds_a_currency_everyone_then_lists_and_a_second_of_the_same_code_is_refused()
    {
        var response = await app.SuperAdmin().PostAsJsonAsync("/admin/currencies", new { code = "eur", name = "Euro", symbol = "€" });

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var created = await Json(response);
        Assert.True(Guid.TryParse(created.GetProperty("id").GetString(), out _));
        Assert.Equal("EUR", created.GetProperty("code").GetString());
        var listed = await app.Buyer().GetFromJsonAsync<JsonElement>("/currencies");
        var eur = Assert.Single(listed.EnumerateArray(), c => c.GetProperty("code").GetString() == "EUR");
        Assert.Equal(created.GetProperty("id").GetString(), eur.GetProperty("id").GetString());
        Assert.Equal("€", eur.GetProperty("symbol").GetString());

        var again = await Refusal(await app.SuperAdmin().PostAsJsonAsync("/admin/currencies", new { code = "EUR", name = "Euro 2", symbol = "E" }));
        Assert.Equal((HttpStatusCode.Conflict, "A currency with code 'EUR' exists already."), again);
        // A currency written before code claims existed (the factory's USD) is found by its code too.
        Assert.Equal(HttpStatusCode.Conflict,
            (await app.SuperAdmin().PostAsJsonAsync("/admin/currencies", new { code = "USD", name = "Dollar", symbol = "$" })).StatusCode);
    }

    [Theory]
    [InlineData("{\"code\":\"XYZ\",\"name\":\"N\",\"symbol\":\"S\"}", "'code' must be an ISO 4217 currency code in use, such as USD.")]
    [InlineData("{\"code\":\"\",\"name\":\"N\",\"symbol\":\"S\"}", "'code' is required.")]
    [InlineData("{\"code\":\"GBP\",\"name\":\" \",\"symbol\":\"S\"}", "'name' is required.")]
    [InlineData("{\"code\":\"GBP\",\"name\":\"N\",\"symbol\":\"12345678901\"}", "'symbol' must be at most 10 characters.")]
    public async Task A_bad_currency_is_refused_naming_the_field(string body, string message)
    {
        var response = await app.SuperAdmin().PostAsync("/admin/currencies", new StringContent(body, System.Text.Encoding.UTF8, "application/json"));
        Assert.Equal((HttpStatusCode.BadRequest, message), await Refusal(response));
    }

    [Fact]
    public async Task A_malformed_body_is_a_400_in_the_commerce_shape()
    {
        var response = await app.SuperAdmin().PostAsync("/admin/currencies", new StringContent("{\"code\":12}", System.Text.Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal(400, (await Json(response)).GetProperty("statusCode").GetInt32());
    }

    [Fact]
    public async Task A_super_admin_creates_and_changes_a_company_and_its_admin_reads_it()
    {
        var response = await app.SuperAdmin().PostAsJsonAsync("/admin/companies", new { name = "Tokens Ltd", clientServiceFeePercentage = 3.75, similarOrderWindowSeconds = 60 });

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var company = await Json(response);
        var id = company.GetProperty("id").GetString()!;
        Assert.Equal(3.75m, company.GetProperty("clientServiceFeePercentage").GetDecimal());
        Assert.Equal(60, company.GetProperty("similarOrderWindowSeconds").GetInt32());
        Assert.Equal(375, (await app.Catalog.CompanyAsync(id, CancellationToken.None))!.Company.ClientServiceFeeBasisPoints);

        var patched = await app.SuperAdmin().PatchAsJsonAsync($"/admin/companies/{id}", new { name = "Tokens Inc", clientServiceFeePercentage = 0 });
        Assert.Equal(HttpStatusCode.OK, patched.StatusCode);
        var read = await app.CompanyAdmin(id).GetFromJsonAsync<JsonElement>($"/admin/companies/{id}");
        Assert.Equal("Tokens Inc", read.GetProperty("name").GetString());
        Assert.Equal(0m, read.GetProperty("clientServiceFeePercentage").GetDecimal());
        Assert.Equal(60, read.GetProperty("similarOrderWindowSeconds").GetInt32());

        var disabled = await app.SuperAdmin().PatchAsJsonAsync($"/admin/companies/{id}", new { disabled = true });
        Assert.True((await Json(disabled)).GetProperty("disabled").GetBoolean());
        Assert.Equal(HttpStatusCode.NotFound, (await app.Buyer(id).GetAsync($"/companies/{id}/products")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound,
            (await app.SuperAdmin().PatchAsJsonAsync($"/admin/companies/{Guid.NewGuid()}", new { name = "x" })).StatusCode);
    }

    [Theory]
    [InlineData("{\"name\":\"\"}", "'name' is required.")]
    [InlineData("{\"name\":\"A\",\"clientServiceFeePercentage\":100.5}", "'clientServiceFeePercentage' must be a number from 0 to 100 with at most 2 decimals.")]
    [InlineData("{\"name\":\"A\",\"clientServiceFeePercentage\":1.255}", "'clientServiceFeePercentage' must be a number from 0 to 100 with at most 2 decimals.")]
    [InlineData("{\"name\":\"A\",\"clientServiceFeePercentage\":70000000000000000000000000000}", "'clientServiceFeePercentage' must be a number from 0 to 100 with at most 2 decimals.")]
    [InlineData("{\"name\":\"A\",\"clientServiceFeePercentage\":-1}", "'clientServiceFeePercentage' must be a number from 0 to 100 with at most 2 decimals.")]
    [InlineData("{\"name\":\"A\",\"similarOrderWindowSeconds\":-5}", "'similarOrderWindowSeconds' must be between 0 and 86400.")]
    public async Task A_bad_company_is_refused_naming_the_field(string body, string message)
    {
        var response = await app.SuperAdmin().PostAsync("/admin/companies", new StringContent(body, System.Text.Encoding.UTF8, "application/json"));
        Assert.Equal((HttpStatusCode.BadRequest, message), await Refusal(response));
    }

    [Fact]
    public async Task Payment_providers_replace_the_set_and_the_catalogue_sees_the_new_set()
    {
        var company = await app.NewCompanyAsync();
        var admin = app.CompanyAdmin(company);
        var first = await admin.PutAsJsonAsync($"/admin/companies/{company}/payment-providers", new
        {
            providers = new object[]
            {
                new { currencyId = CommerceFactory.Usd, paymentMethod = "credit_card", provider = "stripe" },
                new { currencyId = CommerceFactory.Brl, paymentMethod = "pix", provider = "sandbox", expiryMinutes = 30 },
            },
        });
        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        Assert.Equal(2, (await Json(first)).GetProperty("providers").GetArrayLength());
        Assert.Equal(30, (await app.Catalog.CompanyAsync(company, CancellationToken.None))!.PaymentOption(CommerceFactory.Brl, "pix")!.ExpiryMinutes);

        var second = await admin.PutAsJsonAsync($"/admin/companies/{company}/payment-providers", new
        {
            providers = new[] { new { currencyId = CommerceFactory.Usd, paymentMethod = "transfer", provider = "transfer" } },
        });
        Assert.Equal(HttpStatusCode.OK, second.StatusCode);
        var read = await admin.GetFromJsonAsync<JsonElement>($"/admin/companies/{company}/payment-providers");
        var only = Assert.Single(read.GetProperty("providers").EnumerateArray());
        Assert.Equal("transfer", only.GetProperty("provider").GetString());
        Assert.Equal(9, only.GetProperty("expiryMinutes").GetInt32());
        var settings = (await app.Catalog.CompanyAsync(company, CancellationToken.None))!;
        Assert.Null(settings.PaymentOption(CommerceFactory.Usd, "credit_card"));
        Assert.Equal("transfer", settings.PaymentOption(CommerceFactory.Usd, "transfer")!.Provider);
    }

    [Theory]
    [InlineData("paypal", "credit_card", null, "Payment provider 'paypal' is not available on this service")]
    [InlineData("acme", "credit_card", null, "'providers[0].provider' must be one of: asaas, crypto, free, pagar_me, paypal, stripe, transfer.")]
    [InlineData("stripe", "cheque", null, "'providers[0].paymentMethod' must be one of: boleto, credit_card, crypto, debit_card, pix, transfer.")]
    [InlineData("stripe", "credit_card", 0, "'providers[0].expiryMinutes' must be between 1 and 10080.")]
    [InlineData("stripe", "credit_card", 10081, "'providers[0].expiryMinutes' must be between 1 and 10080.")]
    public async Task A_bad_payment_provider_is_refused_naming_the_field(string provider, string method, int? expiry, string message)
    {
        var response = await app.CompanyAdmin().PutAsJsonAsync($"/admin/companies/{CommerceFactory.CompanyId}/payment-providers", new
        {
            providers = new[] { new { currencyId = CommerceFactory.Usd, paymentMethod = method, provider, expiryMinutes = expiry } },
        });
        Assert.Equal((HttpStatusCode.BadRequest, message), await Refusal(response));
    }

    [Fact]
    public async Task Payment_providers_with_an_unknown_currency_or_a_repeated_entry_are_refused()
    {
        var path = $"/admin/companies/{CommerceFactory.CompanyId}/payment-providers";
        var unknown = Guid.NewGuid().ToString();
        Assert.Equal((HttpStatusCode.BadRequest, $"'providers[0].currencyId' names no currency: {unknown}."),
            await Refusal(await app.CompanyAdmin().PutAsJsonAsync(path, new { providers = new[] { new { currencyId = unknown, paymentMethod = "pix", provider = "free" } } })));
        var twice = new { currencyId = CommerceFactory.Usd, paymentMethod = "pix", provider = "free" };
        Assert.Equal((HttpStatusCode.BadRequest, "'providers[1]' repeats the currency and payment method of another entry."),
            await Refusal(await app.CompanyAdmin().PutAsJsonAsync(path, new { providers = new[] { twice, twice } })));
        Assert.Equal((HttpStatusCode.BadRequest, "Missing required field(s): 'providers'."),
            await Refusal(await app.CompanyAdmin().PutAsync(path, new StringContent("{}", System.Text.Encoding.UTF8, "application/json"))));
    }

    [Fact]
    public async Task The_sandbox_provider_is_refused_in_production()
    {
        var production = new FixedEnvironment { EnvironmentName = Environments.Production };
        var result = await CatalogApi.PutPaymentProviders(CommerceFactory.CompanyId,
            new PutPaymentProvidersRequest([new PaymentProviderBody(CommerceFactory.Usd, "credit_card", "sandbox")]),
            app.Get<CatalogAdmin>(), app.Catalog, production, CancellationToken.None);

        var error = Assert.IsType<ErrorResult>(result.Result);
        Assert.Equal(400, error.Error.Status);
        Assert.Equal("'providers[0].provider': the sandbox provider is not available in production.", error.Error.Message);
    }

    [Fact]
    public async Task Gas_fees_replace_the_set_in_minor_units_and_read_back_as_decimal_strings()
    {
        var company = await app.NewCompanyAsync();
        var admin = app.CompanyAdmin(company);
        var response = await admin.PutAsJsonAsync($"/admin/companies/{company}/gas-fees", new
        {
            gasFees = new[] { new { currencyId = CommerceFactory.Usd, amount = "0.35" }, new { currencyId = CommerceFactory.Brl, amount = "2" } },
        });
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var settings = (await app.Catalog.CompanyAsync(company, CancellationToken.None))!;
        Assert.Equal(35, settings.GasFeeMinor(CommerceFactory.Usd));
        Assert.Equal(200, settings.GasFeeMinor(CommerceFactory.Brl));

        await admin.PutAsJsonAsync($"/admin/companies/{company}/gas-fees", new { gasFees = new[] { new { currencyId = CommerceFactory.Brl, amount = "1.75" } } });
        var read = await admin.GetFromJsonAsync<JsonElement>($"/admin/companies/{company}/gas-fees");
        var fee = Assert.Single(read.GetProperty("gasFees").EnumerateArray());
        Assert.Equal("1.75", fee.GetProperty("amount").GetString());
        Assert.Equal("BRL", fee.GetProperty("currency").GetProperty("code").GetString());
        Assert.Equal(0, (await app.Catalog.CompanyAsync(company, CancellationToken.None))!.GasFeeMinor(CommerceFactory.Usd));
    }

    [Theory]
    [InlineData("0.355")]
    [InlineData("-1")]
    [InlineData("1e3")]
    [InlineData("abc")]
    public async Task A_bad_gas_fee_amount_is_refused_naming_the_field(string amount)
    {
        var response = await app.CompanyAdmin().PutAsJsonAsync($"/admin/companies/{CommerceFactory.CompanyId}/gas-fees",
            new { gasFees = new[] { new { currencyId = CommerceFactory.Usd, amount } } });
        var (status, message) = await Refusal(response);
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.StartsWith("'gasFees[0].amount' must be", message);
    }

    [Fact]
    public async Task Coupons_are_created_listed_and_changed_and_a_repeated_code_is_refused()
    {
        var company = await app.NewCompanyAsync();
        var admin = app.CompanyAdmin(company);
        var expires = app.Time.GetUtcNow().AddDays(7);
        var created = await admin.PostAsJsonAsync($"/admin/companies/{company}/coupons", new { code = "spring-25", discountPercentage = 12.5, expiresAt = expires });

        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var coupon = await Json(created);
        Assert.Equal("SPRING-25", coupon.GetProperty("code").GetString());
        Assert.Equal(12.5m, coupon.GetProperty("discountPercentage").GetDecimal());
        Assert.Equal(1250, (await app.Catalog.CompanyAsync(company, CancellationToken.None))!.Coupon("spring-25")!.DiscountBasisPoints);

        Assert.Equal((HttpStatusCode.Conflict, "Coupon 'SPRING-25' already exists."),
            await Refusal(await admin.PostAsJsonAsync($"/admin/companies/{company}/coupons", new { code = "Spring-25", discountPercentage = 5 })));

        var patched = await admin.PatchAsJsonAsync($"/admin/companies/{company}/coupons/spring-25", new { active = false });
        Assert.Equal(HttpStatusCode.OK, patched.StatusCode);
        Assert.False((await Json(patched)).GetProperty("active").GetBoolean());
        Assert.False((await app.Catalog.CompanyAsync(company, CancellationToken.None))!.Coupon("SPRING-25")!.IsValid(app.Time.GetUtcNow()));
        var listed = Assert.Single((await admin.GetFromJsonAsync<JsonElement>($"/admin/companies/{company}/coupons")).EnumerateArray());
        Assert.Equal(expires, listed.GetProperty("expiresAt").GetDateTimeOffset());
        Assert.Equal(HttpStatusCode.NotFound, (await admin.PatchAsJsonAsync($"/admin/companies/{company}/coupons/NOPE", new { active = true })).StatusCode);
    }

    [Theory]
    [InlineData("ab", 10, "'code' must be 3 to 32 letters, digits, '-' or '_'.")]
    [InlineData("has space", 10, "'code' must be 3 to 32 letters, digits, '-' or '_'.")]
    [InlineData("GOOD", 0, "'discountPercentage' must be a number above 0 to 100 with at most 2 decimals.")]
    [InlineData("GOOD", 100.01, "'discountPercentage' must be a number above 0 to 100 with at most 2 decimals.")]
    [InlineData("GOOD", 9.999, "'discountPercentage' must be a number above 0 to 100 with at most 2 decimals.")]
    public async Task A_bad_coupon_is_refused_naming_the_field(string code, double discount, string message)
    {
        var response = await app.CompanyAdmin().PostAsJsonAsync($"/admin/companies/{CommerceFactory.CompanyId}/coupons", new { code, discountPercentage = discount });
        Assert.Equal((HttpStatusCode.BadRequest, message), await Refusal(response));
    }

    [Fact]
    public async Task The_company_webhook_shows_its_secret_once_and_is_the_platform_endpoint_of_the_company()
    {
        var company = await app.NewCompanyAsync();
        var admin = app.CompanyAdmin(company);
        Assert.Equal(HttpStatusCode.NotFound, (await admin.GetAsync($"/admin/companies/{company}/webhook")).StatusCode);

        var first = app.Receiver.Add(CatalogApi.WebhookOwner(company)).Url;
        var second = app.Receiver.Add(CatalogApi.WebhookOwner(company) + "-2").Url;
        var created = await admin.PutAsJsonAsync($"/admin/companies/{company}/webhook", new { url = first });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        Assert.StartsWith("whsec_", (await Json(created)).GetProperty("secret").GetString());

        var changed = await admin.PutAsJsonAsync($"/admin/companies/{company}/webhook", new { url = second, enabled = false });
        Assert.Equal(HttpStatusCode.OK, changed.StatusCode);
        Assert.False((await Json(changed)).TryGetProperty("secret", out _));
        var read = await admin.GetFromJsonAsync<JsonElement>($"/admin/companies/{company}/webhook");
        Assert.Equal(second, read.GetProperty("url").GetString());
        Assert.False(read.GetProperty("enabled").GetBoolean());
        Assert.False(read.TryGetProperty("secret", out _));
        var endpoint = await app.Get<Serverless.Platform.Webhooks.WebhookEndpoints>().FindAsync(CatalogApi.WebhookOwner(company));
        Assert.Equal(second, endpoint!.Url);

        var bad = await Refusal(await admin.PutAsJsonAsync($"/admin/companies/{company}/webhook", new { url = "ftp://example.com" }));
        Assert.Equal(HttpStatusCode.BadRequest, bad.Status);
        Assert.Contains("'url'", bad.Message);
    }

    private sealed class FixedEnvironment : IHostEnvironment
    {
        public string EnvironmentName { get; set; } = "";
        public string ApplicationName { get; set; } = "Functions";
        public string ContentRootPath { get; set; } = "";
        public Microsoft.Extensions.FileProviders.IFileProvider ContentRootFileProvider { get; set; } = new Microsoft.Extensions.FileProviders.NullFileProvider();
    }
}
