using System.Globalization;
using Microsoft.AspNetCore.Http.HttpResults;
using Serverless.Commerce.Catalog;
using Serverless.Platform.Http;

namespace Serverless.Commerce.Orders;

/// <summary>The commerce document's order routes, in its order, then the company admin's.</summary>
public static class OrdersApi
{
    /// <summary>Who may call each route group, and what the group answers anyone else.</summary>
    private const string BuyerCaller =
        "For a commerce token of a user, an integration or a super admin of the company; 401 without a commerce token, 403 without " +
        "one of those roles, 404 when the token belongs to another company. ";

    private const string AdminCaller =
        "For a commerce token of the company's admin (companyAdmin) or a super admin; 401 without a commerce token, 403 without either " +
        "role, 404 when a company admin's token belongs to another company. ";

    /// <summary>The list's query parameters, which the handler reads itself.</summary>
    private const string ListQuery =
        "Query: page (from 1) and limit (1 to 100, 10 when absent); sortBy createdAt (default), updatedAt, status, totalAmount or " +
        "expiresIn, and orderBy ASC or DESC (default); createdAt, a date and time the orders were placed at or after; status, one or " +
        "more statuses (comma-separated or repeated); search, up to 200 characters found in the order id, wallet, product or token. ";

    /// <summary>The same query parameters, for the document: what the handler accepts, no stricter.</summary>
    private static readonly OpenApiQueryParameter[] ListParameters =
    [
        new("page", "The page, from 1 (1 when absent).", Microsoft.OpenApi.JsonSchemaType.Integer, Minimum: 1, Maximum: int.MaxValue),
        new("limit", "Orders a page, 1 to 100 (10 when absent).", Microsoft.OpenApi.JsonSchemaType.Integer, Minimum: 1, Maximum: CommercePaging.MaxLimit),
        new("sortBy", "createdAt (default), updatedAt, status, totalAmount or expiresIn.", Pattern: "^(createdAt|updatedAt|status|totalAmount|expiresIn)$"),
        new("orderBy", "ASC or DESC (default), in any case.", Pattern: "^([Aa][Ss][Cc]|[Dd][Ee][Ss][Cc])$"),
        new("createdAt", "Orders placed at or after this date and time, such as 2022-01-30T10:30:40-03:00."),
        new("status", "One or more order statuses, comma-separated (or the parameter repeated)."),
        new("search", "Up to 200 characters (after trimming) found in the order id, wallet, product or token."),
    ];

