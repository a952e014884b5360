using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.RegularExpressions;
using OpenQA.Selenium;
using Serverless.Platform.Email;
using Serverless.Tests.Infrastructure;

namespace Serverless.Tests.Print.Accounts;

/// <summary>
/// The print-shop app on a real socket, as a deployment without a separate web app runs it: <c>Print__PublicWebUrl</c>
/// unset, so the links the emails and the profile hand out point at this app's <c>PublicBaseUrl</c>.
/// </summary>
public sealed class AccountPagesBrowserFactory : PrintFactory
{
    public AccountPagesBrowserFactory()
    {
        ServeOnLoopback();
        With("Print:PublicWebUrl", "");
    }
}

/// <summary>
/// The pages behind the emailed links in headless Chromium: setting a new password from a real reset email, what the
/// reset page says when the password or the link is refused, and the referral landing page a friend's link opens.
/// </summary>
public sealed class AccountPagesBrowserTests(AccountPagesBrowserFactory app, HeadlessChromium browser)
    : IClassFixture<AccountPagesBrowserFactory>, IClassFixture<HeadlessChromium>
{
    private const string RefusedReset = "/reset-password - Failed to load resource: the server responded with a status of 400";

    private IWebDriver Page => browser.Driver;

    [Fact]
    public async Task The_emailed_reset_link_opens_a_page_that_sets_the_new_password_once()
    {
        var customer = await app.SignUpAsync();
        var link = await ResetLinkAsync(customer);
        Assert.StartsWith(new Uri(app.BaseAddress, "/reset-password?token=").ToString(), link);

        Open(link);
        Assert.Equal("Reset your QPrint password", Page.Title);
        Assert.Equal("Choose a new password", Page.FindElement(By.Id("heading")).Text);
        Submit("brand-new-password", "brand-new-password");

        WaitForMessage("Your password has been reset. Sign in with the new password.");
        Assert.Equal("done", Page.FindElement(By.Id("message")).GetAttribute("data-kind"));
        Assert.Equal("Password changed", Page.FindElement(By.Id("heading")).Text);
        Assert.Empty(Page.FindElements(By.Id("reset")));
        browser.AssertNoConsoleErrors();

        Assert.Equal(HttpStatusCode.OK, (await LoginAsync(customer.Username, "brand-new-password")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await LoginAsync(customer.Username, customer.Password)).StatusCode);

        // The link works once: opened again, the page says so and offers no form.
        Open(link);
        Submit("another-new-password", "another-new-password");
        WaitForMessage("This reset link is invalid, already used or expired; request a new one.");
        Assert.Equal("This link no longer works", Page.FindElement(By.Id("heading")).Text);
        Assert.Empty(Page.FindElements(By.Id("reset")));
        Assert.Equal(HttpStatusCode.Unauthorized, (await LoginAsync(customer.Username, "another-new-password")).StatusCode);
        browser.AssertNoConsoleErrors(m => m.Contains(RefusedReset, StringComparison.Ordinal));
    }

    [Fact]
    public async Task The_reset_page_says_why_a_password_is_refused_and_the_link_keeps_working()
    {
        var customer = await app.SignUpAsync();
        Open(await ResetLinkAsync(customer));

        Submit("first-new-password", "first-new-passw0rd");
        WaitForMessage("The two passwords do not match.");
        Assert.Equal("error", Page.FindElement(By.Id("message")).GetAttribute("data-kind"));

        Submit("short", "short");
        WaitForMessage("'password' must be 8 to 128 characters.");
        Assert.True(Page.FindElement(By.Id("submit")).Enabled);

        Submit("password123", "password123");
        WaitForMessage("'password' is one of the most common passwords; choose another.");

        // None of these used the link: it still sets a good password.
        Submit("a-good-new-password", "a-good-new-password");
        WaitForMessage("Your password has been reset. Sign in with the new password.");
        Assert.Equal(HttpStatusCode.OK, (await LoginAsync(customer.Username, "a-good-new-password")).StatusCode);
        browser.AssertNoConsoleErrors(m => m.Contains(RefusedReset, StringComparison.Ordinal));
    }

    [Fact]
    public async Task An_expired_reset_link_says_so_on_the_page()
    {
        var customer = await app.SignUpAsync();
        var link = await ResetLinkAsync(customer);
        app.Time.Advance(TimeSpan.FromHours(1));

        Open(link);
        Submit("too-late-password", "too-late-password");

        WaitForMessage("This reset link is invalid, already used or expired; request a new one.");
        Assert.Empty(Page.FindElements(By.Id("reset")));
        Assert.Equal(HttpStatusCode.OK, (await LoginAsync(customer.Username, customer.Password)).StatusCode);
    }

    [Fact]
    public async Task A_referral_link_opens_a_page_with_the_code_to_sign_up_with_and_the_app_downloads()
    {
        var admin = app.WithToken(await app.AdminTokenAsync());
        var downloads = await admin.PutAsJsonAsync("/admin/app-downloads", new
        {
            windows_shopkeeper_url = "https://downloads.example.test/shop.exe",
            android_customer_url = "https://play.example.test/store/apps/qprint",
            ios_customer_url = "",
            windows_coming_soon = false,
            android_coming_soon = false,
            ios_coming_soon = true,
        });
        Assert.Equal(HttpStatusCode.OK, downloads.StatusCode);
        var referrer = await app.SignUpAsync();
        var profile = await app.Bearer(referrer).GetFromJsonAsync<JsonElement>("/profile");
        var code = profile.GetProperty("referral_code").GetString()!;
        var link = profile.GetProperty("referral_link").GetString()!;
        Assert.Equal(new Uri(app.BaseAddress, "/r/" + code).ToString(), link);

        Open(link);

        Assert.Equal("You're invited to QPrint", Page.Title);
        Assert.Equal("You're invited to QPrint", Page.FindElement(By.TagName("h1")).Text);
        Assert.Equal(code, Page.FindElement(By.Id("code")).Text);
        Assert.Equal("Enter it when you sign up and get ₹25 in your wallet after your first top-up or print.", Page.FindElement(By.Id("how")).Text);
        Assert.Equal("https://play.example.test/store/apps/qprint", Page.FindElement(By.CssSelector("#android a")).GetAttribute("href"));
        Assert.Equal("iPhone: Coming soon", Page.FindElement(By.Id("ios")).Text);
        Assert.Empty(Page.FindElements(By.CssSelector("#ios a")));
        // Referral codes are for customers: the shopkeeper's app is not offered, and the referrer is not named.
        Assert.DoesNotContain("shop.exe", Page.PageSource);
        Assert.DoesNotContain(referrer.Username, Page.PageSource);
        browser.AssertNoConsoleErrors();

        // The code the page shows is the one sign-up takes.
        var friend = await app.SignUpAsync(referralCode: Page.FindElement(By.Id("code")).Text);
        var history = await app.Bearer(referrer).GetFromJsonAsync<JsonElement>("/referral/history");
        Assert.Equal("pending", Assert.Single(history.GetProperty("referrals").EnumerateArray()).GetProperty("status").GetString());
        Assert.NotEqual(referrer.Id, friend.Id);
    }

    [Fact]
    public async Task A_referral_page_tells_nobody_whether_a_code_belongs_to_anyone_and_a_malformed_code_is_a_404_page()
    {
        var referrer = await app.SignUpAsync();
        var code = (await app.Bearer(referrer).GetFromJsonAsync<JsonElement>("/profile")).GetProperty("referral_code").GetString()!;
        var unused = code == "ZZZZ2222" ? "YYYY3333" : "ZZZZ2222";

        var real = await app.CreateClient().GetStringAsync("/r/" + code);
        var madeUp = await app.CreateClient().GetAsync("/r/" + unused.ToLowerInvariant());

        Assert.Equal(HttpStatusCode.OK, madeUp.StatusCode);
        Assert.Equal(WithoutNonce(real).Replace(code, "CODE", StringComparison.Ordinal),
            WithoutNonce(await madeUp.Content.ReadAsStringAsync()).Replace(unused, "CODE", StringComparison.Ordinal));

        Open(new Uri(app.BaseAddress, "/r/not-a-code").ToString());
        Assert.Equal("This invite link is not valid", Page.FindElement(By.TagName("h1")).Text);
        Assert.Single(Page.FindElements(By.Id("apps")));
        Assert.Empty(Page.FindElements(By.Id("code")));
        browser.AssertNoConsoleErrors(m => m.Contains("/r/not-a-code - Failed to load resource: the server responded with a status of 404", StringComparison.Ordinal));
        Assert.Equal(HttpStatusCode.NotFound, (await app.CreateClient().GetAsync("/r/not-a-code")).StatusCode);
    }

    /// <summary>Asks for a reset email and returns the link in it.</summary>
    private async Task<string> ResetLinkAsync(PrintAccount account)
    {
        var forgot = await app.CreateClient().PostAsJsonAsync("/forgot-password", new { email = account.Email });
        Assert.Equal(HttpStatusCode.OK, forgot.StatusCode);
        var mail = await app.Get<Outbox>().LatestAsync(account.Email);
        var link = Regex.Match(mail!.Text!, @"http://\S+/reset-password\?token=\S+");
        Assert.True(link.Success, mail.Text);
        return link.Value;
    }

    private Task<HttpResponseMessage> LoginAsync(string username, string password) =>
        app.CreateClient().PostAsJsonAsync("/login", new { username, password });

    /// <summary>Opens a page in a browser whose console starts empty.</summary>
    private void Open(string url)
    {
        browser.ConsoleLog();
        Page.Navigate().GoToUrl(url);
        browser.WaitFor(d => d.FindElement(By.TagName("h1")).Displayed, "the page to load");
    }

    private void Submit(string password, string confirm)
    {
        foreach (var (id, value) in new[] { ("password", password), ("confirm", confirm) })
        {
            var field = Page.FindElement(By.Id(id));
            field.Clear();
            field.SendKeys(value);
        }
        Page.FindElement(By.Id("submit")).Click();
    }

    private void WaitForMessage(string expected) =>
        browser.WaitFor(d => d.FindElement(By.Id("message")).Text == expected, $"the page to say '{expected}'");

    private static string WithoutNonce(string html) => Regex.Replace(html, "nonce=\"[^\"]+\"", "nonce=\"\"");
}
