using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Serverless.Platform.Email;

namespace Serverless.Tests.Print.Accounts;

public sealed class LoginTests(PrintFactory app) : IClassFixture<PrintFactory>
{
    [Fact]
    public async Task Signing_in_works_with_the_username_the_email_or_the_ten_digit_mobile_number()
    {
        var digits = "97" + Random.Shared.Next(10_000_000, 99_999_999);
        var customer = await app.SignUpAsync(phone: "+91 " + digits);
        foreach (var login in new[] { customer.Username, customer.Username.ToUpperInvariant(), customer.Email, digits })
        {
            var response = await app.CreateClient().PostAsJsonAsync("/login", new { username = login, password = customer.Password });
            Assert.True(response.StatusCode == HttpStatusCode.OK, $"{login}: {response.StatusCode}");
            var body = await response.Content.ReadFromJsonAsync<JsonElement>();
            Assert.Equal("customer", body.GetProperty("role").GetString());
            Assert.Equal(customer.Username, body.GetProperty("username").GetString());
            var cookie = Assert.Single(response.Headers.GetValues("Set-Cookie"), c => c.StartsWith("token=", StringComparison.Ordinal));
            Assert.Contains("httponly", cookie);
            Assert.Contains("samesite=lax", cookie);
            var profile = await app.WithToken(body.GetProperty("token").GetString()!).GetFromJsonAsync<JsonElement>("/profile");
            Assert.Equal(customer.Id, profile.GetProperty("id").GetInt64());
        }
    }

