using Microsoft.Extensions.Options;

namespace Serverless.Platform.Payments;

/// <summary>
/// Where a customer pays a Razorpay order: the page that opens Razorpay Checkout, and the callback Razorpay posts the
/// result to. The callback's signature (<c>order_id|payment_id</c>, HMAC-SHA256 with the key secret) is one more
/// confirmation source: it is checked, then the payment is fetched from Razorpay and applied like any other report
/// (captured first when it is only authorised); the webhook and the reconciliation deadline confirm it too.
/// </summary>
public static class RazorpayCheckoutEndpoints
{
    public const string CallbackPath = "/payments/razorpay/callback";

    public static async Task<IResult> Page(string orderId, PaymentIntents intents, IOptions<RazorpayOptions> options, HttpContext context)
    {
        var settings = options.Value;
        if (string.IsNullOrEmpty(settings.KeyId) || orderId.Length > 40)
            return Results.Problem(statusCode: 404, title: $"No Razorpay order '{orderId}'.");
        var intent = await intents.FindByOrderAsync(RazorpayProvider.ProviderName, orderId, context.RequestAborted);
        if (intent is null)
            return Results.Problem(statusCode: 404, title: $"No Razorpay order '{orderId}'.");
        if (!IntentStatus.IsOpen(intent.Status) || intent.ProviderOrderId != orderId)
            return Results.Redirect(intent.ReturnUrl);
        context.Response.Headers.CacheControl = "no-store";
        context.Response.Headers["Referrer-Policy"] = "no-referrer";
        context.Response.Headers.ContentSecurityPolicy = "frame-ancestors 'none'; base-uri 'none'";
        return Results.Content(RazorpayCheckoutPage.Render(settings.KeyId, orderId, intent.AmountMinor, intent.Currency, intent.Description,
            CallbackPath, intent.CancelUrl), "text/html; charset=utf-8");
    }

    public static async Task<IResult> Callback(PaymentIntents intents, IOptions<RazorpayOptions> options, ILoggerFactory logs, HttpContext context)
    {
        var settings = options.Value;
        var form = context.Request.HasFormContentType ? await context.Request.ReadFormAsync(context.RequestAborted) : null;
        var orderId = form?["razorpay_order_id"].ToString() is { Length: > 0 } id ? id : form?["error[metadata][order_id]"].ToString() ?? "";
        if (string.IsNullOrEmpty(settings.KeyId) || orderId.Length is 0 or > 40)
            return Results.Problem(statusCode: 400, title: "The form must carry razorpay_order_id (or Razorpay's error fields).");
        var intent = await intents.FindByOrderAsync(RazorpayProvider.ProviderName, orderId, context.RequestAborted);
        if (intent is null)
            return Results.Problem(statusCode: 404, title: $"No Razorpay order '{orderId}'.");

        var paymentId = form!["razorpay_payment_id"].ToString();
        var signature = form["razorpay_signature"].ToString();
        if (paymentId.Length == 0)
            // The customer's attempt failed or was abandoned: the webhook tells the intent; the customer goes back.
            return Results.Redirect(intent.CancelUrl);
        if (!RazorpayCheckoutSignature.IsValid(orderId, paymentId, signature, settings.KeySecret ?? ""))
            return Results.Problem(statusCode: 400, title: "The Razorpay signature does not match this order and payment.");
        try
        {
            var provider = context.RequestServices.GetRequiredService<PaymentProviders>().Resolve(RazorpayProvider.ProviderName);
            await intents.ApplyAsync(intent.Id, await provider.FetchAsync(orderId, context.RequestAborted), context.RequestAborted);
        }
        catch (PaymentProviderException ex)
        {
            // The signature proves the customer paid; the webhook or the reconciliation deadline will confirm it.
            logs.CreateLogger(typeof(RazorpayCheckoutEndpoints)).LogWarning(
                "Razorpay order {Order} could not be fetched after checkout ({Error}); it is confirmed later", orderId, ex.Message);
        }
        return Results.Redirect(intent.ReturnUrl);
    }
}
