using System.Net;
using System.Net.Http.Json;
using Serverless.Tests.Print.Accounts;
using Serverless.Tests.Print.Payouts;
using static Serverless.Tests.Print.Admin.Payouts.AdminPayoutsHelpers;

namespace Serverless.Tests.Print.Admin.Payouts;

/// <summary>Who may call the admin payout endpoints: admins only, from an allowed address, with CSRF when signed in by cookie.</summary>
public sealed class AdminPayoutAccessTests(PrintPayoutFactory app) : IClassFixture<PrintPayoutFactory>
{
    public static TheoryData<string> Endpoints => new() { "GET /admin/payouts", "PUT /admin/payouts/update", "PUT /admin/payouts/bulk-update", "GET /admin/payouts/export" };

    private static HttpRequestMessage Request(string endpoint, long payoutId, string? token, string? ip = null)
    {
        var (method, path, body) = endpoint switch
        {
            "GET /admin/payouts" => (HttpMethod.Get, "/admin/payouts", null),
            "PUT /admin/payouts/update" => (HttpMethod.Put, "/admin/payouts/update", new { payout_id = payoutId, status = "processing" }),
            "PUT /admin/payouts/bulk-update" => (HttpMethod.Put, "/admin/payouts/bulk-update", (object?)new { payout_ids = new[] { payoutId }, status = "processing" }),
            _ => (HttpMethod.Get, "/admin/payouts/export", null),
        };
        return PrintFactory.Json(method, path, body, token, ip);
    }

    private async Task<long> PayoutIdAsync()
    {
        var (shop, _) = await ShopWithEarningsAsync(app, 200_00);
        return (await PayoutOfAsync(app, Today(app).AddDays(-(int)(shop.Id % 50)), shop)).Id;
    }

    [Theory]
    [MemberData(nameof(Endpoints))]
    public async Task Only_an_admin_is_answered(string endpoint)
    {
        var payoutId = await PayoutIdAsync();
        var customer = await app.SignUpAsync();
        var shopkeeper = await app.SignUpAsync(role: "shopkeeper");
        var client = app.CreateClient();

        Assert.Equal(HttpStatusCode.Unauthorized, (await client.SendAsync(Request(endpoint, payoutId, null))).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await client.SendAsync(Request(endpoint, payoutId, customer.Token))).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await client.SendAsync(Request(endpoint, payoutId, shopkeeper.Token))).StatusCode);
        var admin = await client.SendAsync(Request(endpoint, payoutId, await app.AdminTokenAsync()));
        Assert.True(admin.StatusCode == HttpStatusCode.OK, await admin.Content.ReadAsStringAsync());
    }

    [Theory]
    [InlineData("PUT /admin/payouts/update")]
    [InlineData("PUT /admin/payouts/bulk-update")]
    public async Task A_cookie_signed_in_admin_must_send_the_csrf_token_to_change_a_payout(string endpoint)
    {
        var payoutId = await PayoutIdAsync();
        var browser = await app.CookieClientAsync(PrintFactory.AdminEmail, PrintFactory.AdminPassword);

        var refused = await browser.SendAsync(Request(endpoint, payoutId, null));
        Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
        Assert.Equal("csrf_token_invalid", (await ErrorAsync(refused)).Code);
        Assert.Equal("pending", (await app.Get<Serverless.Print.Payouts.PrintEarnings>().FindPayoutAsync(payoutId))!.Status);

        Assert.Equal(HttpStatusCode.OK, (await browser.GetAsync("/admin/payouts")).StatusCode);
        await PrintFactory.AddCsrfTokenAsync(browser);
        Assert.Equal(HttpStatusCode.OK, (await browser.SendAsync(Request(endpoint, payoutId, null))).StatusCode);
        Assert.Equal("processing", (await app.Get<Serverless.Print.Payouts.PrintEarnings>().FindPayoutAsync(payoutId))!.Status);
    }

    /// <summary>With <c>ALLOWED_ADMIN_IPS</c> set, an admin elsewhere is refused.</summary>
    public sealed class FromAllowedAddresses(AccessTests.AllowedAdminIpsFactory app) : IClassFixture<AccessTests.AllowedAdminIpsFactory>
    {
        [Theory]
        [MemberData(nameof(Endpoints), MemberType = typeof(AdminPayoutAccessTests))]
        public async Task An_admin_outside_the_allowed_addresses_is_refused(string endpoint)
        {
            var admin = await app.AdminTokenAsync();
            var client = app.CreateClient();

            var elsewhere = await client.SendAsync(Request(endpoint, 987_654_321, admin, "10.9.9.8"));
            Assert.Equal(HttpStatusCode.Forbidden, elsewhere.StatusCode);
            Assert.Equal("forbidden", (await elsewhere.Content.ReadFromJsonAsync<System.Text.Json.JsonElement>()).GetProperty("code").GetString());
            var allowed = await client.SendAsync(Request(endpoint, 987_654_321, admin, AccessTests.AllowedAdminIpsFactory.AllowedIp));
            Assert.NotEqual(HttpStatusCode.Forbidden, allowed.StatusCode);
            Assert.NotEqual(HttpStatusCode.Unauthorized, allowed.StatusCode);
        }
    }
}