    public static IEndpointRouteBuilder MapCommerceOrders(this IEndpointRouteBuilder app)
    {
        var buyer = app.MapCommerceGroup("/companies/{companyId}/orders", "Commerce orders", CommerceRoles.Buyers);
        buyer.MapGet("", ListOrders).WithName("CommerceListOrders").DocumentsQuery(ListParameters).ProducesErrors(StatusCodes.Status400BadRequest).WithSummary("List logged-in user orders")
            .WithDescription("The caller's own orders in the company (a user's, or an integration's), a page at a time. " + ListQuery + BuyerCaller +
                             "400 when a query parameter is not one of its values.");
        buyer.MapGet("/{orderId}", GetOrder).WithName("CommerceGetOrder").WithSummary("Get logged-in user order by id")
            .WithDescription("One of the caller's own orders, with its products, payment and status. With fetchNewestStatus=true the payment provider " +
                             "is first asked for the newest state of an unpaid order's payment. " + BuyerCaller + "404 when there is no such order " +
                             "among the caller's own.");
        buyer.MapPost("/preview", PreviewOrder).WithName("CommercePreviewOrder").WithSummary("Creates an order preview")
            .WithDescription("Prices an order without placing it: each product's price, the coupon's discount, the client service fee, a gas fee " +
                             "signed for a short time (send it to POST /orders within its expiresAt), the total and the payment options of the " +
                             "currency. A product that cannot be ordered (unknown, not sold in the currency, no token left, a token not for sale or " +
                             "reserved for another buyer) is listed in productsErrors rather than refused. " + BuyerCaller + "400 when a field " +
                             "breaks its rules (at most 50 tokens in all), the currency or payment method is not one the company takes, or the " +
                             "coupon is not valid; 404 when there is no such company or it is disabled.");
        buyer.MapPost("", CreateOrder).WithName("CommerceCreateOrder").WithSummary("Creates an order").WithIdempotency()
            .WithDescription("Places an order of up to 50 tokens (each orderProducts entry is one token), paid in one currency by one method: it books " +
                             "the tokens, opens the payment and returns 201 with the order, pending with its paymentInfo.paymentUrl until paid, or " +
                             "already paid when it costs nothing; unpaid, it expires after the payment option's minutes and its tokens go back on sale. " +
                             BuyerCaller + "400 when a field breaks its rules, an expected price is not the current one (product-price-changed), the " +
                             "signed gas fee is missing, forged or expired, a token is not for sale or reserved for another buyer, too few tokens " +
                             "are left, or a similar order was placed moments ago (similar-order-not-accepted; send " +
                             "acceptSimilarOrderInShortPeriod: true to place it anyway); 404 when the company, a product or a named token does not exist.");

        var admin = app.MapCommerceGroup("/admin/companies/{companyId}/orders", "Commerce admin", CommerceRoles.Administrators);
        admin.MapGet("", AdminListOrders).WithName("CommerceAdminListOrders").DocumentsQuery(ListParameters).ProducesErrors(StatusCodes.Status400BadRequest).WithSummary("List a company's orders")
            .WithDescription("Every order of the company, whoever placed it, a page at a time. " + ListQuery + AdminCaller + "400 when a query " +
                             "parameter is not one of its values.");
        admin.MapGet("/{orderId}", AdminGetOrder).WithName("CommerceAdminGetOrder").WithSummary("Get a company's order by id")
            .WithDescription("One of the company's orders, whoever placed it. " + AdminCaller + "404 when the company has no such order.");
        admin.MapPatch("/{orderId}/cancel", AdminCancelOrder).WithName("CommerceAdminCancelOrder").ProducesErrors(StatusCodes.Status409Conflict).WithSummary("Cancel an order")
            .WithDescription("Cancels an order that is pending, confirming its payment or waiting for delivery: its tokens go back on sale, and a paid " +
                             "order is refunded in full. Cancelling a cancelled order answers it as it is. " + AdminCaller + "404 when the company " +
                             "has no such order; 409 order-not-cancellable when it is being delivered, concluded, failed or expired.");
        admin.MapPatch("/{orderId}/confirm-payment", AdminConfirmPayment).WithName("CommerceAdminConfirmPayment")
            .WithSummary("Confirm that a transfer order's money arrived")
            .WithDescription("Marks an unpaid, unexpired order paid by transfer as paid, and sends it to delivery; confirming an order already paid " +
                             "answers it as it is. " + AdminCaller + "404 when the company has no such order; 409 not-a-transfer-order when another " +
                             "provider takes its payment; 409 order-not-payable when it expired, was cancelled or failed.");
        return app;
    }

    public static async Task<Results<Ok<Page<OrderResponse>>, ErrorResult>> ListOrders(
        string companyId, HttpRequest request, CommerceCaller caller, CommerceOrders orders, TimeProvider time, CancellationToken cancellationToken) =>
        await ListAsync(companyId, caller.OwnerId, request, orders, time, cancellationToken);

    public static async Task<Results<Ok<OrderResponse>, ErrorResult>> GetOrder(
        string companyId, string orderId, bool? fetchNewestStatus, CommerceCaller caller, CommerceOrders orders, TimeProvider time,
        CancellationToken cancellationToken)
    {
        var order = await orders.GetOwnAsync(companyId, caller.OwnerId, orderId, cancellationToken);
        if (order is null)
            return OrderNotFound(orderId);
        if (fetchNewestStatus == true)
            order = await orders.RefreshAsync(order, cancellationToken);
        return TypedResults.Ok(OrderViews.Response(order, time.GetUtcNow()));
    }

