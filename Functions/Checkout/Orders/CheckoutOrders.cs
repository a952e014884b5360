using System.Globalization;
using System.Text.Json;
using Azure.Data.Tables;
using Serverless.Checkout.Rates;
using Serverless.Checkout.Stores;
using Serverless.Platform.Deadlines;
using Serverless.Platform.Payments;
using Serverless.Platform.Storage;

namespace Serverless.Checkout.Orders;

/// <summary>A new order as validated from the request; amounts already in the currency's minor units.</summary>
public sealed record NewOrder(
    string EcommerceOrderId,
    string Ecommerce,
    string OrderTotal,
    long TotalMinor,
    string OrderCurrency,
    string PaymentStatus,
    string CallbackUrl,
    string? CancelReturnUrl,
    string? SuccessReturnUrl,
    DeliveryInfo DeliveryInfo,
    string Fingerprint);

/// <summary>What a store's <c>PUT</c> asks for; null leaves a field as it is.</summary>
public sealed record OrderUpdate(string? TransactionHash, string? PaymentMethod, string? PaymentStatus, string? Blockchain, string? ConvertedTotal);

public enum CreateOutcome
{
    Created,
    Existing,
    ConflictingBody,
}

public enum UpdateOutcome
{
    NotFound,
    Updated,
    Unchanged,

    /// <summary>The order is confirmed or cancelled (or lapsed, and has just been cancelled): nothing more may change.</summary>
    Final,
}

