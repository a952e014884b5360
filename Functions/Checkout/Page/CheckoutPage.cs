using Microsoft.AspNetCore.Mvc;
using System.ComponentModel.DataAnnotations;
using System.Globalization;
using System.Net;
using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Http.HttpResults;
using Serverless.Checkout.Orders;
using Serverless.Checkout.Stores;
using Serverless.Platform.Http;
using Serverless.Platform.Payments;

namespace Serverless.Checkout.Page;

public sealed record CheckoutPageStatus(
    [property: JsonPropertyName("status")] string Status,
    [property: JsonPropertyName("redirectUrl")] string? RedirectUrl);

public sealed record CheckoutPagePayment(
    [property: JsonPropertyName("status")] string Status,
    [property: JsonPropertyName("checkoutUrl")] string CheckoutUrl);

/// <summary>The customer's report of a transfer: <c>protocol</c> is one of the store's wallets; the hash is optional.</summary>
public sealed record CheckoutPageTransferRequest(
    [property: JsonPropertyName("protocol"), Required] string? Protocol = null,
    [property: JsonPropertyName("transactionHash"), RegularExpression("^[A-Za-z0-9]{8,200}$")] string? TransactionHash = null);

/// <summary>What the page's handlers use.</summary>
public readonly record struct CheckoutPageServices(
    [property: FromServices] CheckoutOrders Orders,
    [property: FromServices] CheckoutStores Stores,
    [property: FromServices] CheckoutSettings Settings,
    [property: FromServices] PaymentIntents Intents,
    [property: FromServices] TimeProvider Time,
    HttpContext Context);

/// <summary>
/// The hosted checkout page at an order's <c>sessionToken</c>: the order, the store's markup or discount applied,
/// and the ways to pay it: the platform's gateway (the sandbox in development, Stripe when configured), and a crypto
/// transfer to one of the store's wallets, its amount converted with the market rates the order was priced with.
/// The page follows the order's status by itself and sends the customer back to the store's success or cancel URL
/// when it is settled. Everything shown is HTML-encoded; scripts run only with this response's nonce.
/// </summary>
public static class CheckoutPage
{
    public static void MapCheckoutPage(this IEndpointRouteBuilder app)
    {
        var page = app.MapGroup("/checkout").WithTags("Checkout page").WithErrorShape(CheckoutErrorShape.Instance).AllowAnonymous()
            .RequireRateLimiting(RateLimitPolicies.PerCaller);
        page.MapGet("/{sessionToken}", Render).WithName("CheckoutPage").ProducesHtml()
            .WithSummary("The hosted checkout page of the order a sessionToken names (HTML)")
            .WithDescription("Anonymous: the order's sessionToken is the link's only credential, valid until 30 days after the " +
                             "order's expiry. The HTML page shows the order, its total with the store's markup or discount, and the " +
                             "ways to pay it: by card through the payment gateway when one is configured, and by crypto transfer " +
                             "to each of the store's wallets, the amount converted at the rates the order was priced with. It follows " +
                             "the order's status and sends the customer back to the store once it is settled; 404 (an HTML page) " +
                             "when the link is not valid or has expired.");
        page.MapGet("/{sessionToken}/status", Status).WithName("CheckoutPageStatus")
            .WithSummary("The order's status as the page shows it, and where the customer goes once it is settled")
            .WithDescription("Anonymous, by the order's sessionToken. The order's status (pending, on-hold, failed, confirmed or " +
                             "cancelled; an order unpaid past its expiry reads as cancelled) and `redirectUrl`: the store's success " +
                             "URL once it is confirmed, its cancel URL once it is cancelled, otherwise null. 404 when the link is " +
                             "not valid or has expired.");
        page.MapPost("/{sessionToken}/pay", Pay).WithName("CheckoutPagePay").ProducesErrors(StatusCodes.Status409Conflict)
            .WithSummary("Open (or join) the order's gateway payment and get where the customer pays it")
            .WithDescription("Anonymous, by the order's sessionToken. Opens the order's card payment with the payment gateway for " +
                             "the amount the page shows, or joins the one already open (every click meets the same payment), and " +
                             "answers the order's status and the `checkoutUrl` where the customer pays. 404 when the link is not " +
                             "valid or has expired; 409 order_not_payable unless the order is pending or failed, 409 store_disabled " +
                             "when the store is disabled; 503 payments_unavailable without a provider; 502/503 " +
                             "payment_provider_unavailable (with Retry-After) when the provider does not answer.");
        page.MapPost("/{sessionToken}/transfer", Transfer).WithName("CheckoutPageTransfer")
            .WithSummary("The customer reports a crypto transfer: the order waits on-hold for its confirmation")
            .WithDescription("Anonymous, by the order's sessionToken. Puts the order on hold with the protocol as its payment " +
                             "method and blockchain, the amount in that protocol's coin as its converted total and the transaction " +
                             "hash when sent, sends the store the order's callback and answers the new status. 400 when `protocol` " +
                             "is not one of the store's wallets or the hash is not 8 to 200 letters and digits; 404 when the link is " +
                             "not valid or has expired; 409 order_not_payable unless the order is pending or failed (so a repeat is " +
                             "refused once it is on hold), 409 store_disabled when the store is disabled.");
    }

