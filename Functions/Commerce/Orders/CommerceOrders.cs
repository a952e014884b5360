using System.Globalization;
using System.Text.Json;
using Azure.Data.Tables;
using Serverless.Commerce.Catalog;
using Serverless.Platform.Deadlines;
using Serverless.Platform.Http;
using Serverless.Platform.Payments;
using Serverless.Platform.Storage;
using Serverless.Platform.Webhooks;

namespace Serverless.Commerce.Orders;

/// <summary>One line of what a buyer asks to order, with the price it costs now.</summary>
public sealed record QuoteLine(CommerceProduct Product, string? TokenId, int Quantity, long PriceMinor);

/// <summary>What an order would cost: the company, the currency and the way to pay, the lines, and the amounts.</summary>
public sealed record Quote(
    CompanySettings Company,
    CommerceCurrency Currency,
    string? PaymentMethod,
    CompanyPaymentOption? Option,
    IReadOnlyList<QuoteLine> Lines,
    IReadOnlyList<ProductError> Errors,
    CompanyCoupon? Coupon,
    long CartMinor,
    long DiscountMinor,
    long ServiceFeeMinor,
    long GasFeeMinor)
{
    public long TotalMinor => CartMinor - DiscountMinor + ServiceFeeMinor + GasFeeMinor;
}

