using System.Globalization;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace Serverless.Platform.Payments;

/// <summary>
/// The page that opens Razorpay Checkout for one order (Razorpay has no hosted page of its own for orders). In
/// redirect mode Razorpay posts <c>razorpay_payment_id</c>, <c>razorpay_order_id</c> and <c>razorpay_signature</c>
/// as a form to the callback URL. Every value is HTML-encoded in markup and JSON-encoded (with &lt;, &gt;, &amp; and
/// quotes escaped) in the script.
/// </summary>
public static class RazorpayCheckoutPage
{
    public const string CheckoutScript = "https://checkout.razorpay.com/v1/checkout.js";

    private static readonly JsonSerializerOptions ScriptJson = new() { Encoder = JavaScriptEncoder.Default };

    public static string Render(string keyId, string orderId, long amountMinor, string currency, string description, string callbackUrl, string cancelUrl)
    {
        RequireWebAddress(callbackUrl, nameof(callbackUrl));
        RequireWebAddress(cancelUrl, nameof(cancelUrl));
        var html = HtmlEncoder.Default;
        var checkout = JsonSerializer.Serialize(new Dictionary<string, object>
        {
            ["key"] = keyId,
            ["order_id"] = orderId,
            ["amount"] = amountMinor,
            ["currency"] = currency,
            ["description"] = description,
            ["callback_url"] = callbackUrl,
            ["redirect"] = true,
        }, ScriptJson);
        var cancel = JsonSerializer.Serialize(cancelUrl, ScriptJson);
        return $$"""
            <!doctype html>
            <html lang="en">
            <head>
            <meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <meta name="referrer" content="no-referrer">
            <title>Pay {{html.Encode(Amount(amountMinor, currency))}}</title>
            <style>body{font-family:system-ui,sans-serif;max-width:28rem;margin:3rem auto;padding:0 1rem}button{font-size:1rem;padding:.6rem 1.2rem}</style>
            </head>
            <body>
            <h1>{{html.Encode(description)}}</h1>
            <p>Amount: <strong>{{html.Encode(Amount(amountMinor, currency))}}</strong></p>
            <p><button id="pay" type="button">Pay with Razorpay</button></p>
            <p><a id="cancel" href="{{html.Encode(cancelUrl)}}">Cancel and go back</a></p>
            <noscript><p>Razorpay Checkout needs JavaScript.</p></noscript>
            <script src="{{CheckoutScript}}"></script>
            <script>
            (function () {
              var options = {{checkout}};
              var cancelUrl = {{cancel}};
              options.modal = { ondismiss: function () { window.location.href = cancelUrl; } };
              function open() { new Razorpay(options).open(); }
              document.getElementById("pay").addEventListener("click", open);
              if (window.Razorpay) open();
            })();
            </script>
            </body>
            </html>
            """;
    }

    /// <summary>Encoding keeps markup out, not a <c>javascript:</c> link: only http(s) URLs and paths of this site are allowed.</summary>
    private static void RequireWebAddress(string url, string name)
    {
        var isPath = url.StartsWith('/') && !url.StartsWith("//", StringComparison.Ordinal) && !url.StartsWith("/\\", StringComparison.Ordinal);
        if (!isPath && !(Uri.TryCreate(url, UriKind.Absolute, out var uri) && uri.Scheme is "https" or "http"))
            throw new ArgumentException("Must be an http(s) URL or a path of this site.", name);
    }

    private static string Amount(long amountMinor, string currency) =>
        Currencies.IsKnown(currency)
            ? $"{currency} {Currencies.FromMinor(amountMinor, currency).ToString(CultureInfo.InvariantCulture)}"
            : $"{currency} {amountMinor.ToString(CultureInfo.InvariantCulture)} (minor units)";
}