    public static async Task<Results<Ok<OrderPreviewResponse>, ErrorResult>> PreviewOrder(
        string companyId, PreviewOrderRequest body, CommerceCaller caller, CommerceOrders orders, CancellationToken cancellationToken)
    {
        if (body.OrderProducts is not { Count: > 0 } wanted)
            return ApiErrors.BadRequest("orderProducts must list at least one product.");
        var lines = new List<(string, string?, int)>();
        for (var i = 0; i < wanted.Count; i++)
        {
            var item = wanted[i];
            if (CheckIds(item?.ProductId, item?.ProductTokenId, $"orderProducts[{i}]") is { } problem)
                return problem;
            var quantity = item!.Quantity ?? 1;
            if (item.ProductTokenId is not null && quantity != 1)
                return ApiErrors.BadRequest($"orderProducts[{i}].quantity must be 1 when productTokenId names a token.");
            if (quantity is < 1 or > CommerceOrders.MaxTokensPerOrder)
                return ApiErrors.BadRequest($"orderProducts[{i}].quantity must be from 1 to {CommerceOrders.MaxTokensPerOrder}.");
            lines.Add((item.ProductId!, item.ProductTokenId, quantity));
        }
        if (lines.Sum(l => l.Item3) > CommerceOrders.MaxTokensPerOrder)
            return ApiErrors.BadRequest($"An order holds at most {CommerceOrders.MaxTokensPerOrder} tokens.");
        var (currencyId, method, _, paymentProblem) = ReadPayment(body.Payments, body.CurrencyId, body.PaymentMethod, methodRequired: false);
        if (paymentProblem is not null)
            return paymentProblem;
        if (body.DestinationWalletAddress is { } wallet && !WalletAddress.IsValid(wallet))
            return InvalidWallet();
        if (body.CouponCode is { Length: > 64 })
            return ApiErrors.BadRequest("couponCode must be at most 64 characters.");
        var quote = await orders.QuoteAsync(companyId, caller.UserId, lines, currencyId, method, body.CouponCode, forCreate: false, cancellationToken);
        return TypedResults.Ok(orders.Preview(quote));
    }

