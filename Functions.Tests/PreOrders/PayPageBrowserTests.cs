using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using OpenQA.Selenium;
using OpenQA.Selenium.Chromium;
using Serverless.Tests.Infrastructure;

namespace Serverless.Tests.PreOrders;

/// <summary>
/// The pre-orders app on a real socket (Kestrel on 127.0.0.1, on a port the system picks), so a browser can open its
/// payment pages. The page counts down with the browser's clock, so the app's fake clock starts at the real time: a
/// pre-order due in an hour shows an hour left, as a customer would see it.
/// </summary>
public sealed class PayPageBrowserFactory : PreOrdersFactory
{
    // The public base URL is where the payment provider sends the customer back: this very listener.
    public PayPageBrowserFactory() => ServeOnLoopback();

    public override async Task InitializeAsync()
    {
        CatchUpWithRealTime();
        await base.InitializeAsync();
    }

    /// <summary>
    /// Moves the fake clock to the real time, when that is ahead (a fake clock only moves forward): on a machine whose
    /// clock is behind the fake one, pages show more time left than the app counts with.
    /// </summary>
    public void CatchUpWithRealTime()
    {
        var realNow = DateTimeOffset.UtcNow;
        if (realNow > Time.GetUtcNow())
            Time.SetUtcNow(realNow);
    }

    public string PayPageUrl(string id) => new Uri(BaseAddress, "/pay/" + Uri.EscapeDataString(id)).ToString();
}