    public static async Task<IResult> Render(string sessionToken, [AsParameters] CheckoutPageServices services)
    {
        var (orders, stores, settings, intents, time, context) = services;
        var nonce = HostedPages.Secure(context);
        var order = await orders.FindBySessionAsync(sessionToken, context.RequestAborted);
        var store = order is null ? null : await stores.FindAsync(order.StoreId, context.RequestAborted);
        if (order is null || store is null)
            return Layout(nonce, "Checkout not found",
                    "<main><h1>Checkout not found</h1><p>This checkout link is not valid, or it has expired.</p></main>", "", StatusCodes.Status404NotFound);

        var now = time.GetUtcNow();
        var status = order.EffectiveStatus(now);
        string E(string? s) => WebUtility.HtmlEncode(s ?? "");
        var total = Money(order.TotalMinor, order.OrderCurrency);
        var payable = Money(order.PayableMinor, order.OrderCurrency);
        var adjustments = "";
        if (order.MarkupPercentage != "0")
            adjustments += $"""<p id="markup">Store markup: {E(order.MarkupPercentage)}%</p>""";
        if (order.DiscountPercentage != "0")
            adjustments += $"""<p id="discount">Store discount: {E(order.DiscountPercentage)}%</p>""";
        var gateway = intents.DefaultProvider switch
        {
            null => "",
            SandboxProvider.ProviderName => """<section id="gateway"><h2>Card</h2><button id="pay" type="button">Pay (sandbox)</button><p class="note">Sandbox mode: no money moves.</p></section>""",
            _ => """<section id="gateway"><h2>Card</h2><button id="pay" type="button">Pay by card</button></section>""",
        };
        var wallets = new List<string>();
        foreach (var wallet in store.Wallets)
        {
            if (!Protocols.All.TryGetValue(wallet.Protocol, out var protocol) || Pricing.InCoin(order, protocol) is not { } amount)
                continue;
            var coinAmount = amount.ToString("0." + new string('#', protocol.Decimals), CultureInfo.InvariantCulture);
            wallets.Add($$"""
                <div class="wallet" data-protocol="{{E(protocol.Name)}}">
                  <h3>{{E(protocol.Name)}}</h3>
                  <p>Send exactly <strong class="coin-amount">{{E(coinAmount)}} {{E(protocol.Coin)}}</strong> to</p>
                  <p><code class="address">{{E(wallet.Address)}}</code></p>
                  <img class="qr" alt="QR code of the {{E(protocol.Name)}} address" src="{{QrCodes.DataUri(wallet.Address)}}" width="180" height="180">
                  <label>Transaction hash <input class="hash" type="text" maxlength="200" autocomplete="off"></label>
                  <button class="sent" type="button">I have sent it</button>
                </div>
                """);
        }
        var crypto = wallets.Count == 0 ? "" : $"""<section id="crypto"><h2>Crypto transfer</h2>{string.Concat(wallets)}</section>""";
        var body = $$"""
            <main data-success="{{E(order.SuccessReturnUrl)}}" data-cancel="{{E(order.CancelReturnUrl)}}">
              <p class="store" id="store">{{E(store.Name)}}</p>
              <h1>Order <span id="order">{{E(order.EcommerceOrderId)}}</span></h1>
              <p id="total">Order total: {{E(total)}} {{E(order.OrderCurrency)}}</p>
              {{adjustments}}
              <p class="due">To pay: <strong id="payable">{{E(payable)}} {{E(order.OrderCurrency)}}</strong></p>
              <p>Status: <strong id="status" data-status="{{E(status)}}">{{E(status)}}</strong></p>
              <div id="ways">{{gateway}}{{crypto}}</div>
              <p id="message" role="status"></p>
              {{(order.CancelReturnUrl is null && order.SuccessReturnUrl is null ? "" : $"""<p id="back-line"{(BackUrl(order, status) is null ? " hidden" : "")}><a id="back" href="{E(BackUrl(order, status))}">Back to the store</a></p>""")}}
            </main>
            """;
        var script = $$"""
            const token = {{JsonSerializer.Serialize(sessionToken)}};
            const base = '/checkout/' + encodeURIComponent(token);
            const main = document.querySelector('main');
            const statusEl = document.getElementById('status');
            const ways = document.getElementById('ways');
            const message = document.getElementById('message');
            const payButton = document.getElementById('pay');
            const back = document.getElementById('back');
            let settled = false;
            let shown = null;
            // Bumped by every answer the page acts on, so a poll sent before it cannot bring back an older status.
            let generation = 0;
            const texts = {
              pending: '', failed: 'The payment failed. You can try again.',
              'on-hold': 'Thank you! Your transfer is waiting for confirmation.',
              confirmed: 'Payment confirmed. Thank you!', cancelled: 'This order was cancelled and can no longer be paid.'
            };
            function show(status, redirectUrl) {
              if (settled) return;
              statusEl.textContent = status;
              statusEl.dataset.status = status;
              // A new status brings its own message; polls of the same status keep what the page last said (an error).
              if (status !== shown) { message.textContent = texts[status] || ''; shown = status; }
              ways.hidden = !(status === 'pending' || status === 'failed');
              if (back) {
                // A customer whose payment is on its way or done goes back to the success page, never the cancel page.
                const to = status === 'on-hold' || status === 'confirmed' ? main.dataset.success : main.dataset.cancel;
                if (to) back.href = to;
                back.parentElement.hidden = !to;
              }
              if (status === 'confirmed' || status === 'cancelled') {
                settled = true;
                clearInterval(polling);
                const to = redirectUrl || (status === 'confirmed' ? main.dataset.success : main.dataset.cancel);
                if (to) { message.textContent += ' Taking you back to the store...'; setTimeout(() => window.location.assign(to), 1500); }
              }
            }
            async function refresh() {
              const asked = generation;
              try {
                const response = await fetch(base + '/status', { cache: 'no-store' });
                if (response.ok) { const body = await response.json(); if (asked === generation) show(body.status, body.redirectUrl); }
              } catch (e) { /* offline for a moment: the next poll tries again */ }
            }
            async function post(path, body) {
              try {
                const response = await fetch(base + path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body || {}) });
                return { ok: response.ok, body: await response.json().catch(() => ({})) };
              } catch (e) {
                return { ok: false, body: { message: 'Could not reach the payment service. Check your connection and try again.' } };
              }
            }
            if (payButton) payButton.addEventListener('click', async () => {
              payButton.disabled = true;
              message.textContent = 'Processing...';
              const result = await post('/pay');
              if (settled) return;
              if (result.ok && result.body.checkoutUrl) { message.textContent = 'Opening the payment page...'; window.location.assign(result.body.checkoutUrl); }
              else { message.textContent = result.body.message || 'Payment failed.'; payButton.disabled = false; refresh(); }
            });
            for (const wallet of document.querySelectorAll('.wallet')) {
              const button = wallet.querySelector('.sent');
              button.addEventListener('click', async () => {
                const hash = wallet.querySelector('.hash').value.trim();
                button.disabled = true;
                const result = await post('/transfer', { protocol: wallet.dataset.protocol, transactionHash: hash || null });
                button.disabled = false;
                generation++;
                if (result.ok) show(result.body.status, null);
                else { message.textContent = result.body.message || 'Could not record the transfer.'; refresh(); }
              });
            }
            const polling = setInterval(refresh, 2000);
            show(statusEl.dataset.status, null);
            """;
        return Layout(nonce, $"Checkout: order {order.EcommerceOrderId}", body, script);
    }