/// <summary>
/// Checkout orders: create (once per store and <c>ecommerceOrderId</c>), read, list, update by the store, pay through
/// the platform's payment intents, confirm a crypto transfer, and cancel when unpaid past their expiry. Every status
/// change goes through the transition seam and publishes its callback in the same write.
/// </summary>
public sealed class CheckoutOrders(
    StorageAccount storage,
    Transitions transitions,
    DeadlineScheduler deadlines,
    PaymentIntents intents,
    MarketRates rates,
    SessionTokens sessions,
    CheckoutSettings settings,
    TimeProvider time)
{
    public const string TableName = "checkoutorders";
    public const string ExpiryDeadline = "checkout-order-expiry";
    public const string PaymentSurface = "checkout";
    public const string ExpiredReason = "expired";

    private TableClient Orders => storage.Table(TableName);

    /// <summary>
    /// Creates the order, or finds the one this store created before under the same <c>ecommerceOrderId</c>: the
    /// same body answers that order, another body <see cref="CreateOutcome.ConflictingBody"/>. The order and the
    /// claim of its id are one write; its expiry is scheduled before it (a deadline for an order that was never
    /// stored finds nothing to do). Four storage requests: the deadline's row and message, the claim's read, the write.
    /// </summary>
    public async Task<(CreateOutcome Outcome, CheckoutOrder? Order)> CreateAsync(CheckoutStore store, NewOrder request, CancellationToken cancellationToken)
    {
        // No read of the claim first: the transition reads it, so a new order costs one request less; a repeated
        // create (rare: a store retrying) pays for a deadline that will find nothing to do.
        var claimKey = EcommerceOrderClaim.Key(request.EcommerceOrderId);
        var snapshot = await rates.CurrentAsync(cancellationToken);
        var now = time.GetUtcNow();
        var id = CheckoutOrder.NewId(now);
        var expiresAt = now + settings.OrderExpiry;
        var order = new CheckoutOrder
        {
            PartitionKey = store.Id,
            RowKey = id,
            Status = request.PaymentStatus,
            EcommerceOrderId = request.EcommerceOrderId,
            Ecommerce = request.Ecommerce,
            OrderTotal = request.OrderTotal,
            TotalMinor = request.TotalMinor,
            PayableMinor = Pricing.Payable(request.TotalMinor, request.OrderCurrency, store.MarkupPercentage, store.DiscountPercentage),
            OrderCurrency = request.OrderCurrency,
            CallbackUrl = request.CallbackUrl,
            CancelReturnUrl = request.CancelReturnUrl,
            SuccessReturnUrl = request.SuccessReturnUrl,
            DeliveryInfoJson = JsonSerializer.Serialize(request.DeliveryInfo),
            MarkupPercentage = store.MarkupPercentage,
            DiscountPercentage = store.DiscountPercentage,
            RatesBase = snapshot.Base,
            MarketRatesJson = JsonSerializer.Serialize(snapshot.Rates),
            SessionToken = sessions.Issue(store.Id, id, now, expiresAt),
            CreatedAt = now,
            UpdatedAt = now,
            ExpiresAt = expiresAt,
        };
        await deadlines.ScheduleAsync(ExpiryDeadline, DeadlineKey(store.Id, id), expiresAt, cancellationToken);
        var created = await transitions.ApplyAsync<EcommerceOrderClaim, EcommerceOrderClaim?>(Orders, store.Id, claimKey, change =>
        {
            if (change.Current is { } claim)
                return claim;
            change.Write(new EcommerceOrderClaim { PartitionKey = store.Id, RowKey = claimKey, OrderId = id, Fingerprint = request.Fingerprint })
                .Insert(order);
            return null;
        }, cancellationToken);
        return created.Outcome is { } other
            ? await ExistingAsync(store.Id, other, request.Fingerprint, cancellationToken)
            : (CreateOutcome.Created, order);
    }

    private async Task<(CreateOutcome, CheckoutOrder?)> ExistingAsync(string storeId, EcommerceOrderClaim claim, string fingerprint,
        CancellationToken cancellationToken)
    {
        if (claim.Fingerprint != fingerprint)
            return (CreateOutcome.ConflictingBody, null);
        return (CreateOutcome.Existing, await FindAsync(storeId, claim.OrderId, cancellationToken));
    }

    public Task<CheckoutOrder?> FindAsync(string storeId, string orderId, CancellationToken cancellationToken) =>
        CheckoutOrder.LooksLikeId(orderId) && CheckoutStores.LooksLikeId(storeId)
            ? Orders.FindAsync<CheckoutOrder>(storeId, orderId, cancellationToken)
            : Task.FromResult<CheckoutOrder?>(null);

    /// <summary>The order a session token opens, or null (an invalid or expired token, or no such order).</summary>
    public async Task<CheckoutOrder?> FindBySessionAsync(string sessionToken, CancellationToken cancellationToken) =>
        await sessions.ReadAsync(sessionToken) is var (storeId, orderId) ? await FindAsync(storeId, orderId, cancellationToken) : null;

    /// <summary>A store's orders, newest first, filtered; and how many match in all when <paramref name="count"/> is asked.</summary>
    public async Task<(IReadOnlyList<CheckoutOrder> Page, int? Total)> ListAsync(string storeId, string? status, DateTimeOffset? from,
        DateTimeOffset? to, int limit, int offset, bool count, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        // Ids sort newest first: createdAt ≤ to is RowKey ≥ KeyAt(to); createdAt ≥ from is RowKey ≤ KeyAt(from) and its random tail.
        var upper = from is { } f ? CheckoutOrder.KeyAt(f) + "~" : "g";
        var lower = to is { } t ? CheckoutOrder.KeyAt(t) : "0";
        var filter = TableClient.CreateQueryFilter($"PartitionKey eq {storeId} and RowKey ge {lower} and RowKey lt {upper}");
        // Lapsed orders read as cancelled, so a status filter is applied to what a reader sees, here rather than in the query.
        var page = new List<CheckoutOrder>(Math.Min(limit, 100));
        var matched = 0;
        await foreach (var order in Orders.QueryAsync<CheckoutOrder>(filter, maxPerPage: 1000, cancellationToken: cancellationToken))
        {
            if (status is not null && order.EffectiveStatus(now) != status)
                continue;
            if (matched++ >= offset && page.Count < limit)
                page.Add(order);
            if (!count && page.Count == limit)
                break;
        }
        return (page, count ? matched : null);
    }

    /// <summary>
    /// A store's update: the transaction hash, method, blockchain and converted total are recorded (a hash on an
    /// unpaid order without a status puts it on hold: the customer says the money is on its way), and the status
    /// moves as asked if the machine allows it, with its callback. A final order refuses any change; the same
    /// update twice is one move.
    /// </summary>
    public async Task<(UpdateOutcome Outcome, CheckoutOrder? Order)> UpdateAsync(string storeId, string orderId, OrderUpdate update,
        CancellationToken cancellationToken)
    {
        if (!CheckoutOrder.LooksLikeId(orderId))
            return (UpdateOutcome.NotFound, null);
        var applied = await transitions.ApplyAsync<CheckoutOrder, UpdateOutcome>(Orders, storeId, orderId, change =>
        {
            if (change.Current is not { } order)
                return UpdateOutcome.NotFound;
            var now = time.GetUtcNow();
            if (order.IsLapsed(now))
                return Lapse(change, order, now);
            var next = order with
            {
                TransactionHash = update.TransactionHash ?? order.TransactionHash,
                PaymentMethod = update.PaymentMethod ?? order.PaymentMethod,
                Blockchain = update.Blockchain ?? order.Blockchain,
                ConvertedTotal = update.ConvertedTotal ?? order.ConvertedTotal,
            };
            if (update.TransactionHash is { } hash)
                next = next.WithTransaction(new OrderTransaction(update.Blockchain ?? update.PaymentMethod ?? order.Blockchain ?? order.PaymentMethod ?? "", hash));
            var target = update.PaymentStatus
                         ?? (update.TransactionHash is not null && order.Status is PaymentStatus.Pending or PaymentStatus.Failed ? PaymentStatus.OnHold : order.Status);
            var changed = target != order.Status || next.TransactionHash != order.TransactionHash || next.PaymentMethod != order.PaymentMethod
                          || next.Blockchain != order.Blockchain || next.ConvertedTotal != order.ConvertedTotal
                          || next.TransactionsJson != order.TransactionsJson;
            if (!changed)
                return UpdateOutcome.Unchanged;
            if (PaymentStatus.IsFinal(order.Status))
                return UpdateOutcome.Final;
            next = next.MovedTo(target, now, target == PaymentStatus.Cancelled ? "cancelled_by_store" : null);
            change.Write(next);
            if (next.Version != order.Version)
                change.Publish(CheckoutCallbacks.Event(next));
            return UpdateOutcome.Updated;
        }, cancellationToken);
        if (applied.Row is { Status: PaymentStatus.Cancelled } cancelled)
            await intents.AbandonAsync(PaymentSurface, PaymentReference(cancelled), IntentStatus.Cancelled, cancellationToken);
        return (applied.Outcome, applied.Row);
    }

    /// <summary>An operator confirms a crypto transfer they have seen on the chain: an open order becomes confirmed.</summary>
    public async Task<(UpdateOutcome Outcome, CheckoutOrder? Order)> ConfirmTransferAsync(string storeId, string orderId, string? transactionHash,
        string? protocol, CancellationToken cancellationToken)
    {
        if (!CheckoutOrder.LooksLikeId(orderId))
            return (UpdateOutcome.NotFound, null);
        var applied = await transitions.ApplyAsync<CheckoutOrder, UpdateOutcome>(Orders, storeId, orderId, change =>
        {
            if (change.Current is not { } order)
                return UpdateOutcome.NotFound;
            if (order.Status == PaymentStatus.Confirmed)
                return UpdateOutcome.Unchanged;
            if (order.Status == PaymentStatus.Cancelled)
                return UpdateOutcome.Final;
            var next = order;
            if (transactionHash is not null)
                next = next.WithTransaction(new OrderTransaction(protocol ?? order.Blockchain ?? order.PaymentMethod ?? "", transactionHash)) with
                {
                    TransactionHash = transactionHash,
                };
            next = next.MovedTo(PaymentStatus.Confirmed, time.GetUtcNow());
            change.Write(next).Publish(CheckoutCallbacks.Event(next));
            return UpdateOutcome.Updated;
        }, cancellationToken);
        return (applied.Outcome, applied.Row);
    }

    /// <summary>Opens (or joins) the order's payment intent for the amount the page shows; every click meets the same intent.</summary>
    public Task<IntentCheckout> StartPaymentAsync(CheckoutOrder order, string storeName, string pageUrl, CancellationToken cancellationToken) =>
        intents.CheckoutAsync(new IntentRequest(PaymentSurface, PaymentReference(order), order.PayableMinor, order.OrderCurrency,
            $"Order {order.EcommerceOrderId} at {storeName}", pageUrl, pageUrl, order.ExpiresAt, order.Delivery?.Email), cancellationToken);

    public static string PaymentReference(CheckoutOrder order) => order.StoreId + "|" + order.Id;

    /// <summary>
    /// A move of an order's payment intent. A success confirms an open order (with its callback); for an order that
    /// is cancelled or lapsed, or was confirmed by another payment, it is refused and the platform refunds it. A
    /// failure of a pending order marks it failed (the customer may try again). The same move twice is one.
    /// </summary>
    public async Task<bool> OnPaymentAsync(PaymentIntentEvent change, CancellationToken cancellationToken)
    {
        if (change.Status is not (IntentStatus.Succeeded or IntentStatus.Failed))
            return true;
        var separator = change.Reference.IndexOf('|', StringComparison.Ordinal);
        if (separator <= 0)
            return false;
        var paid = change.Status == IntentStatus.Succeeded;
        var transaction = new OrderTransaction(change.Provider, change.PaymentId ?? change.IntentId);
        var applied = await transitions.ApplyAsync<CheckoutOrder, bool>(Orders, change.Reference[..separator], change.Reference[(separator + 1)..], row =>
        {
            if (row.Current is not { } order)
                return !paid;
            var now = time.GetUtcNow();
            if (!paid)
            {
                if (order.Status != PaymentStatus.Pending || order.IsLapsed(now))
                    return true;
                var failed = order.MovedTo(PaymentStatus.Failed, now, change.FailureReason ?? "payment_failed");
                row.Write(failed).Publish(CheckoutCallbacks.Event(failed));
                return true;
            }
            if (order.Status == PaymentStatus.Confirmed)
                return order.Transactions.Contains(transaction);
            if (order.Status == PaymentStatus.Cancelled || order.IsLapsed(now))
                return false;
            var next = order.WithTransaction(transaction) with { PaymentMethod = change.PaymentMethod ?? change.Provider };
            next = next.MovedTo(PaymentStatus.Confirmed, change.PaidAt ?? now);
            row.Write(next).Publish(CheckoutCallbacks.Event(next));
            return true;
        }, cancellationToken);
        return applied.Outcome;
    }

    /// <summary>
    /// The expiry deadline: an order still unpaid (pending or failed) at its expiry is cancelled, with its callback,
    /// and its payment intent closed. An order on hold (a transfer under way) waits for its confirmation instead.
    /// Repeated deliveries change nothing.
    /// </summary>
    public async Task ExpireAsync(string deadlineKey, CancellationToken cancellationToken)
    {
        var separator = deadlineKey.IndexOf('|', StringComparison.Ordinal);
        if (separator <= 0)
            return;
        var expired = await transitions.ApplyAsync<CheckoutOrder, bool>(Orders, deadlineKey[..separator], deadlineKey[(separator + 1)..], change =>
        {
            var now = time.GetUtcNow();
            if (change.Current is not { } order || !order.IsLapsed(now))
                return false;
            Lapse(change, order, now);
            return true;
        }, cancellationToken);
        if (expired.Row is { Status: PaymentStatus.Cancelled, Reason: ExpiredReason } closed)
            await intents.AbandonAsync(PaymentSurface, PaymentReference(closed), IntentStatus.Expired, cancellationToken);
    }

    private static UpdateOutcome Lapse(Change<CheckoutOrder> change, CheckoutOrder order, DateTimeOffset now)
    {
        var cancelled = order.MovedTo(PaymentStatus.Cancelled, now, ExpiredReason);
        change.Write(cancelled).Publish(CheckoutCallbacks.Event(cancelled));
        return UpdateOutcome.Final;
    }

    private static string DeadlineKey(string storeId, string orderId) => storeId + "|" + orderId;
}

