using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using OpenQA.Selenium;
using OpenQA.Selenium.Support.UI;
using Serverless.Checkout.Orders;
using Serverless.Tests.Infrastructure;

namespace Serverless.Tests.Checkout;

/// <summary>
/// The checkout app on a real socket (Kestrel on 127.0.0.1, on a port the system picks), so a browser can open its
/// hosted checkout pages, with the store's own site beside it: a loopback server whose success and cancel pages the
/// checkout sends the customer back to, and which records every page it served.
/// </summary>
public sealed class CheckoutPageBrowserFactory : CheckoutFactory
{
    // The public base URL is where the payment provider sends the customer back: this very listener.
    public CheckoutPageBrowserFactory() => ServeOnLoopback();

    /// <summary>The store's site (<c>http://127.0.0.1:port</c>): <c>/thanks/{order}</c> and <c>/cancelled/{order}</c>.</summary>
    public string StoreSite { get; private set; } = null!;

    /// <summary>The paths of the store's site that were loaded, in order.</summary>
    public ConcurrentQueue<string> StoreSiteVisits { get; } = new();

    private WebApplication? _storeSite;

    public override async Task InitializeAsync()
    {
        (_storeSite, StoreSite) = await LoopbackServer.StartAsync(site =>
        {
            site.MapGet("/{page}/{order}", (string page, string order, HttpContext context) =>
            {
                StoreSiteVisits.Enqueue(context.Request.Path);
                var title = page == "thanks" ? "Thank you for your order" : "Your order was cancelled";
                // An empty icon, so the browser asks for no favicon (whose 404 would be a console error).
                return Results.Content(
                    $"<!doctype html><html><head><link rel=\"icon\" href=\"data:,\"><title>{title}</title></head>" +
                    $"<body><h1 id=\"store-page\">{title}</h1><p id=\"store-order\">{WebUtility.HtmlEncode(order)}</p></body></html>",
                    "text/html; charset=utf-8");
            });
        });
        StoreSite = StoreSite.TrimEnd('/');
        await base.InitializeAsync();
    }

    public override async ValueTask DisposeAsync()
    {
        if (_storeSite is not null)
            await _storeSite.DisposeAsync();
        await base.DisposeAsync();
    }

    public string PageUrl(string sessionToken) => new Uri(BaseAddress, "/checkout/" + sessionToken).ToString();

    public string SuccessUrl(string ecommerceOrderId) => $"{StoreSite}/thanks/{ecommerceOrderId}";

    public string CancelUrl(string ecommerceOrderId) => $"{StoreSite}/cancelled/{ecommerceOrderId}";
}

