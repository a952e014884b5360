using System.ComponentModel.DataAnnotations;
using System.Globalization;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;
using Serverless.Platform.Http;
using Serverless.Platform.Payments;
using Serverless.Print.Accounts;
using Serverless.Print.Wallet;

namespace Serverless.Print.Payments;

/// <summary>
/// Print payment orders and the wallet, as the document has them: <c>POST /create-payment-order</c>,
/// <c>GET /payment-order/:orderId/status</c>, <c>GET /my-orders</c>, <c>POST /payment/webhook</c> (Razorpay's,
/// verified by the payments platform), <c>GET /wallet/balance</c>, <c>POST /wallet/topup</c>,
/// <c>GET /wallet/transactions</c>. Amounts are rupees at the edge, paise inside.
/// </summary>
public static class PrintPaymentsApi
{
    private const string TopupThrottle = "print-topup";
    private const long MaxOrderMinor = 10_000_000; // ₹1,00,000: no print costs more
    private static readonly string[] PaperSizes = ["A4", "A3", "A5", "Letter", "Legal"];

    public static void MapPrintPayments(this IEndpointRouteBuilder app)
    {
        var customer = app.MapGroup("").WithTags("Print-shop payments").WithErrorShape(PrintErrorShape.Instance)
            .RequireAuthorization(PrintAuth.CustomerPolicy).WithMetadata(PrintAuth.OpenApiSecurity).WithMetadata(PrintAccountRequired.Instance).RequireRateLimiting(RateLimitPolicies.PerCaller);
        customer.MapPost("/create-payment-order", Create).WithName("PrintCreatePaymentOrder").WithIdempotency()
            .WithSummary("Create a payment order: from the wallet, through Razorpay, or both (hybrid)")
            .WithDescription("Creates a payment order of amount rupees for a private or a queue print (a queue print names its shop in " +
                             "shopkeeper_id). With use_wallet true and enough balance it is paid from the wallet at once (status paid, skip_payment " +
                             "true); otherwise the wallet pays what it can and the rest, or all of it, is paid online at checkout_url, and an order " +
                             "left unpaid expires with its wallet part returned; platform_commission is accepted but the server's commission " +
                             "applies. Customers only; an Idempotency-Key makes a retry answer the first order instead of making another. 400 for a " +
                             "missing amount or print_type, a field outside its limits, an amount with more than 2 decimals, or a missing or unknown" +
                             " shopkeeper_id for a queue print; 503 when online payment is needed but unavailable.");
        customer.MapGet("/payment-order/{orderId}/status", Status).WithName("PrintPaymentOrderStatus")
            .WithSummary("A payment order of the caller's, by its numeric id or its order_id")
            .WithDescription("One of the caller's payment orders, by its numeric id or its order_id: its status (created, paid, expired or " +
                             "refunded), how it is paid (wallet, razorpay or hybrid) and its amounts. Customers only. 404 when the caller has no " +
                             "such order.");
        customer.MapGet("/my-orders", MyOrders).WithName("PrintMyOrders").WithSummary("The caller's payment orders, newest first")
            .WithDescription("The caller's payment orders, newest first, and how many there are in all. limit is 1-100 (default 20) and offset " +
                             "0-100,000 (default 0). Customers only. 400 when limit or offset is out of range.");
        customer.MapGet("/wallet/balance", Balance).WithName("PrintWalletBalance").WithSummary("The wallet's balance")
            .WithDescription("The caller's spendable wallet balance in rupees; money held for payments or withdrawals in progress is not included. " +
                             "Customers only.");
        customer.MapPost("/wallet/topup", Topup).WithName("PrintWalletTopup").WithIdempotency()
            .WithSummary("Start a wallet top-up (₹10 to ₹10,000): the wallet is credited when the payment is confirmed")
            .WithDescription("Starts a wallet top-up of amount rupees (₹10 to ₹10,000 as configured by default) and answers the online payment's " +
                             "order_id, key_id and checkout_url; the wallet is credited only when the payment is confirmed. Customers only; an " +
                             "Idempotency-Key makes a retry answer the first top-up instead of starting another, and top-ups are limited per caller." +
                             " 400 when amount is missing, has more than 2 decimals, is out of range, or would take the wallet past its ceiling " +
                             "(₹50,000 by default); 429 when the caller started too many top-ups; 503 when online payment is unavailable.");
        customer.MapGet("/wallet/transactions", Transactions).WithName("PrintWalletTransactions").WithSummary("The wallet's statement, newest first")
            .WithDescription("The caller's wallet statement, newest first: top-ups, payments, refunds and withdrawals with the balance before and " +
                             "after each, and how many there are in all. limit is 1-100 (default 50) and offset 0-1,000,000 (default 0). Customers " +
                             "only. 400 when limit or offset is out of range.");

        app.MapPost("/payment/webhook", Webhook).WithName("PrintPaymentWebhook").ProducesErrors(StatusCodes.Status400BadRequest).WithTags("Print-shop payments")
            .WithErrorShape(PrintErrorShape.Instance).AllowAnonymous().WithMetadata(new RequestSizeLimitAttribute(InboundEvents.MaxBodyBytes))
            .WithSummary("Razorpay's webhook (public; the X-Razorpay-Signature of the raw body is verified before anything is read)")
            .WithDescription("Razorpay's webhook: public (no token); the X-Razorpay-Signature of the raw body is verified before anything is read. A" +
                             " verified event is stored once per event id and answered 200 (status stored, or duplicate for a repeat), and the " +
                             "payment orders and top-ups it concerns are settled from it. 400 invalid_signature when the signature does not hold; " +
                             "404 when no payment provider is configured.");
    }