/// <summary>
/// Commerce orders: preview, create (booking tokens and opening the payment), read, list, and the lifecycle that
/// follows the payment: paid orders are delivered by a queue step, unpaid ones expire through the platform deadlines,
/// and an admin may cancel. Every status change is a transition of the order row that publishes the company's
/// webhook (and, when paid, the delivery) through the outbox in the same write.
/// </summary>
public sealed class CommerceOrders(
    StorageAccount storage,
    CommerceCatalog catalog,
    TokenBookings bookings,
    Transitions transitions,
    DeadlineScheduler deadlines,
    PaymentIntents intents,
    PaymentProviders providers,
    GasFeeSigner gasFees,
    CommerceSettings settings,
    TimeProvider time,
    ILogger<CommerceOrders> logger)
{
    public const string Surface = "commerce";
    public const string TableName = "commerceorders";
    public const string LinkTableName = "commerceorderlinks";
    public const string ExpiryDeadline = "commerce-order-expiry";

    /// <summary>The most tokens one order may hold.</summary>
    public const int MaxTokensPerOrder = 50;

    public TableClient Orders => storage.Table(TableName);
    private TableClient Links => storage.Table(LinkTableName);

    public static string WebhookOwner(string companyId) => "company:" + companyId.ToLowerInvariant();

    // ---- pricing -------------------------------------------------------------------------------------------------

    /// <summary>
    /// Prices what a buyer asks for. A product that cannot be ordered (unknown, not sold in the currency, no token
    /// left, a token not for sale) becomes a product error, not a refusal: the preview shows them all.
    /// </summary>
    /// <param name="forCreate">
    /// A create reads each product fresh and leaves tokens to the booking (which refuses with the same codes); a preview
    /// may use what was read a moment ago and checks the tokens itself.
    /// </param>
    public async Task<Quote> QuoteAsync(string companyId, string buyerId, IReadOnlyList<(string ProductId, string? TokenId, int Quantity)> wanted,
        string? currencyId, string? method, string? couponCode, bool forCreate, CancellationToken cancellationToken)
    {
        var company = await catalog.CompanyAsync(companyId, cancellationToken)
                      ?? throw new ApiException(ApiError.NotFound($"Company {companyId} not found."));
        if (currencyId is null)
            throw new ApiException(ApiError.BadRequest("currencyId is required (in payments[] or the order).", "currency-required"));
        var currency = CommerceCatalog.LooksLikeId(currencyId) ? await catalog.CurrencyAsync(currencyId, cancellationToken) : null;
        if (currency is null || !company.PaymentOptions.Any(o => string.Equals(o.CurrencyId, currency.Id, StringComparison.OrdinalIgnoreCase)))
            throw new ApiException(ApiError.BadRequest($"Currency {currencyId} is not accepted by this company.", "currency-not-accepted"));
        CompanyPaymentOption? option = null;
        if (method is not null)
        {
            option = company.PaymentOption(currency.Id, method)
                     ?? throw new ApiException(ApiError.BadRequest($"Payment method '{method}' is not available in {currency.Code} for this company.",
                         "payment-method-not-available"));
        }
        CompanyCoupon? coupon = null;
        if (couponCode is { Length: > 0 })
        {
            coupon = company.Coupon(couponCode);
            if (coupon is null || !coupon.IsValid(time.GetUtcNow()))
                throw new ApiException(ApiError.BadRequest($"Coupon '{couponCode}' is not valid.", "invalid-coupon"));
        }

        var lines = new List<QuoteLine>();
        var errors = new List<ProductError>();
        var now = time.GetUtcNow();
        foreach (var group in wanted.GroupBy(w => w.ProductId.ToLowerInvariant()))
        {
            var product = forCreate
                ? await catalog.ProductAsync(companyId, group.Key, cancellationToken)
                : await catalog.RecentProductAsync(companyId, group.Key, cancellationToken);
            if (product is null)
            {
                errors.Add(Error(group.Key, null, "product-not-found", $"Product {group.Key} not found."));
                continue;
            }
            if (product.PriceIn(currency.Id) is not { } price)
            {
                errors.Add(Error(product.Id, null, "currency-not-accepted", $"Product {product.Id} is not sold in {currency.Code}."));
                continue;
            }
            var anyWanted = 0;
            foreach (var (_, tokenId, quantity) in group)
            {
                if (tokenId is null)
                {
                    if (product.DistributionType == DistributionTypes.Fixed)
                    {
                        errors.Add(Error(product.Id, null, "product-token-required",
                            $"Product {product.Id} has a fixed distribution: name the token to buy in productTokenId."));
                        continue;
                    }
                    anyWanted += quantity;
                    lines.Add(new QuoteLine(product, null, quantity, price.AmountMinor));
                    continue;
                }
                if (forCreate)
                {
                    lines.Add(new QuoteLine(product, tokenId.ToLowerInvariant(), 1, price.AmountMinor));
                    continue;
                }
                var token = await catalog.TokenAsync(companyId, product.Id, tokenId, cancellationToken);
                if (token is null)
                    errors.Add(Error(product.Id, tokenId, "product-token-not-found", $"Product token {tokenId} of product {product.Id} does not exist."));
                else if (token.FixedUserId is { } fixedTo && fixedTo != buyerId)
                    errors.Add(Error(product.Id, tokenId, "product-token-fixed-to-another-user", $"Product token {tokenId} is reserved for another user."));
                else if (!(token.Status == TokenStatus.ForSale || (token.Status == TokenStatus.LockedByBooking && token.BookedUntil <= now)))
                    errors.Add(Error(product.Id, tokenId, "product-token-not-for-sale", $"Product token {tokenId} is not for sale."));
                else
                    lines.Add(new QuoteLine(product, token.Id, 1, price.AmountMinor));
            }
            if (anyWanted > 0 && !forCreate)
            {
                var available = await catalog.RecentlyAvailableAsync(companyId, product.Id, buyerId, anyWanted, now, cancellationToken);
                if (available < anyWanted)
                {
                    lines.RemoveAll(l => l.Product.Id == product.Id && l.TokenId is null);
                    errors.Add(Error(product.Id, null, "no-product-tokens-available",
                        $"Only {available} token(s) of product {product.Id} are available for sale; {anyWanted} were asked for."));
                }
            }
        }

        var cart = lines.Sum(l => l.PriceMinor * l.Quantity);
        var discount = coupon is null ? 0 : cart * coupon.DiscountBasisPoints / 10_000;
        var fee = ((cart - discount) * company.Company.ClientServiceFeeBasisPoints + 5_000) / 10_000;
        var gas = lines.Count == 0 ? 0 : company.GasFeeMinor(currency.Id);
        return new Quote(company, currency, method, option, lines, errors, coupon, cart, discount, fee, gas);

        static ProductError Error(string? productId, string? tokenId, string code, string message) =>
            new(productId, tokenId, new ProductErrorDetail(code, message));
    }

    public OrderPreviewResponse Preview(Quote quote)
    {
        var code = quote.Currency.Code;
        var signed = gasFees.Sign(quote.Company.Company.Id, quote.Currency.Id, quote.GasFeeMinor);
        var products = quote.Lines.GroupBy(l => (l.Product.Id, l.TokenId)).Select(g =>
        {
            var product = g.First().Product;
            return new PreviewProductResponse(product.Id, product.Name, g.Key.TokenId, g.Sum(l => l.Quantity),
                [.. product.Prices().Where(p => p.CurrencyId == quote.Currency.Id).Select(p => new PriceResponse(p.CurrencyId, Money(p.AmountMinor, code)))],
                Money(g.First().PriceMinor, code));
        }).ToList();
        var options = quote.Company.PaymentOptions.Where(o => string.Equals(o.CurrencyId, quote.Currency.Id, StringComparison.OrdinalIgnoreCase))
            .Select(o => new ProviderForSelection(o.PaymentMethod, o.Provider)).ToList();
        return new OrderPreviewResponse(products, quote.Currency.Id, Money(quote.CartMinor, code), Money(quote.DiscountMinor, code),
            Money(quote.ServiceFeeMinor, code), new SignedGasFeeResponse(Money(signed.AmountMinor, code), signed.Signature, OrderViews.Time(signed.ExpiresAt)),
            Money(quote.TotalMinor, code), options, quote.Errors);
    }

    public static string Money(long minor, string currencyCode) => CatalogApi.Money(minor, currencyCode);

    // ---- creating ------------------------------------------------------------------------------------------------

    /// <summary>What a validated create request carries beyond the quote.</summary>
    public sealed record NewOrder(
        string CompanyId,
        string OwnerId,
        string UserId,
        Quote Quote,
        string WalletAddress,
        string? SuccessUrl,
        bool AcceptSimilar);

    /// <summary>
    /// Creates an order: refuses a similar one placed moments ago, writes the order (not yet shown) and its expiry,
    /// books its tokens, opens its payment, and shows it. A refusal or a failure along the way releases what was booked
    /// and removes the order, so nothing half-made is left.
    /// </summary>
    public async Task<CommerceOrder> CreateAsync(NewOrder request, CancellationToken cancellationToken)
    {
        var quote = request.Quote;
        var option = quote.Option!;
        var now = time.GetUtcNow();
        var partition = CommerceOrder.PartitionFor(request.CompanyId, request.OwnerId);
        var productsKey = string.Join(',', quote.Lines.Select(l => l.Product.Id + (l.TokenId is null ? "" : "/" + l.TokenId)).Order(StringComparer.Ordinal));
        if (!request.AcceptSimilar && await HasSimilarAsync(partition, productsKey, quote.Company, now, cancellationToken))
            throw new ApiException(new ApiError(400, "similar-order-not-accepted",
                "A similar order was placed a moment ago. Send acceptSimilarOrderInShortPeriod: true to place this one too."));

        var free = quote.TotalMinor == 0 || option.Provider == CommerceProviders.Free;
        if (option.Provider == CommerceProviders.Free && quote.TotalMinor != 0)
            throw new ApiException(ApiError.BadRequest($"The '{option.PaymentMethod}' payment method takes free orders only; this one costs "
                                                       + Money(quote.TotalMinor, quote.Currency.Code) + ".", "payment-method-not-available"));
        var provider = free ? CommerceProviders.Free : option.Provider;
        if (CommerceProviders.UsesIntents(provider) && providers.Find(provider) is null)
            throw new ApiException(new ApiError(503, "payment-provider-unavailable", $"The payment provider '{provider}' is not configured on this service."));

        var order = new CommerceOrder
        {
            PartitionKey = partition,
            RowKey = Guid.CreateVersion7(now).ToString(),
            CompanyId = request.CompanyId.ToLowerInvariant(),
            UserId = request.UserId,
            CurrencyId = quote.Currency.Id,
            CurrencyCode = quote.Currency.Code,
            PaymentMethod = option.PaymentMethod,
            PaymentProvider = provider,
            DestinationWalletAddress = request.WalletAddress,
            SuccessUrl = request.SuccessUrl,
            CouponCode = quote.Coupon?.Code,
            ProductsKey = productsKey,
            CartMinor = quote.CartMinor,
            DiscountMinor = quote.DiscountMinor,
            ServiceFeeMinor = quote.ServiceFeeMinor,
            GasFeeMinor = quote.GasFeeMinor,
            TotalMinor = quote.TotalMinor,
            CreatedAt = now,
            UpdatedAt = now,
            ExpiresAt = now + TimeSpan.FromMinutes(Math.Max(1, option.ExpiryMinutes)),
        };
        // The link and the row first: every booking then names an order that exists.
        await Links.AddOnceAsync(new CommerceOrderLink { PartitionKey = order.Id, RowKey = "", CompanyId = order.CompanyId, OrderPartition = partition },
            stored => stored.OrderPartition == partition, cancellationToken);
        await Orders.AddOnceAsync(order, stored => stored.UserId == order.UserId && stored.ProductsKey == productsKey, cancellationToken);
        await deadlines.ScheduleAsync(ExpiryDeadline, Key(order), order.ExpiresAt, cancellationToken);

        var lines = new List<OrderLine>();
        IntentCheckout? checkout = null;
        try
        {
            foreach (var line in quote.Lines)
            {
                for (var n = 0; n < line.Quantity; n++)
                {
                    var token = await bookings.BookAsync(order, line.Product, line.TokenId, SettleAsync, cancellationToken);
                    lines.Add(new OrderLine(line.Product.Id, line.Product.Name, token.Id, token.Number, line.PriceMinor));
                }
            }
            order = order with { LinesJson = JsonSerializer.Serialize(lines) };
            if (CommerceProviders.UsesIntents(provider))
                checkout = await intents.CheckoutAsync(IntentFor(order), cancellationToken);
        }
        catch (Exception failure) when (failure is ApiException or PaymentProviderException or ArgumentException)
        {
            await AbandonAsync(order, lines, failure.Message, cancellationToken);
            if (failure is PaymentProviderException)
            {
                logger.LogWarning("Commerce order {OrderId}: the payment provider failed ({Problem}); the order was withdrawn.", order.Id, failure.Message);
                throw new ApiException(new ApiError(503, "payment-provider-unavailable", "The payment provider did not answer; try again in a moment."));
            }
            throw;
        }

        var shown = await transitions.ApplyAsync<CommerceOrder, bool>(Orders, order, change =>
        {
            if (change.Current is not { Booked: false } current)
                return change.Current is { Booked: true };
            var at = time.GetUtcNow();
            var next = current with { Booked = true, LinesJson = order.LinesJson, PaymentUrl = Absolute(checkout?.CheckoutUrl), UpdatedAt = at };
            if (free && OrderStatus.IsUnpaid(next.Status))
            {
                var paid = next.Moved(OrderStatus.WaitingDelivery, at) with { PaidAt = at };
                change.Write(paid).Publish(Webhook(next)).Publish(Webhook(paid)).Publish(OrderDelivery.Event(paid));
            }
            else
                change.Write(next).Publish(Webhook(next));
            return true;
        }, cancellationToken);
        return shown.Row!;
    }

    /// <summary>A checkout this app serves (the sandbox's page) is a path: the buyer's app gets it under the public address.</summary>
    private string? Absolute(string? url) => url is ['/', ..] ? settings.PublicBaseUrl + url : url;

    private IntentRequest IntentFor(CommerceOrder order)
    {
        var orderPage = settings.PublicBaseUrl;
        var returnUrl = order.SuccessUrl ?? orderPage;
        return new IntentRequest(Surface, Key(order), order.TotalMinor, order.CurrencyCode,
            $"Order {order.Id}", returnUrl, returnUrl, order.ExpiresAt, Provider: order.PaymentProvider);
    }

    /// <summary>Undoes a create that could not finish: its tokens go back on sale, its payment is closed, its rows removed.</summary>
    private async Task AbandonAsync(CommerceOrder order, IReadOnlyList<OrderLine> lines, string reason, CancellationToken cancellationToken)
    {
        var token = CancellationToken.None;
        await bookings.ReleaseAsync(order, lines, token);
        if (CommerceProviders.UsesIntents(order.PaymentProvider))
            await intents.AbandonAsync(Surface, Key(order), IntentStatus.Cancelled, token);
        await transitions.ApplyAsync<CommerceOrder, bool>(Orders, order.PartitionKey, order.Id, change =>
        {
            if (change.Current is not { Booked: false })
                return false;
            change.Delete();
            return true;
        }, token);
        await Links.DeleteEntityAsync(order.Id, "", cancellationToken: token);
        logger.LogInformation("Commerce order {OrderId} was not created: {Reason}", order.Id, reason);
    }

    private async Task<bool> HasSimilarAsync(string partition, string productsKey, CompanySettings company, DateTimeOffset now,
        CancellationToken cancellationToken)
    {
        var window = settings.SimilarOrderWindow ?? TimeSpan.FromSeconds(company.Company.SimilarOrderWindowSeconds);
        if (window <= TimeSpan.Zero)
            return false;
        var since = now - window;
        var filter = TableClient.CreateQueryFilter($"PartitionKey eq {partition} and CreatedAt ge {since} and ProductsKey eq {productsKey}");
        await foreach (var order in Orders.QueryAsync<CommerceOrder>(filter, cancellationToken: cancellationToken))
        {
            if (order.Booked && order.EffectiveStatus(now) is not (OrderStatus.Failed or OrderStatus.Cancelled or OrderStatus.Expired))
                return true;
        }
        return false;
    }

    // ---- reading -------------------------------------------------------------------------------------------------

    /// <summary>An order of this buyer (null for another's, or one never shown).</summary>
    public async Task<CommerceOrder?> GetOwnAsync(string companyId, string ownerId, string orderId, CancellationToken cancellationToken)
    {
        if (!Guid.TryParse(orderId, out var id))
            return null;
        var order = await Orders.FindAsync<CommerceOrder>(CommerceOrder.PartitionFor(companyId, ownerId), id.ToString(), cancellationToken);
        return order is { Booked: true } ? order : null;
    }

    /// <summary>An order of a company by id alone (the admin's routes).</summary>
    public async Task<CommerceOrder?> GetInCompanyAsync(string companyId, string orderId, CancellationToken cancellationToken)
    {
        if (!Guid.TryParse(orderId, out var id))
            return null;
        var link = await Links.FindAsync<CommerceOrderLink>(id.ToString(), "", cancellationToken);
        if (link is null || !string.Equals(link.CompanyId, companyId, StringComparison.OrdinalIgnoreCase))
            return null;
        var order = await Orders.FindAsync<CommerceOrder>(link.OrderPartition, id.ToString(), cancellationToken);
        return order is { Booked: true } ? order : null;
    }

    /// <summary>A buyer's orders (one partition), or every order of a company (its range of partitions).</summary>
    public async Task<List<CommerceOrder>> ListAsync(string companyId, string? ownerId, CancellationToken cancellationToken)
    {
        var company = companyId.ToLowerInvariant();
        var filter = ownerId is not null
            ? TableClient.CreateQueryFilter($"PartitionKey eq {CommerceOrder.PartitionFor(company, ownerId)}")
            : TableClient.CreateQueryFilter($"PartitionKey gt {company + "|"} and PartitionKey lt {company + "}"}");
        var list = new List<CommerceOrder>();
        await foreach (var order in Orders.QueryAsync<CommerceOrder>(filter, maxPerPage: 1000, cancellationToken: cancellationToken))
        {
            if (order.Booked)
                list.Add(order);
        }
        return list;
    }

    /// <summary>Asks the payment provider for the newest state of an unpaid order's payment and applies it.</summary>
    public async Task<CommerceOrder> RefreshAsync(CommerceOrder order, CancellationToken cancellationToken)
    {
        if (!OrderStatus.IsUnpaid(order.Status) || !CommerceProviders.UsesIntents(order.PaymentProvider))
            return order;
        await intents.RefreshAsync(PaymentIntent.IdFor(Surface, Key(order)), cancellationToken);
        return await Orders.FindAsync<CommerceOrder>(order.PartitionKey, order.Id, cancellationToken) ?? order;
    }

    // ---- lifecycle -----------------------------------------------------------------------------------------------

    /// <summary>Where an order is: its partition and id (the deadline key, the intent reference, the delivery message).</summary>
    public static string Key(CommerceOrder order) => order.PartitionKey + "|" + order.RowKey;

    public static (string Partition, string Id)? ParseKey(string key)
    {
        var separator = key.LastIndexOf('|');
        return separator <= 0 || separator == key.Length - 1 ? null : (key[..separator], key[(separator + 1)..]);
    }

    /// <summary>
    /// The payment of an order succeeded: an unpaid order not yet expired is paid and goes to delivery; anything else
    /// refuses the payment (the platform refunds it). The same payment twice is accepted once.
    /// </summary>
    public async Task<bool> OnPaymentAsync(PaymentIntentEvent change, CancellationToken cancellationToken)
    {
        if (change.Status != IntentStatus.Succeeded || change.PaymentId is not { } paymentId)
            return true;
        if (ParseKey(change.Reference) is not var (partition, id))
            return false;
        var paid = await transitions.ApplyAsync<CommerceOrder, bool>(Orders, partition, id, row =>
        {
            if (row.Current is not { } order)
                return false;
            if (order.PaymentId is not null)
                return order.PaymentId == paymentId;
            var now = time.GetUtcNow();
            // An order never shown (its create was cut short) holds no lines to deliver: its payment is refunded.
            if (!order.Booked || !OrderStatus.IsUnpaid(order.Status) || now >= order.ExpiresAt || change.AmountMinor != order.TotalMinor)
                return false;
            var next = order.Moved(OrderStatus.WaitingDelivery, now) with { PaymentId = paymentId, PaidAt = change.PaidAt ?? now };
            row.Write(next).Publish(Webhook(next)).Publish(OrderDelivery.Event(next));
            return true;
        }, cancellationToken);
        return paid.Outcome;
    }

    /// <summary>
    /// Settles the order a run-out token booking names, for the next buyer: an unpaid order past its time is expired
    /// now (as its deadline would), and an order that no longer holds its tokens lets them go. True when the order no
    /// longer holds the token (expired, cancelled, failed, or gone); false while it is paid or still open.
    /// </summary>
    public async Task<bool> SettleAsync(string orderPartition, string orderId, CancellationToken cancellationToken)
    {
        var expired = await ExpireAsync(orderPartition, orderId, cancellationToken);
        return expired is null || expired.Status is OrderStatus.Expired or OrderStatus.Cancelled or OrderStatus.Failed;
    }

    /// <summary>
    /// The expiry deadline: an unpaid order past its time becomes expired (with its webhook), its tokens go back on
    /// sale and its payment is closed at the provider; a payment that still arrives is refunded. Repeating it is harmless.
    /// </summary>
    public async Task<CommerceOrder?> ExpireAsync(string partition, string id, CancellationToken cancellationToken)
    {
        var expired = await transitions.ApplyAsync<CommerceOrder, bool>(Orders, partition, id, change =>
        {
            if (change.Current is not { } order || !OrderStatus.IsUnpaid(order.Status) || time.GetUtcNow() < order.ExpiresAt)
                return false;
            var next = order.Moved(OrderStatus.Expired, order.ExpiresAt);
            change.Write(next);
            if (order.Booked)
                change.Publish(Webhook(next));
            return true;
        }, cancellationToken);
        if (expired.Row is { Status: OrderStatus.Expired } closed)
            await LetGoAsync(closed, IntentStatus.Expired, cancellationToken);
        return expired.Row;
    }

    /// <summary>
    /// An order that ended without its tokens (expired, cancelled, failed): the tokens it still holds go back on sale;
    /// its payment is closed, and refunded in full if it was paid (once, however often this runs).
    /// </summary>
    private async Task LetGoAsync(CommerceOrder order, string intentStatus, CancellationToken cancellationToken)
    {
        await bookings.ReleaseAsync(order, order.Lines(), cancellationToken);
        if (CommerceProviders.UsesIntents(order.PaymentProvider))
            await intents.AbandonAsync(Surface, Key(order), intentStatus, cancellationToken);
    }

    public enum CancelOutcome { Cancelled, NotFound, NotCancellable }

    /// <summary>
    /// An admin cancels an order that is not yet being delivered: its tokens go back on sale; a paid order is refunded
    /// in full through its payment. Cancelling twice answers the cancelled order.
    /// </summary>
    public async Task<(CancelOutcome Outcome, CommerceOrder? Order)> CancelAsync(CommerceOrder known, string reason, CancellationToken cancellationToken)
    {
        var cancelled = await transitions.ApplyAsync<CommerceOrder, CancelOutcome>(Orders, known.PartitionKey, known.Id, change =>
        {
            if (change.Current is not { Booked: true } order)
                return CancelOutcome.NotFound;
            if (order.Status == OrderStatus.Cancelled)
                return CancelOutcome.Cancelled;
            var now = time.GetUtcNow();
            if (order.EffectiveStatus(now) is not (OrderStatus.Pending or OrderStatus.ConfirmingPayment or OrderStatus.WaitingDelivery))
                return CancelOutcome.NotCancellable;
            var next = order.Moved(OrderStatus.Cancelled, now) with { FailReason = reason };
            change.Write(next).Publish(Webhook(next));
            return CancelOutcome.Cancelled;
        }, cancellationToken);
        if (cancelled.Outcome == CancelOutcome.Cancelled && cancelled.Row is { } order)
            await LetGoAsync(order, IntentStatus.Cancelled, cancellationToken);
        return (cancelled.Outcome, cancelled.Row);
    }

    /// <summary>
    /// An admin confirms that a transfer order's money arrived: the order is paid and goes to delivery. Only orders of
    /// the transfer provider, still unpaid and not expired.
    /// </summary>
    public async Task<(bool Confirmed, CommerceOrder? Order)> ConfirmTransferAsync(CommerceOrder known, string confirmedBy, CancellationToken cancellationToken)
    {
        var confirmed = await transitions.ApplyAsync<CommerceOrder, bool>(Orders, known.PartitionKey, known.Id, change =>
        {
            if (change.Current is not { Booked: true } order || order.PaymentProvider != CommerceProviders.Transfer)
                return false;
            if (order.PaymentId is not null)
                return true;
            var now = time.GetUtcNow();
            if (order.EffectiveStatus(now) is not (OrderStatus.Pending or OrderStatus.ConfirmingPayment))
                return false;
            var next = order.Moved(OrderStatus.WaitingDelivery, now) with { PaymentId = "transfer:" + confirmedBy, PaidAt = now };
            change.Write(next).Publish(Webhook(next)).Publish(OrderDelivery.Event(next));
            return true;
        }, cancellationToken);
        return (confirmed.Outcome, confirmed.Row);
    }

    /// <summary>
    /// The delivery step (from the queue): waiting_delivery → delivering, the tokens sold to the buyer and recorded as
    /// transferred to the order's wallet, then concluded. A token no longer the order's fails it, and its payment is
    /// refunded. Repeating a delivery finishes what the last one left and changes nothing after.
    /// </summary>
    public async Task DeliverAsync(string partition, string id, CancellationToken cancellationToken)
    {
        var started = await transitions.ApplyAsync<CommerceOrder, bool>(Orders, partition, id, change =>
        {
            if (change.Current is not { } order)
                return false;
            if (order.Status == OrderStatus.Delivering)
                return true;
            if (order.Status != OrderStatus.WaitingDelivery)
                return false;
            // One transfer id per order, set once: a repeated delivery continues the same transfer.
            var next = order.Moved(OrderStatus.Delivering, time.GetUtcNow()) with { DeliverId = order.DeliverId ?? Guid.NewGuid().ToString() };
            change.Write(next).Publish(Webhook(next));
            return true;
        }, cancellationToken);
        if (!started.Outcome || started.Row is not { } delivering)
            return;

        var sold = await bookings.SellAsync(delivering, delivering.Lines(), cancellationToken);
        var ended = await transitions.ApplyAsync<CommerceOrder, bool>(Orders, partition, id, change =>
        {
            if (change.Current is not { Status: OrderStatus.Delivering } order)
                return false;
            var next = sold
                ? order.Moved(OrderStatus.Concluded, time.GetUtcNow())
                : order.Moved(OrderStatus.Failed, time.GetUtcNow()) with { FailReason = "A product token of this order was no longer available for delivery." };
            change.Write(next).Publish(Webhook(next));
            return true;
        }, cancellationToken);
        if (ended.Row is { Status: OrderStatus.Failed } failed)
            await LetGoAsync(failed, IntentStatus.Cancelled, cancellationToken);
    }

    /// <summary>The company's webhook of an order's status, keyed by order and status: one per transition however often it is forwarded.</summary>
    private OutboxEvent Webhook(CommerceOrder order)
    {
        var eventType = "order." + order.Status;
        var payload = new OrderWebhookPayload(eventType, OrderViews.Response(order, time.GetUtcNow()));
        return WebhookOutboxChannel.Event(WebhookOwner(order.CompanyId), eventType, JsonSerializer.SerializeToNode(payload)!,
            "commerce-order:" + order.Id + ":" + order.Status);
    }
}

/// <summary>The commerce side of its payment intents.</summary>
public sealed class CommercePaymentHandler(CommerceOrders orders) : IPaymentIntentHandler
{
    public string Surface => CommerceOrders.Surface;

    public Task<bool> OnChangedAsync(PaymentIntentEvent change, CancellationToken cancellationToken) => orders.OnPaymentAsync(change, cancellationToken);
}
