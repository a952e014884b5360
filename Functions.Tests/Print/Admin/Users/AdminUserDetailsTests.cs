using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Serverless.Print.Wallet;

namespace Serverless.Tests.Print.Admin.Users;

/// <summary>GET /admin/users/details: one user's profile, wallet, recent orders and files, and referral stats.</summary>
public sealed class AdminUserDetailsTests(PrintFactory app) : IClassFixture<PrintFactory>
{
    [Fact]
    public async Task The_details_show_the_profile_the_wallet_and_the_referral_stats()
    {
        var admin = await app.AdminAsync();
        var phone = AdminUsersClient.NewPhone();
        var referrer = await app.SignUpAsync(phone: phone);
        var code = (await app.Bearer(referrer).GetFromJsonAsync<JsonElement>("/profile")).GetProperty("referral_code").GetString();
        await app.SignUpAsync(referralCode: code);
        var wallet = PrintWallets.Account(referrer.Id);
        var ledger = app.Get<PrintWallets>().Ledger;
        await ledger.CreditAsync(wallet, WalletKeys.Topup + "t1", 12_550);
        await ledger.HoldAsync(wallet, WalletKeys.Payment + "o1", 2_000);

        var response = await admin.GetAsync($"/admin/users/details?user_id={referrer.Id}");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        var user = body.GetProperty("user");
        Assert.Equal(referrer.Id, user.GetProperty("id").GetInt64());
        Assert.Equal(referrer.Username, user.GetProperty("username").GetString());
        Assert.Equal(referrer.Email, user.GetProperty("email").GetString());
        Assert.Equal(phone, user.GetProperty("phone").GetString());
        Assert.Equal("customer", user.GetProperty("role").GetString());
        Assert.Equal(code, user.GetProperty("referral_code").GetString());
        Assert.Equal(105.5m, body.GetProperty("wallet").GetProperty("available").GetDecimal());
        Assert.Equal(20m, body.GetProperty("wallet").GetProperty("held").GetDecimal());
        Assert.Equal(0, body.GetProperty("recent_orders").GetArrayLength());
        Assert.Equal(0, body.GetProperty("total_orders").GetInt32());
        Assert.Equal(0, body.GetProperty("recent_files").GetArrayLength());
        var referral = body.GetProperty("referral");
        Assert.Equal(1, referral.GetProperty("total_referred").GetInt32());
        Assert.Equal(0, referral.GetProperty("total_credited").GetInt32());
        Assert.Equal(1, referral.GetProperty("pending_count").GetInt32());
        Assert.Equal(0m, referral.GetProperty("total_earnings").GetDecimal());
    }

    [Fact]
    public async Task A_shopkeeper_s_details_show_the_shop()
    {
        var shop = await app.SignUpAsync(role: "shopkeeper");

        var body = await (await app.AdminAsync()).GetFromJsonAsync<JsonElement>($"/admin/users/details?user_id={shop.Id}");

        Assert.Equal("Shop of " + shop.Username, body.GetProperty("user").GetProperty("shop_name").GetString());
        Assert.True(body.GetProperty("user").GetProperty("is_open").GetBoolean());
        Assert.Equal(0m, body.GetProperty("wallet").GetProperty("available").GetDecimal());
    }

    [Fact]
    public async Task An_unknown_user_is_not_found()
    {
        var response = await (await app.AdminAsync()).GetAsync("/admin/users/details?user_id=987654321");

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal("not_found", await response.CodeAsync());
    }

    [Theory]
    [InlineData("")]
    [InlineData("?user_id=")]
    [InlineData("?user_id=abc")]
    [InlineData("?user_id=-4")]
    [InlineData("?user_id=0")]
    [InlineData("?user_id=99999999999999999999999")]
    public async Task A_missing_or_invalid_user_id_is_refused(string query)
    {
        var response = await (await app.AdminAsync()).GetAsync("/admin/users/details" + query);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("validation_error", await response.CodeAsync());
    }
}