    public static async Task<Results<Created<OrderResponse>, ErrorResult>> CreateOrder(
        string companyId, CreateOrderRequest body, CommerceCaller caller, CommerceOrders orders, GasFeeSigner gasFees, TimeProvider time,
        CancellationToken cancellationToken)
    {
        if (body.OrderProducts is not { Count: > 0 } wanted)
            return ApiErrors.BadRequest("orderProducts must list at least one product.");
        if (wanted.Count > CommerceOrders.MaxTokensPerOrder)
            return ApiErrors.BadRequest($"An order holds at most {CommerceOrders.MaxTokensPerOrder} tokens.");
        for (var i = 0; i < wanted.Count; i++)
        {
            if (CheckIds(wanted[i]?.ProductId, wanted[i]?.ProductTokenId, $"orderProducts[{i}]") is { } problem)
                return problem;
        }
        var (currencyId, method, provider, paymentProblem) = ReadPayment(body.Payments, body.CurrencyId, body.PaymentMethod, methodRequired: true);
        if (paymentProblem is not null)
            return paymentProblem;
        if (string.IsNullOrWhiteSpace(body.DestinationWalletAddress))
            return ApiErrors.BadRequest("destinationWalletAddress is required.");
        if (!WalletAddress.IsValid(body.DestinationWalletAddress))
            return InvalidWallet();
        if (body.SuccessUrl is { } successUrl
            && (successUrl.Length > 2048 || !Uri.TryCreate(successUrl, UriKind.Absolute, out var parsed) || parsed.Scheme is not ("https" or "http")))
            return ApiErrors.BadRequest("successUrl must be an absolute http(s) URL of at most 2048 characters.");
        if (body.CouponCode is { Length: > 64 })
            return ApiErrors.BadRequest("couponCode must be at most 64 characters.");
        var tokenIds = wanted.Where(w => w!.ProductTokenId is not null).Select(w => w!.ProductTokenId!.ToLowerInvariant()).ToList();
        if (tokenIds.Count != tokenIds.Distinct().Count())
            return ApiErrors.BadRequest("orderProducts names the same productTokenId twice.");

        var quote = await orders.QuoteAsync(companyId, caller.UserId, wanted.Select(w => (w!.ProductId!, w.ProductTokenId, 1)).ToList(),
            currencyId, method, body.CouponCode, forCreate: true, cancellationToken);
        if (quote.Errors.FirstOrDefault() is { } refused)
            return ApiErrors.Result(new ApiError(refused.Error.Code is "product-not-found" or "product-token-not-found" ? 404 : 400,
                refused.Error.Code, refused.Error.Message));
        if (provider is not null && provider != quote.Option!.Provider
            && !(provider == CommerceProviders.Free && quote.TotalMinor == 0))
            return ApiErrors.BadRequest($"paymentProvider '{provider}' is not the one this company takes {quote.Currency.Code} '{method}' payments with ({quote.Option.Provider}).",
                "payment-provider-mismatch");

        // The client confirms the prices it showed the buyer; a price that moved since is refused, not charged.
        var prices = quote.Lines.GroupBy(l => l.Product.Id).ToDictionary(g => g.Key, g => g.First().PriceMinor, StringComparer.OrdinalIgnoreCase);
        for (var i = 0; i < wanted.Count; i++)
        {
            var productId = wanted[i]!.ProductId!;
            var price = prices[productId];
            var expected = wanted[i]!.ExpectedPrices?.FirstOrDefault(p => string.Equals(p?.CurrencyId, quote.Currency.Id, StringComparison.OrdinalIgnoreCase));
            if (expected?.ExpectedPrice is not { } expectedText)
                return ApiErrors.BadRequest($"orderProducts[{i}].expectedPrices must give the price in currency {quote.Currency.Id}.");
            if (!CatalogApi.TryParseMoney(expectedText, quote.Currency.Code, allowZero: true, out var expectedMinor))
                return ApiErrors.BadRequest($"orderProducts[{i}].expectedPrices: '{expectedText}' is not an amount of {quote.Currency.Code}.");
            if (expectedMinor != price)
                return ApiErrors.Result(new ApiError(400, "product-price-changed",
                    $"The price of product {productId} is {CommerceOrders.Money(price, quote.Currency.Code)} {quote.Currency.Code}, not {expectedText}."));
        }

        var signature = body.SignedGasFees?.FirstOrDefault(g => string.Equals(g?.CurrencyId, quote.Currency.Id, StringComparison.OrdinalIgnoreCase))?.SignedGasFee;
        if (signature is null)
            return ApiErrors.BadRequest($"signedGasFees must carry the signed gas fee of currency {quote.Currency.Id} (from the order preview).", "gas-fee-signature-required");
        var (verdict, gasMinor) = gasFees.Verify(companyId, quote.Currency.Id, signature);
        if (verdict == GasFeeSigner.Verdict.Forged)
            return ApiErrors.BadRequest("The signed gas fee is not valid for this company and currency.", "invalid-gas-fee-signature");
        if (verdict == GasFeeSigner.Verdict.Expired)
            return ApiErrors.BadRequest("The signed gas fee has expired; ask for a new order preview.", "gas-fee-signature-expired");

        var order = await orders.CreateAsync(new CommerceOrders.NewOrder(companyId, caller.OwnerId, caller.UserId, quote with { GasFeeMinor = gasMinor },
            body.DestinationWalletAddress, body.SuccessUrl, body.AcceptSimilarOrderInShortPeriod == true), cancellationToken);
        return TypedResults.Created($"/companies/{companyId}/orders/{order.Id}", OrderViews.Response(order, time.GetUtcNow()));
    }

    public static Task<Results<Ok<Page<OrderResponse>>, ErrorResult>> AdminListOrders(
        string companyId, HttpRequest request, CommerceOrders orders, TimeProvider time, CancellationToken cancellationToken) =>
        ListAsync(companyId, null, request, orders, time, cancellationToken);

    public static async Task<Results<Ok<OrderResponse>, ErrorResult>> AdminGetOrder(
        string companyId, string orderId, CommerceOrders orders, TimeProvider time, CancellationToken cancellationToken) =>
        await orders.GetInCompanyAsync(companyId, orderId, cancellationToken) is { } order
            ? TypedResults.Ok(OrderViews.Response(order, time.GetUtcNow()))
            : OrderNotFound(orderId);