    public static async Task<Results<Created<CreatePaymentOrderResponse>, ErrorResult>> Create(
        CreatePaymentOrderRequest body, PrintSession session, PaymentOrders orders, PrintMoneySettings money, PrintSettings settings,
        IOptions<RazorpayOptions> razorpay, PaymentIntents intents, PrintWallets wallets, HttpContext context)
    {
        var problem = Amount(body.Amount, "amount", 1, MaxOrderMinor, out var amountMinor)
                      ?? (body.PrintType is "private" or "queue" ? null : Invalid("'print_type' must be \"private\" or \"queue\"."))
                      ?? (body.Copies is null or (>= 1 and <= 100) ? null : Invalid("'copies' must be between 1 and 100."))
                      ?? (body.PrintMode is null or "single" or "double" ? null : Invalid("'print_mode' must be \"single\" or \"double\"."))
                      ?? (body.ColorMode is null or "bw" or "color" ? null : Invalid("'color_mode' must be \"bw\" or \"color\"."))
                      ?? (body.PaperSize is null || PaperSizes.Contains(body.PaperSize) ? null : Invalid($"'paper_size' must be one of {string.Join(", ", PaperSizes)}."))
                      ?? (body.Comment is null or { Length: <= 500 } ? null : Invalid("'comment' must be at most 500 characters."))
                      ?? (body.PlatformCommission is null or (>= 0 and <= 1) ? null : Invalid("'platform_commission' must be between 0 and 1."));
        if (problem is not null)
            return problem;
        if (body.PrintType == "queue" && body.ShopkeeperId is null)
            return Invalid("'shopkeeper_id' is required for queue prints.");
        if (body.ShopkeeperId is { } shop && !await orders.IsShopkeeperAsync(shop, context.RequestAborted))
            return Invalid($"'shopkeeper_id' {shop} is not a shopkeeper.");
        // Read once: what decides the scenario here is what the order is made from.
        long? available = body.UseWallet == true ? (await wallets.BalanceAsync(session.Profile.UserId, context.RequestAborted)).Available : null;
        var needsProvider = available is null || available < amountMinor;
        if (needsProvider && !intents.Available)
            return ApiErrors.Result(new ApiError(503, "payments_unavailable", "Online payment is not available; pay from the wallet instead."));
        var details = new PaymentOrderRow
        {
            PrintType = body.PrintType!, Copies = body.Copies ?? 1, PrintMode = body.PrintMode ?? "single", ColorMode = body.ColorMode ?? "bw",
            PaperSize = body.PaperSize ?? "A4", ShopkeeperId = body.ShopkeeperId, Comment = body.Comment,
        };
        // The commission is the server's (PLATFORM_COMMISSION); a client's platform_commission is accepted and ignored.
        var created = await orders.CreateAsync(session.Profile.UserId, session.Profile.Email, amountMinor, body.UseWallet == true, details,
            settings.PublicWebUrl + "/orders", context.RequestAborted, available);
        var order = created.Order;
        return TypedResults.Created($"/payment-order/{order.Id}/status", new CreatePaymentOrderResponse(order.Id, order.OrderId,
            PrintMoney.Rupees(order.AmountMinor), order.Status, order.PaymentMethod, PrintMoney.Rupees(order.WalletAmountMinor),
            PrintMoney.Rupees(order.RazorpayAmountMinor), KeyId(razorpay, intents), order.ShopkeeperId, PrintMoney.Rupees(order.ShopkeeperAmountMinor),
            money.Commission, order.Status == PaymentOrderStatus.Paid, created.CheckoutUrl));
    }

    public static async Task<Results<Ok<PaymentOrderStatusResponse>, ErrorResult>> Status(
        string orderId, PrintSession session, PaymentOrders orders, CancellationToken cancellationToken)
    {
        var order = await orders.FindAsync(session.Profile.UserId, orderId, cancellationToken);
        return order is null ? ApiErrors.NotFound($"Payment order '{orderId}' not found.") : TypedResults.Ok(PaymentOrderStatusResponse.Of(order));
    }

    public static async Task<Results<Ok<MyOrdersResponse>, ErrorResult>> MyOrders(
        PrintSession session, PaymentOrders orders, CancellationToken cancellationToken, [Range(1, 100)] int limit = 20, [Range(0, 100_000)] int offset = 0)
    {
        if ((Check.Range(limit, "limit", 1, 100) ?? Check.Range(offset, "offset", 0, 100_000)) is { } problem)
            return problem;
        var (page, total) = await orders.ListAsync(session.Profile.UserId, limit, offset, cancellationToken);
        return TypedResults.Ok(new MyOrdersResponse(page.Select(PaymentOrderStatusResponse.Of).ToList(), total));
    }

