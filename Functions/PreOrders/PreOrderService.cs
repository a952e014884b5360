using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Nodes;
using Azure.Data.Tables;
using Microsoft.Extensions.Caching.Memory;
using Serverless.Platform.Deadlines;
using Serverless.Platform.Http;
using Serverless.Platform.Payments;
using Serverless.Platform.Storage;
using Serverless.Platform.Webhooks;

namespace Serverless.PreOrders;

/// <summary>
/// The pre-order lifecycle: create (and schedule its expiry), read, list, cancel, pay, expire. Every transition goes
/// through the transition seam, so pay, cancel and expire racing for one pre-order end with exactly one winner, and
/// a write whose answer was lost is recognised by its operation id. Each publishes its webhook through the outbox in
/// the same transaction, under an event key, so no event is lost between a state change and its webhook.
/// </summary>
public sealed class PreOrderService(StorageAccount storage, DeadlineScheduler deadlines, Transitions transitions, PaymentIntents intents,
    TimeProvider time)
{
    /// <summary>The surface name its payment intents carry.</summary>
    public const string PaymentSurface = "pre-orders";

    public const string TableName = "preorders";
    public const string LinkTableName = "preorderlinks";
    public const string ExpiryDeadline = "pre-order-expiry";

    /// <summary>
    /// Which merchant each pre-order id belongs to. A link row never changes once written, so it can be remembered:
    /// the payment page polls its status every few seconds, and each poll then costs one read instead of two.
    /// </summary>
    private readonly MemoryCache _merchantOf = new(new MemoryCacheOptions { SizeLimit = 100_000 });

    private TableClient Orders => storage.Table(TableName);
    private TableClient Links => storage.Table(LinkTableName);

    /// <summary>The webhook owner id of a merchant.</summary>
    public static string WebhookOwner(string merchantId) => "merchant:" + merchantId;

    public static string Partition(string merchantId) => TableKeys.Escape(merchantId);

    /// <summary>
    /// <c>pre_order_</c>, then 16 hex digits that sort newest first, then 8 random: ids are unguessable and a
    /// merchant's rows list newest first without an index.
    /// </summary>
    public static string NewId(DateTimeOffset at) =>
        "pre_order_" + (long.MaxValue - at.UtcTicks).ToString("x16", CultureInfo.InvariantCulture)
                     + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(4));

    public static bool LooksLikeId(string id) =>
        id.Length == 34 && id.StartsWith("pre_order_", StringComparison.Ordinal) && id.AsSpan(10).ContainsAnyExcept("0123456789abcdef") == false;

    public async Task<PreOrder> CreateAsync(string merchantId, long amountMinor, string currency, string description,
        DateTimeOffset expiresAt, CustomerInfo customer, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var order = new PreOrder
        {
            PartitionKey = Partition(merchantId),
            RowKey = NewId(now),
            MerchantId = merchantId,
            AmountMinor = amountMinor,
            Currency = currency,
            Description = description,
            CustomerName = customer.Name,
            CustomerEmail = customer.Email,
            CustomerPhone = customer.Phone,
            CreatedAt = now,
            ExpiresAt = expiresAt,
        };
        // The public link first: a link without a pre-order answers 404, a pre-order without a link could not be paid.
        // The id is new, so a row already under it is this create's own insert, retried after its answer was lost.
        await Links.AddOnceAsync(new PreOrderLink { PartitionKey = order.Id, RowKey = "", MerchantId = merchantId },
            stored => stored.MerchantId == merchantId, cancellationToken);
        await Orders.AddOnceAsync(order, stored => stored.MerchantId == merchantId && stored.AmountMinor == amountMinor
                                                   && stored.Currency == currency && stored.Description == description, cancellationToken);
        await deadlines.ScheduleAsync(ExpiryDeadline, DeadlineKey(order), expiresAt, cancellationToken);
        RememberMerchant(order.Id, merchantId);
        return order;
    }

    public Task<PreOrder?> GetAsync(string merchantId, string id, CancellationToken cancellationToken) =>
        LooksLikeId(id) ? Orders.FindAsync<PreOrder>(Partition(merchantId), id, cancellationToken) : Task.FromResult<PreOrder?>(null);

    /// <summary>A pre-order by id alone, for its public payment page.</summary>
    public async Task<PreOrder?> FindPublicAsync(string id, CancellationToken cancellationToken)
    {
        if (!LooksLikeId(id))
            return null;
        if (!_merchantOf.TryGetValue(id, out string? merchantId))
        {
            var link = await Links.FindAsync<PreOrderLink>(id, "", cancellationToken);
            if (link is null)
                return null;
            merchantId = RememberMerchant(id, link.MerchantId);
        }
        return await Orders.FindAsync<PreOrder>(Partition(merchantId!), id, cancellationToken);
    }

    private string RememberMerchant(string id, string merchantId) =>
        _merchantOf.Set(id, merchantId, new MemoryCacheEntryOptions { Size = 1, SlidingExpiration = TimeSpan.FromHours(1) });

    /// <summary>A merchant's pre-orders, newest first, optionally by effective status; one more than asked tells if there are more.</summary>
    public async Task<(IReadOnlyList<PreOrder> Page, bool HasMore)> ListAsync(string merchantId, string? status, int limit, int offset,
        CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var partition = Partition(merchantId);
        var filter = status switch
        {
            null => TableClient.CreateQueryFilter($"PartitionKey eq {partition}"),
            PreOrderStatus.Pending => TableClient.CreateQueryFilter($"PartitionKey eq {partition} and Status eq {PreOrderStatus.Pending} and ExpiresAt gt {now}"),
            PreOrderStatus.Expired => TableClient.CreateQueryFilter(
                $"PartitionKey eq {partition} and (Status eq {PreOrderStatus.Expired} or (Status eq {PreOrderStatus.Pending} and ExpiresAt le {now}))"),
            _ => TableClient.CreateQueryFilter($"PartitionKey eq {partition} and Status eq {status}"),
        };
        var page = new List<PreOrder>(limit + 1);
        var skipped = 0;
        await foreach (var order in Orders.QueryAsync<PreOrder>(filter, maxPerPage: Math.Min(1000, offset + limit + 1), cancellationToken: cancellationToken))
        {
            if (skipped++ < offset)
                continue;
            page.Add(order);
            if (page.Count > limit)
                break;
        }
        var hasMore = page.Count > limit;
        return (hasMore ? page[..limit] : page, hasMore);
    }

    /// <summary>
    /// Pending → cancelled, with its <c>pre_order.cancelled</c> event. Null when there is no such pre-order; otherwise
    /// the row and whether this call cancelled it (also when storage's answer to the write was lost).
    /// </summary>
    public async Task<(PreOrder Order, bool Changed)?> CancelAsync(string merchantId, string id, CancellationToken cancellationToken)
    {
        if (!LooksLikeId(id))
            return null;
        var now = time.GetUtcNow();
        var cancelled = await transitions.ApplyAsync<PreOrder, bool>(Orders, Partition(merchantId), id, change =>
        {
            if (change.Current is not { } order || !order.IsOpen(now))
                return false;
            var next = order.Cancelled(now);
            change.Write(next).Publish(Event(next, "pre_order.cancelled"));
            return true;
        }, cancellationToken);
        if (cancelled.Row is null)
            return null;
        // Then no payment can be started for it; one that already succeeded, or is under way, is refunded (see OnPaymentAsync).
        if (cancelled.Row.Status == PreOrderStatus.Cancelled)
            await intents.AbandonAsync(PaymentSurface, PaymentReference(cancelled.Row), IntentStatus.Cancelled, cancellationToken);
        return (cancelled.Row, cancelled.Outcome);
    }

    /// <summary>
    /// Opens (or joins) the pre-order's payment intent: every click of the pay page and every retry meets the same
    /// intent and the same provider order. The pre-order becomes paid only from its intent's confirmed payment
    /// (<see cref="OnPaymentAsync"/>).
    /// </summary>
    public Task<IntentCheckout> CheckoutAsync(PreOrder order, string pageUrl, CancellationToken cancellationToken) =>
        intents.CheckoutAsync(new IntentRequest(PaymentSurface, PaymentReference(order), order.AmountMinor, order.Currency,
            order.Description.Length > 0 ? order.Description : "Pre-order " + order.Id, pageUrl, pageUrl, order.ExpiresAt,
            order.CustomerEmail.Length > 0 ? order.CustomerEmail : null), cancellationToken);

    /// <summary>What a pre-order's intent is keyed by: where the row is (merchant partition and id).</summary>
    public static string PaymentReference(PreOrder order) => order.PartitionKey + "|" + order.RowKey;

    /// <summary>
    /// A move of a pre-order's payment intent. A success pays the pre-order if it is still open (with its
    /// <c>pre_order.paid</c> event) and is refused otherwise (the platform refunds it); the same payment confirmed
    /// twice is accepted once. Other moves change nothing here.
    /// </summary>
    public async Task<bool> OnPaymentAsync(PaymentIntentEvent change, CancellationToken cancellationToken)
    {
        if (change.Status != IntentStatus.Succeeded || change.PaymentId is not { } paymentId)
            return true;
        var separator = change.Reference.IndexOf('|', StringComparison.Ordinal);
        if (separator <= 0)
            return false;
        var paid = await transitions.ApplyAsync<PreOrder, bool>(Orders, change.Reference[..separator], change.Reference[(separator + 1)..], row =>
        {
            if (row.Current is not { } order)
                return false;
            if (order.Status == PreOrderStatus.Paid)
                return order.TransactionId == paymentId;
            if (!order.IsOpen(time.GetUtcNow()))
                return false;
            // The document's method is the QR payment page, whichever way the provider took the money.
            var next = order.Paid(paymentId, "qr", change.PaidAt ?? time.GetUtcNow());
            row.Write(next).Publish(Event(next, "pre_order.paid"));
            return true;
        }, cancellationToken);
        return paid.Outcome;
    }

    /// <summary>
    /// The expiry deadline: pending → expired once its time has come, with its <c>pre_order.expired</c> event. A
    /// repeated delivery, or one for a pre-order paid or cancelled meanwhile, changes nothing and sends nothing: the
    /// outbox delivers every event of a stored transition, so the deadline need not send them again.
    /// </summary>
    public async Task ExpireAsync(string deadlineKey, CancellationToken cancellationToken)
    {
        var separator = deadlineKey.IndexOf('|', StringComparison.Ordinal);
        if (separator <= 0)
            return;
        var partition = deadlineKey[..separator];
        var id = deadlineKey[(separator + 1)..];
        var expired = await transitions.ApplyAsync<PreOrder, bool>(Orders, partition, id, change =>
        {
            if (change.Current is not { Status: PreOrderStatus.Pending } order || time.GetUtcNow() < order.ExpiresAt)
                return false;
            var next = order.Expired();
            change.Write(next).Publish(Event(next, "pre_order.expired"));
            return true;
        }, cancellationToken);
        if (expired.Row is { Status: PreOrderStatus.Expired } closed)
            await intents.AbandonAsync(PaymentSurface, PaymentReference(closed), IntentStatus.Expired, cancellationToken);
    }

    private static string DeadlineKey(PreOrder order) => order.PartitionKey + "|" + order.RowKey;

    /// <summary>The webhook of a pre-order's final status, keyed by status and id: forwarding it twice is one webhook.</summary>
    private OutboxEvent Event(PreOrder order, string eventType)
    {
        var payload = new PreOrderEventPayload(eventType,
            new PreOrderEventData(order.Id, order.Status, order.Amount, order.Currency, PreOrderViews.Payment(order)),
            PreOrderViews.Time(order.ClosedAt ?? time.GetUtcNow()));
        return WebhookOutboxChannel.Event(WebhookOwner(order.MerchantId), eventType, JsonSerializer.SerializeToNode(payload)!,
            eventType + ":" + order.Id);
    }
}

