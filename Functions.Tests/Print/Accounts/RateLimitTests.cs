using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Serverless.Print.Accounts;

namespace Serverless.Tests.Print.Accounts;

/// <summary>
/// Browser sessions: the sign-in cookie authenticates without an Authorization header, and every state-changing
/// request it authenticates must carry the CSRF token from <c>GET /csrf-token</c>.
/// </summary>
public sealed class CsrfTests(PrintFactory app) : IClassFixture<PrintFactory>
{
    private static HttpRequestMessage Put(string path, object body, string? csrf = null)
    {
        var request = PrintFactory.Json(HttpMethod.Put, path, body);
        if (csrf is not null)
            request.Headers.Add("X-CSRF-Token", csrf);
        return request;
    }

    private async Task<(PrintAccount Account, HttpClient Browser)> BrowserAsync()
    {
        var account = await app.SignUpAsync();
        return (account, await app.CookieClientAsync(account.Username, account.Password));
    }

    [Fact]
    public async Task The_cookie_alone_reads_the_profile_without_a_csrf_token()
    {
        var (account, browser) = await BrowserAsync();

        var response = await browser.GetAsync("/profile");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(account.Id, (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetInt64());
        Assert.Null(browser.DefaultRequestHeaders.Authorization);
    }

    [Fact]
    public async Task A_cookie_update_without_a_csrf_token_is_refused()
    {
        var (_, browser) = await BrowserAsync();

        var response = await browser.SendAsync(Put("/profile", new { full_name = "Changed By Forgery" }));

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Equal("csrf_token_invalid", await AccessTests.CodeAsync(response));
        var profile = await browser.GetFromJsonAsync<JsonElement>("/profile");
        Assert.NotEqual("Changed By Forgery", profile.GetProperty("full_name").GetString());
    }

    [Fact]
    public async Task A_cookie_update_with_a_wrong_csrf_token_is_refused()
    {
        var (_, browser) = await BrowserAsync();
        // This browser has its CSRF secret cookie, but sends a token that does not match it.
        var real = (await browser.GetFromJsonAsync<JsonElement>("/csrf-token")).GetProperty("csrfToken").GetString()!;
        var wrong = (real[0] == 'A' ? "B" : "A") + real[1..];

        var response = await browser.SendAsync(Put("/profile", new { full_name = "Changed By Forgery" }, wrong));

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Equal("csrf_token_invalid", await AccessTests.CodeAsync(response));
    }

    [Fact]
    public async Task A_cookie_update_with_the_csrf_token_succeeds()
    {
        var (_, browser) = await BrowserAsync();
        var token = await PrintFactory.AddCsrfTokenAsync(browser);
        Assert.False(string.IsNullOrEmpty(token));

        var response = await browser.SendAsync(Put("/profile", new { full_name = "Changed In The Browser" }));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("Changed In The Browser", (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("full_name").GetString());
    }

    [Fact]
    public async Task The_csrf_token_is_stable_for_a_browser()
    {
        var (_, browser) = await BrowserAsync();

        var first = (await browser.GetFromJsonAsync<JsonElement>("/csrf-token")).GetProperty("csrfToken").GetString();
        var second = (await browser.GetFromJsonAsync<JsonElement>("/csrf-token")).GetProperty("csrfToken").GetString();

        Assert.Equal(first, second);
    }

    [Fact]
    public async Task A_csrf_token_fetched_by_another_browser_does_not_work()
    {
        var (_, browser) = await BrowserAsync();
        await browser.GetAsync("/csrf-token"); // this browser's own secret cookie
        var other = app.CreateClient();
        var othersToken = (await other.GetFromJsonAsync<JsonElement>("/csrf-token")).GetProperty("csrfToken").GetString()!;

        var response = await browser.SendAsync(Put("/profile", new { full_name = "Changed By Forgery" }, othersToken));

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Equal("csrf_token_invalid", await AccessTests.CodeAsync(response));
    }

    [Fact]
    public async Task A_csrf_token_without_the_secret_cookie_does_not_work()
    {
        var (_, browser) = await BrowserAsync();
        var othersToken = (await app.CreateClient().GetFromJsonAsync<JsonElement>("/csrf-token")).GetProperty("csrfToken").GetString()!;

        var response = await browser.SendAsync(Put("/profile", new { full_name = "Changed By Forgery" }, othersToken));

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
    }

    [Fact]
    public async Task A_cookie_deletion_without_a_csrf_token_is_refused_and_the_account_stays()
    {
        var (account, browser) = await BrowserAsync();

        // The right password: only the missing CSRF token stops this.
        var response = await browser.SendAsync(PrintFactory.Json(HttpMethod.Delete, "/profile", new { password = account.Password }));

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Equal("csrf_token_invalid", await AccessTests.CodeAsync(response));
        Assert.Equal(HttpStatusCode.OK, (await app.Bearer(account).GetAsync("/profile")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await browser.GetAsync("/profile")).StatusCode);
    }

    [Fact]
    public async Task A_cookie_deletion_with_the_csrf_token_deletes_the_account_and_clears_the_cookie()
    {
        var (account, browser) = await BrowserAsync();
        await PrintFactory.AddCsrfTokenAsync(browser);

        var response = await browser.SendAsync(PrintFactory.Json(HttpMethod.Delete, "/profile", new { password = account.Password }));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains(response.Headers.GetValues("Set-Cookie"), c => c.StartsWith("token=;", StringComparison.Ordinal));
        var bearer = await app.Bearer(account).GetAsync("/profile");
        Assert.Equal(HttpStatusCode.Unauthorized, bearer.StatusCode);
        Assert.Equal("session_ended", await AccessTests.CodeAsync(bearer));
        Assert.Equal(HttpStatusCode.Unauthorized, (await browser.GetAsync("/profile")).StatusCode);
    }

    [Theory]
    [InlineData("X-XSRF-Token")]
    [InlineData("CSRF-Token")]
    public async Task The_csrf_token_is_also_accepted_under_other_common_header_names(string header)
    {
        var (_, browser) = await BrowserAsync();
        var token = (await browser.GetFromJsonAsync<JsonElement>("/csrf-token")).GetProperty("csrfToken").GetString()!;
        var request = PrintFactory.Json(HttpMethod.Put, "/profile", new { full_name = "Other Header" });
        request.Headers.Add(header, token);

        var response = await browser.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task A_password_change_in_the_browser_renews_the_cookie_and_revokes_other_sessions()
    {
        var (account, browser) = await BrowserAsync();
        await PrintFactory.AddCsrfTokenAsync(browser);

        var changed = await browser.SendAsync(Put("/profile", new { password = "new-password-123", current_password = account.Password }));

        Assert.Equal(HttpStatusCode.OK, changed.StatusCode);
        var token = (await changed.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("token").GetString()!;
        var cookie = Assert.Single(changed.Headers.GetValues("Set-Cookie"), c => c.StartsWith("token=", StringComparison.Ordinal));
        Assert.StartsWith($"token={token};", cookie);
        // The browser carries on with the new cookie (and the same CSRF token); the app's older bearer token is revoked.
        Assert.Equal(HttpStatusCode.OK, (await browser.GetAsync("/profile")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await browser.SendAsync(Put("/profile", new { full_name = "Still Signed In" }))).StatusCode);
        var old = await app.Bearer(account).GetAsync("/profile");
        Assert.Equal(HttpStatusCode.Unauthorized, old.StatusCode);
        Assert.Equal("session_ended", await AccessTests.CodeAsync(old));
    }

    [Fact]
    public async Task A_bearer_client_needs_no_csrf_token()
    {
        var account = await app.SignUpAsync();

        var response = await app.Bearer(account).SendAsync(Put("/profile", new { full_name = "Changed By The App" }));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task A_bearer_header_wins_over_the_cookie_and_needs_no_csrf_token()
    {
        var (account, browser) = await BrowserAsync();
        var request = Put("/profile", new { full_name = "Both" });
        request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", account.Token);

        var response = await browser.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task The_admin_update_by_cookie_needs_the_csrf_token()
    {
        var browser = await app.CookieClientAsync(PrintFactory.AdminEmail, PrintFactory.AdminPassword);
        var body = new { windows_coming_soon = false, windows_shopkeeper_url = "https://downloads.example.test/shop.exe" };

        var refused = await browser.SendAsync(Put("/admin/app-downloads", body));
        Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
        Assert.Equal("csrf_token_invalid", await AccessTests.CodeAsync(refused));
        Assert.True((await app.CreateClient().GetFromJsonAsync<JsonElement>("/app-downloads")).GetProperty("windows_coming_soon").GetBoolean());

        await PrintFactory.AddCsrfTokenAsync(browser);
        var accepted = await browser.SendAsync(Put("/admin/app-downloads", body));

        Assert.Equal(HttpStatusCode.OK, accepted.StatusCode);
        var downloads = await app.CreateClient().GetFromJsonAsync<JsonElement>("/app-downloads");
        Assert.False(downloads.GetProperty("windows_coming_soon").GetBoolean());
        Assert.Equal("https://downloads.example.test/shop.exe", downloads.GetProperty("windows_shopkeeper_url").GetString());
    }

    [Fact]
    public async Task Logout_expires_the_cookie_and_the_browser_is_signed_out()
    {
        var (_, browser) = await BrowserAsync();
        Assert.Equal(HttpStatusCode.OK, (await browser.GetAsync("/profile")).StatusCode);

        var response = await browser.PostAsync("/logout", null);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("Logged out successfully", (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("message").GetString());
        var cleared = Assert.Single(response.Headers.GetValues("Set-Cookie"), c => c.StartsWith("token=", StringComparison.Ordinal));
        Assert.StartsWith("token=;", cleared);
        Assert.Contains("expires=Thu, 01 Jan 1970", cleared, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("path=/", cleared, StringComparison.OrdinalIgnoreCase);

        var after = await browser.GetAsync("/profile");
        Assert.Equal(HttpStatusCode.Unauthorized, after.StatusCode);
        Assert.Equal("unauthorized", await AccessTests.CodeAsync(after));
    }

    [Fact]
    public async Task Signing_in_sets_an_http_only_lax_session_cookie()
    {
        var account = await app.SignUpAsync();

        var response = await app.CreateClient().PostAsJsonAsync("/login", new { username = account.Username, password = account.Password });

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var cookie = Assert.Single(response.Headers.GetValues("Set-Cookie"), c => c.StartsWith("token=", StringComparison.Ordinal));
        Assert.Contains("httponly", cookie, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("samesite=lax", cookie, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("max-age=604800", cookie, StringComparison.OrdinalIgnoreCase);
    }
}

/// <summary>The print app with small limits: 3 sign-in attempts per IP and per identifier, a 30 s resend cooldown, 2 invites a day.</summary>
public sealed class TightLimitsFactory : PrintFactory
{
    private int _ip;

    public TightLimitsFactory()
    {
        With("RateLimits:Auth:PermitLimit", "3");
        With("OneTimeCodes:ResendAfter", "00:00:30");
        With("Print:Referral:InvitesPerDay", "2");
    }

    /// <summary>A client address no other test uses, so the per-IP windows (on the real clock) never overlap.</summary>
    public string NewIp()
    {
        var n = Interlocked.Increment(ref _ip);
        return $"10.77.{n / 250}.{n % 250 + 1}";
    }

    /// <summary>A customer created directly (sign-up through the API would spend the tight per-IP budget), signed in from a fresh IP.</summary>
    public async Task<PrintAccount> CustomerAsync()
    {
        var username = Unique("tight");
        var email = username + "@example.test";
        var result = await Get<PrintAccounts>().RegisterAsync(new Registration("Tight " + username, username, email, null,
            DefaultPassword, "customer", null, null, null, null, null));
        Assert.NotNull(result.User);
        var response = await CreateClient().SendAsync(Json(HttpMethod.Post, "/login", new { username, password = DefaultPassword }, clientIp: NewIp()));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var token = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("token").GetString()!;
        return new PrintAccount(result.User!.Id, username, email, DefaultPassword, "customer", token);
    }
}

/// <summary>
/// The limits on sign-in, sign-up and codes (per client IP for the whole group, per identifier across IPs), the
/// resend cooldown of emailed codes, and the referral invite budget.
/// </summary>
public sealed class RateLimitTests(TightLimitsFactory app) : IClassFixture<TightLimitsFactory>
{
    private Task<HttpResponseMessage> PostAsync(string path, object body, string ip, string? token = null) =>
        app.CreateClient().SendAsync(PrintFactory.Json(HttpMethod.Post, path, body, token, ip));

    private static async Task AssertTooManyAsync(HttpResponseMessage response, string what, string code = "too_many_requests")
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.TooManyRequests, $"{what}: expected 429, got {(int)response.StatusCode}: {text}");
        Assert.True(response.Headers.RetryAfter?.Delta is { TotalSeconds: >= 1 }, $"{what}: no Retry-After in seconds: {response.Headers}");
        var error = JsonDocument.Parse(text).RootElement;
        Assert.Equal(code, error.GetProperty("code").GetString());
        Assert.False(string.IsNullOrEmpty(error.GetProperty("error").GetString()));
    }

    [Fact]
    public async Task Logins_from_one_ip_are_limited_and_another_ip_is_still_served()
    {
        var ip = app.NewIp();
        for (var i = 0; i < 3; i++)
        {
            var attempt = await PostAsync("/login", new { username = app.Unique("nobody"), password = "wrong-password" }, ip);
            Assert.True(attempt.StatusCode == HttpStatusCode.Unauthorized, $"attempt {i + 1}: {(int)attempt.StatusCode}");
        }

        var fourth = await PostAsync("/login", new { username = app.Unique("nobody"), password = "wrong-password" }, ip);
        await AssertTooManyAsync(fourth, "4th login from one IP");

        var elsewhere = await PostAsync("/login", new { username = app.Unique("nobody"), password = "wrong-password" }, app.NewIp());
        Assert.Equal(HttpStatusCode.Unauthorized, elsewhere.StatusCode);
        Assert.Equal("invalid_credentials", await AccessTests.CodeAsync(elsewhere));
    }

    [Fact]
    public async Task Login_register_and_code_endpoints_share_one_budget_per_ip()
    {
        var ip = app.NewIp();
        Assert.Equal(HttpStatusCode.Unauthorized,
            (await PostAsync("/login", new { username = app.Unique("nobody"), password = "wrong-password" }, ip)).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized,
            (await PostAsync("/login", new { username = app.Unique("nobody"), password = "wrong-password" }, ip)).StatusCode);
        var email = app.Unique("shared") + "@example.test";
        Assert.Equal(HttpStatusCode.OK, (await PostAsync("/register/send-otp", new { email }, ip)).StatusCode);

        var verify = await PostAsync("/register/verify-otp", new { email, code = await app.LatestCodeAsync(email) }, ip);
        await AssertTooManyAsync(verify, "verify-otp after 2 logins and a send-otp from one IP");

        // The code was not spent by the refused attempt: from another address it still verifies.
        var elsewhere = await PostAsync("/register/verify-otp", new { email, code = await app.LatestCodeAsync(email) }, app.NewIp());
        Assert.Equal(HttpStatusCode.OK, elsewhere.StatusCode);
    }

    [Theory]
    [InlineData("/login/request-otp")]
    [InlineData("/forgot-password")]
    [InlineData("/register")]
    public async Task Other_auth_endpoints_are_in_the_same_per_ip_group(string path)
    {
        var ip = app.NewIp();
        for (var i = 0; i < 3; i++)
            Assert.Equal(HttpStatusCode.Unauthorized,
                (await PostAsync("/login", new { username = app.Unique("nobody"), password = "wrong-password" }, ip)).StatusCode);

        object body = path == "/register"
            ? new { full_name = "Someone", username = app.Unique("someone"), email = app.Unique("someone") + "@example.test", password = "long-enough-1" }
            : path == "/login/request-otp" ? new { login = app.Unique("someone") + "@example.test" } : new { email = app.Unique("someone") + "@example.test" };
        await AssertTooManyAsync(await PostAsync(path, body, ip), path + " after 3 logins from one IP");
    }

    [Fact]
    public async Task Logins_for_one_username_are_limited_across_ips()
    {
        var username = app.Unique("target");
        for (var i = 0; i < 3; i++)
        {
            var attempt = await PostAsync("/login", new { username, password = "guess-" + i }, app.NewIp());
            Assert.True(attempt.StatusCode == HttpStatusCode.Unauthorized, $"attempt {i + 1}: {(int)attempt.StatusCode}");
        }

        var fourthIp = app.NewIp();
        var fourth = await PostAsync("/login", new { username, password = "guess-3" }, fourthIp);
        await AssertTooManyAsync(fourth, "4th login for one username from a 4th IP");

        // The identifier is normalised: case and spaces do not give a fresh budget.
        await AssertTooManyAsync(await PostAsync("/login", new { username = " " + username.ToUpperInvariant() + " ", password = "guess-4" }, app.NewIp()),
            "the same username in other case");

        // The 4th IP itself still has budget for other usernames.
        Assert.Equal(HttpStatusCode.Unauthorized,
            (await PostAsync("/login", new { username = app.Unique("other"), password = "guess" }, fourthIp)).StatusCode);
    }

    [Fact]
    public async Task A_real_account_is_also_protected_by_the_per_identifier_limit()
    {
        var account = await app.CustomerAsync(); // one sign-in already used
        for (var i = 0; i < 2; i++)
            Assert.Equal(HttpStatusCode.Unauthorized,
                (await PostAsync("/login", new { username = account.Username, password = "wrong-" + i }, app.NewIp())).StatusCode);

        // Even the right password is refused once the budget is spent: nothing is learnt from the answer.
        await AssertTooManyAsync(await PostAsync("/login", new { username = account.Username, password = account.Password }, app.NewIp()),
            "right password after the budget is spent");
    }

    [Fact]
    public async Task The_per_identifier_login_limit_covers_every_identifier_of_the_account()
    {
        var account = await app.CustomerAsync(); // one attempt on the username already used
        for (var i = 0; i < 2; i++)
            Assert.Equal(HttpStatusCode.Unauthorized,
                (await PostAsync("/login", new { username = account.Username, password = "wrong-" + i }, app.NewIp())).StatusCode);
        await AssertTooManyAsync(await PostAsync("/login", new { username = account.Username, password = "wrong-3" }, app.NewIp()),
            "4th attempt by username");

        // The same account, by its email address: the budget is spent, so this must be refused as well.
        var byEmail = await PostAsync("/login", new { username = account.Email, password = "wrong-4" }, app.NewIp());
        await AssertTooManyAsync(byEmail, "5th attempt on the account, by email");
    }

    [Fact]
    public async Task A_signup_code_cannot_be_resent_within_the_cooldown()
    {
        var email = app.Unique("cooldown") + "@example.test";
        Assert.Equal(HttpStatusCode.OK, (await PostAsync("/register/send-otp", new { email }, app.NewIp())).StatusCode);
        var first = (await app.Get<Serverless.Platform.Email.Outbox>().LatestAsync(email))!;

        var again = await PostAsync("/register/send-otp", new { email }, app.NewIp());
        await AssertTooManyAsync(again, "second send-otp within 30 s");
        Assert.Equal(TimeSpan.FromSeconds(30), again.Headers.RetryAfter!.Delta);

        app.Time.Advance(TimeSpan.FromSeconds(31));
        var later = await PostAsync("/register/send-otp", new { email }, app.NewIp());

        Assert.Equal(HttpStatusCode.OK, later.StatusCode);
        // A second email went out.
        var second = (await app.Get<Serverless.Platform.Email.Outbox>().LatestAsync(email))!;
        Assert.NotEqual(first.Id, second.Id);
    }

    [Fact]
    public async Task Referral_invites_are_limited_per_day()
    {
        var customer = await app.CustomerAsync();
        var client = app.WithToken(customer.Token);

        for (var i = 0; i < 2; i++)
        {
            var sent = await client.PostAsJsonAsync("/referral/invite", new { email = $"friend{i}-{customer.Username}@example.test" });
            Assert.Equal(HttpStatusCode.OK, sent.StatusCode);
            var body = await sent.Content.ReadFromJsonAsync<JsonElement>();
            Assert.True(body.GetProperty("ok").GetBoolean());
            Assert.Equal("Invite sent.", body.GetProperty("message").GetString());
        }

        var third = await client.PostAsJsonAsync("/referral/invite", new { email = $"friend2-{customer.Username}@example.test" });
        await AssertTooManyAsync(third, "3rd invite in a day", "too_many_invites");
        Assert.Equal(TimeSpan.FromHours(24), third.Headers.RetryAfter!.Delta);

        // Another customer has a budget of their own.
        var other = await app.CustomerAsync();
        Assert.Equal(HttpStatusCode.OK,
            (await app.WithToken(other.Token).PostAsJsonAsync("/referral/invite", new { email = $"friend-{other.Username}@example.test" })).StatusCode);

        app.Time.Advance(TimeSpan.FromHours(24));
        var nextDay = await client.PostAsJsonAsync("/referral/invite", new { email = $"friend3-{customer.Username}@example.test" });

        Assert.Equal(HttpStatusCode.OK, nextDay.StatusCode);
    }
}