    [Fact]
    public async Task A_wrong_password_and_an_unknown_user_get_the_same_401()
    {
        var customer = await app.SignUpAsync();
        var wrong = await app.CreateClient().PostAsJsonAsync("/login", new { username = customer.Username, password = "not-the-password" });
        var unknown = await app.CreateClient().PostAsJsonAsync("/login", new { username = "nobody-" + customer.Username, password = "not-the-password" });
        Assert.Equal(HttpStatusCode.Unauthorized, wrong.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, unknown.StatusCode);
        Assert.Equal(await wrong.Content.ReadAsStringAsync(), await unknown.Content.ReadAsStringAsync());
        Assert.Equal("Invalid username or password.", (await wrong.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("error").GetString());
    }

    [Theory]
    [InlineData("""{"password":"x"}""", "Missing required field(s): 'username'.")]
    [InlineData("""{"username":"x","password":""}""", "'password' is required.")]
    [InlineData("""{"username":1,"password":"x"}""", "Field 'username' must be a string.")]
    [InlineData("""[]""", "The request body must be an object of the documented shape.")]
    public async Task A_malformed_login_is_a_400(string json, string message)
    {
        var response = await app.CreateClient().PostAsync("/login", new StringContent(json, System.Text.Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal(message, (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("error").GetString());
    }

    [Fact]
    public async Task The_platform_admin_signs_in_as_admin()
    {
        var response = await app.CreateClient().PostAsJsonAsync("/login", new { username = PrintFactory.AdminEmail, password = PrintFactory.AdminPassword });
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("admin", body.GetProperty("role").GetString());
        var profile = await app.WithToken(body.GetProperty("token").GetString()!).GetFromJsonAsync<JsonElement>("/profile");
        Assert.Equal("admin", profile.GetProperty("role").GetString());
        Assert.False(profile.TryGetProperty("referral_code", out _));
    }

    [Theory]
    [InlineData("9876543210")]
    [InlineData("+919876543210")]
    [InlineData("johndoe")]
    public async Task Code_sign_in_is_for_email_only(string login)
    {
        var response = await app.CreateClient().PostAsJsonAsync("/login/request-otp", new { login });
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("OTP login is available for email only.", (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("error").GetString());
    }

    [Fact]
    public async Task Code_sign_in_sends_a_code_to_a_registered_email_and_answers_the_same_for_an_unknown_one()
    {
        var customer = await app.SignUpAsync();
        var stranger = app.Unique("stranger") + "@example.test";
        var known = await app.CreateClient().PostAsJsonAsync("/login/request-otp", new { login = customer.Email });
        var unknown = await app.CreateClient().PostAsJsonAsync("/login/request-otp", new { login = stranger });
        Assert.Equal(HttpStatusCode.OK, known.StatusCode);
        Assert.Equal(HttpStatusCode.OK, unknown.StatusCode);
        Assert.Equal(await known.Content.ReadAsStringAsync(), await unknown.Content.ReadAsStringAsync());
        Assert.Null(await app.Get<Outbox>().LatestAsync(stranger));

        var code = await app.LatestCodeAsync(customer.Email);
        var response = await app.CreateClient().PostAsJsonAsync("/login/verify-otp", new { login = customer.Email, code });
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("customer", body.GetProperty("role").GetString());
        Assert.Equal(customer.Username, body.GetProperty("username").GetString());
        Assert.Equal(HttpStatusCode.OK, (await app.WithToken(body.GetProperty("token").GetString()!).GetAsync("/profile")).StatusCode);

        // Used once.
        var again = await app.CreateClient().PostAsJsonAsync("/login/verify-otp", new { login = customer.Email, code });
        Assert.Equal(HttpStatusCode.BadRequest, again.StatusCode);
    }

    [Fact]
    public async Task Wrong_codes_lock_a_registered_and_an_unknown_email_alike()
    {
        var customer = await app.SignUpAsync();
        var stranger = app.Unique("ghost") + "@example.test";
        var answers = new Dictionary<string, List<string>>();
        foreach (var email in new[] { customer.Email, stranger })
        {
            await app.CreateClient().PostAsJsonAsync("/login/request-otp", new { login = email });
            answers[email] = [];
            for (var i = 0; i < 6; i++)
            {
                var response = await app.CreateClient().PostAsJsonAsync("/login/verify-otp", new { login = email, code = "000000" });
                answers[email].Add($"{(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
            }
        }
        Assert.Equal(answers[customer.Email], answers[stranger]);
        Assert.Contains("code_locked", answers[stranger][^1]);
        var right = await app.CreateClient().PostAsJsonAsync("/login/verify-otp", new { login = customer.Email, code = await app.LatestCodeAsync(customer.Email) });
        Assert.Equal(HttpStatusCode.BadRequest, right.StatusCode);
    }

    [Fact]
    public async Task A_sign_in_code_expires_after_ten_minutes()
    {
        var customer = await app.SignUpAsync();
        await app.CreateClient().PostAsJsonAsync("/login/request-otp", new { login = customer.Email });
        var code = await app.LatestCodeAsync(customer.Email);
        app.Time.Advance(TimeSpan.FromMinutes(10) + TimeSpan.FromSeconds(1));
        var response = await app.CreateClient().PostAsJsonAsync("/login/verify-otp", new { login = customer.Email, code });
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("invalid_code", (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("code").GetString());
    }

    [Fact]
    public async Task A_session_token_expires_after_its_lifetime()
    {
        var customer = await app.SignUpAsync();
        var client = app.Bearer(customer);
        app.Time.Advance(TimeSpan.FromDays(7) - TimeSpan.FromMinutes(1));
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/profile")).StatusCode);
        app.Time.Advance(TimeSpan.FromMinutes(2));
        Assert.Equal(HttpStatusCode.Unauthorized, (await client.GetAsync("/profile")).StatusCode);
    }

    [Fact]
    public async Task Logging_out_clears_the_cookie()
    {
        var customer = await app.SignUpAsync();
        var browser = await app.CookieClientAsync(customer.Username, customer.Password);
        Assert.Equal(HttpStatusCode.OK, (await browser.GetAsync("/profile")).StatusCode);
        var response = await browser.PostAsync("/logout", null);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("Logged out successfully", (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("message").GetString());
        Assert.Contains(response.Headers.GetValues("Set-Cookie"), c => c.StartsWith("token=;", StringComparison.Ordinal) && c.Contains("expires=Thu, 01 Jan 1970"));
        Assert.Equal(HttpStatusCode.Unauthorized, (await browser.GetAsync("/profile")).StatusCode);
    }
}