/// <summary>The pre-orders' side of their payment intents.</summary>
public sealed class PreOrderPayments(PreOrderService orders) : IPaymentIntentHandler
{
    public string Surface => PreOrderService.PaymentSurface;

    public Task<bool> OnChangedAsync(PaymentIntentEvent change, CancellationToken cancellationToken) => orders.OnPaymentAsync(change, cancellationToken);
}
/// <summary>Entity to document shapes.</summary>
public static class PreOrderViews
{
    /// <summary>ISO 8601 in UTC with a Z, as the document shows times.</summary>
    public static string Time(DateTimeOffset at) =>
        at.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.FFFFFFF'Z'", CultureInfo.InvariantCulture);

    public static PaymentDetails? Payment(PreOrder order) =>
        order.Status == PreOrderStatus.Paid && order.TransactionId is not null && order.PaidAt is { } paidAt
            ? new PaymentDetails(order.TransactionId, order.PaymentMethod ?? "qr", Time(paidAt))
            : null;

    public static PreOrderResponse Response(PreOrder order, DateTimeOffset now) => new(
        order.Id, order.EffectiveStatus(now), order.Amount, order.Currency, order.Description,
        new CustomerInfo(order.CustomerName, order.CustomerEmail, order.CustomerPhone),
        Payment(order), Time(order.CreatedAt), Time(order.ExpiresAt));
}
