using System.Globalization;
using System.Net;
using Serverless.Platform.Http;
using Serverless.Platform.Payments;

namespace Serverless.PreOrders;

/// <summary>
/// The page a customer reaches by scanning the QR code: what is being paid, a countdown to expiry, the live status
/// (it polls <c>/pay/{id}/status</c> and changes by itself when the pre-order is paid, expires or is cancelled: the QR
/// code, the countdown and the button go, and the heading says the outcome), and the way to pay. Everything shown is HTML-encoded; scripts run only with this response's nonce.
/// </summary>
public static class PayPage
{
    public static async Task<IResult> Render(string id, [AsParameters] PayPageServices services)
    {
        var (orders, settings, intents, time, context) = services;
        var order = await orders.FindPublicAsync(id, context.RequestAborted);
        var nonce = HostedPages.Secure(context);
        if (order is null)
            return Layout(nonce, "Payment not found", "<main><h1>Payment not found</h1><p>This payment link is not valid.</p></main>", "",
                StatusCodes.Status404NotFound);

        var now = time.GetUtcNow();
        var status = order.EffectiveStatus(now);
        var provider = intents.DefaultProvider;
        var amount = order.Amount.ToString("N" + Currencies.MinorDigits(order.Currency), CultureInfo.InvariantCulture);
        // A settled pre-order gets no QR code: the script shows its final state at once.
        var qr = status == PreOrderStatus.Pending
            ? $"""<img id="qr" alt="QR code of this payment page" src="{QrCodes.DataUri(settings.PaymentUrl(order.Id))}" width="220" height="220">"""
            : "";
        string E(string s) => WebUtility.HtmlEncode(s);
        var body = $$"""
            <main>
              <h1 id="heading">Pay <span id="amount">{{E(amount)}} {{E(order.Currency)}}</span></h1>
              <p id="description">{{E(order.Description)}}</p>
              {{qr}}
              <p>Status: <strong id="status" data-status="{{status}}">{{status}}</strong></p>
              <p id="countdown-line">Expires in <span id="countdown" data-expires="{{PreOrderViews.Time(order.ExpiresAt)}}"></span></p>
              {{(provider switch
                  {
                      null => """<p id="unavailable">Online payment is not available for this pre-order yet.</p>""",
                      SandboxProvider.ProviderName => """<button id="pay" type="button">Pay (sandbox)</button><p class="note">Sandbox mode: no money moves.</p>""",
                      _ => """<button id="pay" type="button">Pay</button>""",
                  })}}
              <p id="message" role="status"></p>
            </main>
            """;
        var script = $$"""
            const id = {{System.Text.Json.JsonSerializer.Serialize(order.Id)}};
            const statusEl = document.getElementById('status');
            const countdownEl = document.getElementById('countdown');
            const payButton = document.getElementById('pay');
            const message = document.getElementById('message');
            const heading = document.getElementById('heading');
            const amount = document.getElementById('amount').textContent;
            const expires = Date.parse(countdownEl.dataset.expires);
            const labels = { pending: 'pending', paid: 'paid', expired: 'expired', cancelled: 'cancelled' };
            // What the page is about once there is nothing left to pay: the heading and the title say it, and the QR code goes.
            const settledHeadings = { paid: 'Paid ' + amount, expired: 'This payment link has expired', cancelled: 'This pre-order was cancelled' };
            let settled = false;
            function show(status) {
              // Paid, expired and cancelled are final: a poll answered before the change must not undo it.
              if (settled) return;
              statusEl.textContent = labels[status] || status;
              statusEl.dataset.status = status;
              if (status !== 'pending') {
                settled = true;
                clearInterval(ticking);
                clearInterval(polling);
                if (payButton) payButton.remove();
                const qr = document.getElementById('qr');
                if (qr) qr.remove();
                heading.textContent = settledHeadings[status] || 'This pre-order can no longer be paid';
                document.title = heading.textContent;
                document.getElementById('countdown-line').hidden = true;
                message.textContent = status === 'paid' ? 'Payment received. Thank you!' : 'This pre-order can no longer be paid.';
              }
            }
            function tick() {
              const left = Math.max(0, expires - Date.now());
              const s = Math.floor(left / 1000);
              const d = Math.floor(s / 86400), h = Math.floor(s % 86400 / 3600), m = Math.floor(s % 3600 / 60), sec = s % 60;
              countdownEl.textContent = (d ? d + 'd ' : '') + String(h).padStart(2, '0') + ':' + String(m).padStart(2, '0') + ':' + String(sec).padStart(2, '0');
            }
            async function refresh() {
              try {
                const response = await fetch('/pay/' + encodeURIComponent(id) + '/status', { cache: 'no-store' });
                if (response.ok) show((await response.json()).status);
              } catch (e) { /* offline for a moment: the next poll tries again */ }
            }
            if (payButton) payButton.addEventListener('click', async () => {
              payButton.disabled = true;
              message.textContent = 'Processing...';
              let response;
              try {
                response = await fetch('/pay/' + encodeURIComponent(id) + '/checkout', { method: 'POST' });
              } catch (e) {
                // No answer: the customer may try again (a payment that did go through shows up with the next poll).
                if (settled) return;
                message.textContent = 'Could not reach the payment service. Check your connection and try again.';
                payButton.disabled = false;
                return;
              }
              const body = await response.json().catch(() => ({}));
              if (settled) return; // a poll already showed the outcome
              if (response.ok && body.checkout_url) { message.textContent = 'Opening the payment page...'; window.location.assign(body.checkout_url); }
              else { message.textContent = (body.error && body.error.message) || 'Payment failed.'; payButton.disabled = false; refresh(); }
            });
            const ticking = setInterval(tick, 1000);
            const polling = setInterval(refresh, 2000);
            tick();
            show(statusEl.dataset.status);
            """;
        return Layout(nonce, $"Pay {amount} {order.Currency}", body, script);
    }

    private const string Style = """
        main { max-width: 420px; text-align: center; }
        button { font-size: 1.1rem; padding: .7rem 1.6rem; }
        [data-status=paid] { color: #1a7f37; } [data-status=expired], [data-status=cancelled] { color: #b42318; }
        """;

    private static IResult Layout(string nonce, string title, string body, string script, int statusCode = StatusCodes.Status200OK) =>
        HostedPages.Html(nonce, title, Style, body, script, statusCode);
}
