using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.RegularExpressions;
using Serverless.Platform.Email;

namespace Serverless.Tests.Print.Accounts;

public sealed class PasswordRecoveryTests(PrintFactory app) : IClassFixture<PrintFactory>
{
    private async Task<string> ResetTokenAsync(string email)
    {
        var mail = await app.Get<Outbox>().LatestAsync(email);
        var link = Regex.Match(mail!.Text!, @"https://\S+/reset-password\?token=(\S+)");
        Assert.True(link.Success, mail.Text);
        Assert.StartsWith(PrintFactory.WebUrl + "/reset-password?token=", link.Value);
        return Uri.UnescapeDataString(link.Groups[1].Value);
    }

    [Fact]
    public async Task A_reset_link_sets_a_new_password_once_and_ends_earlier_sessions()
    {
        var customer = await app.SignUpAsync();
        var oldSession = app.Bearer(customer);
        var forgot = await app.CreateClient().PostAsJsonAsync("/forgot-password", new { email = customer.Email });
        Assert.Equal(HttpStatusCode.OK, forgot.StatusCode);
        var token = await ResetTokenAsync(customer.Email);

        var reset = await app.CreateClient().PostAsJsonAsync("/reset-password", new { token, password = "brand-new-password" });
        Assert.Equal(HttpStatusCode.OK, reset.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await oldSession.GetAsync("/profile")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized,
            (await app.CreateClient().PostAsJsonAsync("/login", new { username = customer.Username, password = customer.Password })).StatusCode);
        Assert.Equal(HttpStatusCode.OK,
            (await app.CreateClient().PostAsJsonAsync("/login", new { username = customer.Username, password = "brand-new-password" })).StatusCode);

        var reused = await app.CreateClient().PostAsJsonAsync("/reset-password", new { token, password = "another-password" });
        Assert.Equal(HttpStatusCode.BadRequest, reused.StatusCode);
        Assert.Equal("invalid_reset_token", (await reused.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("code").GetString());
    }

    [Fact]
    public async Task A_reset_needs_no_csrf_token_even_from_a_browser_that_holds_a_session_cookie()
    {
        // The token in the body is what authorises a reset, and another site cannot know it: no cookie counts here.
        var customer = await app.SignUpAsync();
        var browser = await app.CookieClientAsync(customer.Username, customer.Password);
        await app.CreateClient().PostAsJsonAsync("/forgot-password", new { email = customer.Email });
        var token = await ResetTokenAsync(customer.Email);

        var reset = await browser.PostAsJsonAsync("/reset-password", new { token, password = "cookie-held-password" });

        Assert.Equal(HttpStatusCode.OK, reset.StatusCode);
        Assert.Equal(HttpStatusCode.OK,
            (await app.CreateClient().PostAsJsonAsync("/login", new { username = customer.Username, password = "cookie-held-password" })).StatusCode);
    }

    [Fact]
    public async Task Using_one_reset_link_voids_the_others()
    {
        var customer = await app.SignUpAsync();
        await app.CreateClient().PostAsJsonAsync("/forgot-password", new { email = customer.Email });
        var first = await ResetTokenAsync(customer.Email);
        app.Time.Advance(TimeSpan.FromSeconds(1));
        await app.CreateClient().PostAsJsonAsync("/forgot-password", new { email = customer.Email });
        var second = await ResetTokenAsync(customer.Email);
        Assert.NotEqual(first, second);
        Assert.Equal(HttpStatusCode.OK, (await app.CreateClient().PostAsJsonAsync("/reset-password", new { token = second, password = "password-two" })).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await app.CreateClient().PostAsJsonAsync("/reset-password", new { token = first, password = "password-one" })).StatusCode);
    }

    [Fact]
    public async Task Two_resets_racing_with_one_link_change_the_password_once()
    {
        var customer = await app.SignUpAsync();
        await app.CreateClient().PostAsJsonAsync("/forgot-password", new { email = customer.Email });
        var token = await ResetTokenAsync(customer.Email);
        var results = await Task.WhenAll(Enumerable.Range(0, 6).Select(i =>
            app.CreateClient().PostAsJsonAsync("/reset-password", new { token, password = $"racing-password-{i}" })));
        Assert.Single(results, r => r.StatusCode == HttpStatusCode.OK);
        Assert.All(results.Where(r => r.StatusCode != HttpStatusCode.OK), r => Assert.Equal(HttpStatusCode.BadRequest, r.StatusCode));
    }

    [Fact]
    public async Task A_reset_link_expires_after_an_hour()
    {
        var customer = await app.SignUpAsync();
        await app.CreateClient().PostAsJsonAsync("/forgot-password", new { email = customer.Email });
        var token = await ResetTokenAsync(customer.Email);
        app.Time.Advance(TimeSpan.FromHours(1));
        var response = await app.CreateClient().PostAsJsonAsync("/reset-password", new { token, password = "too-late-password" });
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
    }

    [Theory]
    [InlineData("garbage")]
    [InlineData("1.abc")]
    [InlineData("999999.0000000000000000000000000000000000000000000000000000000000000000")]
    public async Task A_made_up_reset_token_is_a_400(string token)
    {
        var response = await app.CreateClient().PostAsJsonAsync("/reset-password", new { token, password = "whatever-password" });
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("This reset link is invalid, already used or expired; request a new one.",
            (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("error").GetString());
    }

    [Fact]
    public async Task A_new_password_must_be_long_enough()
    {
        var response = await app.CreateClient().PostAsJsonAsync("/reset-password", new { token = "1.x", password = "short" });
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("'password' must be 8 to 128 characters.", (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("error").GetString());
    }

    [Fact]
    public async Task Recovery_answers_the_same_for_an_unknown_email_and_sends_nothing()
    {
        var customer = await app.SignUpAsync();
        var stranger = app.Unique("nobody") + "@example.test";
        foreach (var path in new[] { "/forgot-password", "/forgot-username" })
        {
            var known = await app.CreateClient().PostAsJsonAsync(path, new { email = customer.Email });
            var unknown = await app.CreateClient().PostAsJsonAsync(path, new { email = stranger });
            Assert.Equal(HttpStatusCode.OK, known.StatusCode);
            Assert.Equal(HttpStatusCode.OK, unknown.StatusCode);
            Assert.Equal(await known.Content.ReadAsStringAsync(), await unknown.Content.ReadAsStringAsync());
        }
        Assert.Null(await app.Get<Outbox>().LatestAsync(stranger));
    }

    [Fact]
    public async Task Forgot_username_emails_the_username()
    {
        var customer = await app.SignUpAsync();
        var response = await app.CreateClient().PostAsJsonAsync("/forgot-username", new { email = customer.Email.ToUpperInvariant() });
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var mail = await app.Get<Outbox>().LatestAsync(customer.Email);
        Assert.Contains(customer.Username, mail!.Text);
        Assert.Contains("username", mail.Subject, StringComparison.OrdinalIgnoreCase);
    }

    [Theory]
    [InlineData("/forgot-password")]
    [InlineData("/forgot-username")]
    public async Task Recovery_needs_a_valid_email(string path)
    {
        var response = await app.CreateClient().PostAsJsonAsync(path, new { email = "nope" });
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("'email' must be a valid email address.", (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("error").GetString());
    }
}
