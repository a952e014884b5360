using System.Net;
using System.Net.Http.Json;
using System.Text.Json;

namespace Serverless.Tests.PreOrders;

public sealed class PayPageTests(PreOrdersFactory app) : IClassFixture<PreOrdersFactory>
{
    [Fact]
    public async Task The_pay_page_shows_amount_description_qr_countdown_and_the_sandbox_button()
    {
        var merchant = await app.MerchantClientAsync();
        var response = await merchant.PostAsJsonAsync("/api/pre-orders",
            PreOrdersFactory.Body(app.In(TimeSpan.FromHours(2)), 1234.50m, "EUR", "Concert <script>alert(1)</script> & more"));
        var id = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString();

        var page = await app.CreateClient().GetAsync($"/pay/{id}");
        var html = await page.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Equal("text/html", page.Content.Headers.ContentType?.MediaType);
        Assert.Contains("1,234.50 EUR", html);
        Assert.Contains("Concert &lt;script&gt;alert(1)&lt;/script&gt; &amp; more", html);
        Assert.DoesNotContain("<script>alert(1)", html);
        Assert.Contains("data:image/png;base64,", html);
        Assert.Contains("Pay (sandbox)", html);
        Assert.Contains("id=\"countdown\"", html);
        Assert.Contains("script-src 'nonce-", page.Headers.GetValues("Content-Security-Policy").Single());
    }

    [Fact]
    public async Task The_status_endpoint_behind_the_page_follows_the_pre_order()
    {
        var merchant = await app.MerchantClientAsync();
        var id = (await app.CreateAsync(merchant, TimeSpan.FromHours(1))).GetProperty("id").GetString();

        var before = await app.CreateClient().GetFromJsonAsync<JsonElement>($"/pay/{id}/status");
        await app.PayAsync(id!);
        var after = await app.CreateClient().GetFromJsonAsync<JsonElement>($"/pay/{id}/status");

        Assert.Equal("pending", before.GetProperty("status").GetString());
        Assert.Equal("paid", after.GetProperty("status").GetString());
        Assert.False(after.TryGetProperty("customer", out _));
    }

    [Fact]
    public async Task An_unknown_payment_page_is_a_404_page()
    {
        var response = await app.CreateClient().GetAsync("/pay/pre_order_00000000000000000000000000");

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Contains("Payment not found", await response.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.NotFound, (await app.CreateClient().PostAsync("/pay/pre_order_00000000000000000000000000/checkout", null)).StatusCode);
    }
}

public sealed class PayStatusCostTests(PreOrdersFactory app) : IClassFixture<PreOrdersFactory>
{
    [Fact]
    public async Task Polling_the_payment_status_costs_one_storage_read()
    {
        var merchant = await app.MerchantClientAsync();
        var id = (await app.CreateAsync(merchant, TimeSpan.FromDays(1))).GetProperty("id").GetString()!;

        var first = await app.CreateClient().GetAsync($"/pay/{id}/status");
        var second = await app.CreateClient().GetAsync($"/pay/{id}/status");

        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        // Which merchant the id belongs to never changes, so only the pre-order row is read.
        Assert.Equal("1", first.Headers.GetValues("X-Storage-Requests").Single());
        Assert.Equal("1", second.Headers.GetValues("X-Storage-Requests").Single());
    }
}