    public static async Task<Results<Ok<OrderResponse>, ErrorResult>> AdminCancelOrder(
        string companyId, string orderId, CommerceCaller caller, CommerceOrders orders, TimeProvider time, CancellationToken cancellationToken)
    {
        if (await orders.GetInCompanyAsync(companyId, orderId, cancellationToken) is not { } order)
            return OrderNotFound(orderId);
        var (outcome, row) = await orders.CancelAsync(order, $"Cancelled by {caller.Name ?? caller.UserId}", cancellationToken);
        return outcome switch
        {
            CommerceOrders.CancelOutcome.Cancelled => TypedResults.Ok(OrderViews.Response(row!, time.GetUtcNow())),
            CommerceOrders.CancelOutcome.NotFound => OrderNotFound(orderId),
            _ => ApiErrors.Conflict($"Order {orderId} is {row!.EffectiveStatus(time.GetUtcNow())} and can no longer be cancelled.", "order-not-cancellable"),
        };
    }

    public static async Task<Results<Ok<OrderResponse>, ErrorResult>> AdminConfirmPayment(
        string companyId, string orderId, CommerceCaller caller, CommerceOrders orders, TimeProvider time, CancellationToken cancellationToken)
    {
        if (await orders.GetInCompanyAsync(companyId, orderId, cancellationToken) is not { } order)
            return OrderNotFound(orderId);
        if (order.PaymentProvider != CommerceProviders.Transfer)
            return ApiErrors.Conflict($"Order {orderId} is paid through {order.PaymentProvider}, not by transfer: its provider confirms it.", "not-a-transfer-order");
        var (confirmed, row) = await orders.ConfirmTransferAsync(order, caller.UserId, cancellationToken);
        return confirmed
            ? TypedResults.Ok(OrderViews.Response(row!, time.GetUtcNow()))
            : ApiErrors.Conflict($"Order {orderId} is {row!.EffectiveStatus(time.GetUtcNow())}: its payment can no longer be confirmed.", "order-not-payable");
    }

    private static readonly HashSet<string> SortFields = new(StringComparer.Ordinal) { "createdAt", "updatedAt", "status", "totalAmount", "expiresIn" };