    public static async Task<Results<Ok<CheckoutPageStatus>, ErrorResult>> Status(string sessionToken, [AsParameters] CheckoutPageServices services)
    {
        var (orders, _, _, _, time, context) = services;
        if (await orders.FindBySessionAsync(sessionToken, context.RequestAborted) is not { } order)
            return NotFound();
        var status = order.EffectiveStatus(time.GetUtcNow());
        return TypedResults.Ok(new CheckoutPageStatus(status, status switch
        {
            PaymentStatus.Confirmed => order.SuccessReturnUrl,
            PaymentStatus.Cancelled => order.CancelReturnUrl,
            _ => null,
        }));
    }

    public static async Task<Results<Ok<CheckoutPagePayment>, ErrorResult>> Pay(string sessionToken, [AsParameters] CheckoutPageServices services)
    {
        var (orders, stores, settings, intents, time, context) = services;
        if (await orders.FindBySessionAsync(sessionToken, context.RequestAborted) is not { } order
            || await stores.FindAsync(order.StoreId, context.RequestAborted) is not { } store)
            return NotFound();
        if (!intents.Available)
            return ApiErrors.Result(new ApiError(503, "payments_unavailable", "Card payment is not available for this order."));
        if (!IsPayable(order, time))
            return NotPayable(order, time);
        if (!await stores.IsEnabledAsync(store.Id, context.RequestAborted))
            return StoreDisabled();
        // A provider that does not answer is 502/503 payment_provider_unavailable with Retry-After (the platform's error handling).
        var checkout = await orders.StartPaymentAsync(order, store.Name, settings.PageUrl(sessionToken), context.RequestAborted);
        if (checkout.CheckoutUrl is null)
            return NotPayable(await orders.FindAsync(order.StoreId, order.Id, context.RequestAborted) ?? order, time);
        return TypedResults.Ok(new CheckoutPagePayment(order.EffectiveStatus(time.GetUtcNow()), checkout.CheckoutUrl));
    }

