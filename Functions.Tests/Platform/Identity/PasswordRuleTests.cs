using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Serverless.Platform.Identity;
using Serverless.Tests.Infrastructure;
using Serverless.Tests.PreOrders;
using Serverless.Tests.Print;

namespace Serverless.Tests.Platform.Identity;

/// <summary>Passwords that UTF-16 counting gets wrong.</summary>
public static class SamplePasswords
{
    public const string FourEmoji = "😀😁😂🤣";
    public const string EightEmoji = "😀😁😂🤣😃😄😅😆";
    // Seven letters, each an 'e' and a combining acute accent: 14 UTF-16 units, 7 characters.
    public static readonly string SevenCombined = string.Concat(Enumerable.Repeat("e\u0301", 7));
    // Four family emoji joined with zero-width joiners: 44 UTF-16 units, 4 characters.
    public const string FourFamilies = "👨‍👩‍👧‍👦👨‍👩‍👧‍👦👨‍👩‍👧‍👦👨‍👩‍👧‍👦";
}

public sealed class PrintPasswordRuleTests(PrintFactory app) : IClassFixture<PrintFactory>
{
    private async Task<HttpResponseMessage> RegisterAsync(string password)
    {
        var username = app.Unique("rule");
        return await app.SkipOtp().CreateClient().PostAsJsonAsync("/register",
            new { full_name = "Rule Test", username, email = username + "@example.test", password });
    }

    private static async Task<string?> ErrorAsync(HttpResponseMessage response) =>
        (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("error").GetString();

    [Fact]
    public async Task Registering_with_four_emoji_is_refused_and_with_eight_accepted()
    {
        var four = await RegisterAsync(SamplePasswords.FourEmoji);
        var combined = await RegisterAsync(SamplePasswords.SevenCombined);
        var eight = await RegisterAsync(SamplePasswords.EightEmoji);

        Assert.Equal(HttpStatusCode.BadRequest, four.StatusCode);
        Assert.Equal("'password' must be 8 to 128 characters.", await ErrorAsync(four));
        Assert.Equal(HttpStatusCode.BadRequest, combined.StatusCode);
        Assert.Equal(HttpStatusCode.Created, eight.StatusCode);
    }

    [Fact]
    public async Task A_common_password_is_refused_at_sign_up_reset_and_profile_change()
    {
        var register = await RegisterAsync("Password123");
        var customer = await app.SignUpAsync();
        var change = await app.Bearer(customer).PutAsJsonAsync("/profile", new { password = "qwertyuiop", current_password = customer.Password });
        var reset = await app.CreateClient().PostAsJsonAsync("/reset-password", new { token = "any-token", password = "iloveyou" });

        foreach (var response in new[] { register, change, reset })
        {
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
            Assert.Equal("'password' is one of the most common passwords; choose another.", await ErrorAsync(response));
        }
    }

    [Fact]
    public async Task A_profile_change_to_four_emoji_is_refused()
    {
        var customer = await app.SignUpAsync();
        var response = await app.Bearer(customer).PutAsJsonAsync("/profile",
            new { password = SamplePasswords.FourEmoji, current_password = customer.Password });
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("'password' must be 8 to 128 characters.", await ErrorAsync(response));
    }
}

public sealed class PlatformPasswordRuleTests(PlatformFactory app) : IClassFixture<PlatformFactory>
{
    [Theory]
    [InlineData(SamplePasswords.FourEmoji)]
    [InlineData("password1")]
    public async Task Platform_users_get_the_same_password_rule(string password)
    {
        var response = await app.CreateClientAs(9100, Roles.Admin).PostAsJsonAsync("/platform/users",
            new { username = "rule-" + Guid.NewGuid().ToString("N")[..8], password, roles = new[] { "customer" } });

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("validation_error", (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("code").GetString());
    }
}

public sealed class MerchantPasswordRuleTests(PreOrdersFactory app) : IClassFixture<PreOrdersFactory>
{
    [Theory]
    [InlineData("😀😁😂🤣😃😄")]
    [InlineData("password1234")]
    public async Task Merchant_passwords_get_the_same_password_rule(string password)
    {
        var response = await app.CreateClientAs(1, Roles.Admin).PostAsJsonAsync("/api/admin/merchants",
            new { username = "rule-" + Guid.NewGuid().ToString("N")[..8], password });

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
    }
}
