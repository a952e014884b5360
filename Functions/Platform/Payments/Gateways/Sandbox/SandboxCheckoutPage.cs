using System.Globalization;
using System.Net;
using System.Security.Cryptography;

namespace Serverless.Platform.Payments;

/// <summary>
/// The sandbox's hosted checkout page, standing where Razorpay's or Stripe's would: the amount and description, a
/// method, "Pay" and "Fail this payment", and a way back. Its answer is delivered as a signed sandbox event through
/// the inbound webhook path, then the customer is sent back to the surface's page. Plain HTML forms; every value is
/// HTML-encoded; no script. Every page says that no money moves.
/// </summary>
public static class SandboxCheckoutPage
{
    private static readonly string[] Methods = ["card", "upi", "netbanking", "wallet"];

    public static async Task<IResult> Render(string orderId, HttpContext context, string? result = null)
    {
        // Only where the sandbox is configured (never by default in Production).
        var sandbox = context.RequestServices.GetService<SandboxProvider>();
        var order = sandbox is null ? null : await sandbox.FindOrderAsync(orderId, context.RequestAborted);
        var nonce = Convert.ToBase64String(RandomNumberGenerator.GetBytes(16));
        Secure(context, nonce, order?.ReturnUrl, order?.CancelUrl);
        if (order is null)
            return Page(nonce, "Sandbox payment not found", "<h1>Payment not found</h1><p>This sandbox checkout link is not valid.</p>", 404);

        string E(string s) => WebUtility.HtmlEncode(s);
        var amount = Currencies.FromMinor(order.AmountMinor, order.Currency).ToString("N" + Currencies.MinorDigits(order.Currency), CultureInfo.InvariantCulture);
        var state = order.Status switch
        {
            "paid" => $"""<p id="state" data-state="paid">Paid ({E(order.Method ?? "")}), payment <code>{E(order.PaymentId ?? "")}</code>.</p><p><a id="back" href="{E(order.ReturnUrl)}">Back to the shop</a></p>""",
            "closed" => $"""<p id="state" data-state="closed">This payment was closed and can no longer be paid.</p><p><a id="back" href="{E(order.CancelUrl)}">Back to the shop</a></p>""",
            _ => $"""
                {(result == "failed" ? $"""<p id="failed" role="alert">{E(order.LastFailure ?? "The payment failed.")} Try again or choose another method.</p>""" : "")}
                <form method="post" action="{E(SandboxProvider.PagePath + order.PartitionKey)}">
                  <label>Method <select id="method" name="method">{string.Concat(Methods.Select(m => $"<option>{m}</option>"))}</select></label>
                  <p><button id="pay" name="outcome" value="pay" type="submit">Pay {E(amount)} {E(order.Currency)}</button></p>
                  <p><button id="fail" class="secondary" name="outcome" value="fail" type="submit">Fail this payment</button></p>
                </form>
                <p><a id="cancel" href="{E(order.CancelUrl)}">Cancel and go back</a></p>
                """,
        };
        var body = $"""
            <main>
              <p class="banner">SANDBOX: no money moves. This page stands in for the payment provider's checkout.</p>
              <h1 id="amount">{E(amount)} {E(order.Currency)}</h1>
              <p id="description">{E(order.Description)}</p>
              {state}
            </main>
            """;
        return Page(nonce, "Sandbox checkout", body, 200);
    }

    /// <summary>The customer's answer: the sandbox records it and delivers its signed event through the inbound path, then sends the customer on.</summary>
    public static async Task<IResult> Submit(string orderId, InboundEvents inbound, HttpContext context)
    {
        if (context.RequestServices.GetService<SandboxProvider>() is not { } sandbox)
            return Results.Problem(statusCode: 404, title: $"No sandbox order '{orderId}'.");
        var form = context.Request.HasFormContentType ? await context.Request.ReadFormAsync(context.RequestAborted) : null;
        var outcome = form?["outcome"].ToString();
        var method = form?["method"].ToString() is { Length: > 0 } m ? m : "card";
        if (outcome is not ("pay" or "fail") || !Methods.Contains(method))
            return Results.Problem(statusCode: 400, title: "Send the form field 'outcome' (pay or fail) and a 'method' the page offers.");
        var (order, delivery) = await sandbox.PayAsync(orderId, outcome == "pay", method, context.RequestAborted);
        if (order is null)
            return Results.Problem(statusCode: 404, title: $"No sandbox order '{orderId}'.");
        if (delivery is not null)
        {
            var received = await inbound.ReceiveAsync(SandboxProvider.ProviderName, delivery.Headers, delivery.Body, context.RequestAborted);
            if (received.Outcome is InboundOutcome.Refused or InboundOutcome.UnknownProvider)
                return Results.Problem(statusCode: 503, title: "The sandbox event could not be delivered.");
        }
        return order.Status == "paid"
            ? Results.Redirect(order.ReturnUrl, permanent: false, preserveMethod: false)
            : Results.Redirect(SandboxProvider.PagePath + order.PartitionKey + (order.Status == "open" ? "?result=failed" : ""));
    }

    private static void Secure(HttpContext context, string nonce, string? returnUrl, string? cancelUrl)
    {
        // A form's redirect counts against form-action: allow the surface's page the customer is sent back to.
        var targets = new[] { returnUrl, cancelUrl }.Select(u => Uri.TryCreate(u, UriKind.Absolute, out var uri) ? uri.GetLeftPart(UriPartial.Authority) : null)
            .Where(o => o is not null).Distinct();
        context.Response.Headers.ContentSecurityPolicy =
            $"default-src 'none'; style-src 'nonce-{nonce}'; form-action 'self' {string.Join(' ', targets)}; base-uri 'none'; frame-ancestors 'none'";
        context.Response.Headers.CacheControl = "no-store";
        context.Response.Headers["Referrer-Policy"] = "no-referrer";
    }

    private static IResult Page(string nonce, string title, string body, int status) => Results.Content($$"""
        <!doctype html>
        <html lang="en">
        <head>
          <meta charset="utf-8">
          <meta name="viewport" content="width=device-width, initial-scale=1">
          <meta name="robots" content="noindex">
          <title>{{WebUtility.HtmlEncode(title)}}</title>
          <style nonce="{{nonce}}">
            body { font-family: system-ui, sans-serif; background: #f4f1ea; margin: 0; padding: 1rem; }
            main { max-width: 420px; margin: 2rem auto; background: #fff; border-radius: 12px; padding: 1.5rem 2rem; box-shadow: 0 2px 12px #0001; text-align: center; }
            .banner { background: #fff4ce; border: 1px solid #e0c060; border-radius: 6px; padding: .5rem; font-size: .9rem; }
            button { font-size: 1.05rem; padding: .6rem 1.4rem; border: 0; border-radius: 8px; background: #1f6feb; color: #fff; cursor: pointer; }
            button.secondary { background: #b42318; }
          </style>
        </head>
        <body>
        {{body}}
        </body>
        </html>
        """, "text/html; charset=utf-8", statusCode: status);
}
