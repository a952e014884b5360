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

/// <summary>What a payment attempt came to.</summary>
public enum PaymentOutcome
{
    Paid,
    AlreadyPaid,
    NotFound,
    NotPayable,
}

/// <summary>
/// The pre-order lifecycle: create (and schedule its expiry), read, list, cancel, pay, expire. Every transition is
/// ETag-conditional on the row it read, so pay, cancel and expire racing for one pre-order end with exactly one
/// winner; each transition publishes its webhook with an event key, so a repeated transition is one event.
/// </summary>
public sealed class PreOrderService(StorageAccount storage, DeadlineScheduler deadlines, WebhookPublisher webhooks, TimeProvider time)
{
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

    /// <summary>Pending → cancelled. Null when there is no such pre-order; otherwise the row and whether it was cancelled now.</summary>
    public async Task<(PreOrder Order, bool Changed)?> CancelAsync(string merchantId, string id, CancellationToken cancellationToken)
    {
        if (!LooksLikeId(id))
            return null;
        var changed = false;
        var now = time.GetUtcNow();
        var order = await Orders.TransitionAsync<PreOrder>(Partition(merchantId), id, o =>
        {
            changed = o.IsOpen(now);
            return changed ? o.Cancelled(now) : null;
        }, cancellationToken);
        if (order is null)
            return null;
        if (order.Status == PreOrderStatus.Cancelled)
            await PublishAsync(order, "pre_order.cancelled", cancellationToken);
        return (order, changed);
    }

    /// <summary>
    /// Records a completed payment. Refused (never marks paid) unless the pre-order is open at this moment; the
    /// same transaction confirmed twice is one payment.
    /// </summary>
    public async Task<(PaymentOutcome Outcome, PreOrder? Order)> ConfirmPaymentAsync(PreOrder read, GatewayPayment payment,
        CancellationToken cancellationToken)
    {
        var outcome = PaymentOutcome.NotPayable;
        // The row as the caller read it: the first decision costs no read; a 412 re-reads.
        var order = await Orders.TransitionAsync(read, o =>
        {
            if (o.Status == PreOrderStatus.Paid)
            {
                outcome = o.TransactionId == payment.TransactionId ? PaymentOutcome.AlreadyPaid : PaymentOutcome.NotPayable;
                return null;
            }
            outcome = o.IsOpen(time.GetUtcNow()) ? PaymentOutcome.Paid : PaymentOutcome.NotPayable;
            return outcome == PaymentOutcome.Paid ? o.Paid(payment) : null;
        }, cancellationToken);
        if (order is null)
            return (PaymentOutcome.NotFound, null);
        if (outcome is PaymentOutcome.Paid or PaymentOutcome.AlreadyPaid)
            await PublishAsync(order, "pre_order.paid", cancellationToken);
        return (outcome, order);
    }

    /// <summary>
    /// The expiry deadline: pending → expired once its time has come; then the event of the status the pre-order
    /// ended in. For a pre-order paid or cancelled earlier that repeats an event already sent (its key makes it one
    /// event) or sends one whose publish failed after the write: the deadline is the safety net for every final event.
    /// </summary>
    public async Task ExpireAsync(string deadlineKey, CancellationToken cancellationToken)
    {
        var separator = deadlineKey.IndexOf('|', StringComparison.Ordinal);
        if (separator <= 0)
            return;
        var partition = deadlineKey[..separator];
        var id = deadlineKey[(separator + 1)..];
        var order = await Orders.TransitionAsync<PreOrder>(partition, id,
            o => o.Status == PreOrderStatus.Pending && time.GetUtcNow() >= o.ExpiresAt ? o.Expired() : null, cancellationToken);
        // Also on a repeated delivery: the event key makes it one event, and a crash after the write still emits it.
        var finalEvent = order?.Status switch
        {
            PreOrderStatus.Expired => "pre_order.expired",
            PreOrderStatus.Paid => "pre_order.paid",
            PreOrderStatus.Cancelled => "pre_order.cancelled",
            _ => null,
        };
        if (finalEvent is not null)
            await PublishAsync(order!, finalEvent, cancellationToken);
    }

    private static string DeadlineKey(PreOrder order) => order.PartitionKey + "|" + order.RowKey;

    private Task PublishAsync(PreOrder order, string eventType, CancellationToken cancellationToken)
    {
        var payload = new PreOrderEventPayload(eventType,
            new PreOrderEventData(order.Id, order.Status, order.Amount, order.Currency, PreOrderViews.Payment(order)),
            PreOrderViews.Time(order.ClosedAt ?? time.GetUtcNow()));
        var node = JsonSerializer.SerializeToNode(payload)!;
        return webhooks.PublishAsync(WebhookOwner(order.MerchantId), eventType, node, eventType + ":" + order.Id, cancellationToken);
    }
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