/// <summary>
/// The hosted checkout page in headless Chromium: what a customer sees, paying through the sandbox gateway and being
/// sent back to the store, reporting a crypto transfer, and the page following the order by itself (no reload) when
/// it is paid elsewhere or cancelled by the store; and links that open no checkout.
/// </summary>
public sealed class CheckoutPageBrowserTests(CheckoutPageBrowserFactory app, HeadlessChromium browser)
    : IClassFixture<CheckoutPageBrowserFactory>, IClassFixture<HeadlessChromium>
{
    private const string EthereumAddress = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed";

    /// <summary>How often a wait looks at the page where a state lasts only moments (the 1.5 s before a redirect).</summary>
    private static readonly TimeSpan QuickPolling = TimeSpan.FromMilliseconds(50);

    private IWebDriver Page => browser.Driver;

    private static string NewId() => "web-" + Guid.NewGuid().ToString("N")[..10];

    [Fact]
    public async Task A_new_order_shows_the_store_the_totals_with_the_markup_the_sandbox_button_and_the_wallet_with_its_coin_amount_and_QR()
    {
        var ecommerceOrderId = NewId();
        var (id, token) = await CreateOrderAsync(ecommerceOrderId);

        Open(token);

        Assert.Equal("127.0.0.1", new Uri(Page.Url).Host);
        Assert.Equal($"Checkout: order {ecommerceOrderId}", Page.Title);
        Assert.Equal("Store A", Page.FindElement(By.Id("store")).Text);
        Assert.Equal($"Order {ecommerceOrderId}", Page.FindElement(By.TagName("h1")).Text);
        Assert.Equal("Order total: 25.40 USD", Page.FindElement(By.Id("total")).Text);
        Assert.Equal("Store markup: 10%", Page.FindElement(By.Id("markup")).Text);
        Assert.Empty(Page.FindElements(By.Id("discount")));
        Assert.Equal("27.94 USD", Page.FindElement(By.Id("payable")).Text);
        Assert.Equal("pending", Status());
        Assert.Equal("", Page.FindElement(By.Id("message")).Text);
        Assert.True(Page.FindElement(By.Id("ways")).Displayed);
        var pay = Page.FindElement(By.Id("pay"));
        Assert.Equal("Pay (sandbox)", pay.Text);
        Assert.True(pay.Displayed && pay.Enabled);

        var wallet = Assert.Single(Page.FindElements(By.CssSelector(".wallet[data-protocol]")));
        Assert.Equal("ETHEREUM", wallet.GetAttribute("data-protocol"));
        Assert.Equal($"{ExpectedEthAmount(await OrderAsync(id))} ETH", wallet.FindElement(By.ClassName("coin-amount")).Text);
        var coins = decimal.Parse(wallet.FindElement(By.ClassName("coin-amount")).Text.Split(' ')[0], NumberStyles.Number, CultureInfo.InvariantCulture);
        Assert.True(coins > 0, $"the coin amount is {coins}");
        Assert.Equal(EthereumAddress, wallet.FindElement(By.ClassName("address")).Text);
        var qr = wallet.FindElement(By.CssSelector("img.qr"));
        Assert.StartsWith("data:image/png;base64,", qr.GetAttribute("src"));
        Assert.True(Script<bool>("const qr = document.querySelector('.wallet img.qr'); return qr.complete && qr.naturalWidth > 0;"),
            "the QR code image did not load");
        Assert.True(wallet.FindElement(By.ClassName("hash")).Displayed);
        Assert.Equal("I have sent it", wallet.FindElement(By.ClassName("sent")).Text);
        Assert.Equal(app.CancelUrl(ecommerceOrderId), Page.FindElement(By.Id("back")).GetAttribute("href"));
        AssertNoConsoleErrors();
    }

    [Fact]
    public async Task Paying_in_the_sandbox_confirms_the_order_and_sends_the_customer_to_the_stores_success_page_with_one_signed_callback()
    {
        var ecommerceOrderId = NewId();
        var (id, token) = await CreateOrderAsync(ecommerceOrderId);
        Open(token);

        Page.FindElement(By.Id("pay")).Click();

        // The provider's checkout: here the sandbox's, which says that no money moves.
        browser.WaitFor(d => d.Url.Contains("/payments/sandbox/", StringComparison.Ordinal), "the sandbox checkout page");
        Assert.Contains("no money moves", Page.FindElement(By.ClassName("banner")).Text);
        Assert.Equal("27.94 USD", Page.FindElement(By.Id("amount")).Text);
        Assert.Equal("pending", (await OrderAsync(id)).GetProperty("paymentStatus").GetString());
        Page.FindElement(By.Id("pay")).Click();

        // Back on the checkout page, which shows the payment confirmed, then (1.5 s later) sends the customer on.
        WaitQuickly(d => d.Url == app.PageUrl(token) && d.FindElement(By.Id("status")).GetAttribute("data-status") == "confirmed",
            "the checkout page to show 'confirmed'");
        Assert.StartsWith("Payment confirmed. Thank you!", Page.FindElement(By.Id("message")).Text);
        Assert.False(Page.FindElement(By.Id("ways")).Displayed);

        WaitForTheStorePage(app.SuccessUrl(ecommerceOrderId), "Thank you for your order");
        Assert.Equal(["/thanks/" + ecommerceOrderId], app.StoreSiteVisits.Where(v => v.EndsWith("/" + ecommerceOrderId, StringComparison.Ordinal)).ToArray());

        Assert.Equal("confirmed", (await OrderAsync(id)).GetProperty("paymentStatus").GetString());
        var callback = Assert.Single(await app.CallbacksAsync(app.StoreA, id));
        Assert.Equal("confirmed", callback.GetProperty("status").GetString());
        Assert.Equal("Payment was successful", callback.GetProperty("message").GetString());
        Assert.Equal(ecommerceOrderId, callback.GetProperty("ecommerceOrderId").GetString());
        Assert.Equal("sandbox", callback.GetProperty("transactions")[0].GetProperty("protocol").GetString());
        AssertNoConsoleErrors();
    }

    [Fact]
    public async Task The_page_turns_confirmed_by_itself_when_the_order_is_paid_elsewhere_and_then_sends_the_customer_back_to_the_store()
    {
        var ecommerceOrderId = NewId();
        var (id, token) = await CreateOrderAsync(ecommerceOrderId);
        Open(token);
        Assert.Equal("pending", Status());

        await app.PayInSandboxAsync(token);

        // The mark set on opening is read with the status: the page changed by itself, it was not reloaded.
        WaitQuickly(_ => Script<bool>("return window.openedByTheTest === true && document.getElementById('status').dataset.status === 'confirmed';"),
            "the open page to show 'confirmed'");
        Assert.Equal("Payment confirmed. Thank you! Taking you back to the store...", Page.FindElement(By.Id("message")).Text);
        WaitForTheStorePage(app.SuccessUrl(ecommerceOrderId), "Thank you for your order");
        Assert.Equal("confirmed", Assert.Single(await app.CallbacksAsync(app.StoreA, id)).GetProperty("status").GetString());
        AssertNoConsoleErrors();
    }

    [Fact]
    public async Task Reporting_a_crypto_transfer_puts_the_order_on_hold_hides_the_ways_to_pay_and_sends_one_on_hold_callback()
    {
        var ecommerceOrderId = NewId();
        var (id, token) = await CreateOrderAsync(ecommerceOrderId);
        Open(token);
        const string hash = "0x7a9c9aa39517d3d6e4f0c1b2a3d4e5f6";

        var wallet = Page.FindElement(By.CssSelector(".wallet[data-protocol='ETHEREUM']"));
        wallet.FindElement(By.ClassName("hash")).SendKeys(hash);
        wallet.FindElement(By.ClassName("sent")).Click();

        WaitForStatus("on-hold");
        Assert.True(StillTheSamePage(), "the page was reloaded");
        Assert.Equal("Thank you! Your transfer is waiting for confirmation.", Page.FindElement(By.Id("message")).Text);
        Assert.False(Page.FindElement(By.Id("ways")).Displayed);
        Assert.False(Page.FindElement(By.Id("pay")).Displayed);
        // The transfer is on its way: back to the store is its success page now, not its cancel page.
        Assert.Equal(app.SuccessUrl(ecommerceOrderId), Page.FindElement(By.Id("back")).GetAttribute("href"));

        var order = await OrderAsync(id);
        Assert.Equal("on-hold", order.GetProperty("paymentStatus").GetString());
        Assert.Equal(ExpectedEthAmount(order), order.GetProperty("convertedTotal").GetString());
        var callback = Assert.Single(await app.CallbacksAsync(app.StoreA, id));
        Assert.Equal("on-hold", callback.GetProperty("status").GetString());
        var transaction = Assert.Single(callback.GetProperty("transactions").EnumerateArray());
        Assert.Equal("ETHEREUM", transaction.GetProperty("protocol").GetString());
        Assert.Equal(hash, transaction.GetProperty("hash").GetString());

        // Opened again, the page still says so, and nothing can be paid from it.
        Open(token);
        Assert.Equal("on-hold", Status());
        Assert.False(Page.FindElement(By.Id("ways")).Displayed);
        Assert.Equal(app.SuccessUrl(ecommerceOrderId), Page.FindElement(By.Id("back")).GetAttribute("href"));
        Assert.Equal(new Uri(app.PageUrl(token)), new Uri(Page.Url));
        AssertNoConsoleErrors();
    }

    [Fact]
    public async Task A_transfer_the_app_refuses_says_why_and_the_message_stays_while_the_page_keeps_polling()
    {
        var ecommerceOrderId = NewId();
        var (id, token) = await CreateOrderAsync(ecommerceOrderId);
        Open(token);

        var wallet = Page.FindElement(By.CssSelector(".wallet[data-protocol='ETHEREUM']"));
        wallet.FindElement(By.ClassName("hash")).SendKeys("not a hash!");
        wallet.FindElement(By.ClassName("sent")).Click();

        const string why = "'transactionHash' must be 8 to 200 letters and digits.";
        browser.WaitFor(d => d.FindElement(By.Id("message")).Text == why, "the reason the transfer was refused");
        // Two more polls of the (unchanged) status have been answered: neither took the message away.
        var polls = StatusPolls();
        browser.WaitFor(_ => StatusPolls() >= polls + 2, "two more polls of the status");
        Assert.Equal(why, Page.FindElement(By.Id("message")).Text);
        Assert.Equal("pending", Status());
        Assert.True(Page.FindElement(By.Id("ways")).Displayed);
        Assert.True(wallet.FindElement(By.ClassName("sent")).Enabled);
        Assert.True(StillTheSamePage(), "the page was reloaded");

        Assert.Equal("pending", (await OrderAsync(id)).GetProperty("paymentStatus").GetString());
        Assert.Empty(await app.CallbacksAsync(app.StoreA, id));
        // The browser logs the refused request (400) itself; nothing else is in the console.
        browser.AssertNoConsoleErrors(m => m.Contains("/transfer - Failed to load resource: the server responded with a status of 400", StringComparison.Ordinal));
    }

    [Fact]
    public async Task The_page_shows_cancelled_by_itself_when_the_store_cancels_and_sends_the_customer_to_the_cancel_page()
    {
        var ecommerceOrderId = NewId();
        var (id, token) = await CreateOrderAsync(ecommerceOrderId);
        Open(token);
        Assert.Equal("pending", Status());

        var cancel = await app.StoreClient(app.StoreA).PutAsJsonAsync($"/plugins/checkout/{id}", new { paymentStatus = "cancelled" });

        Assert.Equal(HttpStatusCode.OK, cancel.StatusCode);
        WaitQuickly(_ => Script<bool>("return window.openedByTheTest === true && document.getElementById('status').dataset.status === 'cancelled';"),
            "the open page to show 'cancelled'");
        Assert.Equal("This order was cancelled and can no longer be paid. Taking you back to the store...", Page.FindElement(By.Id("message")).Text);
        Assert.False(Page.FindElement(By.Id("ways")).Displayed);
        WaitForTheStorePage(app.CancelUrl(ecommerceOrderId), "Your order was cancelled");
        Assert.Equal("cancelled", Assert.Single(await app.CallbacksAsync(app.StoreA, id)).GetProperty("status").GetString());
        AssertNoConsoleErrors();
    }

    [Fact]
    public async Task A_bad_a_forged_or_an_expired_session_token_opens_no_checkout()
    {
        var (id, token) = await CreateOrderAsync(NewId());
        var sessions = app.Get<SessionTokens>();
        var now = app.Time.GetUtcNow();
        var expired = sessions.Issue(app.StoreA.Id, id, now - TimeSpan.FromDays(60), now - SessionTokens.PageLifetime - TimeSpan.FromMinutes(1));
        var forged = token[..^4] + (token[^4..] == "AAAA" ? "BBBB" : "AAAA");
        var otherStore = sessions.Issue(app.StoreB.Id, id, now, now + TimeSpan.FromDays(1));
        var unknownOrder = sessions.Issue(app.StoreA.Id, "7fffffffffffffff00000000", now, now + TimeSpan.FromDays(1));
        var client = app.CreateClient();

        foreach (var bad in new[] { "not-a-token", forged, expired, otherStore, unknownOrder })
        {
            var page = await client.GetAsync($"/checkout/{bad}");
            Assert.Equal(HttpStatusCode.NotFound, page.StatusCode);
            Assert.Equal("text/html", page.Content.Headers.ContentType?.MediaType);
            Assert.Contains("<h1>Checkout not found</h1>", await page.Content.ReadAsStringAsync());
            Assert.StartsWith("default-src 'none'", page.Headers.GetValues("Content-Security-Policy").Single());
            Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync($"/checkout/{bad}/status")).StatusCode);
            Assert.Equal(HttpStatusCode.NotFound, (await client.PostAsync($"/checkout/{bad}/pay", null)).StatusCode);
            Assert.Equal(HttpStatusCode.NotFound,
                (await client.PostAsJsonAsync($"/checkout/{bad}/transfer", new { protocol = "ETHEREUM", transactionHash = "0xabcdef0123456789" })).StatusCode);
        }
        Assert.Equal("pending", (await OrderAsync(id)).GetProperty("paymentStatus").GetString());

        // In the browser: the page says so, and offers nothing to pay.
        Page.Navigate().GoToUrl(app.PageUrl(expired));
        Assert.Equal("Checkout not found", Page.Title);
        Assert.Equal("Checkout not found", Page.FindElement(By.TagName("h1")).Text);
        Assert.Empty(Page.FindElements(By.Id("pay")));
        Assert.Empty(Page.FindElements(By.ClassName("wallet")));
    }

    private async Task<(string Id, string Token)> CreateOrderAsync(string ecommerceOrderId)
    {
        var body = CheckoutFactory.OrderBody(app.StoreA, ecommerceOrderId);
        body["successReturnUrl"] = app.SuccessUrl(ecommerceOrderId);
        body["cancelReturnUrl"] = app.CancelUrl(ecommerceOrderId);
        var response = await app.StoreClient(app.StoreA).PostAsJsonAsync("/plugins/orders/checkout", body);
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var created = await response.Content.ReadFromJsonAsync<JsonElement>();
        return (created.GetProperty("id").GetString()!, created.GetProperty("sessionToken").GetString()!);
    }

    private Task<JsonElement> OrderAsync(string id) => app.StoreClient(app.StoreA).GetFromJsonAsync<JsonElement>($"/plugins/orders/{id}");

    /// <summary>
    /// The payable total in ETH by the order's own rates snapshot, computed here from the API's view of the order:
    /// payable / rate[USD] × rate[ETH], rounded up to 8 decimals, without trailing zeros.
    /// </summary>
    private static string ExpectedEthAmount(JsonElement order)
    {
        var rates = order.GetProperty("marketRates");
        decimal Rate(string code) => decimal.Parse(rates.GetProperty(code).GetString()!, NumberStyles.Number, CultureInfo.InvariantCulture);
        var payable = decimal.Parse(order.GetProperty("payableTotal").GetString()!, CultureInfo.InvariantCulture);
        var eth = payable / Rate(order.GetProperty("orderCurrency").GetString()!) * Rate("ETH");
        return (decimal.Ceiling(eth * 100_000_000m) / 100_000_000m).ToString("0.########", CultureInfo.InvariantCulture);
    }

    /// <summary>Opens the page, waits until its script has run (the poll of the status is set up), and marks the document.</summary>
    private void Open(string token)
    {
        browser.ConsoleLog(); // start each test with an empty console
        Page.Navigate().GoToUrl(app.PageUrl(token));
        browser.WaitFor(_ => Script<bool>("return typeof refresh === 'function' && document.getElementById('status').dataset.status.length > 0;"),
            "the page's script to start");
        Script<object>("window.openedByTheTest = true; return null;");
    }

    /// <summary>How many requests for the order's status the page has completed.</summary>
    private long StatusPolls() =>
        Script<long>("return performance.getEntriesByType('resource').filter(e => e.name.endsWith('/status')).length;");

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

    /// <summary>As <see cref="HeadlessChromium.WaitFor{T}"/>, looking often: for a state the page keeps only until its redirect.</summary>
    private void WaitQuickly(Func<IWebDriver, bool> condition, string what)
    {
        var wait = new WebDriverWait(Page, HeadlessChromium.Patience) { Message = "Waited for " + what, PollingInterval = QuickPolling };
        wait.IgnoreExceptionTypes(typeof(NoSuchElementException), typeof(StaleElementReferenceException), typeof(JavaScriptException));
        wait.Until(condition);
    }

    private void WaitForTheStorePage(string url, string heading)
    {
        browser.WaitFor(d => d.Url == url, "the way back to the store: " + url);
        Assert.Equal(heading, Page.FindElement(By.Id("store-page")).Text);
    }

    private T Script<T>(string script) => (T)((IJavaScriptExecutor)Page).ExecuteScript(script)!;

    private void AssertNoConsoleErrors() => browser.AssertNoConsoleErrors();
}