    public static async Task<Ok<WalletBalanceResponse>> Balance(PrintSession session, PrintWallets wallets, CancellationToken cancellationToken) =>
        TypedResults.Ok(new WalletBalanceResponse(PrintMoney.Rupees((await wallets.BalanceAsync(session.Profile.UserId, cancellationToken)).Available)));

    public static async Task<Results<Ok<TopupResponse>, ErrorResult>> Topup(
        TopupRequest body, PrintSession session, PrintWallets wallets, PrintMoneySettings money, PaymentIntents intents, PrintSettings settings,
        IOptions<RazorpayOptions> razorpay, Platform.Storage.IdBlockAllocator ids, IdentifierThrottle throttle, TimeProvider time, HttpContext context)
    {
        if (Amount(body.Amount, "amount", money.TopupMinMinor, money.TopupMaxMinor, out var amountMinor) is { } problem)
            return problem;
        var userId = session.Profile.UserId;
        var balance = await wallets.BalanceAsync(userId, context.RequestAborted);
        if (balance.Available + balance.Held + amountMinor > money.BalanceCeilingMinor)
            return Invalid($"A wallet may hold at most ₹{PrintMoney.Rupees(money.BalanceCeilingMinor).ToString(CultureInfo.InvariantCulture)}; " +
                           $"this top-up would take it to ₹{PrintMoney.Rupees(balance.Available + balance.Held + amountMinor).ToString(CultureInfo.InvariantCulture)}.");
        if (!intents.Available)
            return ApiErrors.Result(new ApiError(503, "payments_unavailable", "Online payment is not available for top-ups yet."));
        if (!throttle.TryAcquire(TopupThrottle, userId.ToString(CultureInfo.InvariantCulture)))
            return RateLimitPolicies.TooManyRequests(context, throttle.Window);
        var topupId = await ids.NextAsync("print-topups", context.RequestAborted);
        var checkout = await intents.CheckoutAsync(new IntentRequest(PaymentOrders.Surface, $"topup:{userId}:{topupId}", amountMinor, PrintMoney.Currency,
            $"{settings.AppName} wallet top-up", settings.PublicWebUrl + "/wallet", settings.PublicWebUrl + "/wallet",
            time.GetUtcNow() + money.PaymentOrderLifetime,
            session.Profile.Email), context.RequestAborted);
        return TypedResults.Ok(new TopupResponse(checkout.Intent.ProviderOrderId ?? checkout.Intent.Id, KeyId(razorpay, intents),
            PrintMoney.Rupees(amountMinor), settings.Absolute(checkout.CheckoutUrl)));
    }

    public static async Task<Results<Ok<WalletTransactionsResponse>, ErrorResult>> Transactions(
        PrintSession session, PrintWallets wallets, CancellationToken cancellationToken, [Range(1, 100)] int limit = 50,
        [Range(0, 1_000_000)] int offset = 0)
    {
        if ((Check.Range(limit, "limit", 1, 100) ?? Check.Range(offset, "offset", 0, 1_000_000)) is { } problem)
            return problem;
        var (page, total) = await wallets.Ledger.StatementAsync(PrintWallets.Account(session.Profile.UserId), limit, offset, cancellationToken);
        return TypedResults.Ok(new WalletTransactionsResponse(page.Select(WalletTransactions.View).ToList(), total));
    }

    /// <summary>Razorpay's webhook under the document's path: the same verified, de-duplicated inbound path as <c>/payments/webhooks/razorpay</c>.</summary>
    public static async Task<Results<Ok<WebhookReceipt>, ErrorResult>> Webhook(HttpRequest request, InboundEvents inbound, PaymentProviders providers) =>
        await PaymentsApi.ReceiveWebhook(providers.Find(RazorpayProvider.ProviderName)?.Name ?? providers.DefaultName, request, inbound);

    private static string KeyId(IOptions<RazorpayOptions> razorpay, PaymentIntents intents) =>
        intents.DefaultProvider == RazorpayProvider.ProviderName ? razorpay.Value.KeyId ?? "" : intents.DefaultProvider ?? "";


    private static ErrorResult Invalid(string message) => ApiErrors.BadRequest(message, "validation_error");

    /// <summary>Rupees from the client: required, at most two decimals, within [min, max] paise.</summary>
    private static ErrorResult? Amount(decimal? rupees, string field, long minMinor, long maxMinor, out long minor)
    {
        minor = 0;
        if (rupees is null)
            return Invalid($"'{field}' is required.");
        if (!Currencies.TryToMinor(rupees.Value, PrintMoney.Currency, out minor) || minor <= 0)
            return Invalid($"'{field}' must be a positive amount of rupees with at most 2 decimals.");
        if (minor < minMinor || minor > maxMinor)
            return Invalid($"'{field}' must be between ₹{PrintMoney.Rupees(minMinor).ToString(CultureInfo.InvariantCulture)} and " +
                           $"₹{PrintMoney.Rupees(maxMinor).ToString(CultureInfo.InvariantCulture)}.");
        return null;
    }
}