/// <summary>
/// The payment page in headless Chromium: what a customer sees, paying on it, and the live status changing by itself
/// (no reload) when the pre-order is paid elsewhere, cancelled by the merchant or expires.
/// </summary>
public sealed class PayPageBrowserTests(PayPageBrowserFactory app, HeadlessChromium browser)
    : IClassFixture<PayPageBrowserFactory>, IClassFixture<HeadlessChromium>
{
    private IWebDriver Page => browser.Driver;

    [Fact]
    public async Task Paying_through_the_sandbox_checkout_brings_the_customer_back_to_a_paid_page()
    {
        var merchant = await app.MerchantClientAsync();
        var id = await CreateAsync(merchant, TimeSpan.FromHours(1), 49.90m, "EUR", "Early-bird concert ticket");

        Open(id);
        Assert.Equal("127.0.0.1", new Uri(Page.Url).Host);
        Assert.Equal("Pay 49.90 EUR", Page.Title);
        Assert.Equal("49.90 EUR", Page.FindElement(By.Id("amount")).Text);
        Assert.Equal("Early-bird concert ticket", Page.FindElement(By.Id("description")).Text);
        Assert.True(Script<bool>("const qr = document.getElementById('qr'); return qr.complete && qr.naturalWidth > 0;"),
            "the QR code image did not load");
        Assert.Equal("pending", Status());
        Assert.Matches(@"^(\d+d )?\d{2}:\d{2}:\d{2}$", Page.FindElement(By.Id("countdown")).Text);
        var countdown = Page.FindElement(By.Id("countdown")).Text;
        browser.WaitFor(d => d.FindElement(By.Id("countdown")).Text != countdown, "the countdown to tick");

        Page.FindElement(By.Id("pay")).Click();

        // The provider's checkout: here the sandbox's, which says that no money moves.
        browser.WaitFor(d => d.Url.Contains("/payments/sandbox/", StringComparison.Ordinal), "the sandbox checkout page");
        Assert.Contains("no money moves", Page.FindElement(By.ClassName("banner")).Text);
        Assert.Equal("49.90 EUR", Page.FindElement(By.Id("amount")).Text);
        Page.FindElement(By.Id("fail")).Click();
        browser.WaitFor(d => d.FindElements(By.Id("failed")).Count == 1, "the failed attempt to show");
        Assert.Equal("pending", await ApiStatusAsync(merchant, id));
        Page.FindElement(By.Id("pay")).Click();

        browser.WaitFor(d => d.Url == app.PayPageUrl(id), "the way back to the pay page");
        WaitForStatus("paid");
        Assert.Equal("Payment received. Thank you!", Page.FindElement(By.Id("message")).Text);
        AssertNothingLeftToPay("Paid 49.90 EUR");
        Assert.Equal("paid", await ApiStatusAsync(merchant, id));
        var order = await merchant.GetFromJsonAsync<JsonElement>($"/api/pre-orders/{id}");
        Assert.StartsWith("sbpay_", order.GetProperty("payment_details").GetProperty("transaction_id").GetString());
        AssertNoConsoleErrors();
    }

    [Fact]
    public async Task The_page_turns_paid_by_itself_when_another_client_pays()
    {
        var merchant = await app.MerchantClientAsync();
        var id = await CreateAsync(merchant, TimeSpan.FromHours(1));
        Open(id);
        Assert.Equal("pending", Status());
        Assert.Equal("Pay 100.00 USD", Page.FindElement(By.Id("heading")).Text);
        Assert.Single(Page.FindElements(By.Id("qr")));

        var paid = await app.PayAsync(id);

        Assert.Equal(HttpStatusCode.OK, paid.StatusCode);
        WaitForStatus("paid");
        Assert.True(StillTheSamePage(), "the page was reloaded");
        Assert.Equal("Payment received. Thank you!", Page.FindElement(By.Id("message")).Text);
        AssertNothingLeftToPay("Paid 100.00 USD");
        AssertNoConsoleErrors();
    }

    [Fact]
    public async Task The_page_shows_cancelled_by_itself_when_the_merchant_cancels()
    {
        var merchant = await app.MerchantClientAsync();
        var id = await CreateAsync(merchant, TimeSpan.FromHours(1));
        Open(id);
        Assert.Equal("pending", Status());

        var cancel = await merchant.PostAsync($"/api/pre-orders/{id}/cancel", null);

        Assert.Equal(HttpStatusCode.OK, cancel.StatusCode);
        WaitForStatus("cancelled");
        Assert.True(StillTheSamePage(), "the page was reloaded");
        Assert.Equal("This pre-order can no longer be paid.", Page.FindElement(By.Id("message")).Text);
        AssertNothingLeftToPay("This pre-order was cancelled");
        AssertNoConsoleErrors();
    }

    [Fact]
    public async Task The_page_shows_expired_by_itself_when_the_deadline_passes()
    {
        var merchant = await app.MerchantClientAsync();
        var id = await CreateAsync(merchant, TimeSpan.FromMinutes(1));
        Open(id);
        Assert.Equal("pending", Status());

        app.Time.Advance(TimeSpan.FromMinutes(1) + TimeSpan.FromSeconds(1));

        WaitForStatus("expired");
        Assert.True(StillTheSamePage(), "the page was reloaded");
        Assert.Equal("This pre-order can no longer be paid.", Page.FindElement(By.Id("message")).Text);
        AssertNothingLeftToPay("This payment link has expired");
        Assert.Equal("expired", await ApiStatusAsync(merchant, id));
        AssertNoConsoleErrors();
    }

    [Fact]
    public async Task A_page_opened_after_payment_shows_paid_and_nothing_to_pay()
    {
        var merchant = await app.MerchantClientAsync();
        var id = await CreateAsync(merchant, TimeSpan.FromHours(1));
        Assert.Equal(HttpStatusCode.OK, (await app.PayAsync(id)).StatusCode);

        Open(id);

        Assert.Equal("paid", Status());
        Assert.Equal("Payment received. Thank you!", Page.FindElement(By.Id("message")).Text);
        AssertNothingLeftToPay("Paid 100.00 USD");
        AssertNoConsoleErrors();
    }

    [Fact]
    public async Task A_payment_that_cannot_reach_the_server_says_so_and_can_be_tried_again()
    {
        var merchant = await app.MerchantClientAsync();
        var id = await CreateAsync(merchant, TimeSpan.FromHours(1));
        Open(id);

        browser.Driver.NetworkConditions = new ChromiumNetworkConditions { IsOffline = true };
        try
        {
            Page.FindElement(By.Id("pay")).Click();
            browser.WaitFor(d => d.FindElement(By.Id("pay")).Enabled, "the Pay button to be enabled again");
        }
        finally
        {
            browser.Driver.ClearNetworkConditions();
        }

        Assert.Equal("Could not reach the payment service. Check your connection and try again.", Page.FindElement(By.Id("message")).Text);
        Assert.Equal("pending", Status());
        Assert.Equal("pending", await ApiStatusAsync(merchant, id));

        Page.FindElement(By.Id("pay")).Click();
        browser.WaitFor(d => d.Url.Contains("/payments/sandbox/", StringComparison.Ordinal), "the sandbox checkout page");
        Page.FindElement(By.Id("pay")).Click();

        browser.WaitFor(d => d.Url == app.PayPageUrl(id), "the way back to the pay page");
        WaitForStatus("paid");
        Assert.Equal("Payment received. Thank you!", Page.FindElement(By.Id("message")).Text);
    }

    private async Task<string> CreateAsync(HttpClient merchant, TimeSpan expiresIn, decimal amount = 100.00m,
        string currency = "USD", string description = "Pre-order for product X")
    {
        app.CatchUpWithRealTime();
        var response = await merchant.PostAsJsonAsync("/api/pre-orders",
            PreOrdersFactory.Body(app.In(expiresIn), amount, currency, description));
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString()!;
    }

    private static async Task<string?> ApiStatusAsync(HttpClient merchant, string id) =>
        (await merchant.GetFromJsonAsync<JsonElement>($"/api/pre-orders/{id}")).GetProperty("status").GetString();

    /// <summary>Opens the page, waits until its script has run (the countdown is filled in), and marks the document.</summary>
    private void Open(string id)
    {
        browser.ConsoleLog(); // start each test with an empty console
        Page.Navigate().GoToUrl(app.PayPageUrl(id));
        // textContent, not Text: once the pre-order is settled the countdown is hidden, yet still filled in.
        browser.WaitFor(d => d.FindElement(By.Id("countdown")).GetDomProperty("textContent")!.Length > 0, "the page's script to start");
        Script<object>("window.openedByTheTest = true; return null;");
    }

    /// <summary>A settled page: the heading says the outcome (and so does the title), and the QR code, the countdown and the button are gone.</summary>
    private void AssertNothingLeftToPay(string heading)
    {
        Assert.Equal(heading, Page.FindElement(By.Id("heading")).Text);
        Assert.Equal(heading, Page.Title);
        Assert.Empty(Page.FindElements(By.Id("amount")));
        Assert.Empty(Page.FindElements(By.Id("qr")));
        Assert.Empty(Page.FindElements(By.Id("pay")));
        Assert.False(Page.FindElement(By.Id("countdown-line")).Displayed);
    }

    /// <summary>A reload or a navigation would have lost the mark <see cref="Open"/> set.</summary>
    private bool StillTheSamePage() => Script<bool>("return window.openedByTheTest === true;");

    private string? Status()
    {
        var status = Page.FindElement(By.Id("status"));
        Assert.Equal(status.Text, status.GetAttribute("data-status"));
        return status.Text;
    }

    private void WaitForStatus(string expected) =>
        browser.WaitFor(d => d.FindElement(By.Id("status")).GetAttribute("data-status") == expected, $"the status to show '{expected}'");

    private T Script<T>(string script) => (T)((IJavaScriptExecutor)Page).ExecuteScript(script)!;

    private void AssertNoConsoleErrors() => browser.AssertNoConsoleErrors();
}