/// <summary>The checkout's side of its payment intents.</summary>
public sealed class CheckoutPayments(CheckoutOrders orders) : IPaymentIntentHandler
{
    public string Surface => CheckoutOrders.PaymentSurface;

    public Task<bool> OnChangedAsync(PaymentIntentEvent change, CancellationToken cancellationToken) => orders.OnPaymentAsync(change, cancellationToken);
}

/// <summary>The store's markup and discount applied to an order total, and totals converted with an order's rates.</summary>
public static class Pricing
{
    /// <summary>total × (1 + markup%) × (1 − discount%), rounded half away from zero to the currency's minor unit.</summary>
    public static long Payable(long totalMinor, string currency, string markupPercentage, string discountPercentage)
    {
        var markup = decimal.Parse(markupPercentage, CultureInfo.InvariantCulture);
        var discount = decimal.Parse(discountPercentage, CultureInfo.InvariantCulture);
        var payable = totalMinor * (100 + markup) / 100 * (100 - discount) / 100;
        return (long)decimal.Round(payable, 0, MidpointRounding.AwayFromZero);
    }

    /// <summary>
    /// The payable amount in a protocol's coin with the order's rates snapshot, rounded up to the digits the page
    /// shows (the store is never paid less than the order); null when the snapshot lacks either code, or when its
    /// rates make an amount beyond what a decimal holds (a feed's absurd rate must not break the page).
    /// </summary>
    public static decimal? InCoin(CheckoutOrder order, Protocols.Protocol protocol)
    {
        var snapshot = new MarketRatesSnapshot(order.RatesBase, order.MarketRates, order.CreatedAt);
        var payable = Currencies.FromMinor(order.PayableMinor, order.OrderCurrency);
        if (!MarketRates.TryConvert(snapshot, payable, order.OrderCurrency, protocol.Coin, out var converted) || converted <= 0)
            return null;
        var scale = (decimal)Math.Pow(10, protocol.Decimals);
        try
        {
            return decimal.Ceiling(converted * scale) / scale;
        }
        catch (OverflowException)
        {
            return null;
        }
    }
}