    public static async Task<Results<Ok<CheckoutPageStatus>, ErrorResult>> Transfer(string sessionToken, CheckoutPageTransferRequest body,
        [AsParameters] CheckoutPageServices services)
    {
        var (orders, stores, _, _, time, context) = services;
        if (await orders.FindBySessionAsync(sessionToken, context.RequestAborted) is not { } order
            || await stores.FindAsync(order.StoreId, context.RequestAborted) is not { } store)
            return NotFound();
        var wallet = store.Wallets.FirstOrDefault(w => w.Protocol == body.Protocol);
        if (wallet is null || !Protocols.All.TryGetValue(wallet.Protocol, out var protocol) || Pricing.InCoin(order, protocol) is not { } amount)
            return ApiErrors.BadRequest($"'protocol' must be one of the store's wallets: {string.Join(", ", store.Wallets.Select(w => w.Protocol))}.",
                "validation_error");
        if (body.TransactionHash is { } hash && !(hash.Length is >= 8 and <= 200 && hash.All(char.IsAsciiLetterOrDigit)))
            return ApiErrors.BadRequest("'transactionHash' must be 8 to 200 letters and digits.", "validation_error");
        if (!IsPayable(order, time))
            return NotPayable(order, time);
        if (!await stores.IsEnabledAsync(store.Id, context.RequestAborted))
            return StoreDisabled();
        var converted = amount.ToString(CultureInfo.InvariantCulture);
        var (outcome, updated) = await orders.UpdateAsync(order.StoreId, order.Id,
            new OrderUpdate(body.TransactionHash, protocol.Name, PaymentStatus.OnHold, protocol.Name, converted), context.RequestAborted);
        return outcome is UpdateOutcome.Updated or UpdateOutcome.Unchanged && updated is not null
            ? TypedResults.Ok(new CheckoutPageStatus(updated.EffectiveStatus(time.GetUtcNow()), null))
            : NotPayable(updated ?? order, time);
    }

    /// <summary>Where "Back to the store" goes: the success page once the payment is on its way or done, else the cancel page.</summary>
    private static string? BackUrl(CheckoutOrder order, string status) =>
        status is PaymentStatus.OnHold or PaymentStatus.Confirmed ? order.SuccessReturnUrl : order.CancelReturnUrl;

    private static bool IsPayable(CheckoutOrder order, TimeProvider time) =>
        order.EffectiveStatus(time.GetUtcNow()) is PaymentStatus.Pending or PaymentStatus.Failed;

    private static ErrorResult NotFound() => ApiErrors.NotFound("This checkout link is not valid, or it has expired.");

    private static ErrorResult NotPayable(CheckoutOrder order, TimeProvider time) =>
        ApiErrors.Conflict($"This order is {order.EffectiveStatus(time.GetUtcNow())} and cannot be paid here.", "order_not_payable");

    private static ErrorResult StoreDisabled() =>
        ApiErrors.Conflict("This store is not accepting payments at the moment.", "store_disabled");

    private static string Money(long minor, string currency) =>
        Currencies.FromMinor(minor, currency).ToString("N" + Currencies.MinorDigits(currency), CultureInfo.InvariantCulture);

    private const string Style = """
        main { max-width: 480px; }
        .store { color: #555; margin: 0; } h1 { margin-top: .3rem; } .due { font-size: 1.2rem; }
        section { border-top: 1px solid #e4e6eb; margin-top: 1rem; padding-top: .5rem; }
        .wallet { margin: 1rem 0; } code { word-break: break-all; }
        button { font-size: 1rem; padding: .6rem 1.4rem; }
        input { width: 100%; box-sizing: border-box; margin: .3rem 0 .6rem; padding: .4rem; }
        [data-status=confirmed] { color: #1a7f37; } [data-status=cancelled], [data-status=failed] { color: #b42318; }
        """;

    private static IResult Layout(string nonce, string title, string body, string script, int statusCode = StatusCodes.Status200OK) =>
        HostedPages.Html(nonce, title, Style, body, script, statusCode);
}