    private static async Task<Results<Ok<Page<OrderResponse>>, ErrorResult>> ListAsync(string companyId, string? ownerId, HttpRequest request,
        CommerceOrders orders, TimeProvider time, CancellationToken cancellationToken)
    {
        var (page, limit, pagingProblem) = CommercePaging.Read(request);
        if (pagingProblem is not null)
            return ApiErrors.Result(pagingProblem);
        var query = request.Query;
        var sortBy = query["sortBy"].FirstOrDefault() ?? "createdAt";
        if (!SortFields.Contains(sortBy))
            return ApiErrors.BadRequest($"sortBy must be one of: {string.Join(", ", SortFields)}.");
        var orderBy = (query["orderBy"].FirstOrDefault() ?? "DESC").ToUpperInvariant();
        if (orderBy is not ("ASC" or "DESC"))
            return ApiErrors.BadRequest("orderBy must be ASC or DESC.");
        DateTimeOffset? since = null;
        if (query["createdAt"].FirstOrDefault() is { Length: > 0 } createdAt)
        {
            if (!DateTimeOffset.TryParse(createdAt, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var parsed))
                return ApiErrors.BadRequest("createdAt must be a date and time, such as 2022-01-30T10:30:40-03:00.");
            since = parsed;
        }
        var statuses = query["status"].Concat(query["status[]"]).SelectMany(s => (s ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            .ToHashSet(StringComparer.Ordinal);
        if (statuses.FirstOrDefault(s => !OrderStatus.All.Contains(s)) is { } unknown)
            return ApiErrors.BadRequest($"status '{unknown}' is not one of: {string.Join(", ", OrderStatus.All)}.");
        var search = query["search"].FirstOrDefault()?.Trim();
        if (search is { Length: > 200 })
            return ApiErrors.BadRequest("search must be at most 200 characters.");

        var now = time.GetUtcNow();
        IEnumerable<CommerceOrder> found = await orders.ListAsync(companyId, ownerId, cancellationToken);
        if (since is { } from)
            found = found.Where(o => o.CreatedAt >= from);
        if (statuses.Count > 0)
            found = found.Where(o => statuses.Contains(o.EffectiveStatus(now)));
        if (search is { Length: > 0 })
            found = found.Where(o => Matches(o, search));
        Func<CommerceOrder, IComparable> key = sortBy switch
        {
            "updatedAt" => o => o.UpdatedAt,
            "status" => o => o.EffectiveStatus(now),
            "totalAmount" => o => o.TotalMinor,
            "expiresIn" => o => o.ExpiresAt,
            _ => o => o.CreatedAt,
        };
        // Ids sort by creation: ties fall back on them, so pages never overlap.
        var sorted = orderBy == "ASC" ? found.OrderBy(key).ThenBy(o => o.Id, StringComparer.Ordinal)
            : found.OrderByDescending(key).ThenByDescending(o => o.Id, StringComparer.Ordinal);
        var views = sorted.Select(o => OrderViews.Response(o, now)).ToList();
        return TypedResults.Ok(CommercePaging.Cut(views, page, limit, request));
    }

    private static bool Matches(CommerceOrder order, string search) =>
        order.Id.Contains(search, StringComparison.OrdinalIgnoreCase)
        || order.DestinationWalletAddress.Contains(search, StringComparison.OrdinalIgnoreCase)
        || order.Lines().Any(l => l.ProductTokenId.Contains(search, StringComparison.OrdinalIgnoreCase)
                                  || l.ProductId.Contains(search, StringComparison.OrdinalIgnoreCase)
                                  || l.ProductName.Contains(search, StringComparison.OrdinalIgnoreCase));

    private static ErrorResult? CheckIds(string? productId, string? tokenId, string field)
    {
        if (productId is null)
            return ApiErrors.BadRequest($"{field}.productId is required.");
        if (!CommerceCatalog.LooksLikeId(productId))
            return ApiErrors.BadRequest($"{field}.productId must be a UUID.");
        if (tokenId is not null && !CommerceCatalog.LooksLikeId(tokenId))
            return ApiErrors.BadRequest($"{field}.productTokenId must be a UUID.");
        return null;
    }

    /// <summary>The currency and method of an order: its one <c>payments[]</c> entry, or the deprecated single fields.</summary>
    private static (string? CurrencyId, string? Method, string? Provider, ErrorResult? Problem) ReadPayment(List<OrderPaymentRequest>? payments,
        string? currencyId, string? method, bool methodRequired)
    {
        string? provider = null;
        if (payments is { Count: > 0 })
        {
            if (payments.Count > 1)
                return (null, null, null, ApiErrors.BadRequest("payments may hold one payment: an order is paid in one currency, by one method."));
            var payment = payments[0];
            if (payment is null)
                return (null, null, null, ApiErrors.BadRequest("payments[0] must be an object."));
            if (payment.AmountType is { } amountType && amountType is not ("percentage" or "all"))
                return (null, null, null, ApiErrors.BadRequest("payments[0].amountType must be percentage or all."));
            if (payment.AmountType == "percentage" && payment.Amount is { } amount && amount != "100")
                return (null, null, null, ApiErrors.BadRequest("payments[0].amount must be 100: one payment pays the whole order."));
            currencyId = payment.CurrencyId;
            method = payment.PaymentMethod ?? method;
            provider = payment.PaymentProvider;
        }
        if (currencyId is null)
            return (null, null, null, ApiErrors.BadRequest("currencyId is required (in payments[0], or the deprecated currencyId)."));
        if (!CommerceCatalog.LooksLikeId(currencyId))
            return (null, null, null, ApiErrors.BadRequest("currencyId must be a UUID."));
        if (method is null && methodRequired)
            return (null, null, null, ApiErrors.BadRequest("paymentMethod is required (in payments[0], or the deprecated paymentMethod)."));
        if (method is not null && !PaymentMethods.All.Contains(method))
            return (null, null, null, ApiErrors.BadRequest($"paymentMethod must be one of: {string.Join(", ", PaymentMethods.All)}."));
        if (provider is not null && !CommerceProviders.Documented.Contains(provider) && provider != CommerceProviders.Sandbox)
            return (null, null, null, ApiErrors.BadRequest($"paymentProvider must be one of: {string.Join(", ", CommerceProviders.Documented)}."));
        return (currencyId, method, provider, null);
    }

    private static ErrorResult InvalidWallet() =>
        ApiErrors.BadRequest("destinationWalletAddress must be an EVM address: 0x and 40 hex digits, with a valid EIP-55 checksum when in mixed case.",
            "invalid-wallet-address");

    private static ErrorResult OrderNotFound(string orderId) => ApiErrors.Result(new ApiError(404, "not_found", $"Order {orderId} not found."));
}
